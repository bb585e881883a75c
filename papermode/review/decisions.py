"""Review decisions are events: pure rules for what a field is once people have looked at it.

The current state of a field is the merge of its captures (`papermode.state.merge`), then the
decisions appended about it, oldest first. Nothing is ever updated in place:

- a reviewer confirms the value read, corrects it, calls it unreadable, or says the box is
  not on this page (it belongs to another page or patient);
- a reviewer's later decision on the same item replaces their own earlier one (an edit); a
  `withdraw` event takes one back (undo);
- a decision names the machine value it was made on. When a later capture changes that
  value (and the new value is not the one the person decided), the decision no longer
  counts and the item is open again with the flag `changed_after_review`;
- two-person items (new orders, high-alert medicines) need a second, different reviewer.
  For their doses and times the second reviewer keys the value blind (the first value is
  not shown); when the two disagree, a third person decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from papermode.core.errors import AlreadyDecidedError, ReviewerError, ReviewError

DecisionKind = Literal["confirm", "correct", "unreadable", "not_on_page", "withdraw"]
Needed = Literal["first", "second", "third", "none"]
Outcome = Literal["review", "confirmed", "corrected", "unreadable", "not_on_page"]
DECISION_KINDS: tuple[DecisionKind, ...] = (
    "confirm",
    "correct",
    "unreadable",
    "not_on_page",
    "withdraw",
)
STAGE_OF: dict[Needed, int] = {"first": 1, "second": 2, "third": 3}
CHANGED_AFTER_REVIEW = "changed_after_review"
STATIONS_DISAGREE = "stations_disagree"  # two laptops' reviewers decided it differently


@dataclass(frozen=True)
class ItemFacts:
    """What the machine says about one item now, and which rules apply to it."""

    item_id: str
    value: str | None  # the merged value of the captures (None for file and page items)
    two_person: bool = False  # new orders and high-alert medicines
    blind: bool = False  # the second reviewer keys the value without seeing the first


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision about one item, as appended to the store."""

    decision_id: int
    item_id: str
    kind: DecisionKind
    value: str | None  # the value decided (confirm: the value read; unreadable: None)
    reviewer: str
    stage: int  # 1 first review, 2 second (two-person rule), 3 third (after a mismatch)
    seen_value: str | None = None  # the machine's value when the decision was made
    withdraws: int | None = None  # `withdraw`: the decision taken back
    decided_at: str = ""
    crop_sha256: str | None = None
    # (station, its id there): the order of decisions merged from several laptops
    # (`papermode merge`), the same in every store whatever the order of the merges.
    origin: tuple[str, int] | None = None

    @property
    def order(self) -> tuple[str, int]:
        return self.origin or ("", self.decision_id)


@dataclass(frozen=True)
class ReviewState:
    """Where an item stands after its decisions."""

    needed: Needed
    outcome: Outcome
    value: str | None  # the decided value; the machine's value while undecided
    flags: tuple[str, ...] = ()
    first: Decision | None = None
    second: Decision | None = None
    third: Decision | None = None

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(d.reviewer for d in (self.first, self.second, self.third) if d)


@dataclass(frozen=True)
class NewDecision:
    """A decision checked against the rules, ready to append."""

    item_id: str
    kind: DecisionKind
    value: str | None
    reviewer: str
    stage: int
    seen_value: str | None
    withdraws: int | None = None


def review_state(facts: ItemFacts, decisions: Sequence[Decision]) -> ReviewState:
    """The state of an item from the machine's facts and every decision about it."""
    valid, stale = _effective(facts, decisions)
    flags = (CHANGED_AFTER_REVIEW,) if stale else ()
    by_stage = {stage: _latest(valid, stage) for stage in (1, 2, 3)}
    first = by_stage[1]
    if first is None:
        return ReviewState("first", "review", facts.value, flags)
    if _stations_disagree(valid):
        return _between_stations(facts, flags, by_stage)
    if not facts.two_person:
        return _decided(first, (), first=first)
    second = by_stage[2]
    if second is None or second.reviewer == first.reviewer:
        return ReviewState("second", "review", facts.value, flags, first=first)
    if _agree(first, second):
        return _decided(second, (), first=first, second=second)
    third = by_stage[3]
    if third is None or third.reviewer in (first.reviewer, second.reviewer):
        disagree = (*flags, "reviewers_disagree")
        return ReviewState("third", "review", facts.value, disagree, first, second)
    return _decided(third, (), first=first, second=second, third=third)


