"""Dose units and routes a printed order may carry: UCUM, the hospital's spellings, SNOMED CT.

A unit or route the census does not know ("mgg", "intrathecal-ish") is a problem naming the
order: a typo in the record system must be fixed there, never printed for nurses to guess.
The tables are data: the common UCUM units of medication doses (https://ucum.org, the
"common UCUM units" value set of FHIR), the spellings prescribers and record systems use
for them, the HL7 v3 orderableDrugForm codes FHIR examples use as dose units, and the
SNOMED CT route-of-administration codes. A hospital adds its own in `[census] units` and
`[census] routes`.
"""

from __future__ import annotations

from papermode.core.routes import route_key
from papermode.core.settings import Settings

# Common UCUM units of a medication dose (case-sensitive UCUM codes).
UCUM_DOSE_UNITS = frozenset(
    [
        "g",
        "mg",
        "ug",
        "ng",
        "kg",
        "mL",
        "L",
        "dL",
        "uL",
        "mmol",
        "umol",
        "mol",
        "meq",
        "mEq",
        "[iU]",
        "[IU]",
        "U",
        "kU",
        "mU",
        "%",
        "1",
        "[drp]",
        "[ppm]",
        "mg/kg",
        "ug/kg",
        "ng/kg",
        "g/kg",
        "U/kg",
        "[iU]/kg",
        "mmol/kg",
        "meq/kg",
        "mL/kg",
        "mg/m2",
        "ug/m2",
        "g/m2",
        "U/m2",
        "[iU]/m2",
        "mg/mL",
        "ug/mL",
        "g/L",
        "mg/L",
        "U/mL",
        "[iU]/mL",
        "mmol/L",
        "meq/L",
        "cm2",
        "cm",
        "{tbl}",
        "{tablet}",
        "{cap}",
        "{capsule}",
        "{puff}",
        "{spray}",
        "{patch}",
        "{supp}",
        "{appl}",
        "{drop}",
        "{dose}",
        "{sachet}",
        "{vial}",
        "{ampule}",
        "{unit}",
        "{each}",
        "{lozenge}",
        "{inhalation}",
    ]
)
# How prescribers and record systems write them (compared without regard to case).
SPELLINGS = frozenset(
    [
        "mcg",
        "µg",
        "μg",
        "microgram",
        "micrograms",
        "milligram",
        "milligrams",
        "gram",
        "grams",
        "gramme",
        "grammes",
        "ml",
        "cc",
        "millilitre",
        "milliliter",
        "millilitres",
        "milliliters",
        "litre",
        "liter",
        "l",
        "unit",
        "units",
        "u",
        "iu",
        "ui",
        "unites",
        "unités",
        "eenheden",
        "ie",
        "e",
        "mmol",
        "meq",
        "mEq",
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "comprimé",
        "comprimés",
        "comprime",
        "comprimes",
        "cp",
        "cpr",
        "tablet(s)",
        "capsule",
        "capsules",
        "cap",
        "caps",
        "gélule",
        "gélules",
        "gelule",
        "gelules",
        "drop",
        "drops",
        "gtt",
        "gtts",
        "goutte",
        "gouttes",
        "druppel",
        "druppels",
        "puff",
        "puffs",
        "bouffée",
        "bouffées",
        "inhalation",
        "inhalations",
        "dose",
        "doses",
        "patch",
        "patches",
        "patchs",
        "pleister",
        "spray",
        "sprays",
        "pulvérisation",
        "pulvérisations",
        "suppository",
        "suppositories",
        "suppositoire",
        "suppositoires",
        "zetpil",
        "sachet",
        "sachets",
        "ampoule",
        "ampoules",
        "ampule",
        "vial",
        "vials",
        "flacon",
        "application",
        "applications",
        "appl",
        "lozenge",
        "lozenges",
        "ea",
        "each",
    ]
)
# HL7 v3 orderableDrugForm codes used as dose units (the FHIR examples do: "TAB").
ORDERABLE_DRUG_FORMS = frozenset(
    [
        "TAB",
        "CAP",
        "CAPSULE",
        "TABLET",
        "OPDROP",
        "OTDROP",
        "NDROP",
        "DROP",
        "PATCH",
        "VAGTAB",
        "SUPP",
        "RECSUPP",
        "VAGSUPP",
        "CHEWTAB",
        "ORTAB",
        "SLTAB",
        "ERTAB",
        "ECTAB",
        "INHL",
        "AERO",
        "SPRYADAPT",
        "NASSPRY",
        "PUFF",
        "APPFUL",
    ]
)
# SNOMED CT route-of-administration codes (descendants of 284009009) commonly ordered.
SNOMED_ROUTES = {
    "26643006": "oral", "47625008": "intravenous", "34206005": "subcutaneous",
    "78421000": "intramuscular", "37161004": "rectal", "6064005": "topical",
    "16857009": "vaginal", "46713006": "nasal", "54485002": "ophthalmic",
    "10547007": "otic", "37839007": "sublingual", "54471007": "buccal",
    "45890007": "transdermal", "447694001": "respiratory tract", "72607000": "intrathecal",
    "127492001": "nasogastric", "127490009": "gastrostomy", "58100008": "intra-arterial",
    "60213007": "intraosseous", "404820008": "epidural",
}  # fmt: skip
# How routes are written on orders (compared without regard to case).
ROUTES = frozenset(
    [
        "po",
        "os",
        "per-os",
        "oral",
        "orale",
        "oraal",
        "by-mouth",
        "iv",
        "i.v.",
        "ivd",
        "ivl",
        "ivse",
        "intravenous",
        "intraveineuse",
        "intraveineux",
        "intraveneus",
        "intravenoos",
        "sc",
        "s.c.",
        "sq",
        "subcut",
        "subcutaneous",
        "sous-cutanée",
        "sous-cutanee",
        "subcutaan",
        "im",
        "i.m.",
        "intramuscular",
        "intramusculaire",
        "intramusculair",
        "pr",
        "rectal",
        "rectale",
        "rectaal",
        "top",
        "topical",
        "topique",
        "cutaneous",
        "cutanée",
        "cutanee",
        "cutaan",
        "pv",
        "vaginal",
        "vaginale",
        "vaginaal",
        "sl",
        "sublingual",
        "sublinguale",
        "sublinguaal",
        "buccal",
        "buccale",
        "inh",
        "inhaled",
        "inhalation",
        "inhalé",
        "inhale",
        "neb",
        "nebulised",
        "nebulized",
        "nébulisation",
        "nasal",
        "nasale",
        "neus",
        "in",
        "ng",
        "nasogastric",
        "ngt",
        "peg",
        "gastrostomy",
        "jejunostomy",
        "td",
        "transdermal",
        "transdermique",
        "ophthalmic",
        "eye",
        "oculaire",
        "oog",
        "otic",
        "ear",
        "auriculaire",
        "oor",
        "it",
        "intrathecal",
        "intrathécale",
        "epidural",
        "péridurale",
        "peridurale",
        "io",
        "intraosseous",
        "ia",
        "intra-arterial",
        "enteral",
        "entéral",
    ]
)


