"""The plan and report lifecycles as data (DESIGN.md §4): every allowed move is a row here."""

from __future__ import annotations

from dataclasses import dataclass

from planflow.models.enums import State

D, I, A, S, G, C = (
    State.drafted,
    State.issued,
    State.acknowledged,
    State.submitted,
    State.aggregated,
    State.cancelled,
)


@dataclass(frozen=True)
class Move:
    """One trigger: the states it leaves, the state it reaches and the guards it checks."""

    trigger: str
    sources: tuple[State, ...]
    dest: State
    guards: tuple[str, ...] = ()
    who: str = ""


REPORT_MOVES: tuple[Move, ...] = (
    Move("issue", (D,), I, ("deadline_set",), "issuer's standing agency"),
    Move("acknowledge", (I,), A, (), "the assigned unit"),
    Move("submit", (I, A), S, ("content_valid",), "the assigned unit"),
    Move("return", (S,), A, ("reason_given",), "the receiving standing agency"),
    Move("aggregate", (S,), G, (), "the parent's aggregation"),
    Move("cancel", (D, I, A), C, ("reason_given",), "issuer"),
)

PLAN_MOVES: tuple[Move, ...] = (
    Move("issue", (D,), I, ("plan_issuable",), "issuer"),
    Move("acknowledge", (I,), A, (), "every addressed unit"),
    Move("submit", (I, A), S, (), "the issuer's standing agency"),
    Move("return", (S,), A, ("reason_given",), "the parent's standing agency"),
    Move("aggregate", (S,), G, (), "the parent's aggregation"),
    Move("cancel", (D, I, A), C, ("reason_given",), "issuer"),
)

MOVES: dict[str, tuple[Move, ...]] = {"plan": PLAN_MOVES, "report_request": REPORT_MOVES}


def _left_by(trigger: str) -> tuple[State, ...]:
    return next(m.sources for m in REPORT_MOVES if m.trigger == trigger)


def _reached_by(trigger: str) -> State:
    return next(m.dest for m in REPORT_MOVES if m.trigger == trigger)


# The sets of states the services ask about, read off the table (their one home):
OPEN = _left_by("submit")  # a request still owed: issued or acknowledged, not yet submitted
CANCELLABLE = _left_by("cancel")  # nothing sent yet, drafted included: may still be withdrawn
SENT = (_reached_by("submit"), _reached_by("aggregate"))  # the report is in (counted upward too)
VISIBLE = (*OPEN, *SENT)  # issued to its unit and not withdrawn: what a unit sees, owes or sent
LIVE = (*OPEN, *_left_by("aggregate"))  # a plan in force: issued, not yet compiled or withdrawn
