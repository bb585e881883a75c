"""Benchmark scoring: what was read, compared with what was written (the synthetic truth).

Pure functions over plain data, so they can be checked on small hand-made pairs:

- `truth`: the `truth.json` document `papermode.demo.synth.corpus.make_corpus` writes
  (`files[]`, each with `file`, `expected` ("read", "retake:<reason>", "free") and
  `pages[]` in frame order, each with `page_id` and `truth.fields`);
- `report`: a *capture report*, one entry per page image papermode read, as
  `capture_report(store)` builds it from a store:

  ```
  {"captures": [{"file": "capture-0001.jpg", "frame": 0, "status": "read",
                 "page_id": "7ESR-V4JQ-5C", "patient_id": "pat-1",
                 "kinds": {field_id: "checkbox" | "digits" | "text" | "signature"},
                 "fields": {field_id: {"value": "ticked", "status": "auto"}},
                 "sheet": 1}]}
  ```

  `sheet` is the sheet of paper the store put the capture on (`papermode.state.sheets`:
  photocopies of one page id are separate sheets); a truth page may say which sheet it was
  photographed from (`sheet`, any label); without one, its `later_of` chain is its sheet.

Every figure is per capture (what one photo said), not the merged page state, because the
truth describes each photo. A field of the layout that was not read at all counts as wrong.
The running side of the benchmark (corpus, timings, baseline) is in `papermode.demo.bench`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from papermode.core.flags import RULE_FLAGS
from papermode.state.page_state import page_sheets

CHECKBOX_KINDS = ("checkbox",)
DIGITS_KINDS = ("digits",)


@dataclass(frozen=True)
class FieldScore:
    """How well one kind of field was read, over every field of every correctly identified page.

    `correct` counts values equal to the truth; `auto_wrong` the values the machine accepted
    on its own that were wrong (the worst failure); `review` the fields sent to a person,
    `review_by_rule` those of them a rule sent whatever the reading (a new order, an
    incomplete entry: `core.flags.RULE_FLAGS`), so `doubt_share` is the share sent for a
    doubt about the reading itself. `written` / `written_correct` restrict the same count to
    fields where something was written (a tick, digits), so many easy empty boxes cannot
    hide a poor reader.
    """

    total: int = 0
    correct: int = 0
    auto: int = 0
    auto_wrong: int = 0
    review: int = 0
    review_by_rule: int = 0
    written: int = 0
    written_correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def auto_error(self) -> float:
        return self.auto_wrong / self.auto if self.auto else 0.0

    @property
    def review_share(self) -> float:
        return self.review / self.total if self.total else 0.0

    @property
    def doubt_share(self) -> float:
        """Fields sent to review for a doubt about the reading (not by a rule)."""
        return (self.review - self.review_by_rule) / self.total if self.total else 0.0

    @property
    def written_accuracy(self) -> float:
        return self.written_correct / self.written if self.written else 0.0

    def as_json(self) -> dict[str, float | int]:
        """Counts and rates, rounded for reports."""
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 5),
            "auto": self.auto,
            "auto_wrong": self.auto_wrong,
            "auto_error": round(self.auto_error, 5),
            "review": self.review,
            "review_share": round(self.review_share, 5),
            "review_by_rule": self.review_by_rule,
            "doubt_share": round(self.doubt_share, 5),
            "written": self.written,
            "written_correct": self.written_correct,
            "written_accuracy": round(self.written_accuracy, 5),
        }


@dataclass(frozen=True)
class IdentityScore:
    """Page identity: pages expected to be read, how many were given the right page id."""

    expected_pages: int = 0
    identified: int = 0
    wrong_page: int = 0
    wrong_patient: int = 0
    not_identified: int = 0
    retakes_expected: int = 0
    retakes_caught: int = 0
    free_expected: int = 0
    free_found: int = 0
    # Values the machine accepted on its own on a capture stored under another page's id:
    # the worst failure, must be 0.
    wrong_page_auto_values: int = 0
    # Sheets of the store holding captures of more than one true sheet (photocopies merged,
    # must be 0), and true single sheets the store split into copies (sent to review).
    copies_merged: int = 0
    copies_split: int = 0

    @property
    def rate(self) -> float:
        return self.identified / self.expected_pages if self.expected_pages else 0.0

    def as_json(self) -> dict[str, float | int]:
        """Counts and the identity rate."""
        data: dict[str, float | int] = dict(self.__dict__)
        data["rate"] = round(self.rate, 5)
        return data


# ---------------------------------------------------------------------- matching


def _key(file: str, frame: int) -> tuple[str, int]:
    # The truth names files relative to the corpus folder; ingest names them as given.
    return PurePath(file).name, int(frame)


def _captures_by_key(report: Mapping[str, Any]) -> dict[tuple[str, int], Mapping[str, Any]]:
    return {_key(c["file"], c.get("frame", 0)): c for c in report.get("captures", [])}


def truth_pages(
    truth: Mapping[str, Any],
) -> Iterable[tuple[tuple[str, int], str, Mapping[str, Any]]]:
    """(file key, expected outcome, page truth) for every page of every file in the truth."""
    for entry in truth.get("files", []):
        for frame, page in enumerate(entry.get("pages", [])):
            yield _key(entry["file"], frame), str(entry.get("expected", "read")), page


def matched_reads(
    truth: Mapping[str, Any], report: Mapping[str, Any]
) -> Iterable[tuple[Mapping[str, str], Mapping[str, Any]]]:
    """(truth fields, capture) for every page read AND given its true page id."""
    captures = _captures_by_key(report)
    for key, _expected, page in truth_pages(truth):
        capture = captures.get(key)
        if (
            capture
            and capture.get("status") == "read"
            and capture.get("page_id") == page["page_id"]
        ):
            yield page["truth"]["fields"], capture


# ---------------------------------------------------------------------- scores


def score_identity(
    truth: Mapping[str, Any],
    report: Mapping[str, Any],
    patient_of: Mapping[str, str | None] | None = None,
) -> IdentityScore:
    """Identity rate, wrong-page and wrong-patient counts, retakes and free photos found.

    `patient_of` maps page id -> patient id; without it every wrong page counts as a wrong
    patient (the safe assumption). Pages expected to be retaken are not counted as pages to
    identify, but a retake photo read with a wrong page id still counts as wrong.
    """
    captures = _captures_by_key(report)
    counts = dict.fromkeys(IdentityScore.__dataclass_fields__, 0)
    for entry in truth.get("files", []):
        expected = str(entry.get("expected", "read"))
        if expected == "free":
            counts["free_expected"] += 1
            found = captures.get(_key(entry["file"], 0))
            counts["free_found"] += bool(found and found.get("status") == "free")
    for key, expected, page in truth_pages(truth):
        capture = captures.get(key) or {}
        status, page_id = capture.get("status"), capture.get("page_id")
        if expected.startswith("retake"):
            counts["retakes_expected"] += 1
            counts["retakes_caught"] += status == "retake"
        else:
            counts["expected_pages"] += 1
        if status == "read" and page_id == page["page_id"]:
            counts["identified"] += not expected.startswith("retake")
        elif status == "read" and page_id:
            counts["wrong_page"] += 1
            fields = capture.get("fields") or {}
            counts["wrong_page_auto_values"] += sum(
                1 for reading in fields.values() if reading.get("status") == "auto"
            )
            truth_patient = patient_of.get(page["page_id"]) if patient_of else None
            read_patient = patient_of.get(page_id) if patient_of else None
            counts["wrong_patient"] += patient_of is None or truth_patient != read_patient
        elif not expected.startswith("retake"):
            counts["not_identified"] += 1
    counts["copies_merged"], counts["copies_split"] = _sheet_counts(truth, captures)
    return IdentityScore(**counts)


def _sheet_counts(
    truth: Mapping[str, Any], captures: Mapping[tuple[str, int], Mapping[str, Any]]
) -> tuple[int, int]:
    """(store sheets merging true sheets whose marks contradict, true sheets split).

    A true sheet is the page's `sheet` label in the truth, else the chain of `later_of`
    captures it continues (the synthetic corpus fills each new chain with its own seed:
    another sheet of paper with the same page id, a photocopy in all but name). Merging two
    true sheets counts only when their marks contradict (each has a mark the other lacks):
    two nearly blank sheets merged lose nothing.
    """
    sheet_marks: dict[Any, set[str]] = {}
    store_sheets: dict[tuple[str, Any], set[Any]] = {}
    true_sheets: dict[Any, set[Any]] = {}
    for key, page in _true_sheet_pages(truth):
        capture = captures.get(key) or {}
        if capture.get("status") != "read" or capture.get("page_id") != page["page_id"]:
            continue
        label = page["_sheet"]
        marks = {f for f, v in page["truth"]["fields"].items() if v not in ("empty", "")}
        sheet_marks[label] = sheet_marks.get(label, set()) | marks
        store_sheet = (page["page_id"], capture.get("sheet", 1))
        store_sheets.setdefault(store_sheet, set()).add(label)
        true_sheets.setdefault(label, set()).add(store_sheet)
    merged = sum(
        any(
            sheet_marks[a] - sheet_marks[b] and sheet_marks[b] - sheet_marks[a]
            for a in labels
            for b in labels
        )
        for labels in store_sheets.values()
    )
    split = sum(len(store) > 1 for store in true_sheets.values())
    return merged, split


def _true_sheet_pages(
    truth: Mapping[str, Any],
) -> Iterable[tuple[tuple[str, int], dict[str, Any]]]:
    """Every truth page with `_sheet`: its sheet label, or the root of its later_of chain."""
    roots: dict[tuple[str, str], Any] = {}
    for key, _expected, page in truth_pages(truth):
        label = page.get("sheet")
        if label is None:
            earlier = page.get("later_of")
            label = roots.get((PurePath(earlier).name, page["page_id"])) if earlier else None
            label = label if label is not None else f"{key[0]}#{key[1]}"
        roots[(key[0], page["page_id"])] = label
        yield key, {**page, "_sheet": label}


def score_fields(
    truth: Mapping[str, Any], report: Mapping[str, Any], kinds: tuple[str, ...]
) -> FieldScore:
    """Score every field of the given kinds on correctly identified pages."""
    counts = dict.fromkeys(FieldScore.__dataclass_fields__, 0)
    for fields_truth, capture in matched_reads(truth, report):
        layout_kinds: Mapping[str, str] = capture.get("kinds", {})
        read: Mapping[str, Mapping[str, Any]] = capture.get("fields", {})
        for field_id, true_value in fields_truth.items():
            if layout_kinds.get(field_id) not in kinds:
                continue
            reading = read.get(field_id) or {}
            right = same_value(true_value, reading.get("value"))
            counts["total"] += 1
            counts["correct"] += right
            if reading.get("status") == "auto":
                counts["auto"] += 1
                counts["auto_wrong"] += not right
            else:
                counts["review"] += 1  # review, or never read: a person must look
                counts["review_by_rule"] += bool(RULE_FLAGS.intersection(reading.get("flags", ())))
            if true_value != "empty":
                counts["written"] += 1
                counts["written_correct"] += right
    return FieldScore(**counts)


def score_ticks(truth: Mapping[str, Any], report: Mapping[str, Any]) -> FieldScore:
    """Tick boxes: ticked / empty / filled (a correction) against the truth."""
    return score_fields(truth, report, CHECKBOX_KINDS)


def score_digits(truth: Mapping[str, Any], report: Mapping[str, Any]) -> FieldScore:
    """Digits in comb boxes: the digits read (decimal point ignored) against the truth."""
    return score_fields(truth, report, DIGITS_KINDS)


def same_value(true_value: str, read_value: object) -> bool:
    """A read value equals the truth; digits compare without the printed decimal point."""
    if read_value is None:
        return False
    read_text = str(read_value)
    if read_text == true_value:
        return True
    return read_text.replace(".", "").replace(":", "") == true_value.replace(".", "")


# ---------------------------------------------------------------------- store side


def capture_report(store: Any) -> dict[str, Any]:
    """The capture report (module docstring) of every page image ingested into `store`."""
    kinds_of: dict[str, dict[str, str]] = {}
    for row in store.db.query("SELECT page_id, field_id, kind FROM fields"):
        kinds_of.setdefault(row["page_id"], {})[row["field_id"]] = row["kind"]
    patient_of = {
        row["page_id"]: row["patient_id"]
        for row in store.db.query("SELECT page_id, patient_id FROM pages")
    }
    readings: dict[str, dict[str, dict[str, Any]]] = {}
    for row in store.db.query("SELECT capture_id, field_id, value, status, flags FROM readings"):
        readings.setdefault(row["capture_id"], {})[row["field_id"]] = {
            "value": row["value"],
            "status": row["status"],
            "flags": tuple(json.loads(row["flags"] or "[]")),
        }
    sheet_of = {
        capture: number
        for (page_id,) in store.db.execute(
            "SELECT DISTINCT page_id FROM captures WHERE status = 'read' AND page_id IS NOT NULL"
        )
        for number, sheet in enumerate(page_sheets(store, page_id), start=1)
        for merged, _, _ in sheet
        for capture in merged.captures
    }
    captures = []
    for row in store.db.query("SELECT * FROM captures ORDER BY name, frame"):
        page_id = row["page_id"]
        captures.append(
            {
                "capture_id": row["capture_id"],
                "file": PurePath(row["name"]).name,
                "frame": row["frame"],
                "status": row["status"],
                "page_id": page_id,
                "patient_id": patient_of.get(page_id) if page_id else None,
                "kinds": kinds_of.get(page_id, {}) if page_id else {},
                "fields": readings.get(row["capture_id"], {}),
                "sheet": sheet_of.get(row["capture_id"], 1),
            }
        )
    return {"captures": captures, "patient_of": patient_of}


# ---------------------------------------------------------------------- goals and the table


@dataclass(frozen=True)
class Goal:
    """One of the project's goals, checked against a measured figure."""

    name: str
    target: str
    value: str
    met: bool
    missed_by: str = ""

    @property
    def verdict(self) -> str:
        return "met" if self.met else f"missed by {self.missed_by}"


