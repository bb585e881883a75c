"""Where an injection went: the numbered sites a nurse writes beside a SC or IM PRN dose.

Rotating injection sites (insulin, heparin, IM opioids) needs the last site on the record;
papermode's digit reader reads numbers, so the sites are digits, printed as a legend on the
PRN block of every subcutaneous or intramuscular order. The export names the site in
words (`dosage.site.text`), never under a code papermode cannot vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

INJECTION_ROUTES = frozenset({"SC", "SQ", "IM", "subcut", "subcutaneous", "intramuscular"})


@dataclass(frozen=True)
class InjectionSite:
    """One code of the PRN page's site legend."""

    number: str  # what the nurse writes: "1" ... "8"
    key: str  # i18n key (`sites.<key>`) and the export name
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


def site_of(written: str | None) -> InjectionSite | None:
    """The site a written code means; None for nothing written or a number not in use."""
    return BY_NUMBER.get((written or "").strip())


def site_by_key(key: str) -> InjectionSite | None:
    """The site a reconciled item names (`Item.site`)."""
    return BY_KEY.get(key)


def is_injection(route: str | None) -> bool:
    """Whether a route is subcutaneous or intramuscular (an injection site is charted)."""
    text = (route or "").strip()
    return text in INJECTION_ROUTES or text.lower() in INJECTION_ROUTES
