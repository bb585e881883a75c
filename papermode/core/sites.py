"""Where an injection was given: the numbered body sites a nurse writes in a MAR cell.

Subcutaneous and intramuscular doses are rotated between sites (a site used again and
again scars: lipohypertrophy after insulin, haematoma after heparin), so paper charts ask
for the site beside each dose. papermode's digit reader reads numbers, so the sites are
digits 1-8, printed in a legend on every MAR page that has an SC or IM order; the box is
read like the reason box (one comb cell), and a number not in the legend goes to review.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InjectionSite:
    """One code of the legend."""

    number: str  # what the nurse writes: "1" ... "8"
    key: str
    label: str  # English, for exports and reports


SITES = (
    InjectionSite("1", "left_arm", "left upper arm"),
    InjectionSite("2", "right_arm", "right upper arm"),
    InjectionSite("3", "left_abdomen", "abdomen, left"),
    InjectionSite("4", "right_abdomen", "abdomen, right"),
    InjectionSite("5", "left_thigh", "left thigh"),
    InjectionSite("6", "right_thigh", "right thigh"),
    InjectionSite("7", "left_buttock", "left buttock"),
    InjectionSite("8", "right_buttock", "right buttock"),
)
BY_NUMBER = {site.number: site for site in SITES}
# Route spellings of an injection into skin or muscle (census/vocabulary.py spells them so).
INJECTION_ROUTES = frozenset({
    "sc", "s.c.", "sq", "subcut", "subcutaneous", "sous-cutanée", "sous-cutanee", "subcutaan",
    "im", "i.m.", "intramuscular", "intramusculaire", "intramusculair",
})  # fmt: skip


def is_injection(route: str | None) -> bool:
    """True for a subcutaneous or intramuscular route: its MAR cells get a site box."""
    return " ".join((route or "").lower().split()) in INJECTION_ROUTES


def site_of(written: str | None) -> InjectionSite | None:
    """The site a written code means; None for nothing written or a number not in use."""
    return BY_NUMBER.get((written or "").strip())
