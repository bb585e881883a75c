"""Page furniture drawn by the layout: patient banner, blank banner, ward banner, form title,
footer (page i of n, orders-as-of time, template and version, period) and the page id."""

from __future__ import annotations

from papermode.core.model import Allergy, Box, Drawing, Line, Patient, Text
from papermode.core.pageframe import MRN_TEXT_SIZE_PT
from papermode.core.pageid import new_page_id
from papermode.printing.layout import wording
from papermode.printing.layout.kit import (
    PT_MM,
    TITLE_PT,
    Body,
    Ctx,
    fit,
    fit_size,
    text_width,
    wrap,
)
from papermode.printing.templates import Template

_NAME_PT = 14.0
_SMALL_PT = 7.5


def patient_banner(ctx: Ctx, patient: Patient) -> list[Drawing]:
    """Name large, birth date, sex, location, MRN (at `frame.mrn_text_box`), weight, allergies."""
    header, mrn_box = ctx.frame.header, ctx.frame.mrn_text_box
    # The page-id text under the QR code reaches 1 mm into the header's right end.
    width = ctx.frame.page_id_text_box.x - header.x - 2.0
    drawings: list[Drawing] = [
        Text(
            header.x,
            header.y + 5.5,
            fit(patient.display_name, width, _NAME_PT, bold=True),
            _NAME_PT,
            bold=True,
        ),
        Text(
            header.x,
            header.y + 10.0,
            fit(_identity_line(ctx, patient), width, _SMALL_PT),
            _SMALL_PT,
        ),
    ]
    # Bold sans, not monospace: DejaVu Sans Mono's dotted zero is read as 6 by Tesseract
    # (the banner MRN, the independent identity check, went unread on a third of pages).
    mrn = f"MRN {patient.mrn}"
    mrn_size = MRN_TEXT_SIZE_PT
    drawings.append(
        Text(
            mrn_box.x,
            mrn_box.y + mrn_box.h - 1.2,
            fit(mrn, mrn_box.w, mrn_size, bold=True),
            mrn_size,
            bold=True,
        )
    )
    weight_x = mrn_box.x + mrn_box.w + 2.0
    drawings.append(
        Text(
            weight_x,
            mrn_box.y + 4.0,
            fit(_weight(ctx, patient), width - (weight_x - header.x), _SMALL_PT),
            _SMALL_PT,
        )
    )
    drawings += allergy_box(ctx, patient, Box(header.x, header.y + _BOX_TOP, width, _BOX_H))
    return drawings


def allergy_box(ctx: Ctx, patient: Patient, box: Box) -> list[Drawing]:
    """The allergies in a black outlined box: each substance, HIGH in bold for a high
    criticality (listed first), its reaction. Two lines; when they do not fit even at the
    smallest size, the last words say "+N more: all allergies on the ward census" (the
    census sheet prints every allergy, census.py): never cut silently."""
    drawings = _outline(box)
    x0, width = box.x + _BOX_PAD, box.w - 2 * _BOX_PAD
    if not patient.allergies:
        key = (
            "banner.allergies_not_recorded"
            if patient.allergies is None
            else "banner.no_known_allergies"
        )
        text = ctx.t(key)
        size = fit_size(text, width, _ALLERGY_PT, _ALLERGY_MIN_PT, bold=True)
        drawings.append(
            Text(x0, _baselines(box)[0], fit(text, width, size, bold=True), size, bold=True)
        )
        return drawings
    items = [_allergy_item(ctx, allergy) for allergy in _by_criticality(patient.allergies)]
    label = ctx.t("allergies.label")
    for size in _SIZES:
        placed, left_out = _place(ctx, label, items, width, size)
        if not left_out:
            break
    for line, x, text, bold in placed:
        drawings.append(Text(x0 + x, _baselines(box)[line], text, size, bold=bold))
    return drawings


_BOX_TOP = 19.3  # clear of the MRN OCR crop (mrn_text_box + 0.8 mm) by 0.5 mm
_BOX_H = 6.6
_BOX_PAD = 1.0
_ALLERGY_PT = 7.5
_ALLERGY_MIN_PT = 6.0
_SIZES = (7.5, 7.0, 6.5, 6.0)
_ITEM_GAP = "; "


