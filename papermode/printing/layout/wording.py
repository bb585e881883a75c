"""Printed values in the form's language: doses and units, frequencies, dates, sex.

Every value a form prints from the census goes through here, so a French or Dutch form never
shows "female", "daily" or "units", and a dose unit is spelled the ISMP way ("mcg", never
"µg" or "ug"). `Ctx` exposes these as methods (`ctx.order_dose(order)`, ...).

Choices (docs/templates.md#printed-values): French and Dutch numbers take a decimal comma
("0,5 mg"); dates print dd/mm/yyyy in French and Dutch and "21 May 1963" in English (never
5/21/1963, never ISO 1963-05-21 on paper); the microgram is "mcg" in every language (ISMP
list of error-prone abbreviations: "µg" is misread as "mg"); "U" and "IU" are written out.
Frequency codes (daily, BID, TID, QID, q4h..q12h, PRN, once, and any code that spells a
rhythm: q24h, q3h, qod, "Q8H PRN"), the days of a weekly order, routes (SNOMED CT and EDQM
names such as "Subcutaneous route (qualifier value)" or "Oral use"), dose forms ("tablet",
"{tbl}") and the phrases the census reader adds to an order's instructions ("over 30 min",
"at 200 mL/h", "max 2 g per dose") print in the form's language.
FHIR R4 event-timing codes (`Timing.repeat.when`: ACM "before breakfast", "avant le repas du
matin", HS "at bedtime"...) print with their offset ("30 min before breakfast"). French names
the meals by the time of day (repas du matin, de midi, du soir): "déjeuner" and "dîner" mean
different meals in Belgium and in France. A code outside the R4 value set prints as given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from papermode.census.schedule import code_to_timing, days_apart
from papermode.core.model import Dosage, Order, Timing, format_quantity
from papermode.core.routes import ROUTE_KEYS, route_key

Translate = Callable[..., str]

DECIMAL_COMMA = frozenset({"fr", "nl"})
_MICROGRAM = frozenset({"mcg", "ug", "µg", "μg", "microgram", "micrograms"})
_UNITS = frozenset({"U", "u", "IU", "iu", "[iU]", "[IU]", "unit", "units", "UI", "ui"})
_KNOWN_UNITS = frozenset({"mg", "g", "mL", "mmol"})
# Dose forms used as units (UCUM annotations, HL7 orderableDrugForm codes, usual spellings in
# English, French and Dutch): printed as the form's word, singular or plural.
DOSE_FORMS = ("tablet", "capsule", "puff", "drop", "patch", "sachet", "ampoule", "suppository",
              "spray")  # fmt: skip
_FORM_SPELLINGS = {
    "tablet": ("{tbl}", "{tablet}", "tab", "tabs", "tablet", "tablets", "tablet(s)", "comprimé",
               "comprimés", "comprime", "comprimes", "cp", "cpr", "tabletten", "chewtab",
               "ertab", "ectab", "ortab", "sltab", "vagtab"),
    "capsule": ("{cap}", "{capsule}", "cap", "caps", "capsule", "capsules", "capsule(s)",
                "gélule", "gélules", "gelule", "gelules"),
    "puff": ("{puff}", "puff", "puffs", "bouffée", "bouffées", "bouffee", "bouffees", "inhl",
             "aero", "{inhalation}", "inhalation", "inhalations"),
    "drop": ("{drop}", "[drp]", "drop", "drops", "gtt", "gtts", "goutte", "gouttes", "druppel",
             "druppels", "opdrop", "otdrop", "ndrop"),
    "patch": ("{patch}", "patch", "patches", "patchs", "pleister", "pleisters"),
    "sachet": ("{sachet}", "sachet", "sachets"),
    "ampoule": ("{ampule}", "{ampoule}", "ampoule", "ampoules", "ampule", "ampules", "amp",
                "ampul", "ampullen"),
    "suppository": ("{supp}", "supp", "recsupp", "vagsupp", "suppository", "suppositories",
                    "suppositoire", "suppositoires", "zetpil", "zetpillen"),
    "spray": ("{spray}", "spray", "sprays", "nasspry", "spryadapt", "pulvérisation",
              "pulvérisations", "pulverisation", "pulverisations"),
}  # fmt: skip
_DOSE_FORM_OF = {spelling: form for form, names in _FORM_SPELLINGS.items() for spelling in names}
# Frequency codes printed in words: the keys of [frequencies] in forms/i18n.
FREQUENCY_CODES = ("once", "daily", "BID", "TID", "QID", "q4h", "q6h", "q8h", "q12h", "PRN")
_CODE_ALIASES = {code.lower(): code for code in FREQUENCY_CODES} | {
    "qd": "daily", "od": "daily", "bd": "BID", "tds": "TID", "qds": "QID", "stat": "once",
    "prn": "PRN",
}  # fmt: skip
SEXES = ("female", "male", "other", "unknown")
_SEX_LETTERS = {"f": "female", "m": "male", "o": "other", "u": "unknown"}
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_PERIOD_UNITS = {"h": "hours", "d": "days", "wk": "weeks", "min": "minutes"}
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Timing codes of the packaged settings' standard times that are not a rhythm (22:00...).
_MOMENT_CODES = {
    **dict.fromkeys(("nightly", "hs", "qhs", "nocte", "bedtime", "at night", "night",
                     "au coucher"), "nightly"),
    **dict.fromkeys(("morning", "am", "morn", "matin", "ochtend"), "morning"),
    **dict.fromkeys(("noon", "midi", "middag"), "noon"),
    **dict.fromkeys(("evening", "pm", "eve", "soir", "avond"), "evening"),
}  # fmt: skip
# Time units of a duration or a maximum per period ("over 30 min", "6 doses / 1 d").
TIME_UNITS = {"min": "min", "mins": "min", "minute": "min", "minutes": "min", "h": "h",
              "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "d": "d", "day": "d",
              "days": "d", "wk": "wk", "week": "wk", "weeks": "wk"}  # fmt: skip
# FHIR R4 value set event-timing (Timing.repeat.when): the keys of [when] in forms/i18n.
EVENT_CODES = (
    "MORN", "MORN.early", "MORN.late", "NOON", "AFT", "AFT.early", "AFT.late", "EVE",
    "EVE.early", "EVE.late", "NIGHT", "PHS", "HS", "WAKE", "C", "CM", "CD", "CV", "AC", "ACM",
    "ACD", "ACV", "PC", "PCM", "PCD", "PCV",
)  # fmt: skip


def translator(strings: Mapping[str, str]) -> Translate:
    """`ctx.t` for one language's strings, for checks that run before any page exists."""

    def t(key: str, **values: object) -> str:
        return strings[key].format(**values) if values else strings[key]

    return t


