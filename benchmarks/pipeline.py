"""Pipeline moves: crmkit beside transitions, python-statemachine and a hand-written limit.

Run: ``python benchmarks/pipeline.py [--n 5000] [--rounds 5] [--memory-n 100000]``
(needs the ``bench`` extra: ``pip install "crmkit[bench]"``).

Every contender runs the same 7-stage pipeline (prospect 10 %, qualified 20 %, discovery 40 %,
proposal 60 %, negotiation 80 %, won, lost; a lost exit from every open stage, one step back from
negotiation to proposal) with one guard (negotiation -> won needs an amount), and moves ``--n``
deals along prospect -> qualified -> discovery -> proposal -> negotiation -> won: five moves each,
the last one guarded, each at its own time by a user. Every contender keeps a history entry per
move (from, to, when, by, time in stage) and the derived probability:

* ``crmkit``: ``Opportunity.move(to, pipeline=compiled, now=..., by=...)``; it also checks the
  time and the user, updates the forecast category and last activity, and captures the
  ``OpportunityStageChanged`` event (built when the events are read);
* ``crmkit + events built``: the same moves, then ``pull_events()`` on every deal, as a unit of
  work's commit does: the full cost of a move including its event objects;
* ``baseline``: the practical limit, a dict per deal, a dict-of-dicts transition table, one guard
  function, a tuple per history entry and per event (``baseline, no event`` leaves the event out);
* ``transitions``: one shared ``Machine`` (triggers named after the target stage, the guard as a
  ``conditions`` callback, the history kept by an ``after_state_change`` callback);
* ``python-statemachine``: one ``StateMachine`` per deal over a model object (the guard as
  ``cond``, the history kept by ``after_transition``).

Rounds are interleaved (each round runs every contender once, in a rotating order) so a noisy
shared machine hurts all alike; each timing starts after a ``gc.collect()`` with the deals built
beforehand, and runs with the garbage collector on, as an application would. The table shows the
best round, the median and each contender's ratio to the baseline. Then: opening a deal vs a
plain slotted object holding the same fields (and ``Opportunity(...)``, the constructor a
repository uses when it reads a deal), and memory per 100k deals (``tracemalloc``) vs transitions
with one shared ``Machine``. Nothing here is asserted; the numbers are for reading.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from statemachine import State, StateMachine
from transitions import Machine

from crmkit.kernel.money import Money
from crmkit.pipeline import (
    ForecastCategory,
    Guard,
    Opportunity,
    Pipeline,
    Stage,
    StageKind,
    Transition,
)

OPEN_STAGES = (
    ("prospect", 10, "pipeline"),
    ("qualified", 20, "pipeline"),
    ("discovery", 40, "pipeline"),
    ("proposal", 60, "best_case"),
    ("negotiation", 80, "commit"),
)
PATH = ("qualified", "discovery", "proposal", "negotiation", "won")
START = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
TIMES = tuple(START + timedelta(days=3 * (i + 1), hours=i) for i in range(len(PATH)))
AMOUNT = Money("120000", "TWD")
USER = "u_amy"
PROBABILITY = {key: p for key, p, _ in OPEN_STAGES} | {"won": 100, "lost": 0}
CATEGORY = {key: c for key, _, c in OPEN_STAGES} | {"won": "closed", "lost": "closed"}


def edges() -> list[tuple[str, str]]:
    keys = [key for key, _, _ in OPEN_STAGES]
    found = list(zip(keys, [*keys[1:], "won"], strict=True))
    found += [(key, "lost") for key in keys]
    found.append(("negotiation", "proposal"))
    return found


def crmkit_pipeline() -> Pipeline:
    return Pipeline(
        key="bench",
        name="Bench",
        stages=[
            *(Stage(k, k.title(), p, forecast_category=c) for k, p, c in OPEN_STAGES),
            Stage("won", "Won", 100, kind="won"),
            Stage("lost", "Lost", 0, kind="lost"),
        ],
        transitions=[
            Transition(
                a, b, guards=[Guard.requires("amount")] if (a, b) == ("negotiation", "won") else []
            )
            for a, b in edges()
        ],
    )


# ----- crmkit --------------------------------------------------------------------------------


def crmkit_deals(n: int) -> tuple[list[Opportunity], Any]:
    compiled = crmkit_pipeline().compile()
    deals = [
        Opportunity.open(
            id=f"opp_{i:07d}",
            customer_id=f"cus_{i % 997:05d}",
            name="Formosa Tea: 20 seats",
            pipeline=compiled,
            now=START,
            owner=USER,
            amount=AMOUNT,
        )
        for i in range(n)
    ]
    for deal in deals:
        deal.pull_events()  # as if opened in an earlier unit of work
    return deals, compiled


def crmkit_moves(state: tuple[list[Opportunity], Any]) -> None:
    deals, compiled = state
    for deal in deals:
        move = deal.move
        for to, now in zip(PATH, TIMES, strict=True):
            move(to, pipeline=compiled, now=now, by=USER)


def crmkit_moves_and_events(state: tuple[list[Opportunity], Any]) -> None:
    crmkit_moves(state)
    for deal in state[0]:
        deal.pull_events()


# ----- the hand-written limit -----------------------------------------------------------------


def _has_amount(deal: dict[str, Any]) -> bool:
    return deal["amount"] is not None


TABLE: dict[str, dict[str, Callable[[dict[str, Any]], bool] | None]] = {}
for _a, _b in edges():
    TABLE.setdefault(_a, {})[_b] = _has_amount if (_a, _b) == ("negotiation", "won") else None


def baseline_move(deal: dict[str, Any], to: str, now: datetime, by: str) -> None:
    source = deal["stage"]
    targets = TABLE[source]
    if to not in targets:
        raise ValueError(f"no transition from {source} to {to}")
    guard = targets[to]
    if guard is not None and not guard(deal):
        raise ValueError("guard failed")
    entered = deal["entered_at"]
    deal["history"].append((source, to, now, by, now - entered))
    deal["events"].append(("stage_changed", source, to, now, by))
    deal["stage"] = to
    deal["entered_at"] = now
    deal["probability"] = PROBABILITY[to]
    deal["category"] = CATEGORY[to]


def baseline_move_no_event(deal: dict[str, Any], to: str, now: datetime, by: str) -> None:
    source = deal["stage"]
    targets = TABLE[source]
    if to not in targets:
        raise ValueError(f"no transition from {source} to {to}")
    guard = targets[to]
    if guard is not None and not guard(deal):
        raise ValueError("guard failed")
    entered = deal["entered_at"]
    deal["history"].append((source, to, now, by, now - entered))
    deal["stage"] = to
    deal["entered_at"] = now
    deal["probability"] = PROBABILITY[to]
    deal["category"] = CATEGORY[to]


def baseline_deals(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"opp_{i:07d}",
            "stage": "prospect",
            "entered_at": START,
            "probability": 10,
            "category": "pipeline",
            "amount": AMOUNT,
            "history": [],
            "events": [],
        }
        for i in range(n)
    ]


def baseline_moves(deals: list[dict[str, Any]]) -> None:
    for deal in deals:
        for to, now in zip(PATH, TIMES, strict=True):
            baseline_move(deal, to, now, USER)


def baseline_moves_no_event(deals: list[dict[str, Any]]) -> None:
    for deal in deals:
        for to, now in zip(PATH, TIMES, strict=True):
            baseline_move_no_event(deal, to, now, USER)


# ----- transitions ------------------------------------------------------------------------


class TransitionsDeal:
    """A deal for the transitions library: its Machine adds the trigger methods."""

    def __init__(self, i: int) -> None:
        self.id = f"opp_{i:07d}"
        self.amount: Money | None = AMOUNT
        self.entered_at = START
        self.probability = 10
        self.category = "pipeline"
        self.history: list[tuple[Any, ...]] = []

    def has_amount(self, event: Any) -> bool:
        return self.amount is not None


def _transitions_record(event: Any) -> None:
    deal = event.model
    now = event.kwargs["now"]
    to = event.transition.dest
    deal.history.append(
        (event.transition.source, to, now, event.kwargs["by"], now - deal.entered_at)
    )
    deal.entered_at = now
    deal.probability = PROBABILITY[to]
    deal.category = CATEGORY[to]


def transitions_machine() -> Machine:
    return Machine(
        model=None,
        states=[k for k, _, _ in OPEN_STAGES] + ["won", "lost"],
        transitions=[
            {
                "trigger": b,
                "source": a,
                "dest": b,
                **({"conditions": "has_amount"} if (a, b) == ("negotiation", "won") else {}),
            }
            for a, b in edges()
        ],
        initial="prospect",
        auto_transitions=False,
        send_event=True,
        after_state_change=_transitions_record,
    )


def transitions_deals(n: int) -> list[TransitionsDeal]:
    machine = transitions_machine()
    deals = [TransitionsDeal(i) for i in range(n)]
    machine.add_model(deals)
    return deals


def transitions_moves(deals: list[TransitionsDeal]) -> None:
    for deal in deals:
        trigger = deal.trigger  # type: ignore[attr-defined]
        for to, now in zip(PATH, TIMES, strict=True):
            if not trigger(to, now=now, by=USER):
                raise ValueError("guard failed")


# ----- python-statemachine -----------------------------------------------------------------


class StatemachineDeal:
    """The model a python-statemachine machine works on."""

    def __init__(self, i: int) -> None:
        self.id = f"opp_{i:07d}"
        self.amount: Money | None = AMOUNT
        self.entered_at = START
        self.probability = 10
        self.category = "pipeline"
        self.history: list[tuple[Any, ...]] = []
        self.state: str | None = None

    def has_amount(self) -> bool:
        return self.amount is not None


class DealMachine(StateMachine):
    """The bench pipeline for python-statemachine: one event per target stage."""

    prospect = State(initial=True)
    qualified = State()
    discovery = State()
    proposal = State()
    negotiation = State()
    won = State(final=True)
    lost = State(final=True)

    to_qualified = prospect.to(qualified)
    to_discovery = qualified.to(discovery)
    to_proposal = discovery.to(proposal) | negotiation.to(proposal)
    to_negotiation = proposal.to(negotiation)
    to_won = negotiation.to(won, cond="has_amount")
    to_lost = (
        prospect.to(lost)
        | qualified.to(lost)
        | discovery.to(lost)
        | proposal.to(lost)
        | negotiation.to(lost)
    )

    def after_transition(self, source: State, target: State, now: datetime, by: str) -> None:
        deal = self.model
        deal.history.append((source.id, target.id, now, by, now - deal.entered_at))
        deal.entered_at = now
        deal.probability = PROBABILITY[target.id]
        deal.category = CATEGORY[target.id]


EVENTS = tuple(f"to_{to}" for to in PATH)


def statemachine_deals(n: int) -> list[DealMachine]:
    return [DealMachine(model=StatemachineDeal(i)) for i in range(n)]


def statemachine_moves(machines: list[DealMachine]) -> None:
    for machine in machines:
        send = machine.send
        for event, now in zip(EVENTS, TIMES, strict=True):
            send(event, now=now, by=USER)


# ----- timing ------------------------------------------------------------------------------


def timed(prepare: Callable[[int], Any], run: Callable[[Any], None], n: int) -> float:
    """Seconds ``run`` takes on what ``prepare(n)`` built (built outside the timing)."""
    state = prepare(n)
    gc.collect()
    start = time.perf_counter()
    run(state)
    elapsed = time.perf_counter() - start
    del state
    return elapsed


def check_contenders(n: int) -> None:
    """Every contender ends each deal won, with five history entries (a sanity check)."""
    deals, compiled = crmkit_deals(n)
    crmkit_moves((deals, compiled))
    assert all(d.stage == "won" and len(d.history) == 5 for d in deals)
    assert all(d.forecast_category is ForecastCategory.CLOSED for d in deals)
    assert all(d.stage_kind is StageKind.WON for d in deals)
    plain = baseline_deals(n)
    baseline_moves(plain)
    assert all(d["stage"] == "won" and len(d["history"]) == 5 for d in plain)
    tr = transitions_deals(n)
    transitions_moves(tr)
    assert all(d.state == "won" and len(d.history) == 5 for d in tr)  # type: ignore[attr-defined]
    sm = statemachine_deals(n)
    statemachine_moves(sm)
    assert all(m.model.state == "won" and len(m.model.history) == 5 for m in sm)


def moves_table(n: int, rounds: int) -> None:
    contenders: list[tuple[str, Callable[[int], Any], Callable[[Any], None]]] = [
        ("crmkit", crmkit_deals, crmkit_moves),
        ("crmkit + events built", crmkit_deals, crmkit_moves_and_events),
        ("baseline", baseline_deals, baseline_moves),
        ("baseline, no event", baseline_deals, baseline_moves_no_event),
        ("transitions", transitions_deals, transitions_moves),
        ("python-statemachine", statemachine_deals, statemachine_moves),
    ]
    results: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    for r in range(rounds):
        shift = r % len(contenders)
        for name, prepare, run in contenders[shift:] + contenders[:shift]:
            results[name].append(timed(prepare, run, n))
    moves = n * len(PATH)
    base = min(results["baseline"])
    print(f"\nGuarded moves with history: {n:,} deals x {len(PATH)} moves, best of {rounds}")
    print(f"{'contender':24} {'moves/s':>12} {'us/move':>9} {'median':>9} {'vs baseline':>12}")
    for name, _, _ in contenders:
        best, median = min(results[name]), statistics.median(results[name])
        print(
            f"{name:24} {moves / best:12,.0f} {best / moves * 1e6:9.2f} "
            f"{median / moves * 1e6:9.2f} {best / base:11.2f}x"
        )
    ours = min(results["crmkit"])
    print(
        f"crmkit moves/s: {min(results['transitions']) / ours:.1f}x transitions, "
        f"{min(results['python-statemachine']) / ours:.1f}x python-statemachine; "
        f"with its events built: {min(results['crmkit + events built']) / base:.2f}x baseline"
    )


# ----- creation ------------------------------------------------------------------------------


class PlainDeal:
    """A plain slotted object with the fields an Opportunity holds: the creation limit."""

    __slots__ = (
        "amount",
        "checklist",
        "close_reason",
        "closed_at",
        "contacts",
        "created_at",
        "customer_id",
        "events",
        "expected_close_date",
        "forecast_category",
        "history",
        "id",
        "last_activity_at",
        "name",
        "next_step",
        "owner",
        "pipeline_key",
        "pipeline_revision",
        "probability",
        "probability_override",
        "stage",
        "stage_entered_at",
        "stage_kind",
        "version",
    )

    def __init__(
        self,
        *,
        id: str,
        customer_id: str,
        name: str,
        stage: Stage,
        now: datetime,
        owner: str | None = None,
        amount: Money | None = None,
    ) -> None:
        self.id = id
        self.version = 0
        self.events: list[Any] = []
        self.customer_id = customer_id
        self.name = name
        self.pipeline_key = "bench"
        self.pipeline_revision = 1
        self.stage = stage.key
        self.stage_kind = stage.kind
        self.forecast_category = stage.forecast_category
        self.probability = stage.probability
        self.created_at = now
        self.stage_entered_at = now
        self.last_activity_at = now
        self.probability_override = None
        self.owner = owner
        self.amount = amount
        self.expected_close_date = None
        self.contacts = ()
        self.checklist = ()
        self.next_step = None
        self.close_reason = None
        self.closed_at = None
        self.history = ()


def creation_table(n: int, rounds: int) -> None:
    compiled = crmkit_pipeline().compile()
    first = compiled.initial
    ids = [f"opp_{i:07d}" for i in range(n)]

    def crmkit_open(_: Any) -> None:
        keep = []
        for i in ids:
            keep.append(
                Opportunity.open(
                    id=i,
                    customer_id="cus_00001",
                    name="Formosa Tea: 20 seats",
                    pipeline=compiled,
                    now=START,
                    owner=USER,
                    amount=AMOUNT,
                )
            )

    def crmkit_constructor(_: Any) -> None:
        keep = []
        for i in ids:
            keep.append(
                Opportunity(
                    id=i,
                    customer_id="cus_00001",
                    name="Formosa Tea: 20 seats",
                    pipeline_key="bench",
                    pipeline_revision=1,
                    stage=first.key,
                    stage_kind=first.kind,
                    forecast_category=first.forecast_category,
                    probability=first.probability,
                    created_at=START,
                    owner=USER,
                    amount=AMOUNT,
                )
            )

    def plain(_: Any) -> None:
        keep = []
        for i in ids:
            keep.append(
                PlainDeal(
                    id=i,
                    customer_id="cus_00001",
                    name="Formosa Tea: 20 seats",
                    stage=first,
                    now=START,
                    owner=USER,
                    amount=AMOUNT,
                )
            )

    contenders = [
        ("crmkit Opportunity.open", crmkit_open),
        ("crmkit Opportunity(...)", crmkit_constructor),
        ("plain slotted object", plain),
    ]
    results: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for r in range(rounds):
        shift = r % len(contenders)
        for name, run in contenders[shift:] + contenders[:shift]:
            results[name].append(timed(lambda _n: None, run, n))
    base = min(results["plain slotted object"])
    print(f"\nCreating a deal: {n:,} deals, best of {rounds}")
    print(f"{'contender':24} {'deals/s':>12} {'us/deal':>9} {'vs plain':>10}")
    for name, _ in contenders:
        best = min(results[name])
        print(f"{name:24} {n / best:12,.0f} {best / n * 1e6:9.2f} {best / base:9.2f}x")


# ----- memory --------------------------------------------------------------------------------


def traced(build: Callable[[int], Any], n: int) -> tuple[float, Any]:
    """Bytes per deal that ``build(n)`` keeps alive, measured with tracemalloc."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build(n)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n, kept