def _outline(box: Box) -> list[Drawing]:
    x1, y1, x2, y2 = box.x, box.y, box.x + box.w, box.y + box.h
    return [
        Line(x1, y1, x2, y1, 0.4, 0.0),
        Line(x1, y2, x2, y2, 0.4, 0.0),
        Line(x1, y1, x1, y2, 0.4, 0.0),
        Line(x2, y1, x2, y2, 0.4, 0.0),
    ]


def _baselines(box: Box) -> tuple[float, float]:
    return box.y + 2.85, box.y + 5.85


def _by_criticality(allergies: tuple[Allergy, ...]) -> list[Allergy]:
    return sorted(allergies, key=lambda a: (a.criticality or "").lower() != "high")


# "No known drug allergy" and its kin (census/fhir/parts.py NO_KNOWN_NARROW, the CSV's NKDA),
# in the form's words: "Pas d'allergie médicamenteuse connue".
_NO_KNOWN = {
    "no known drug allergy": "nk_drug", "nkda": "nk_drug", "no known food allergy": "nk_food",
    "no known environmental allergy": "nk_environmental",
    "no known insect allergy": "nk_insect", "no known latex allergy": "nk_latex",
}  # fmt: skip


def _allergy_item(ctx: Ctx, allergy: Allergy) -> tuple[str, bool]:
    """ "penicillin HIGH (anaphylaxis)"; bold when the criticality is high. FHIR's
    "unable-to-assess" says so ("criticité non évaluée"): printed bare it read as low."""
    criticality = (allergy.criticality or "").lower()
    high = criticality == "high"
    substance = _NO_KNOWN.get(allergy.substance.strip().lower())
    substance = ctx.t(f"allergies.{substance}") if substance else allergy.substance
    text = f"{substance} {ctx.t('allergies.high')}" if high else substance
    if criticality == "unable-to-assess":
        text = f"{text} {ctx.t('allergies.unassessed')}"
    if allergy.reaction:
        text = f"{text} ({allergy.reaction})"
    return text, high


Placed = list[tuple[int, float, str, bool]]


def _place(
    ctx: Ctx, label: str, items: list[tuple[str, bool]], width: float, size: float
) -> tuple[Placed, int]:
    """Items laid out on two lines after the label; how many did not fit in full."""
    placed: Placed = [(0, 0.0, label, True)]
    line, x = 0, text_width(label + " ", size, bold=True)
    for index, (text, bold) in enumerate(items):
        last = index == len(items) - 1
        shown = text if last else text + _ITEM_GAP.rstrip()
        room = width - x
        more = ctx.t("allergies.more", n=len(items) - index - 1)
        if line == 1 and not last:
            room -= text_width(" " + more, size, bold=True)
        w = text_width(shown, size, bold=bold)
        if w > room and line == 0:
            line, x = 1, 0.0
            room = width - (0.0 if last else text_width(" " + more, size, bold=True))
        if w > room:
            more = ctx.t("allergies.more", n=len(items) - index)
            placed.append((line, x, more, True))
            return placed, len(items) - index
        placed.append((line, x, shown, bold))
        x += w + text_width(" ", size)
    return placed, 0


def _identity_line(ctx: Ctx, patient: Patient) -> str:
    parts = []
    if patient.birth_date is not None:
        parts.append(ctx.t("banner.born", date=ctx.day(patient.birth_date)))
    if patient.sex:
        parts.append(ctx.t("banner.sex", sex=ctx.sex(patient.sex)))
    if patient.location:
        parts.append(ctx.t("banner.location", location=patient.location))
    return "   ".join(parts)


def _weight(ctx: Ctx, patient: Patient) -> str:
    weight = patient.weight
    if weight is None:
        return ctx.t("banner.weight_not_recorded")
    kg = wording.number(ctx.lang, round(weight.kg, 1))  # "72,5" in French and Dutch
    if weight.measured_on is None:
        return ctx.t("banner.weight_undated", kg=kg)
    return ctx.t("banner.weight", kg=kg, date=ctx.day(weight.measured_on))


def allergy_text(ctx: Ctx, patient: Patient) -> str:
    """The patient's allergies as the banner prints them (also on the ward census)."""
    return _allergies(ctx, patient)


