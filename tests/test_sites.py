"""One injection-site legend: the MAR and the PRN record print the same numbers for the
same sites in every language, and `core/sites.py` is that legend."""

from __future__ import annotations

import re

import pytest

from papermode.core.sites import SITES, is_injection, site_of
from papermode.printing.templates import load_templates


def _codes(text: str) -> str:
    return text.split(":", 1)[1].strip()


@pytest.mark.parametrize("lang", ["en", "fr", "nl"])
def test_the_mar_and_prn_legends_number_the_sites_alike(lang: str) -> None:
    strings = load_templates().translations[lang]
    assert _codes(strings["mar.sites"]) == _codes(strings["prn.sites"])
    numbers = re.findall(r"(\d) ", _codes(strings["mar.sites"]))
    assert numbers == [site.number for site in SITES]


def test_the_english_legend_is_the_code_table() -> None:
    words = re.split(r", \d ", "0 " + _codes(load_templates().translations["en"]["mar.sites"]))
    for site, word in zip(SITES, [w.removeprefix("0 1 ") for w in words], strict=True):
        part, side = site.label.split(", ")
        assert part in word and side[0].upper() in word.split()[-1], (site, word)


def test_routes_and_codes() -> None:
    assert is_injection("SC") and is_injection("sous-cutanée") and is_injection("IM")
    assert not is_injection("IV") and not is_injection(None)
    assert site_of("3") is SITES[2] and site_of("9") is None and site_of("") is None
