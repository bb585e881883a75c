"""`papermode bench` identity figures: wrong-page auto-accepted values and copies merged."""

from __future__ import annotations

from typing import Any

from papermode.demo.scoring import evaluate_goals, markdown_table, score_identity

FIELDS = {"m.given": "ticked", "m.held": "empty", "m.time": "0815"}


OTHER = {"m.given": "empty", "m.held": "ticked", "m.time": "0815"}


def _truth(*pages: tuple[str, str, Any]) -> dict[str, Any]:
    """Pages (file, page id, sheet label); a label ending in "-2" holds other marks."""
    return {
        "files": [
            {
                "file": name,
                "expected": "read",
                "pages": [
                    {
                        "page_id": page_id,
                        "sheet": sheet,
                        "truth": {"fields": OTHER if str(sheet).endswith("-2") else FIELDS},
                    }
                ],
            }
            for name, page_id, sheet in pages
        ]
    }


def _capture(name: str, page_id: str, sheet: int = 1, status: str = "auto") -> dict[str, Any]:
    return {
        "file": name,
        "frame": 0,
        "status": "read",
        "page_id": page_id,
        "kinds": {},
        "fields": {f: {"value": v, "status": status} for f, v in FIELDS.items()},
        "sheet": sheet,
    }


def test_auto_accepted_values_on_a_wrong_page_are_counted() -> None:
    truth = _truth(("a.jpg", "AAAA", None), ("b.jpg", "BBBB", None))
    report = {"captures": [_capture("a.jpg", "AAAA"), _capture("b.jpg", "AAAA")]}
    score = score_identity(truth, report)
    assert (score.wrong_page, score.wrong_page_auto_values) == (1, 3)
    review = {"captures": [_capture("a.jpg", "AAAA"), _capture("b.jpg", "AAAA", status="review")]}
    assert score_identity(truth, review).wrong_page_auto_values == 0


def test_copies_merged_and_sheets_split_are_counted() -> None:
    truth = _truth(
        ("a.jpg", "AAAA", "copy-1"), ("b.jpg", "AAAA", "copy-2"), ("c.jpg", "CCCC", None)
    )
    merged = {
        "captures": [
            _capture("a.jpg", "AAAA"),
            _capture("b.jpg", "AAAA"),
            _capture("c.jpg", "CCCC"),
        ]
    }
    assert score_identity(truth, merged).copies_merged == 1
    apart = {
        "captures": [
            _capture("a.jpg", "AAAA", 1),
            _capture("b.jpg", "AAAA", 2),
            _capture("c.jpg", "CCCC", 1),
        ]
    }
    assert score_identity(truth, apart).copies_merged == 0
    one_sheet = _truth(("a.jpg", "AAAA", None), ("b.jpg", "AAAA", None))
    split = {"captures": [_capture("a.jpg", "AAAA", 1), _capture("b.jpg", "AAAA", 2)]}
    assert score_identity(one_sheet, split).copies_split == 0  # two chains: two sheets
    chained = _truth(("a.jpg", "AAAA", None), ("b.jpg", "AAAA", None))
    chained["files"][1]["pages"][0]["later_of"] = "a.jpg"
    assert score_identity(chained, split).copies_split == 1
    together = {"captures": [_capture("a.jpg", "AAAA", 1), _capture("b.jpg", "AAAA", 1)]}
    assert score_identity(chained, together).copies_merged == 0


def test_the_goals_and_table_name_both_figures() -> None:
    truth = _truth(("a.jpg", "AAAA", None), ("b.jpg", "BBBB", None))
    report = {"captures": [_capture("a.jpg", "AAAA"), _capture("b.jpg", "AAAA")]}
    results = {"accuracy": {"identity": score_identity(truth, report).as_json()}}
    goals = {g["goal"]: g for g in evaluate_goals(results)}
    assert goals["wrong-page auto-accepted values"]["met"] is False
    assert goals["copies merged"]["met"] is True
    results["goals"] = list(goals.values())
    assert "3 wrong-page auto-accepted value(s)" in markdown_table(results)