def _fold(text: str) -> str:
    return " ".join(text.strip().split()).casefold()


_SPELLINGS = frozenset(_fold(s) for s in SPELLINGS)
_ROUTES = frozenset(_fold(r) for r in ROUTES)
_ROUTE_NAMES = frozenset(_fold(name) for name in SNOMED_ROUTES.values())


def known_unit(unit: str, settings: Settings) -> bool:
    """True for a UCUM dose unit, a usual spelling of one, or one of the hospital's units."""
    text = unit.strip()
    return (
        text in UCUM_DOSE_UNITS
        or text in ORDERABLE_DRUG_FORMS
        or _fold(text) in _SPELLINGS
        or _fold(text) in {_fold(u) for u in settings.census_units}
    )


def known_route(route: str, settings: Settings, snomed_codes: tuple[str, ...] = ()) -> bool:
    """True for a SNOMED CT route code, a usual route spelling, or one of the hospital's."""
    if any(code in SNOMED_ROUTES for code in snomed_codes) or route_key(route) is not None:
        return True  # route_key: also EDQM Standard Terms ("20066000", "Subcutaneous use")
    text = _fold(route).removesuffix("(qualifier value)").strip()
    text = text.removesuffix(" route").removesuffix(" use")
    return (
        text in _ROUTES
        or text in _ROUTE_NAMES
        or _fold(route) in {_fold(r) for r in settings.census_routes}
    )


