"""Proposed orders and photo identities: review items made from photos of screens.

When no census export exists, the medication lines read from screen photos
(`free_medication_candidates`) and the identity on each photo's banner become review items
(docs/review-queue.md, docs/screen-photos.md):

- `photo:<capture>:<part>` (kind `photo_identity`, level `identity`): the patient's family
  name, given name, birth date and MRN as read on the photo, and its room, bed and
  allergies when the screen shows them under their label (`LOCATION_PARTS`; a screen with
  no allergy line makes no allergies item: the patient's allergies are unknown);
- `proposal:<capture>:<line>:<part>` (kind `proposed_order`, level `new_order`): drug,
  dose, unit, route, frequency and times of one medication line.

Every one is under the two-person rule; MRN, birth date, dose and times are keyed blind by
the second reviewer. A photo where no identity at all was read makes no identity item: it
never creates a patient. Nothing here writes: decisions go through `review.service.decide`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from papermode.free.identity import read_identity
from papermode.free.search import ensure_schema as ensure_free_schema
from papermode.review.items import QueueItem
from papermode.store.database import Store

PHOTO_PREFIX = "photo:"
PROPOSAL_PREFIX = "proposal:"
IDENTITY_PARTS = ("family", "given", "birth_date", "mrn")
LOCATION_PARTS = ("room", "bed", "allergies")  # only when the photo shows them
ORDER_PARTS = ("drug", "dose", "unit", "route", "frequency", "times")
BLIND_PARTS = frozenset({"mrn", "birth_date", "dose", "times"})
NO_VALUE = "-"  # a part the screen does not show (no fixed times): confirmed as such
EDITABLE_KINDS = ("photo_identity", "proposed_order")


def is_photo_item(item_id: str) -> bool:
    return item_id.startswith((PHOTO_PREFIX, PROPOSAL_PREFIX))


def screen_photos(store: Store) -> list[dict[str, Any]]:
    """The screen photos of the store, oldest first (empty when none was ingested)."""
    ensure_free_schema(store.db)
    return list(
        store.db.query(
            "SELECT capture_id, file_name, captured_at, text, patient_id, mrn "
            "FROM free_photos WHERE kind = 'screen' ORDER BY captured_at, capture_id"
        )
    )


def candidates_of(store: Store, capture_id: str) -> list[dict[str, Any]]:
    return list(
        store.db.query(
            "SELECT * FROM free_medication_candidates WHERE capture_id = ? ORDER BY line_number",
            [capture_id],
        )
    )


def proposal_items(store: Store) -> Iterable[QueueItem]:
    """Identity items of every screen photo that shows one, and the proposed-order items
    of every medication line on such a photo (docs/review-queue.md)."""
    for photo in screen_photos(store):
        identity = read_identity(photo["text"] or "")
        if not identity.anything and not photo["patient_id"]:
            continue  # no patient read: the photo's lines never become anyone's orders
        values = {
            "family": identity.family,
            "given": identity.given,
            "birth_date": identity.birth_date,
            "mrn": identity.mrn,
            "room": identity.room,
            "bed": identity.bed,
            "allergies": identity.allergies,
        }
        shown = [part for part in LOCATION_PARTS if part in identity.shown]
        for part in (*IDENTITY_PARTS, *shown):
            yield _item(
                photo,
                f"{PHOTO_PREFIX}{photo['capture_id']}:{part}",
                part,
                "photo_identity",
                "identity",
                values[part],
            )
        for candidate in candidates_of(store, photo["capture_id"]):
            values = order_values(candidate)
            for part in ORDER_PARTS:
                item_id = f"{PROPOSAL_PREFIX}{candidate['candidate_id']}:{part}"
                yield _item(
                    photo,
                    item_id,
                    part,
                    "proposed_order",
                    "new_order",
                    values[part],
                    line=int(candidate["line_number"]),
                )


def order_values(candidate: dict[str, Any]) -> dict[str, str | None]:
    """The machine's reading of one medication line, part by part, as review shows it."""
    dose = candidate["dose_value"]
    times = json.loads(candidate["times"] or "[]")
    return {
        "drug": candidate["drug"] or candidate["drug_text"] or None,
        "dose": f"{dose:g}" if dose is not None else None,
        "unit": candidate["dose_unit"],
        "route": candidate["route"],
        "frequency": candidate["frequency"],
        "times": ",".join(times) if times else NO_VALUE,
    }


def _item(
    photo: dict[str, Any],
    item_id: str,
    part: str,
    kind: str,
    level: str,
    value: str | None,
    *,
    line: int = -1,
) -> QueueItem:
    return QueueItem(
        item_id=item_id,
        kind=kind,
        level=level,
        patient_id=photo["patient_id"],
        field_id=part,
        field_kind="text",
        role=part,
        label=part.replace("_", " "),
        value=value,
        two_person=True,
        blind=part in BLIND_PARTS,
        capture_id=photo["capture_id"],
        file=photo["file_name"],
        message=f"screen photo {photo['file_name']}, line {line + 1}"
        if line >= 0
        else f"screen photo {photo['file_name']}: patient identity",
        sort_key=("", photo["captured_at"] or "", photo["capture_id"], line, part),
    )