def _allergies(ctx: Ctx, patient: Patient) -> str:
    if patient.allergies is None:
        return ctx.t("banner.allergies_not_recorded")
    if not patient.allergies:
        return ctx.t("banner.no_known_allergies")
    items = [_allergy_item(ctx, allergy)[0] for allergy in _by_criticality(patient.allergies)]
    return ctx.t("banner.allergies", allergies=", ".join(items))


def ward_banner(ctx: Ctx, ward: str) -> list[Drawing]:
    header = ctx.frame.header
    width = ctx.frame.page_id_text_box.x - header.x - 2.0
    text = ctx.t("census.ward", ward=ward)  # a long ward name shrinks, then wraps: never cut
    size = fit_size(text, width, 16.0, 11.0, bold=True)
    lines = wrap(text, width, size, bold=True, lines=2)
    return [
        Text(header.x, header.y + 8.0 + index * size * 0.45, line, size, bold=True)
        for index, line in enumerate(lines)
    ]


def title(ctx: Ctx, form: Template) -> Text:
    text = fit(ctx.t(form.title), ctx.width, TITLE_PT, bold=True)
    return Text(ctx.left, ctx.frame.content.y + TITLE_PT * PT_MM + 0.5, text, TITLE_PT, bold=True)


def footer(ctx: Ctx, form: Template, number: int, count: int) -> list[Drawing]:
    """page i of n, template and version; the orders-as-of time and the period printed."""
    box = ctx.frame.footer
    half = box.w / 2 - 2.0
    start, end = ctx.period
    # the language's date (02/12/2026, never ISO on paper) and a 24-hour time
    period = ctx.t("footer.period", start=ctx.moment(start), end=ctx.moment(end))
    as_of = ctx.t("footer.orders_as_of", time=ctx.moment(ctx.snapshot.taken_at))
    if ctx.snapshot.source.startswith("reprint of"):  # printing/reprint.py: what it built on
        confirmed = ctx.snapshot.paper_confirmed_to
        taken = ctx.moment(ctx.snapshot.taken_at)
        as_of = (
            ctx.t("footer.orders_as_of_paper", time=taken, paper=ctx.moment(confirmed))
            if confirmed
            else ctx.t("footer.orders_as_of_no_paper", time=taken)
        )
    version = ctx.form_version(form)
    right = box.x + box.w
    return [
        Text(
            box.x,
            box.y + 4.5,
            fit(ctx.t("footer.page", i=number, n=count), half, 8.5, bold=True),
            8.5,
            bold=True,
        ),
        Text(right, box.y + 4.5, fit(version, half, 7.5), 7.5, align="right"),
        _as_of(ctx, as_of, box.x, box.y + 9.5, half),
        Text(right, box.y + 9.5, fit(period, half, 7.0), 7.0, align="right"),
    ]


def _as_of(ctx: Ctx, as_of: str, x: float, y: float, width: float) -> Text:
    """What the page was built from; a reprint's longer line is shrunk, never cut."""
    if not ctx.snapshot.source.startswith("reprint of"):
        return Text(x, y, fit(as_of, width, 7.5, bold=True), 7.5, bold=True)
    size = fit_size(as_of, width, 7.5, 5.0, bold=True)
    return Text(x, y, fit(as_of, width, size, bold=True), size, bold=True)


def page_seed(ctx: Ctx, form: Template, owner: str, number: int, layout: str) -> str:
    """Seed of the page id: same census and options, same ids; a new snapshot, new ids.

    `layout` is `pageid.layout_digest` of the page's exact fields and printed text: any
    difference in what the paper means (--hours, settings, language, template) gives the
    page a new id, so old paper is never read against a new layout.
    """
    parts = (
        ctx.snapshot.snapshot_id,
        ctx.paper,
        ctx.lang,
        ctx.period[0].isoformat(),
        form.name,
        owner,
        str(number),
        layout,
    )
    return "\x1f".join(parts)


def page_id(ctx: Ctx, form: Template, owner: str, number: int, layout: str) -> str:
    return new_page_id(page_seed(ctx, form, owner, number, layout))


def body_drawings(body: Body) -> tuple[Drawing, ...]:
    return tuple(body.drawings)