def _at_least(name: str, value: float | None, target: float, unit: str) -> Goal:
    if value is None:
        return Goal(name, f">= {target:g}{unit}", "not measured", False, "not measured")
    return Goal(
        name,
        f">= {target:g}{unit}",
        f"{value:g}{unit}",
        value >= target,
        f"{target - value:.3g}{unit}",
    )


def _at_most(name: str, value: float | None, target: float, unit: str) -> Goal:
    if value is None:
        return Goal(name, f"<= {target:g}{unit}", "not measured", False, "not measured")
    return Goal(
        name,
        f"<= {target:g}{unit}",
        f"{value:g}{unit}",
        value <= target,
        f"{value - target:.3g}{unit}",
    )


def _get(results: Mapping[str, Any], *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _percent(value: Any) -> float | None:
    return None if value is None else round(100 * float(value), 3)


def evaluate_goals(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The goals of the issue, each with the measured value and "met" / "missed by X"."""
    identity = _get(results, "accuracy", "identity") or {}
    digits = _get(results, "accuracy", "digits") or {}
    goals = [
        _at_least("prepare speed", _get(results, "prepare", "pages_per_second"), 300, " pages/s"),
        _at_least(
            "ingest speed (all cores, with digits)",
            _get(results, "ingest", "all_cores", "pages_per_minute"),
            250,
            " pages/min",
        ),
        _at_least("page identity", _percent(identity.get("rate")), 100, "%"),
        _at_most("wrong-patient pages", identity.get("wrong_patient"), 0, ""),
        _at_most("wrong-page auto-accepted values", identity.get("wrong_page_auto_values"), 0, ""),
        _at_most("copies merged", identity.get("copies_merged"), 0, ""),
        _at_least(
            "tick boxes right", _percent(_get(results, "accuracy", "ticks", "accuracy")), 99.9, "%"
        ),
        _at_most("auto-accepted digit error", _percent(digits.get("auto_error")), 0.5, "%"),
        _at_most("digit fields sent to review", _percent(digits.get("review_share")), 10, "%"),
        _at_most(
            "one cold `papermode ingest photo.jpg`",
            _get(results, "cold_ingest", "seconds"),
            1.5,
            " s",
        ),
    ]
    return [
        {"goal": g.name, "target": g.target, "value": g.value, "met": g.met, "verdict": g.verdict}
        for g in goals
    ]


def markdown_table(results: Mapping[str, Any]) -> str:
    """The benchmark as markdown: goals, speed with the baseline ratio, stages, accuracy."""
    lines = ["| figure | value | goal | verdict |", "| --- | --- | --- | --- |"]
    for goal in results.get("goals", []):
        lines.append(f"| {goal['goal']} | {goal['value']} | {goal['target']} | {goal['verdict']} |")
    lines += ["", "| speed | papermode | naive baseline | ratio |", "| --- | --- | --- | --- |"]
    baseline = _get(results, "baseline", "pages_per_minute")
    for label, key in (("ingest, 1 worker", "one_worker"), ("ingest, all cores", "all_cores")):
        speed = _get(results, "ingest", key, "pages_per_minute")
        ratio = f"{speed / baseline:.1f}x" if speed and baseline else "n/a"
        lines.append(f"| {label} (pages/min) | {speed} | {baseline or 'n/a'} | {ratio} |")
    lines += ["", "| stage (1 worker) | seconds per page |", "| --- | --- |"]
    for stage, seconds in (
        _get(results, "ingest", "one_worker", "seconds_per_page_by_stage") or {}
    ).items():
        lines.append(f"| {stage} | {seconds} |")
    if results.get("mar"):
        lines += ["", f"Corpus forms: the sample ward, MAR {results['mar']}."]
    lines += [
        "",
        "| accuracy | all fields | written only | auto-accepted wrong | review share "
        "| of it by a rule | review for a doubt |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label in ("ticks", "digits"):
        score = _get(results, "accuracy", label) or {}
        lines.append(
            f"| {label} | {score.get('correct')}/{score.get('total')} | "
            f"{score.get('written_correct')}/{score.get('written')} | "
            f"{score.get('auto_wrong')}/{score.get('auto')} | {score.get('review_share')} | "
            f"{score.get('review_by_rule')}/{score.get('review')} | {score.get('doubt_share')} |"
        )
    identity = _get(results, "accuracy", "identity") or {}
    memory = results.get("peak_memory_mb", {})
    lines += [
        "",
        f"Identity: {identity.get('identified')}/{identity.get('expected_pages')} pages, "
        f"{identity.get('wrong_page')} wrong page(s), "
        f"{identity.get('wrong_page_auto_values')} wrong-page auto-accepted value(s), "
        f"{identity.get('copies_merged')} copies merged, "
        f"{identity.get('copies_split')} sheet(s) split as copies, retakes caught "
        f"{identity.get('retakes_caught')}/{identity.get('retakes_expected')}, free photos "
        f"found {identity.get('free_found')}/{identity.get('free_expected')}.",
        f"Peak memory: {memory.get('self')} MB (this process), {memory.get('children')} MB "
        "(largest child).",
        f"Free photos: {json.dumps(results.get('free_photos', {}))}",
    ]
    return "\n".join(lines)