def plan_decision(
    facts: ItemFacts,
    decisions: Sequence[Decision],
    *,
    kind: DecisionKind,
    reviewer: str,
    value: str | None = None,
    edit_of: int | None = None,
) -> NewDecision:
    """Check a reviewer's decision against the rules; the event to append, or an error.

    `edit_of` names the reviewer's own earlier decision that this one replaces (the
    "last ten decisions" list); without it, the item must still need a decision.
    """
    reviewer = reviewer.strip()
    if not reviewer:
        raise ReviewError("a decision needs the reviewer's name.", advice="Give --reviewer NAME.")
    if kind == "withdraw":
        return _plan_withdraw(facts, decisions, reviewer, edit_of)
    decided_value = _decided_value(facts, kind, value)
    if edit_of is not None:
        earlier = _own(decisions, edit_of, reviewer)
        return NewDecision(facts.item_id, kind, decided_value, reviewer, earlier.stage, facts.value)
    state = review_state(facts, decisions)
    if state.needed == "none":
        raise AlreadyDecidedError(
            f"item {facts.item_id} is decided already ({', '.join(state.reviewers)}).",
            advice="To change your own decision, edit it from your last decisions; "
            "otherwise pick the next item of the queue.",
        )
    _check_reviewer(facts, state, reviewer, kind)
    return NewDecision(
        facts.item_id, kind, decided_value, reviewer, STAGE_OF[state.needed], facts.value
    )


def shows_first_value(facts: ItemFacts, state: ReviewState) -> bool:
    """False while a blind second entry is due: the reviewer must not see the first value."""
    return not (facts.blind and state.needed == "second")


# ---------------------------------------------------------------------- helpers


def _effective(
    facts: ItemFacts, decisions: Sequence[Decision]
) -> tuple[list[Decision], list[Decision]]:
    """Decisions that still count, and those a later capture made stale."""
    withdrawn = {
        d.withdraws
        for d in decisions
        if d.kind == "withdraw" and d.withdraws is not None and d.item_id == facts.item_id
    }
    valid: list[Decision] = []
    stale: list[Decision] = []
    for decision in sorted(decisions, key=lambda d: d.order):
        if decision.item_id != facts.item_id or decision.kind == "withdraw":
            continue
        if decision.decision_id in withdrawn:
            continue
        if facts.value in (decision.seen_value, decision.value):
            valid.append(decision)
        else:
            stale.append(decision)
    return valid, stale


def _stations_disagree(valid: Sequence[Decision]) -> bool:
    """Reviewers on two laptops (merged stores) decided the item differently: the newest
    decision of each station before any third one, compared by meaning."""
    newest: dict[str, Decision] = {}
    for decision in valid:
        if decision.origin is not None and decision.stage < STAGE_OF["third"]:
            newest[decision.origin[0]] = decision
    return len({_meaning(d) for d in newest.values()}) > 1


def _between_stations(
    facts: ItemFacts, flags: tuple[str, ...], by_stage: dict[int, Decision | None]
) -> ReviewState:
    """A third person, other than the first two, decides what two laptops disagree on."""
    first, second, third = by_stage[1], by_stage[2], by_stage[3]
    assert first is not None
    earlier = {d.reviewer for d in (first, second) if d}
    if third is None or third.reviewer in earlier:
        disagree = (*flags, STATIONS_DISAGREE)
        return ReviewState("third", "review", facts.value, disagree, first, second)
    return _decided(third, (), first=first, second=second, third=third)


def _latest(decisions: Sequence[Decision], stage: int) -> Decision | None:
    at_stage = [d for d in decisions if d.stage == stage]
    return at_stage[-1] if at_stage else None


def _agree(first: Decision, second: Decision) -> bool:
    return _meaning(first) == _meaning(second)


def _meaning(decision: Decision) -> tuple[str, str | None]:
    if decision.kind in ("confirm", "correct"):
        return ("value", decision.value)
    return (decision.kind, None)


