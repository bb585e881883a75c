"""The decision model: merge of captures, then decisions; reopening; two-person and blind rules."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papermode.core.errors import AlreadyDecidedError, ReviewerError, ReviewError
from papermode.core.model import Reading
from papermode.review.decisions import (
    CHANGED_AFTER_REVIEW,
    Decision,
    ItemFacts,
    NewDecision,
    normalise_value,
    plan_decision,
    review_state,
    shows_first_value,
)
from papermode.state.merge import CapturedReading, merge_field

ITEM = "H4YX-AR22-FE:o1-0800-dose"
VALUES = st.sampled_from(["0800", "0815", "0845", "ticked", "empty", "ink", "12", "2.5"])
REVIEWERS = st.sampled_from(["ana", "ben", "chloe", "dev"])


def _append(decisions: list[Decision], planned: NewDecision) -> list[Decision]:
    number = len(decisions) + 1
    return [
        *decisions,
        Decision(
            decision_id=number,
            item_id=planned.item_id,
            kind=planned.kind,
            value=planned.value,
            reviewer=planned.reviewer,
            stage=planned.stage,
            seen_value=planned.seen_value,
            withdraws=planned.withdraws,
        ),
    ]


def _decide(facts: ItemFacts, decisions: list[Decision], **kwargs: object) -> list[Decision]:
    return _append(decisions, plan_decision(facts, decisions, **kwargs))  # type: ignore[arg-type]


def _merged(values: list[str]) -> str | None:
    start = datetime(2026, 11, 28, 8, 0)
    history = [
        CapturedReading(f"c{n}", start + timedelta(hours=n), Reading("f", v, 0.5, "review"))
        for n, v in enumerate(values)
    ]
    return merge_field(history).value


# ---------------------------------------------------------------------- one-person items


def test_an_undecided_item_needs_a_first_review_and_keeps_the_machine_value() -> None:
    state = review_state(ItemFacts(ITEM, "0815"), [])
    assert (state.needed, state.outcome, state.value) == ("first", "review", "0815")


def test_confirm_keeps_the_value_read_and_correct_replaces_it() -> None:
    facts = ItemFacts(ITEM, "0815")
    confirmed = review_state(facts, _decide(facts, [], kind="confirm", reviewer="ana"))
    assert (confirmed.needed, confirmed.outcome, confirmed.value) == ("none", "confirmed", "0815")
    corrected = review_state(
        facts, _decide(facts, [], kind="correct", value="0845", reviewer="ana")
    )
    assert (corrected.outcome, corrected.value) == ("corrected", "0845")


def test_a_decided_item_refuses_another_decision_but_its_reviewer_may_edit_it() -> None:
    facts = ItemFacts(ITEM, "0815")
    decisions = _decide(facts, [], kind="confirm", reviewer="ana")
    with pytest.raises(AlreadyDecidedError):
        plan_decision(facts, decisions, kind="correct", value="0800", reviewer="ben")
    with pytest.raises(ReviewerError):
        plan_decision(facts, decisions, kind="correct", value="0800", reviewer="ben", edit_of=1)
    edited = _decide(facts, decisions, kind="correct", value="0800", reviewer="ana", edit_of=1)
    assert review_state(facts, edited).value == "0800"


def test_undo_takes_a_decision_back_and_the_item_is_open_again() -> None:
    facts = ItemFacts(ITEM, "0815")
    decisions = _decide(facts, [], kind="confirm", reviewer="ana")
    undone = _decide(facts, decisions, kind="withdraw", reviewer="ana", edit_of=1)
    assert review_state(facts, undone).needed == "first"
    with pytest.raises(AlreadyDecidedError):
        plan_decision(facts, undone, kind="withdraw", reviewer="ana", edit_of=1)


def test_a_correction_needs_a_value_and_a_decision_needs_a_name() -> None:
    facts = ItemFacts(ITEM, "0815")
    with pytest.raises(ReviewError, match="needs the value"):
        plan_decision(facts, [], kind="correct", value="  ", reviewer="ana")
    with pytest.raises(ReviewError, match="reviewer's name"):
        plan_decision(facts, [], kind="confirm", reviewer=" ")


# ---------------------------------------------------------------------- reopening


def test_a_new_capture_that_changes_a_decided_value_reopens_it() -> None:
    decided_on = ItemFacts(ITEM, _merged(["0815"]))
    decisions = _decide(decided_on, [], kind="confirm", reviewer="ana")
    later = ItemFacts(ITEM, _merged(["0815", "0845"]))  # photographed again, reads otherwise
    state = review_state(later, decisions)
    assert state.needed == "first"
    assert CHANGED_AFTER_REVIEW in state.flags
    assert state.value == "0845"


def test_a_new_capture_that_agrees_with_the_reviewer_keeps_the_decision() -> None:
    facts = ItemFacts(ITEM, "0815")
    decisions = _decide(facts, [], kind="correct", value="0845", reviewer="ana")
    state = review_state(ItemFacts(ITEM, "0845"), decisions)
    assert (state.needed, state.value, state.flags) == ("none", "0845", ())


@settings(max_examples=200, deadline=None)
@given(
    first=st.lists(VALUES, min_size=1, max_size=4),
    later=st.lists(VALUES, min_size=1, max_size=3),
    kind=st.sampled_from(["confirm", "correct", "unreadable", "not_on_page"]),
    keyed=VALUES,
)
def test_a_decision_stands_exactly_while_the_machine_value_is_one_it_knew(
    first: list[str], later: list[str], kind: str, keyed: str
) -> None:
    before = ItemFacts(ITEM, _merged(first))
    decisions = _decide(before, [], kind=kind, value=keyed, reviewer="ana")
    decided = review_state(before, decisions)
    after = ItemFacts(ITEM, _merged(first + later))
    state = review_state(after, decisions)
    known = after.value in (before.value, decided.value)
    assert (state.needed == "none") == known
    assert (CHANGED_AFTER_REVIEW in state.flags) == (not known)
    if known:
        assert state.value == decided.value
    else:
        assert state.value == after.value  # never a stale decided value


# ---------------------------------------------------------------------- two-person rule


def test_a_two_person_item_needs_a_second_different_reviewer() -> None:
    facts = ItemFacts(ITEM, "ticked", two_person=True)
    decisions = _decide(facts, [], kind="confirm", reviewer="ana")
    assert review_state(facts, decisions).needed == "second"
    with pytest.raises(ReviewerError, match="different from ana"):
        plan_decision(facts, decisions, kind="confirm", reviewer="ana")
    decisions = _decide(facts, decisions, kind="confirm", reviewer="ben")
    state = review_state(facts, decisions)
    assert (state.needed, state.outcome, state.reviewers) == ("none", "confirmed", ("ana", "ben"))


def test_blind_entry_hides_the_first_value_and_refuses_a_plain_confirm() -> None:
    facts = ItemFacts(ITEM, "0815", two_person=True, blind=True)
    assert shows_first_value(facts, review_state(facts, []))
    decisions = _decide(facts, [], kind="correct", value="0815", reviewer="ana")
    assert not shows_first_value(facts, review_state(facts, decisions))
    with pytest.raises(ReviewerError, match="keyed blind"):
        plan_decision(facts, decisions, kind="confirm", reviewer="ben")
    decisions = _decide(facts, decisions, kind="correct", value="0815", reviewer="ben")
    assert review_state(facts, decisions).outcome == "confirmed"


def test_a_blind_mismatch_goes_to_a_third_person() -> None:
    facts = ItemFacts(ITEM, "0815", two_person=True, blind=True)
    decisions = _decide(facts, [], kind="correct", value="0815", reviewer="ana")
    decisions = _decide(facts, decisions, kind="correct", value="0845", reviewer="ben")
    state = review_state(facts, decisions)
    assert state.needed == "third"
    assert "reviewers_disagree" in state.flags
    for same in ("ana", "ben"):
        with pytest.raises(ReviewerError):
            plan_decision(facts, decisions, kind="correct", value="0815", reviewer=same)
    decisions = _decide(facts, decisions, kind="correct", value="0845", reviewer="chloe")
    state = review_state(facts, decisions)
    assert (state.needed, state.value, state.reviewers) == ("none", "0845", ("ana", "ben", "chloe"))


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            REVIEWERS,
            st.sampled_from(["confirm", "correct", "unreadable", "withdraw"]),
            VALUES,
            st.integers(min_value=0, max_value=6),
        ),
        max_size=10,
    ),
    blind=st.booleans(),
)
def test_a_two_person_item_is_never_decided_by_fewer_than_two_people(
    steps: list[tuple[str, str, str, int]], blind: bool
) -> None:
    facts = ItemFacts(ITEM, "0815", two_person=True, blind=blind)
    decisions: list[Decision] = []
    for reviewer, kind, value, edit in steps:
        own = [d.decision_id for d in decisions if d.reviewer == reviewer and d.kind != "withdraw"]
        edit_of = own[edit % len(own)] if own and (kind == "withdraw" or edit > 3) else None
        try:
            decisions = _decide(
                facts, decisions, kind=kind, value=value, reviewer=reviewer, edit_of=edit_of
            )
        except ReviewError:
            continue
        state = review_state(facts, decisions)
        if state.needed == "none":
            assert len(set(state.reviewers)) >= 2
            assert state.first and state.second
            if state.third is None:  # two people agreed on what the box says
                assert (state.first.kind in ("confirm", "correct")) == (
                    state.second.kind in ("confirm", "correct")
                )
                if state.first.kind in ("confirm", "correct"):
                    assert state.first.value == state.second.value == state.value


def test_an_empty_comb_can_be_keyed_blind_and_letters_cannot() -> None:
    assert normalise_value("digits", "-") == normalise_value("digits", "empty") == "empty"
    assert normalise_value("digits", "0815") == "0815"
    with pytest.raises(ReviewError, match="or - when the boxes are empty"):
        normalise_value("digits", "o8l5")
