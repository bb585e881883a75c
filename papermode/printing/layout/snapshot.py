"""Template + snapshot -> pages of boxes in millimetres. Pure: no I/O, no randomness.

Public API:

- `layout_patient`: a patient's MAR, PRN record, new-order sheet, vital-signs chart and notes
  page, numbered "page i of n" across that patient's pages.
- `layout_ward_census`: the ward's census sheet (patients, their pages and page ids).
- `layout_blank_packs`: packs for patients admitted during the downtime.
- `layout_snapshot`: everything, per ward, in print order.

Every page carries its banner, form title, footer and a page id derived from (snapshot id,
paper, language, period start, template, owner, page number, and a digest of the page's
exact fields and printed text), so re-running the same census with the same options gives
the same ids, and a new snapshot or any change in what a page means gives new ones.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from papermode.core.errors import UsageError
from papermode.core.model import (
    PAPER_SIZES_MM,
    Drawing,
    Field,
    Order,
    PageLayout,
    Patient,
    ScheduledDose,
    Snapshot,
)
from papermode.core.pageframe import frame_for
from papermode.core.pageid import layout_digest
from papermode.printing.layout.banner import (
    footer,
    page_id,
    patient_banner,
    title,
    ward_banner,
)
from papermode.printing.layout.blank_pack import blank_footer, blank_pack_bodies, identity_banner
from papermode.printing.layout.census import bed_order, census_bodies
from papermode.printing.layout.forms import new_order_bodies, notes_bodies
from papermode.printing.layout.kit import Body, Ctx
from papermode.printing.layout.legend import legend_ctx, signature_legend
from papermode.printing.layout.mar import mar_bodies
from papermode.printing.layout.prn import prn_bodies
from papermode.printing.layout.provenance import provenance
from papermode.printing.layout.vitals import vitals_bodies
from papermode.printing.templates import LANGUAGES, Template, TemplateSet

Doses = Mapping[str, Sequence[ScheduledDose]]
PATIENT_FORMS = ("mar", "prn", "new_orders", "vitals", "notes")
BLANK_FORMS = ("mar", "prn", "vitals", "new_orders")


def _context(
    snapshot: Snapshot,
    period: tuple[datetime, datetime],
    paper: str,
    lang: str,
    templates: TemplateSet,
    settings: Any = None,
) -> Ctx:
    if paper not in PAPER_SIZES_MM:
        raise UsageError(
            f"paper {paper!r} is not one of {', '.join(PAPER_SIZES_MM)}.",
            advice="Use --paper a4 or --paper letter.",
        )
    if lang not in LANGUAGES:
        raise UsageError(
            f"language {lang!r} is not one of {', '.join(LANGUAGES)}.",
            advice="Use --lang en, fr or nl.",
        )
    if not period[0] < period[1]:
        raise UsageError("the period ends before it starts.", advice="Check --start and --hours.")
    frame = frame_for(PAPER_SIZES_MM[paper])
    return Ctx(templates, lang, paper, frame, snapshot, period, settings)


def _finish(
    ctx: Ctx,
    bodies: Sequence[Body],
    owner: str,
    *,
    patient: Patient | None,
    ward: str | None,
    banner: tuple[Sequence[Drawing], Sequence[Field]],
    footer_of: Callable[[Ctx, Template, int, int], list[Drawing]] = footer,
) -> list[PageLayout]:
    """Wrap page bodies with banner, title, footer and page id, numbered i of n."""
    pages = []
    count = len(bodies)
    banner_drawings, banner_fields = banner
    for number, body in enumerate(bodies, start=1):
        form = body.form
        heading = title(ctx, form)
        legend_drawings, legend_fields = signature_legend(ctx, form.name)  # layout/legend.py
        drawings = (*banner_drawings, heading, *provenance(ctx, heading.text),
                    *footer_of(ctx, form, number, count), *legend_drawings)  # fmt: skip
        fields = (*banner_fields, *body.fields, *legend_fields)
        all_drawings = (*body.drawings, *drawings)
        size = (ctx.frame.width, ctx.frame.height)
        digest = layout_digest(form.name, form.version, size, fields, all_drawings)
        pages.append(
            PageLayout(
                page_id=page_id(ctx, form, owner, number, digest),
                template=form.name,
                template_version=form.version,
                paper=ctx.paper,
                size_mm=size,
                snapshot_id=ctx.snapshot.snapshot_id,
                patient_id=patient.patient_id if patient is not None else None,
                mrn=patient.mrn if patient is not None else None,
                ward=ward,
                page_number=number,
                page_count=count,
                fields=fields,
                drawings=all_drawings,
                period_start=ctx.period[0],
                period_end=ctx.period[1],
                lang=ctx.lang,
            )
        )
    return pages


def layout_patient(
    patient: Patient,
    orders: Sequence[Order],
    doses: Doses,
    snapshot: Snapshot,
    *,
    period: tuple[datetime, datetime],
    paper: str,
    lang: str,
    templates: TemplateSet,
    settings: Any = None,
) -> list[PageLayout]:
    """All pages of one patient, in print order, numbered across the patient's pages."""
    # the patient: allergy flags beside orders (layout/allergy_flag.py)
    ctx = replace(_context(snapshot, period, paper, lang, templates, settings), patient=patient)
    # Only this patient's orders, each once (an order listed twice is still one order).
    unique: dict[str, Order] = {}
    for order in orders:
        if order.patient_id == patient.patient_id:
            unique.setdefault(order.order_id, order)
    own = list(unique.values())
    bodies: list[Body] = []
    for name in PATIENT_FORMS:
        form = templates.for_form(name)
        prn = [o.as_needed and not o.do_not_perform for o in own]  # DO NOT GIVE: on the MAR
        if form.print_when == "has_prn" and not any(prn):
            continue
        if form.print_when == "has_scheduled" and all(prn):
            continue
        bodies += _patient_bodies(ctx, name, own, doses)
    banner = patient_banner(ctx, patient)
    return _finish(
        ctx,
        bodies,
        f"patient:{patient.patient_id}",
        patient=patient,
        ward=patient.ward,
        banner=(banner, []),
    )


