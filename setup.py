"""Packages of papermode, with the top-level `forms/` folder shipped as `papermode.forms`.

Templates are data and the project keeps them at the top of the repository (`forms/`), where
hospital staff find and edit them; the wheel carries them inside the package so that an
installed papermode prints from any folder. Everything else is declared in setup.cfg.
"""

from setuptools import find_namespace_packages, setup

PACKAGES = find_namespace_packages(include=["papermode", "papermode.*"])

setup(
    packages=[*PACKAGES, "papermode.forms", "papermode.forms.i18n"],
    package_dir={"papermode.forms": "forms"},
)