THOUSANDS = {"en": ",", "fr": "\u202f", "nl": "\u202f"}  # a narrow no-break space


def number(lang: str, value: float) -> str:
    """0.5 -> "0.5" in English, "0,5" in French and Dutch; never a trailing zero. From 1000
    the thousands are grouped, as ISMP asks ("5,000 units": 5000 is misread as 500 or
    50000): a comma in English, a narrow no-break space in French and Dutch (a point, the
    Dutch habit, would read as a decimal point on an English-trained eye: "5.000")."""
    text = format_quantity(value)
    whole, _, decimals = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    if len(digits) > 3:
        groups = [digits[max(0, end - 3) : end] for end in range(len(digits), 0, -3)][::-1]
        digits = THOUSANDS.get(lang, ",").join(groups)
    mark = "," if lang in DECIMAL_COMMA else "."
    return sign + digits + (mark + decimals if decimals else "")


def unit(t: Translate, lang: str, code: str | None, amount: float | None = None) -> str:
    """A dose unit as printed: "mcg", "units" / "unités" / "eenheden", "comprimé(s)".

    A dose form is singular for `amount` 1 (French: below 2), plural otherwise or unknown.
    """
    text = (code or "").strip()
    if text in _MICROGRAM or text.lower() in _MICROGRAM:
        return t("units.mcg")
    if text in _UNITS or text.lower() in {"unit", "units", "unité", "unités", "unite", "unites"}:
        return t("units.units")
    if text in _KNOWN_UNITS:
        return t(f"units.{text}")
    form = _DOSE_FORM_OF.get(text.lower())
    if form is not None:
        single = amount is not None and (amount < 2 if lang == "fr" else amount == 1)
        return t(f"units.{form}" if single else f"units.{form}_plural")
    head, slash, rest = text.partition("/")  # a rate or a concentration: "ug/kg/min"
    if slash and head:
        return f"{unit(t, lang, head)}/{rest}"
    return text


