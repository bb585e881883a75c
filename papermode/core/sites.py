"""Where an injection went: the numbered body sites a nurse writes beside an SC or IM dose.

Subcutaneous and intramuscular doses are rotated between sites (a site used again and
again scars: lipohypertrophy after insulin, haematoma after heparin), so paper charts ask
for the site beside each dose. papermode's digit reader reads numbers, so the sites are
digits 1-8, one legend for the MAR and the PRN record (printed on each page that has an SC
or IM order; `tests/test_sites.py` checks the printed legends say the same numbers); the
box is read like the reason box (one comb cell), and a number not in the legend goes to
review. The export names the site in words (`dosage.site.text`), never under a code
papermode cannot vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

from papermode.core.routes import route_key


@dataclass(frozen=True)
class InjectionSite:
    """One code of the legend."""

    number: str  # what the nurse writes: "1" ... "8"
    key: str  # the export name
    label: str  # English, for exports and reports


SITES = (
    InjectionSite("1", "abdomen_left", "abdomen, left"),
    InjectionSite("2", "abdomen_right", "abdomen, right"),
    InjectionSite("3", "thigh_left", "thigh, left"),
    InjectionSite("4", "thigh_right", "thigh, right"),
    InjectionSite("5", "arm_left", "upper arm, left"),
    InjectionSite("6", "arm_right", "upper arm, right"),
    InjectionSite("7", "buttock_left", "buttock, left"),
    InjectionSite("8", "buttock_right", "buttock, right"),
)
BY_NUMBER = {site.number: site for site in SITES}
BY_KEY = {site.key: site for site in SITES}
# Route spellings of an injection into skin or muscle (census/vocabulary.py spells them so).
INJECTION_ROUTES = frozenset({
    "sc", "s.c.", "sq", "subcut", "subcutaneous", "sous-cutanée", "sous-cutanee", "subcutaan",
    "im", "i.m.", "intramuscular", "intramusculaire", "intramusculair",
})  # fmt: skip


def is_injection(route: str | None) -> bool:
    """True for a subcutaneous or intramuscular route: its dose boxes get a site box.

    Any spelling of the route counts: "SC", SNOMED CT "Subcutaneous route (qualifier
    value)", EDQM "Subcutaneous use" (`papermode.core.routes`)."""
    folded = " ".join((route or "").lower().split())
    return folded in INJECTION_ROUTES or route_key(route) in {"SC", "IM"}


def site_of(written: str | None) -> InjectionSite | None:
    """The site a written code means; None for nothing written or a number not in use."""
    return BY_NUMBER.get((written or "").strip())


def site_by_key(key: str) -> InjectionSite | None:
    """The site a reconciled item names (`Item.site`)."""
    return BY_KEY.get(key)
