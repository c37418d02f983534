"""Build a state store's history by hand: canonical tickets and accounts, evaluated and
recorded by the real engine and recorder at chosen moments, as sync runs would."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from config.loader import load_config
from config.schema import Config
from escalation.compiled import compile_matrix
from mapping.records import Account, Ticket, TicketStatus
from sync.evaluate import evaluate_mirror
from sync.history import record_history
from sync.state import StateStore

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "example" / "escalation-sync.yaml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, inside business hours


def example_config() -> Config:
    return load_config(EXAMPLE)


def account(account_id: str, name: str, **values) -> Account:
    defaults = {
        "tier": "enterprise",
        "arr": 300_000.0,
        "region": "EMEA",
        "health": "green",
        "renewal_date": date(2026, 9, 1),
        "owner": "ae@acme.example",
    }
    return Account(id=account_id, name=name, **{**defaults, **values})


def ticket(ticket_id: str, account_id: str | None, created: datetime, **values) -> Ticket:
    defaults = {
        "subject": f"ticket {ticket_id}",
        "status": TicketStatus.OPEN,
        "severity": 3,
        "category": "defect",
        "updated_at": created,
    }
    keys = {"account_id": account_id} if account_id else {}
    return Ticket(
        system="zendesk",
        id=ticket_id,
        created_at=created,
        join_keys=keys,
        **{**defaults, **values},
    )


class History:
    """A state store and the runs recorded into it."""

    def __init__(self, path: Path, config: Config | None = None):
        self.config = config or example_config()
        self.compiled = compile_matrix(self.config.matrix)
        self.store = StateStore(path)
        self.run_id = 0

    def run(self, tickets: list[Ticket], accounts: list[Account], now: datetime) -> None:
        """What a sync run stores: the mirror, the engine states and the history."""
        store = self.store
        self.run_id += 1
        with store.transaction():
            store.upsert_tickets(tickets)
            store.upsert_accounts(accounts)
            evaluation = evaluate_mirror(
                self.config,
                self.compiled,
                store.tickets(),
                store.accounts(),
                store.prior_states(),
                now,
            )
            store.save_prior_states({d.ticket_ref: d.state.to_dict() for d in evaluation.decisions})
            record_history(store, self.compiled, evaluation, self.run_id, now, 400)

    def close(self) -> None:
        self.store.close()


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)


__all__ = ["History", "T0", "account", "example_config", "later", "replace", "ticket"]