def dose(t: Translate, lang: str, value: float | None, unit_code: str | None,
         high: float | None) -> str:  # fmt: skip
    """One dose (or a range) with its unit, as printed: "0,5 mg", "1-2 comprimés"."""
    if value is None:
        return ""
    amount = number(lang, value)
    if high is not None and high != value:
        amount = f"{amount}-{number(lang, high)}"
    return f"{amount} {unit(t, lang, unit_code, max(value, high or value))}".strip()


def order_dose(t: Translate, lang: str, order: Order) -> str:
    """The dose to give of an order, as printed: "0,5 mg", "10 unités".

    An order whose dose differs by time prints each dose with its timing and dates.
    """
    return "; ".join(order_doses(t, lang, order))


def order_doses(t: Translate, lang: str, order: Order) -> list[str]:
    """The dose to give, or one entry per dosage ("40 mg 08:00 du 30/11/2026 au
    02/12/2026") for a split dose or a taper: the order column prints each on a line of its
    own, and no combined timing line (it would be the census's codes, "TID + BID")."""
    if len(order.dosages) > 1:  # each with its own timing and dates, in words
        return [_dosage(t, lang, d) for d in order.dosages]
    return [dose(t, lang, order.dose_value, order.dose_unit, order.dose_max)]


def _dosage(t: Translate, lang: str, dosage: Dosage) -> str:
    text = " ".join(
        part
        for part in (dose(t, lang, dosage.dose_value, dosage.dose_unit, dosage.dose_max),
                     frequency(t, lang, dosage.timing))
        if part
    )  # fmt: skip
    start, end = dosage.timing.bounds_start, dosage.timing.bounds_end
    if start is not None and end is not None:
        last = end - timedelta(seconds=1)
        return f"{text} {t('wording.from_to', start=day(t, lang, start), end=day(t, lang, last))}"
    if start is not None:
        return f"{text} {t('wording.from', start=day(t, lang, start))}"
    if end is not None:
        return f"{text} {t('wording.until', end=day(t, lang, end - timedelta(seconds=1)))}"
    return text


def frequency(t: Translate, lang: str, timing: Timing | None) -> str:
    """An order's timing as printed: "3 fois par jour", "toutes les 6 heures", "avant le
    petit-déjeuner", "12:00 uniquement le mercredi"."""
    if timing is None:
        return ""
    words = _timing_words(t, lang, timing)
    if not timing.days_of_week:
        return words
    if words == t("frequencies.daily"):  # "daily on Wednesday" is "on Wednesday"
        words = ""
    days = ", ".join(t(f"weekdays.{day}") for day in timing.days_of_week)
    return f"{words} {t('timing.on_days', days=days)}".strip()


def _timing_words(t: Translate, lang: str, timing: Timing) -> str:
    if timing.code:
        return _code_words(t, lang, timing)
    if timing.times_of_day:
        times = " ".join(moment.strftime("%H:%M") for moment in timing.times_of_day)
        every = _rhythm(t, lang, timing) if days_apart(timing) is not None else ""
        return f"{every} {times}".strip()  # "tous les 3 jours 10:00"
    if timing.when:
        return ", ".join(_event(t, code, timing.offset_minutes) for code in timing.when)
    if timing.events:
        return " ".join(f"{day(t, lang, e)} {e:%H:%M}" for e in timing.events)
    return _rhythm(t, lang, timing)


def _code_words(t: Translate, lang: str, timing: Timing) -> str:
    """A timing code in words: "TID", "q24h", "Q8H PRN", "nightly"; unknown codes as given."""
    code = (timing.code or "").strip()
    words = code.split()
    rest = " ".join(w for w in words if w.lower() != "prn")
    if not rest:
        return t("frequencies.PRN")
    known = _CODE_ALIASES.get(rest.lower())
    if known is not None:
        return t(f"frequencies.{known}")
    moment = _MOMENT_CODES.get(" ".join(rest.lower().split()))
    if moment is not None:
        return t(f"timing.{moment}")
    spelled = code_to_timing(rest)
    if spelled is not None:
        return _rhythm(t, lang, spelled) or code
    return _rhythm(t, lang, timing) or code


def _event(t: Translate, code: str, offset: int) -> str:
    """One event-timing code in words, with the order's offset: R4 says an offset is after
    the event unless the code says before (AC, ACM...: "30 min before breakfast")."""
    if code not in EVENT_CODES:
        return f"{code} {offset:+d} min" if offset else code
    words = t(f"when.{_event_key(code)}")
    if not offset:
        return words
    key = "when.offset_before" if code.startswith("AC") else "when.offset_after"
    return t(key, n=abs(offset), event=words)