def memory_table(n: int) -> None:
    compiled = crmkit_pipeline().compile()

    def crmkit_build(count: int) -> list[Opportunity]:
        deals = [
            Opportunity.open(
                id=f"opp_{i:07d}",
                customer_id=f"cus_{i:07d}",
                name=f"Deal {i}",
                pipeline=compiled,
                now=START,
                owner=USER,
                amount=Money(Decimal(1000 + i), "TWD"),
            )
            for i in range(count)
        ]
        for deal in deals:
            deal.pull_events()
        return deals

    def transitions_build(count: int) -> tuple[Machine, list[TransitionsDeal]]:
        machine = transitions_machine()
        deals = []
        for i in range(count):
            deal = TransitionsDeal(i)
            deal.customer_id = f"cus_{i:07d}"  # type: ignore[attr-defined]
            deal.name = f"Deal {i}"  # type: ignore[attr-defined]
            deal.owner = USER  # type: ignore[attr-defined]
            deal.amount = Money(Decimal(1000 + i), "TWD")
            deals.append(deal)
        machine.add_model(deals)
        return machine, deals

    print(f"\nMemory per 100k deals (tracemalloc, {n:,} built)")
    ours, kept = traced(crmkit_build, n)
    del kept
    theirs, kept = traced(transitions_build, n)
    del kept
    print(f"{'crmkit Opportunity':32} {ours * 100_000 / 1e6:9.1f} MB  ({ours:,.0f} B/deal)")
    label = "transitions, shared Machine"
    print(f"{label:32} {theirs * 100_000 / 1e6:9.1f} MB  ({theirs:,.0f} B/deal)")
    print(f"crmkit uses {ours / theirs:.3f} of transitions' memory ({theirs / ours:.1f}x less)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000, help="deals per round (5000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument(
        "--memory-n", type=int, default=100_000, help="deals built for the memory figures"
    )
    args = parser.parse_args(argv)
    check_contenders(50)
    moves_table(args.n, args.rounds)
    creation_table(args.n * 4, args.rounds)
    memory_table(args.memory_n)


if __name__ == "__main__":
    main()