def _decided(
    deciding: Decision,
    flags: tuple[str, ...],
    *,
    first: Decision,
    second: Decision | None = None,
    third: Decision | None = None,
) -> ReviewState:
    outcome: Outcome = {
        "confirm": "confirmed",
        "correct": "corrected",
        "unreadable": "unreadable",
        "not_on_page": "not_on_page",
    }[deciding.kind]  # type: ignore[assignment]
    if deciding.kind == "correct" and deciding.value == deciding.seen_value:
        outcome = "confirmed"  # keying the value that was read is a confirmation
    return ReviewState("none", outcome, deciding.value, flags, first, second, third)


def _decided_value(facts: ItemFacts, kind: DecisionKind, value: str | None) -> str | None:
    if kind == "confirm":
        return facts.value
    if kind == "correct":
        text = (value or "").strip()
        if not text:
            raise ReviewError(
                f"a correction of item {facts.item_id} needs the value.",
                advice="Give --value V (or --unreadable when it cannot be read).",
            )
        return text
    return None


def _check_reviewer(facts: ItemFacts, state: ReviewState, reviewer: str, kind: str) -> None:
    earlier = state.reviewers
    if reviewer in earlier:
        who = "second" if state.needed == "second" else "third"
        raise ReviewerError(
            f"item {facts.item_id} needs a {who} reviewer, different from {', '.join(earlier)}.",
            advice="Ask a colleague to review it (two-person rule for new orders and "
            "high-alert medicines).",
        )
    if kind == "confirm" and facts.blind and state.needed == "second":
        raise ReviewerError(
            f"item {facts.item_id} needs the value keyed blind from the image.",
            advice="Type the value you read in the image (--value V), or --unreadable.",
        )


def _own(decisions: Sequence[Decision], decision_id: int, reviewer: str) -> Decision:
    for decision in decisions:
        if decision.decision_id == decision_id and decision.kind != "withdraw":
            if decision.reviewer != reviewer:
                raise ReviewerError(
                    f"decision {decision_id} was made by another reviewer.",
                    advice="Only the reviewer who made a decision may change or undo it.",
                )
            return decision
    raise ReviewError(
        f"decision {decision_id} is not a decision about this item.",
        advice="Pick it from your last decisions.",
    )


def _plan_withdraw(
    facts: ItemFacts, decisions: Sequence[Decision], reviewer: str, edit_of: int | None
) -> NewDecision:
    if edit_of is None:
        raise ReviewError("an undo needs the decision it takes back.")
    earlier = _own(decisions, edit_of, reviewer)
    if any(d.kind == "withdraw" and d.withdraws == edit_of for d in decisions):
        raise AlreadyDecidedError(f"decision {edit_of} was taken back already.")
    return NewDecision(
        facts.item_id, "withdraw", None, reviewer, earlier.stage, facts.value, withdraws=edit_of
    )


CHECKBOX_VALUES = {"1": "ticked", "ticked": "ticked", "0": "empty", "empty": "empty",
                   "2": "filled", "filled": "filled"}  # fmt: skip
INK_VALUES = {"1": "ink", "ink": "ink", "0": "empty", "empty": "empty"}


def normalise_value(field_kind: str | None, text: str) -> str:
    """A keyed value in the form the readings use; ReviewError for one that cannot be.

    Tick boxes take `ticked`/`empty`/`filled` (or 1/0/2), ink boxes `ink`/`empty` (or
    1/0), comb boxes digits (and a decimal point); text boxes any text.
    """
    keyed = text.strip()
    lowered = keyed.lower()
    if field_kind == "checkbox":
        choices: dict[str, str] | None = CHECKBOX_VALUES
    elif field_kind == "signature":
        choices = INK_VALUES
    else:
        choices = None
    if choices is not None:
        if lowered not in choices:
            raise ReviewError(
                f"{keyed!r} is not a value for a {field_kind} box.",
                advice="Type 1 (ticked / ink), 0 (empty)"
                + (" or 2 (filled in: a correction)." if field_kind == "checkbox" else "."),
            )
        return choices[lowered]
    if field_kind == "digits" and lowered in ("empty", "-"):
        return "empty"  # an empty comb, keyed blind by a second reviewer as "-" or "empty"
    if field_kind == "digits" and not _is_number(keyed):
        raise ReviewError(
            f"{keyed!r} is not what a comb box holds.",
            advice="Type the digits as written (a time as 0815, a dose as 2.5), or - when "
            "the boxes are empty.",
        )
    return keyed


def _is_number(text: str) -> bool:
    return bool(text) and text.count(".") <= 1 and text.replace(".", "").isdigit()