def _event_key(code: str) -> str:
    return code.lower().replace(".", "_")


def _rhythm(t: Translate, lang: str, timing: Timing) -> str:
    """ "2 times a day", "every 6 hours", "1-2 times every 4-6 hours" from frequency/period."""
    if not (timing.frequency and timing.period and timing.period_unit):
        return ""
    length, unit_code = timing.period, timing.period_unit
    if unit_code == "d" and not float(length).is_integer() and not timing.period_max:
        length, unit_code = length * 24, "h"  # "every 0.5 days" is "every 12 hours"
    unit_name = _PERIOD_UNITS.get(unit_code)
    if unit_name is None:
        return ""
    times = str(timing.frequency)
    ranged = bool(timing.frequency_max and timing.frequency_max != timing.frequency)
    if ranged:
        times = f"{times}-{timing.frequency_max}"
    period = number(lang, length)
    if timing.period_max and timing.period_max != length:
        period = f"{period}-{number(lang, timing.period_max)}"
    elif length == 1 and unit_name in ("days", "weeks"):
        if timing.frequency == 1 and not ranged:
            key = "daily" if unit_name == "days" else "weekly"
            return t(f"frequencies.{key}") if key == "daily" else t("wording.weekly")
        return t(f"wording.times_per_{unit_name[:-1]}", n=times)
    if timing.frequency == 1 and not ranged:
        return t(f"wording.every_{unit_name}", n=period)
    return t(f"wording.times_every_{unit_name}", n=times, period=period)


_MICRO_SIGN = re.compile(r"(?<![^\W\d_])[µμ]g\b")  # "100 µg/dose", "µg/kg"
_UG_AFTER_NUMBER = re.compile(r"(\d)(\s?)ug\b")  # "100ug", "25 ug/h"


def ismp_text(text: str) -> str:
    """A drug name or an instruction as printed: "µg" and "ug" after a number are written
    "mcg" (ISMP: "µg" is read as "mg"), everything else as the record says."""
    return _UG_AFTER_NUMBER.sub(r"\1\2mcg", _MICRO_SIGN.sub("mcg", text))


def route(t: Translate, value: str | None) -> str:
    """A route as printed: "SC", "IV", "inhalé" for every spelling, SNOMED CT or EDQM name of
    a route the forms know ("Subcutaneous route (qualifier value)", "Oral use"); others as
    given."""
    key = route_key(value)
    return t(f"routes.{key}") if key is not None else (value or "")


_OVER = re.compile(r"^over (\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?) ([a-z]+)$")
_AT = re.compile(r"^at (\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?) (\S+)(?: \(calculated (\S+) (\S+)\))?$")
_AT_OVER = re.compile(r"^at (\d+(?:\.\d+)?) (\S+) over (\d+(?:[.,]\d+)?) ?([a-z]+)$")
_MAX_DOSE = re.compile(r"^max (\d+(?:\.\d+)?) (\S+) (per dose|in all)$")
_LABELLED = re.compile(r"^(site|method): (.+)$")


def instruction(t: Translate, lang: str, text: str) -> str:
    """One instruction as printed: the phrases the census reader writes from structured
    dosage elements ("over 30 min", "at 200 mL/h", "max 2 g per dose", "method: ...") in the
    form's language; the prescriber's own words as written ("µg" as "mcg")."""
    text = ismp_text(text)
    if match := _OVER.match(text):
        return t("timing.over", duration=_span(t, lang, *match.groups()))
    if match := _AT_OVER.match(text):
        rate, per, length, length_unit = match.groups()
        speed = t("timing.at_rate", rate=_amounts(t, lang, rate, per))
        return f"{speed} {t('timing.over', duration=_span(t, lang, length, length_unit))}"
    if match := _AT.match(text):
        value, per, calculated, calculated_unit = match.groups()
        words = t("timing.at_rate", rate=_amounts(t, lang, value, per))
        if calculated:
            rate = _amounts(t, lang, calculated, calculated_unit)
            words = f"{words} ({t('mar.infusion_calculated', rate=rate)})"
        return words
    if match := _MAX_DOSE.match(text):
        value, per, which = match.groups()
        key = "timing.max_per_dose" if which == "per dose" else "timing.max_in_all"
        return t(key, amount=_amounts(t, lang, value, per))
    if match := _LABELLED.match(text):
        return t(f"timing.{match.group(1)}", text=match.group(2))
    return text