def _patient_bodies(ctx: Ctx, name: str, orders: Sequence[Order], doses: Doses) -> list[Body]:
    form = ctx.templates.for_form(name)
    ctx = legend_ctx(ctx, name)  # room for the signature legend (layout/legend.py)
    if name == "mar":
        return mar_bodies(ctx, form, orders, doses)
    if name == "prn":
        return prn_bodies(ctx, form, orders)
    return _shared_bodies(ctx, name)


# The new-order sheet, vitals chart and notes page are the same for every patient of a run
# (only the banner differs), so they are built once per (templates, options) and shared.
# Bodies are never changed once built; pages copy their fields into their own tuples.
_SHARED: dict[tuple[Any, ...], tuple[TemplateSet, list[Body]]] = {}
_BUILDERS: dict[str, Callable[[Ctx, Template], list[Body]]] = {
    "new_orders": new_order_bodies,
    "vitals": vitals_bodies,
    "notes": notes_bodies,
}


def _shared_bodies(ctx: Ctx, name: str) -> list[Body]:
    vitals = (
        getattr(ctx.settings, "vitals_every_hours", None),
        tuple(getattr(ctx.settings, "vitals_times", None) or ()),
    )
    key = (id(ctx.templates), name, ctx.lang, ctx.paper, ctx.period, vitals)
    cached = _SHARED.get(key)
    if cached is not None and cached[0] is ctx.templates:
        return cached[1]
    bodies = _BUILDERS[name](legend_ctx(ctx, name), ctx.templates.for_form(name))
    if len(_SHARED) > 64:
        _SHARED.clear()
    _SHARED[key] = (ctx.templates, bodies)
    return bodies


