"""The line a page prints when its orders did not come from a census export: forms made
from photos of screens (`prepare --from-photos`, review/from_photos.py) say so, and who
confirmed them, on every page, right-aligned on the title line."""

from __future__ import annotations

from papermode.core.model import Text
from papermode.printing.layout.kit import PT_MM, TITLE_PT, Ctx, fit, fit_size, text_width

FROM_PHOTOS = "from photos of screens"
PROVENANCE_PT = 8.0


def provenance(ctx: Ctx, title_text: str) -> tuple[Text, ...]:
    """The snapshot's own source line when it was built from photos, else nothing. It is
    shrunk to the width the title leaves, never cut (the reviewers' names must show)."""
    source = ctx.snapshot.source
    if not source.startswith(FROM_PHOTOS):
        return ()
    room = max(20.0, ctx.width - text_width(title_text, TITLE_PT, bold=True) - 4.0)
    size = fit_size(source, room, PROVENANCE_PT, 4.5, bold=True)
    y = ctx.frame.content.y + TITLE_PT * PT_MM + 0.5
    text = fit(source, room, size, bold=True)
    return (Text(ctx.left + ctx.width, y, text, size, bold=True, align="right"),)
