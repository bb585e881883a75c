"""Printed values in the form's language: doses and units, frequencies, dates, sex.

Every value a form prints from the census goes through here, so a French or Dutch form never
shows "female", "daily" or "units", and a dose unit is spelled the ISMP way ("mcg", never
"µg" or "ug"). `Ctx` exposes these as methods (`ctx.order_dose(order)`, ...).

Choices (docs/templates.md#printed-values): French and Dutch numbers take a decimal comma
("0,5 mg"); dates print dd/mm/yyyy in French and Dutch and "21 May 1963" in English (never
5/21/1963, never ISO 1963-05-21 on paper); the microgram is "mcg" in every language (ISMP
list of error-prone abbreviations: "µg" is misread as "mg"); "U" and "IU" are written out.
Frequency codes the forms know (daily, BID, TID, QID, q4h..q12h, PRN, once) print in words;
so do FHIR R4 event-timing codes (`Timing.repeat.when`: ACM "before breakfast", "avant le
repas du matin", HS "at bedtime"...) with their offset ("30 min before breakfast"). French
names the meals by the time of day (repas du matin, de midi, du soir): "déjeuner" and "dîner"
mean different meals in Belgium and in France. A code outside the R4 value set prints as
given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from papermode.core.model import Dosage, Order, Timing, format_quantity

Translate = Callable[..., str]

DECIMAL_COMMA = frozenset({"fr", "nl"})
_MICROGRAM = frozenset({"mcg", "ug", "µg", "μg", "microgram", "micrograms"})
_UNITS = frozenset({"U", "u", "IU", "iu", "[iU]", "[IU]", "unit", "units", "UI", "ui"})
_KNOWN_UNITS = frozenset({"mg", "g", "mL", "mmol"})
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


def number(lang: str, value: float) -> str:
    """0.5 -> "0.5" in English, "0,5" in French and Dutch; never a trailing zero."""
    text = format_quantity(value)
    return text.replace(".", ",") if lang in DECIMAL_COMMA else text


def unit(t: Translate, lang: str, code: str | None) -> str:
    """A dose unit as printed: "mcg", "units" / "unités" / "eenheden"."""
    text = (code or "").strip()
    if text in _MICROGRAM or text.lower() in _MICROGRAM:
        return t("units.mcg")
    if text in _UNITS:
        return t("units.units")
    if text in _KNOWN_UNITS:
        return t(f"units.{text}")
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
    return f"{amount} {unit(t, lang, unit_code)}".strip()


def order_dose(t: Translate, lang: str, order: Order) -> str:
    """The dose to give of an order, as printed: "0,5 mg", "10 unités".

    An order whose dose differs by time prints each dose with its timing and dates.
    """
    doses = {(d.dose_value, d.dose_unit, d.dose_max) for d in order.dosages}
    if len(doses) > 1:
        return "; ".join(_dosage(t, lang, d) for d in order.dosages)
    return dose(t, lang, order.dose_value, order.dose_unit, order.dose_max)


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
    """An order's timing as printed: "3 fois par jour", "toutes les 6 heures"."""
    if timing is None:
        return ""
    if timing.code:
        known = _CODE_ALIASES.get(timing.code.strip().lower())
        if known is not None:
            return t(f"frequencies.{known}")
        words = _rhythm(t, lang, timing)
        return words or timing.code
    if timing.times_of_day:
        return " ".join(moment.strftime("%H:%M") for moment in timing.times_of_day)
    if timing.when:
        return ", ".join(_event(t, code, timing.offset_minutes) for code in timing.when)
    if timing.events:
        return " ".join(f"{day(t, lang, e)} {e:%H:%M}" for e in timing.events)
    return _rhythm(t, lang, timing)


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
    unit_name = _PERIOD_UNITS.get(timing.period_unit)
    if unit_name is None:
        return ""
    times = str(timing.frequency)
    ranged = bool(timing.frequency_max and timing.frequency_max != timing.frequency)
    if ranged:
        times = f"{times}-{timing.frequency_max}"
    period = number(lang, timing.period)
    if timing.period_max and timing.period_max != timing.period:
        period = f"{period}-{number(lang, timing.period_max)}"
    elif timing.period == 1 and unit_name in ("days", "weeks"):
        if timing.frequency == 1 and not ranged:
            key = "daily" if unit_name == "days" else "weekly"
            return t(f"frequencies.{key}") if key == "daily" else t("wording.weekly")
        return t(f"wording.times_per_{unit_name[:-1]}", n=times)
    if timing.frequency == 1 and not ranged:
        return t(f"wording.every_{unit_name}", n=period)
    return t(f"wording.times_every_{unit_name}", n=times, period=period)


def day(t: Translate, lang: str, value: date) -> str:
    """A calendar date as printed: 21/05/1963 in French and Dutch, "21 May 1963" in English."""
    moment = value.date() if isinstance(value, datetime) else value
    if lang in DECIMAL_COMMA:
        return f"{moment.day:02d}/{moment.month:02d}/{moment.year:04d}"
    return f"{moment.day} {_EN_MONTHS[moment.month - 1]} {moment.year:04d}"


def sex(t: Translate, lang: str, value: str | None) -> str:
    """A patient's administrative sex as printed: "femme", "vrouw"; unknown codes as given."""
    code = (value or "").strip().lower()
    code = _SEX_LETTERS.get(code, code)  # CSV exports give "F", "M"
    if code in SEXES:
        return t(f"sex.{code}")
    return value or ""


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
)