# Infusion rates: an amount per unit of time (UCUM "mL/h", "[iU]/h", "mg/kg/h",
# "ug/kg/min"), printed the ISMP way ("mcg", "units"). The amount may be per kg or m2.
_RATE_AMOUNTS = {
    **dict.fromkeys(("ml", "cc", "millilitre", "milliliter"), "mL"),
    **dict.fromkeys(("l", "litre", "liter"), "L"),
    **dict.fromkeys(("mg", "milligram"), "mg"),
    "g": "g",
    **dict.fromkeys(("ug", "mcg", "µg", "μg", "microgram"), "mcg"),
    "ng": "ng",
    **dict.fromkeys(("[iu]", "iu", "u", "unit", "units", "ui", "[u]"), "units"),
    **dict.fromkeys(("mu", "milliunit", "milliunits"), "milliunits"),
    "mmol": "mmol",
    "meq": "mEq",
    **dict.fromkeys(("[drp]", "gtt", "gtts", "drop", "drops"), "drops"),
}
_RATE_TIMES = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "heure", "uur"), "h"),
    **dict.fromkeys(("min", "minute", "mn"), "min"),
    **dict.fromkeys(("d", "day", "24.h", "24h", "jour", "dag"), "d"),
}


def rate_unit(unit: str, settings: Settings) -> str | None:
    """The printed spelling of an infusion-rate unit ("ml/hr" -> "mL/h"), or None.

    None when it is not an amount per minute, hour or day: "min" alone (a duration), "mg"
    (a dose), "mL/s". A hospital's own spelling in `[census] units` is printed as written.
    """
    text = unit.strip()
    if _fold(text) in {_fold(u) for u in settings.census_units} and "/" in text:
        return text
    parts = [_fold(part).strip("()") for part in text.split("/")]
    if len(parts) not in (2, 3) or parts[-1] not in _RATE_TIMES:
        return None
    amount = _RATE_AMOUNTS.get(parts[0].removesuffix("s") if parts[0] != "units" else "units")
    amount = amount or _RATE_AMOUNTS.get(parts[0])
    if amount is None:
        return None
    if len(parts) == 3:
        if parts[1] not in ("kg", "m2"):
            return None
        amount = f"{amount}/{parts[1]}"
    return f"{amount}/{_RATE_TIMES[parts[-1]]}"


# The UCUM code of a printed rate unit (the reverse of `rate_unit`), for FHIR exports.
_UCUM_AMOUNTS = {
    "mL": "mL", "L": "L", "mg": "mg", "g": "g", "mcg": "ug", "ng": "ng", "units": "[iU]",
    "milliunits": "m[iU]", "mmol": "mmol", "mEq": "meq", "drops": "[drp]",
}  # fmt: skip


def rate_ucum(printed: str) -> str | None:
    """ "mL/h" -> "mL/h", "mcg/kg/min" -> "ug/kg/min", "units/h" -> "[iU]/h"; None when the
    unit is a hospital's own spelling that is not one `rate_unit` prints."""
    parts = printed.split("/")
    if len(parts) not in (2, 3) or parts[-1] not in ("h", "min", "d"):
        return None
    amount = _UCUM_AMOUNTS.get(parts[0])
    if amount is None or (len(parts) == 3 and parts[1] not in ("kg", "m2")):
        return None
    return "/".join((amount, *parts[1:]))
