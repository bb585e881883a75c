"""Routes of administration by what they mean, whatever the census spelled: "SC" for "sc",
"sous-cutanée", SNOMED CT 34206005 "Subcutaneous route (qualifier value)" or EDQM 20066000
"Subcutaneous use".

The forms print a route in their own language from its key (`forms/i18n` `[routes]`), and
an SC or IM route gets the injection-site box (`papermode.core.sites`) however the record
system spelled it. A route papermode does not know has no key and prints as given.
"""

from __future__ import annotations

# Route key -> how records, prescribers, SNOMED CT and EDQM name it (compared folded: lower
# case, "(qualifier value)", " route" and " use" removed).
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "PO": ("po", "os", "per os", "per-os", "p.o.", "oral", "orale", "oraal", "by mouth",
           "by-mouth", "voie orale", "26643006", "20053000"),
    "IV": ("iv", "i.v.", "ivd", "ivl", "ivse", "intravenous", "intraveineuse", "intraveineux",
           "intraveneus", "intravenoos", "voie intraveineuse", "47625008", "20045000"),
    "SC": ("sc", "s.c.", "sq", "subcut", "subcutaneous", "sous-cutanée", "sous-cutanee",
           "sous cutanée", "subcutaan", "voie sous-cutanée", "34206005", "20066000"),
    "IM": ("im", "i.m.", "intramuscular", "intramusculaire", "intramusculair",
           "voie intramusculaire", "78421000", "20035000"),
    "PR": ("pr", "rectal", "rectale", "rectaal", "voie rectale", "37161004"),
    "inhaled": ("inh", "inhaled", "inhalation", "inhalé", "inhale", "neb", "nebulised",
                "nebulized", "nébulisation", "respiratory tract", "inhalatie", "447694001"),
    "topical": ("top", "topical", "topique", "cutaneous", "cutanée", "cutanee", "cutaan",
                "local", "lokaal", "6064005"),
    "SL": ("sl", "sublingual", "sublinguale", "sublinguaal", "37839007"),
    "TD": ("td", "transdermal", "transdermique", "transdermaal", "45890007"),
    "nasal": ("nasal", "nasale", "nasaal", "neus", "46713006"),
}  # fmt: skip
ROUTE_KEYS = tuple(_SPELLINGS)
_KEY_OF = {spelling: key for key, names in _SPELLINGS.items() for spelling in names}


def fold(route: str) -> str:
    """Lower case, single spaces, without SNOMED's "(qualifier value)" or " route"/" use"."""
    text = " ".join(route.strip().split()).casefold()
    text = text.removesuffix("(qualifier value)").strip()
    return text.removesuffix(" route").removesuffix(" use").strip()


def route_key(route: str | None) -> str | None:
    """The route's key ("PO", "IV", "SC", "IM", "PR", "inhaled", ...), or None if unknown."""
    return _KEY_OF.get(fold(route)) if route else None