def layout_blank_packs(
    ward: str,
    count: int,
    snapshot: Snapshot,
    *,
    period: tuple[datetime, datetime],
    paper: str,
    lang: str,
    templates: TemplateSet,
    settings: Any = None,
) -> list[PageLayout]:
    """`count` packs (MAR, PRN, vitals, new orders) with identity boxes written by hand
    (printing/layout/blank_pack.py), no printed period and no "orders as of" line."""
    ctx = _context(snapshot, period, paper, lang, templates, settings)
    admission = templates.for_form("blank_admission")
    pages: list[PageLayout] = []
    bodies = blank_pack_bodies(ctx)  # each form's body keeps room for its signature legend
    banner = identity_banner(ctx, admission)
    for pack in range(1, count + 1):
        pages += _finish(
            ctx,
            bodies,
            # The period is not printed on a blank pack, yet the reader checks its written
            # times against it: another period is another page id.
            f"blank:{ward}:{pack}:{period[1]:%Y%m%dT%H%M}",
            patient=None,
            ward=ward,
            banner=banner,
            footer_of=blank_footer,
        )
    return pages


def layout_ward_census(
    ward: str,
    patients: Sequence[Patient],
    pages_by_patient: Mapping[str, Sequence[PageLayout]],
    snapshot: Snapshot,
    *,
    period: tuple[datetime, datetime],
    paper: str,
    lang: str,
    templates: TemplateSet,
    blank_packs: Sequence[Sequence[PageLayout]] = (),
) -> list[PageLayout]:
    """The ward's census sheet: bed, name, MRN and every page id of every patient."""
    ctx = _context(snapshot, period, paper, lang, templates)
    bodies = census_bodies(
        ctx, templates.for_form("ward_census"), patients, pages_by_patient, blank_packs
    )
    banner = ward_banner(ctx, ward)
    return _finish(ctx, bodies, f"ward:{ward}", patient=None, ward=ward, banner=(banner, []))


def layout_snapshot(
    snapshot: Snapshot,
    doses: Doses,
    *,
    period: tuple[datetime, datetime],
    paper: str,
    lang: str,
    templates: TemplateSet,
    settings: Any = None,
    blank_packs_per_ward: int = 2,
) -> dict[str, list[PageLayout]]:
    """Ward -> pages in print order: census sheet, each patient (bed order), blank packs."""
    with _collector_paused():
        return _layout_wards(
            snapshot, doses, period, paper, lang, templates, settings, blank_packs_per_ward
        )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a census makes millions of small acyclic objects
    and the collector's repeated scans of them would cost more than the layout itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _layout_wards(
    snapshot: Snapshot,
    doses: Doses,
    period: tuple[datetime, datetime],
    paper: str,
    lang: str,
    templates: TemplateSet,
    settings: Any,
    blank_packs_per_ward: int,
) -> dict[str, list[PageLayout]]:
    _context(snapshot, period, paper, lang, templates, settings)  # validate options once
    options: dict[str, Any] = {
        "period": period,
        "paper": paper,
        "lang": lang,
        "templates": templates,
    }
    orders_by_patient: dict[str, list[Order]] = {}
    for order in snapshot.orders:
        orders_by_patient.setdefault(order.patient_id, []).append(order)
    wards: dict[str, list[Patient]] = {}
    for patient in snapshot.patients:
        wards.setdefault(patient.ward, []).append(patient)
    result: dict[str, list[PageLayout]] = {}
    for ward in sorted(wards):
        patients = sorted(wards[ward], key=bed_order)
        by_patient = {
            p.patient_id: layout_patient(
                p,
                orders_by_patient.get(p.patient_id, []),
                doses,
                snapshot,
                settings=settings,
                **options,
            )
            for p in patients
        }
        blanks = layout_blank_packs(
            ward, blank_packs_per_ward, snapshot, settings=settings, **options
        )
        packs = _split_packs(blanks)
        census = layout_ward_census(
            ward, patients, by_patient, snapshot, blank_packs=packs, **options
        )
        result[ward] = [
            *census,
            *(page for p in patients for page in by_patient[p.patient_id]),
            *blanks,
        ]
    return result


def _split_packs(pages: Sequence[PageLayout]) -> list[list[PageLayout]]:
    packs: list[list[PageLayout]] = []
    for page in pages:
        if page.page_number == 1:
            packs.append([])
        packs[-1].append(page)
    return packs
