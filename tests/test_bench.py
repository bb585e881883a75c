"""Benchmark scoring on small hand-made truth/report pairs, and the `papermode bench` JSON shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from papermode.cli.main import main
from papermode.demo import bench
from papermode.demo.scoring import (
    evaluate_goals,
    markdown_table,
    same_value,
    score_digits,
    score_identity,
    score_ticks,
)

KINDS = {
    "m.given": "checkbox",
    "m.held": "checkbox",
    "m.refused": "checkbox",
    "m.time": "digits",
    "v.temp": "digits",
    "m.initials": "text",
}
PAGE_TRUTH = {
    "m.given": "ticked",
    "m.held": "empty",
    "m.refused": "empty",
    "m.time": "0815",
    "v.temp": "378",
    "m.initials": "ink",
}


def _truth() -> dict[str, Any]:
    return {
        "files": [
            {
                "file": "capture-0001.jpg",
                "expected": "read",
                "pages": [{"page_id": "AAAA", "truth": {"fields": PAGE_TRUTH}}],
            },
            {
                "file": "capture-0002.jpg",
                "expected": "retake:blur",
                "pages": [{"page_id": "BBBB", "truth": {"fields": PAGE_TRUTH}}],
            },
            {"file": "capture-0003.jpg", "expected": "free", "pages": []},
            {
                "file": "scan-0004.pdf",
                "expected": "read",
                "pages": [
                    {"page_id": "CCCC", "truth": {"fields": {"m.given": "empty"}}},
                    {"page_id": "DDDD", "truth": {"fields": {"m.given": "filled"}}},
                ],
            },
        ]
    }


def _capture(
    file: str,
    page_id: str | None,
    values: dict[str, str | None],
    *,
    frame: int = 0,
    status: str = "read",
    review: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "file": f"/somewhere/{file}",
        "frame": frame,
        "status": status,
        "page_id": page_id,
        "kinds": KINDS if page_id else {},
        "fields": {
            f: {"value": v, "status": "review" if f in review else "auto"}
            for f, v in values.items()
        },
    }


def _perfect() -> dict[str, Any]:
    return {
        "captures": [
            _capture(
                "capture-0001.jpg", "AAAA", {**PAGE_TRUTH, "m.time": "08:15", "v.temp": "37.8"}
            ),
            _capture("capture-0002.jpg", None, {}, status="retake"),
            _capture("capture-0003.jpg", None, {}, status="free"),
            _capture("scan-0004.pdf", "CCCC", {"m.given": "empty"}),
            _capture("scan-0004.pdf", "DDDD", {"m.given": "filled"}, frame=1),
        ]
    }


def test_a_perfect_report_scores_perfectly() -> None:
    truth, report = _truth(), _perfect()
    identity = score_identity(truth, report)
    assert (identity.expected_pages, identity.identified, identity.rate) == (3, 3, 1.0)
    assert (identity.wrong_patient, identity.retakes_caught, identity.free_found) == (0, 1, 1)
    ticks = score_ticks(truth, report)
    assert (ticks.total, ticks.correct, ticks.auto_wrong, ticks.written) == (5, 5, 0, 2)
    digits = score_digits(truth, report)
    assert (digits.total, digits.correct, digits.accuracy) == (2, 2, 1.0)


def test_a_reader_that_calls_every_box_empty_scores_badly() -> None:
    truth, report = _truth(), _perfect()
    for capture in report["captures"]:
        for reading in capture["fields"].values():
            reading["value"] = "empty"
    ticks = score_ticks(truth, report)
    assert ticks.written_correct == 0 and ticks.accuracy == 3 / 5
    assert ticks.auto_wrong == 2 and ticks.auto_error == 2 / 5
    digits = score_digits(truth, report)
    assert digits.correct == 0 and digits.auto_wrong == 2


def test_fields_never_read_count_as_wrong_and_for_review() -> None:
    truth, report = _truth(), _perfect()
    for capture in report["captures"]:
        capture["fields"] = {}
    ticks = score_ticks(truth, report)
    assert (ticks.total, ticks.correct, ticks.review, ticks.review_share) == (5, 0, 5, 1.0)


def test_review_is_not_an_accepted_error() -> None:
    truth = _truth()
    report = {
        "captures": [
            _capture(
                "capture-0001.jpg",
                "AAAA",
                {**PAGE_TRUTH, "m.time": None, "v.temp": "99.9"},
                review=("m.time",),
            )
        ]
    }
    digits = score_digits(truth, report)
    assert (digits.total, digits.correct, digits.review, digits.auto, digits.auto_wrong) == (
        2,
        0,
        1,
        1,
        1,
    )


def test_review_by_a_rule_is_counted_apart_from_review_for_a_doubt() -> None:
    """A new order goes to a person however well it was read; a faint digit for a doubt
    about the reading. The bench reports both shares, and both are review."""
    truth = _truth()
    report = {
        "captures": [_capture("capture-0001.jpg", "AAAA", PAGE_TRUTH, review=("m.time", "v.temp"))]
    }
    fields = report["captures"][0]["fields"]
    fields["m.time"]["flags"] = ("new_order",)
    fields["v.temp"]["flags"] = ("faint",)
    digits = score_digits(truth, report)
    assert (digits.review, digits.review_by_rule, digits.auto) == (2, 1, 0)
    assert digits.review_share == 1.0 and digits.doubt_share == 0.5


def test_wrong_page_and_wrong_patient() -> None:
    truth = _truth()
    report = {"captures": [_capture("capture-0001.jpg", "CCCC", PAGE_TRUTH)]}
    same_patient = score_identity(truth, report, {"AAAA": "p1", "CCCC": "p1"})
    assert (same_patient.wrong_page, same_patient.wrong_patient) == (1, 0)
    other_patient = score_identity(truth, report, {"AAAA": "p1", "CCCC": "p2"})
    assert other_patient.wrong_patient == 1
    assert score_identity(truth, report).wrong_patient == 1  # no mapping: assume the worst
    assert other_patient.identified == 0 and other_patient.not_identified == 2
    # Fields of a wrongly identified page are never scored as right.
    assert score_ticks(truth, report).total == 0


def test_same_value_ignores_the_printed_decimal_point_only() -> None:
    assert same_value("378", "37.8") and same_value("0815", "08:15")
    assert same_value("empty", "empty") and same_value("ticked", "ticked")
    assert not same_value("378", "37.5") and not same_value("0815", None)
    assert not same_value("ticked", "filled")


def test_goals_say_met_or_missed_by_how_much() -> None:
    results = {
        "prepare": {"pages_per_second": 350.0},
        "ingest": {"all_cores": {"pages_per_minute": 120.0}},
        "accuracy": {
            "identity": {"rate": 1.0, "wrong_patient": 0},
            "ticks": {"accuracy": 0.9995},
            "digits": {"auto_error": 0.01, "review_share": 0.05},
        },
    }
    goals = {g["goal"]: g["verdict"] for g in evaluate_goals(results)}
    assert goals["prepare speed"] == "met"
    assert goals["ingest speed (all cores, with digits)"] == "missed by 130 pages/min"
    assert goals["auto-accepted digit error"] == "missed by 0.5%"
    assert goals["one cold `papermode ingest photo.jpg`"] == "missed by not measured"
    assert "| prepare speed | 350 pages/s | >= 300 pages/s | met |" in markdown_table(
        {**results, "goals": evaluate_goals(results)}
    )


def test_bench_json_shape(tmp_path: Path) -> None:
    out = tmp_path / "bench-out"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--pages",
            "4",
            "--json",
            "--out",
            str(out),
            "--baseline-fields",
            "8",
            "--free-photos",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures == json.loads((out / "bench.json").read_text())
    assert figures["corpus"]["files"] == 4
    assert figures["prepare"]["pages_per_second"] > 0
    for key in ("one_worker", "all_cores"):
        assert figures["ingest"][key]["pages_per_minute"] > 0
        assert figures["ingest"][key]["page_images"] >= 4
    assert "digits" in figures["ingest"]["one_worker"]["seconds_per_page_by_stage"]
    assert set(figures["accuracy"]) == {"identity", "ticks", "digits"}
    assert figures["accuracy"]["ticks"]["total"] > 0
    assert figures["baseline"]["fields_timed"] == 8
    assert figures["cold_ingest"]["exit_code"] == 0
    assert figures["free_photos"]["skipped"] is True  # --free-photos 0
    assert figures["peak_memory_mb"]["self"] > 0
    assert len(figures["goals"]) == 10
    assert all(
        g["verdict"] == "met" or g["verdict"].startswith("missed by") for g in figures["goals"]
    )
    assert (out / "bench.md").read_text().startswith("| figure | value | goal | verdict |")


def test_the_bench_can_print_its_forms_with_the_multi_day_mar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`papermode bench --mar-days 3` measures the capture on the multi-day MAR: the
    corpus's MAR cells span three calendar days on one sheet."""
    monkeypatch.setattr(bench, "_load_repo_script", lambda _name: None)  # no large census
    bench.prepare_figures(tmp_path, mar_days=3)
    manifest = json.loads((tmp_path / "forms" / "manifest.json").read_text())
    mar = [p for p in manifest["pages"] if p["template"] == "mar"]
    days = {
        f["scheduled"][:10] for f in mar[0]["fields"] if f.get("scheduled") and f.get("order_id")
    }
    assert {"2026-11-28", "2026-11-29", "2026-11-30"} <= days, days  # 72 h from 08:00
    assert "MAR multi-day, 3 days" in markdown_table({"mar": "multi-day, 3 days"})
