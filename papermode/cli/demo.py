"""Showing and measuring: `demo` tells the whole story on the sample ward, `bench` measures."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from papermode.demo.bench import markdown_table, run_bench
from papermode.demo.story import figure_lines, figures_json, run_demo


class _EchoReporter:
    """Tells the demo's story on the terminal; a progress bar only on a real terminal."""

    def __init__(self, *, err: bool = False) -> None:
        self._bar: Any = None
        self._err = err  # with --json, stdout carries only the JSON

    def step(self, text: str) -> None:
        click.echo(f"- {text} ...", err=self._err)

    def progress(self, label: str, total: int) -> Callable[[str], None]:
        if not sys.stderr.isatty():
            return lambda _name: None
        self._bar = click.progressbar(length=total, label=label, show_pos=True, file=sys.stderr)
        self._bar.__enter__()
        return lambda _name: self._bar.update(1)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for everything the demo writes (replaced when an earlier demo wrote it).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the photos.")
@click.option(
    "--photos", type=int, default=40, show_default=True, help="How many capture files to make."
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON at the end.")
def demo(out_dir: Path, seed: int, photos: int, as_json: bool) -> None:
    """The whole story on the sample ward: print forms, photograph them filled, read them back.

    Ends with what was produced (forms, an overlay picture, a one-page PDF summary, the
    store) and how many values were read right, compared with the synthetic truth.
    """
    result = run_demo(out_dir, seed=seed, photos=photos, reporter=_EchoReporter(err=as_json))
    if as_json:
        click.echo(figures_json(result))
        return
    click.echo("")
    for item in result.figures["attention"]:
        click.echo(f"  {item['status'].upper()}: {item['file']}: {item['message']}")
    click.echo("")
    for label, value in figure_lines(result.figures):
        click.echo(f"  {label:<34} {value}")
    click.echo("")
    for line in result.produced():
        click.echo(line)


@click.command()
@click.option(
    "--pages",
    type=click.IntRange(1, 5000),
    default=200,
    show_default=True,
    help="How many capture files (phone photos) to generate and read.",
)
@click.option("--seed", type=int, default=11, show_default=True, help="Seed of the corpus.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench/out"),
    show_default=True,
    help="Folder for bench.json, bench.md and the corpus.",
)
@click.option(
    "--baseline-fields",
    type=click.IntRange(0, 10000),
    default=150,
    show_default=True,
    help="Field crops read by the naive one-Tesseract-call-per-field baseline (0: skip it).",
)
@click.option(
    "--free-photos",
    type=click.IntRange(0, 500),
    default=6,
    show_default=True,
    help="Screen and note photos read by bench/freephoto_bench.py (0: skip them).",
)
@click.option(
    "--mar-days",
    type=click.IntRange(1, 7),
    default=None,
    help="Print the corpus's forms with the multi-day MAR over this many days "
    "(as prepare --days); default: the per-day MAR over 24 hours.",
)
@click.option("--json", "as_json", is_flag=True, help="Print bench.json instead of the table.")
def bench(
    pages: int,
    seed: int,
    out_dir: Path,
    baseline_fields: int,
    free_photos: int,
    mar_days: int | None,
    as_json: bool,
) -> None:
    """Measure speed and accuracy on a generated corpus, against the project's goals.

    Writes OUT/bench.json and OUT/bench.md (see bench/README.md for each figure).
    """
    results = run_bench(
        out_dir,
        pages=pages,
        seed=seed,
        baseline_fields=baseline_fields,
        free_photos=free_photos,
        mar_days=mar_days,
        progress=(lambda text: click.echo(f"- {text}", err=True)) if not as_json else None,
    )
    if as_json:
        click.echo(json.dumps(results, indent=2, default=str))
        return
    click.echo(markdown_table(results))
    click.echo(f"\nWrote {out_dir / 'bench.json'} and {out_dir / 'bench.md'}.")
