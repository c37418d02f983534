"""Properties of the join and the engine over generated records (hypothesis).

Records are generated the way the mirror may hold them, dirty parts included: unknown tiers
and regions (a tier removed from the matrix after the account was stored), missing values,
strange text, join keys shared by several accounts, prior levels the matrix no longer has.
The engine runs on the example matrix (config/example/matrix.yaml).

`HYPOTHESIS_PROFILE=slow` runs 500 examples per property instead of 60.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from config.join_schema import JoinStrategy
from config.matrix import MatrixConfig
from escalation.compiled import compile_matrix
from escalation.engine import evaluate_many
from escalation.facts import Facts, PriorState
from mapping.join import join
from mapping.records import Account, Ticket, TicketStatus

ROOT = Path(__file__).resolve().parent.parent
MATRIX = MatrixConfig.model_validate(
    yaml.safe_load((ROOT / "config" / "example" / "matrix.yaml").read_text(encoding="utf-8"))[
        "matrix"
    ]
)
COMPILED = compile_matrix(MATRIX)
JOIN = TypeAdapter(list[JoinStrategy]).validate_python(
    [
        {"strategy": "account_id_field", "match": "id"},
        {"strategy": "organization_external_id", "match": "external_id"},
        {"strategy": "organization_field", "field": "salesforce_account_id", "match": "id"},
        {"strategy": "email_domain"},
    ]
)

# Per test, not a global profile: loading one here would change every other module's tests.
examples = settings(
    max_examples=500 if os.environ.get("HYPOTHESIS_PROFILE") == "slow" else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ODD_TEXT = st.sampled_from(
    ["", " ", "Strat.", "GOLD", "ünknown", "עברית", "🚀", 'x" OR 1=1', "a\\b", "\t", "none"]
)


def pick_or_odd(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(known), ODD_TEXT, st.text(max_size=12))


def moments(low_days: float = -30, high_days: float = 400) -> st.SearchStrategy[datetime]:
    return st.floats(low_days * 86400, high_days * 86400).map(
        lambda seconds: EPOCH + timedelta(seconds=round(seconds))
    )


salesforce_ids = st.one_of(
    st.from_regex(r"001[A-Za-z0-9]{12}([A-Z0-5]{3})?", fullmatch=True),
    st.sampled_from(["001000000000001", "001000000000001AAA", "001000000000002AAA"]),
    st.text(max_size=20),
)
domains = st.one_of(
    st.sampled_from(["acme.com", "globex.de", "gmail.com", "sub.acme.com", "ACME.COM", ""]),
    st.from_regex(r"[a-z]{1,8}\.(com|de|io)", fullmatch=True),
)


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    return Account(
        id=draw(salesforce_ids),
        name=draw(st.text(max_size=30)),
        tier=draw(pick_or_odd(tuple(MATRIX.tiers))),
        renewal_date=draw(st.none() | st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        arr=draw(st.none() | st.floats(-1e9, 1e10, allow_nan=False)),
        owner=draw(st.none() | st.sampled_from(["ann@acme.example", "bob@acme.example"])),
        csm=draw(st.none() | st.sampled_from(["cara@acme.example", ""])),
        region=draw(st.none() | pick_or_odd(tuple(MATRIX.regions))),
        health=draw(st.none() | pick_or_odd(("green", "at-risk", "red"))),
        external_id=draw(st.none() | st.sampled_from(["ext-1", "EXT-1 ", "ext-2", ""])),
        domains=tuple(draw(st.lists(domains, max_size=3))),
    )


@st.composite
def tickets(draw: st.DrawFn, ids: st.SearchStrategy[str] | None = None) -> Ticket:
    created = draw(moments())
    # Stamps a little before creation happen (imports, clock skew between systems).
    updated = created + timedelta(seconds=draw(st.integers(-86400, 200 * 86400)))
    later = st.integers(-5 * 86400, 100 * 86400).map(lambda s: created + timedelta(seconds=s))
    pauses = sorted(draw(st.lists(st.integers(0, 100 * 86400), max_size=4)))
    intervals = [
        (created + timedelta(seconds=start), created + timedelta(seconds=end))
        for start, end in zip(pauses[::2], pauses[1::2], strict=False)
    ]
    if draw(st.booleans()) and intervals:
        intervals[-1] = (intervals[-1][0], None)  # paused now
    keys = draw(
        st.dictionaries(
            st.sampled_from(["account_id", "organization_external_id", "salesforce_account_id", "email_domain"]),
            st.one_of(salesforce_ids, domains, st.sampled_from(["ext-1", "ext-2"])),
            max_size=4,
        )
    )  # fmt: skip
    return Ticket(
        system=draw(st.sampled_from(["zendesk", "jira"])),
        id=draw(ids if ids is not None else st.text(max_size=8)),
        subject=draw(st.text(max_size=40)),
        status=draw(st.sampled_from(list(TicketStatus))),
        created_at=created,
        updated_at=updated,
        severity=draw(st.none() | st.integers(-1, 9)),
        category=draw(st.none() | pick_or_odd(tuple(MATRIX.categories))),
        first_response_at=draw(st.none() | later),
        last_agent_update_at=draw(st.none() | later),
        tags=tuple(draw(st.lists(st.sampled_from(["vip", "VIP", "", "billing"]), max_size=3))),
        join_keys=keys,
        paused_intervals=tuple(intervals),
    )


priors = st.builds(
    PriorState,
    level=pick_or_odd(tuple(MATRIX.levels)),
    level_since=moments(-400, 400),
    last_trigger_at=st.none() | moments(-400, 400),
    timed_steps=st.integers(0, 6),
    last_timed_step_at=st.none() | moments(-400, 400),
)
facts = st.builds(
    Facts,
    account_ticket_created=st.lists(st.floats(1.7e9, 1.85e9), max_size=12).map(
        lambda times: tuple(sorted(times))
    ),
    linked_severities=st.lists(st.integers(-1, 6), max_size=3).map(tuple),
    prior=st.none() | priors,
)


# --- the join -------------------------------------------------------------------------------


@examples
@given(
    found=st.lists(tickets(), max_size=12),
    known=st.lists(accounts(), max_size=8),
)
def test_join_gives_every_ticket_one_known_account_or_a_reason(
    found: list[Ticket], known: list[Account]
) -> None:
    result = join(found, known, JOIN)
    ids = {account.id for account in known}
    assert [t.ref for t in result.tickets] == [t.ref for t in found]
    assert all(t.account_id is None or t.account_id in ids for t in result.tickets)
    unmatched = [ref for ref, reason in result.unmatched]
    assert unmatched == [t.ref for t in result.tickets if t.account_id is None]
    assert all(reason for _, reason in result.unmatched)
    assert sum(result.matched_by.values()) == len(found) - len(unmatched)


@examples
@given(found=st.lists(tickets(), max_size=8), known=st.lists(accounts(), max_size=8))
def test_join_is_stable_when_run_on_its_own_output(
    found: list[Ticket], known: list[Account]
) -> None:
    once = join(found, known, JOIN)
    twice = join(once.tickets, known, JOIN)
    assert [t.account_id for t in twice.tickets] == [t.account_id for t in once.tickets]


@examples
@given(ticket=tickets(), account=accounts(), others=st.lists(accounts(), max_size=5))
def test_a_unique_account_id_on_the_ticket_always_wins(
    ticket: Ticket, account: Account, others: list[Account]
) -> None:
    others = [o for o in others if o.id.strip()[:15] != account.id.strip()[:15]]
    if not account.id.strip():
        return
    ticket = Ticket(
        **{**_fields(ticket), "join_keys": {**ticket.join_keys, "account_id": account.id}}
    )
    [joined] = join([ticket], [*others, account], JOIN).tickets
    assert joined.account_id == account.id


def _fields(ticket: Ticket) -> dict:
    return {name: getattr(ticket, name) for name in Ticket.__slots__}


# --- the engine -----------------------------------------------------------------------------


def _owners_allowed(account: Account | None) -> set[str | None]:
    named = {rule.primary for rule in MATRIX.routing} | {rule.backup for rule in MATRIX.routing}
    people = {account.owner, account.csm} if account is not None else set()
    return {name for name in named if "{" not in (name or "")} | people | {None}


@st.composite
def engine_inputs(draw: st.DrawFn):
    known = draw(st.lists(accounts(), max_size=4))
    count = draw(st.integers(1, 8))
    items = []
    for n in range(count):
        ticket = draw(tickets(ids=st.just(str(n))))
        account = draw(st.none() | st.sampled_from(known)) if known else None
        items.append((ticket, account, draw(st.none() | facts)))
    latest_created = max(t.created_at for t, _, _ in items)
    now = latest_created + timedelta(seconds=draw(st.integers(-86400, 400 * 86400)))
    return items, now


@examples
@given(engine_inputs())
def test_engine_decides_within_the_matrix_for_any_records(inputs) -> None:
    items, now = inputs
    decisions = evaluate_many(items, now, COMPILED)
    assert [d.ticket_ref for d in decisions] == [t.ref for t, _, _ in items]
    for (ticket, account, fact), decision in zip(items, decisions, strict=True):
        assert decision.level in MATRIX.levels
        assert decision.state.level == decision.level
        prior = fact.prior if fact is not None else None
        assert decision.previous_level == (prior.level if prior is not None else None)
        for metric, sla in decision.sla.items():
            assert sla.due_at >= ticket.created_at, (metric, sla)
            assert sla.due_at.tzinfo is not None
        if not ticket.status.is_open:
            assert decision.level == MATRIX.levels[0] and decision.owner is None
            assert decision.sla == {}
            continue
        assert decision.owner is not None
        assert decision.owner.role in MATRIX.roles
        allowed = _owners_allowed(account)
        assert decision.owner.primary in allowed and decision.owner.backup in allowed
        assert all(reason.level in MATRIX.levels for reason in decision.reasons)


@examples
@given(engine_inputs())
def test_engine_is_pure_same_inputs_same_decisions(inputs) -> None:
    items, now = inputs
    assert evaluate_many(items, now, COMPILED) == evaluate_many(list(items), now, COMPILED)


@examples
@given(engine_inputs(), st.integers(60, 30 * 86400))
def test_feeding_the_state_back_never_moves_a_level_more_than_the_matrix_allows(
    inputs, later_seconds: int
) -> None:
    """Next run with the persisted state: levels stay in the matrix, owners in the table."""
    items, now = inputs
    first = evaluate_many(items, now, COMPILED)
    again = [
        (ticket, account, Facts(fact.account_ticket_created if fact else (), (), decision.state))
        for (ticket, account, fact), decision in zip(items, first, strict=True)
    ]
    second = evaluate_many(again, now + timedelta(seconds=later_seconds), COMPILED)
    for (_, account, _), before, after in zip(again, first, second, strict=True):
        assert after.level in MATRIX.levels
        assert after.previous_level == before.level
        if after.owner is not None:
            allowed = _owners_allowed(account)
            assert after.owner.primary in allowed and after.owner.backup in allowed