def _amounts(t: Translate, lang: str, values: str, unit_code: str) -> str:
    low, _, high = values.partition("-")
    return dose(t, lang, float(low), unit_code, float(high) if high else None)


def _span(t: Translate, lang: str, values: str, unit_code: str) -> str:
    """ "30 min", "1-2 h", "1 j": a duration in the form's words."""
    key = TIME_UNITS.get(unit_code.lower().rstrip("."))
    amount = "-".join(number(lang, float(v.replace(",", "."))) for v in values.split("-"))
    return f"{amount} {t(f'time_units.{key}') if key else unit_code}"


_MAX_PER_PERIOD = re.compile(r"^(\d+(?:\.\d+)?) (.+) / (\d+(?:\.\d+)?) ?(\S*)$")


def max_per_period(t: Translate, lang: str, text: str | None) -> str:
    """ "6 doses / 1 d" -> "6 doses / 1 j", "3 g / 24 h"; a CSV's own text as written."""
    match = _MAX_PER_PERIOD.match(text or "")
    if match is None:
        return text or ""
    amount, what, per, per_unit = match.groups()
    counted = what if what in ("doses", "dose") else unit(t, lang, what, float(amount))
    counted = t("timing.doses") if what in ("doses", "dose") else counted
    return f"{number(lang, float(amount))} {counted} / {_span(t, lang, per, per_unit or 'h')}"


def day(t: Translate, lang: str, value: date) -> str:
    """A calendar date as printed: 21/05/1963 in French and Dutch, "21 May 1963" in English."""
    moment = value.date() if isinstance(value, datetime) else value
    if lang in DECIMAL_COMMA:
        return f"{moment.day:02d}/{moment.month:02d}/{moment.year:04d}"
    return f"{moment.day} {_EN_MONTHS[moment.month - 1]} {moment.year:04d}"


def moment(t: Translate, lang: str, value: datetime) -> str:
    """A date and a 24-hour time as printed: "02/12/2026 08:00", "2 December 2026 08:00"."""
    return f"{day(t, lang, value)} {value:%H:%M}"


def sex(t: Translate, lang: str, value: str | None) -> str:
    """A patient's administrative sex as printed: "femme", "vrouw"; unknown codes as given."""
    code = (value or "").strip().lower()
    code = _SEX_LETTERS.get(code, code)  # CSV exports give "F", "M"
    if code in SEXES:
        return t(f"sex.{code}")
    return value or ""


# Allergy classes of papermode/data/drug_classes.toml, named in the ALLERGY flag.
DRUG_CLASS_KEYS = (
    "penicillins", "cephalosporins", "carbapenems", "nsaids", "opioids", "sulfonamides",
    "macrolides", "fluoroquinolones", "tetracyclines", "aminoglycosides", "iodinated_contrast",
    "benzodiazepines",
)  # fmt: skip

WORDING_KEYS = (
    "wording.from_to",
    "wording.from",
    "wording.until",
    "wording.weekly",
    "wording.times_per_day",
    "wording.times_per_week",
    *(f"wording.every_{name}" for name in _PERIOD_UNITS.values()),
    *(f"wording.times_every_{name}" for name in _PERIOD_UNITS.values()),
    *(f"sex.{code}" for code in SEXES),
    *(f"frequencies.{code}" for code in FREQUENCY_CODES),
    *(f"when.{_event_key(code)}" for code in EVENT_CODES),
    "when.offset_before",
    "when.offset_after",
    "units.mcg",
    "units.units",
    *(f"units.{code}" for code in sorted(_KNOWN_UNITS)),
    *(f"units.{form}{plural}" for form in DOSE_FORMS for plural in ("", "_plural")),
    *(f"weekdays.{code}" for code in WEEKDAY_CODES),
    *(f"routes.{key}" for key in ROUTE_KEYS),
    *(f"time_units.{key}" for key in ("min", "h", "d", "wk")),
    *(f"drug_classes.{key}" for key in DRUG_CLASS_KEYS),
    *(f"timing.{key}" for key in ("on_days", "nightly", "morning", "noon", "evening", "over",
                                  "at_rate", "max_per_dose", "max_in_all", "site", "method",
                                  "doses")),
)  # fmt: skip
