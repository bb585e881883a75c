"""The house: sub-packages per moment, layer contracts, and a wheel that works anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "papermode"
SUB_PACKAGES = {
    "cli",
    "core",
    "census",
    "printing",
    "reading",
    "free",
    "ingest",
    "state",
    "store",
    "review",
    "reconcile",
    "export",
    "web",
    "demo",
}


def test_every_module_lives_in_a_sub_package_of_the_data_flow() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside a sub-package: {loose}"
    for module in PACKAGE.rglob("*.py"):
        top = module.relative_to(PACKAGE).parts[0]
        if top != "__init__.py":
            assert top in SUB_PACKAGES, f"{module.relative_to(REPO)} is in no known sub-package"


def test_every_sub_package_says_what_it_is_for() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        text = init.read_text(encoding="utf-8").strip()
        assert text.startswith('"""'), f"{init.relative_to(REPO)} has no docstring"


def test_no_prefix_families_standing_in_for_folders() -> None:
    """`layout_a.py`, `layout_b.py` side by side is a folder asking to exist."""
    for folder in [PACKAGE, *[p for p in PACKAGE.rglob("*") if p.is_dir()]]:
        prefixes: dict[str, int] = {}
        for module in folder.glob("*_*.py"):
            prefix = module.stem.split("_")[0]
            prefixes[prefix] = prefixes.get(prefix, 0) + 1
        families = {prefix: n for prefix, n in prefixes.items() if n >= 3}
        assert families == {}, f"{folder.relative_to(REPO)}: prefix families {families}"


def test_layer_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml: a wrong arrow fails CI."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _copy_source(destination: Path) -> Path:
    """The repository as a clean clone would hold it, so the build writes nothing here."""
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        "demo-output",
        "out",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "*.db",
        "*.db-wal",
        "*.db-shm",
    )
    source = destination / "source"
    shutil.copytree(REPO, source, ignore=ignore)
    return source


def _fresh_venv_with_our_dependencies(root: Path) -> Path:
    """A new virtual environment; third-party packages come from the test's own environment
    (a path entry, not its .pth files, so the editable papermode there stays invisible)."""
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    purelib = Path(
        sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)})
    )
    (purelib / "test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env_dir


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    source = _copy_source(root)
    wheels = root / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    own_warnings = [
        line for line in (build.stdout + build.stderr).splitlines()
        if "warn" in line.lower() and "Location" not in line and "byte-compiling" not in line
    ]  # fmt: skip
    assert own_warnings == [], own_warnings
    env_dir = _fresh_venv_with_our_dependencies(root)
    wheel = next(wheels.glob("papermode-*.whl"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install",
         "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    return env_dir


def test_the_installed_wheel_prints_and_reads_from_any_folder(
    installed_wheel: Path, tmp_path: Path
) -> None:
    """`pip install .` (not editable), then prepare and ingest from an unrelated folder."""
    python = installed_wheel / "bin" / "python"
    papermode = installed_wheel / "bin" / "papermode"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMODE_")}
    where = subprocess.run(
        [str(python), "-c", "import papermode, importlib.resources as r;"
         "print(papermode.__file__); print(r.files('papermode') / 'data' / 'sample_ward.json')"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    package_file, sample = where.stdout.split()
    assert str(installed_wheel) in package_file, "papermode came from the checkout, not the wheel"

    prepared = subprocess.run(
        [str(papermode), "prepare", sample, "--out", "forms", "--store", "ward.db"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stdout[-2000:] + prepared.stderr[-2000:]
    pdfs = sorted((tmp_path / "forms").rglob("*.pdf"))
    assert pdfs and (tmp_path / "forms" / "manifest.json").exists()

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("poppler-utils is not installed")
    subprocess.run(
        [pdftoppm, "-r", "150", "-f", "1", "-l", "1", "-png", str(pdfs[0]), str(tmp_path / "p")],
        check=True,
    )
    page = next(tmp_path.glob("p*.png"))
    ingested = subprocess.run(
        [str(papermode), "ingest", str(page), "--store", "ward.db", "--json"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert '"read"' in ingested.stdout, ingested.stdout[-2000:] + ingested.stderr[-2000:]
