"""The history tables of the state store: what the report reads, kept for `state.history_days`.

Part of the state store's first schema version (sync/migrations.py), written with
CREATE ... IF NOT EXISTS: a state file made before they existed gains them, empty, the next
time it is opened; nothing else in the file changes. `{serial_key}` and `{real}` are filled
in per database.

ticket_history  one row per ticket the engine evaluated: its account and segment, lifecycle
                times, its level, owner and backup as of the last run.
ticket_events   what happened to a ticket, when: escalated, de_escalated, ended (solved or
                closed while escalated), resolved, reopened, owner_changed.
sla_outcomes    one row per SLA clock: acknowledge and resolve once per ticket, next_update
                once per update interval; due time, when it was met, business time taken.
"""

HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_history (
    ref TEXT PRIMARY KEY, system TEXT NOT NULL, key TEXT, subject TEXT NOT NULL, url TEXT,
    account_id TEXT, unmatched_reason TEXT, tier TEXT NOT NULL, region TEXT, category TEXT,
    severity INTEGER, created_at TEXT NOT NULL, is_open INTEGER NOT NULL, resolved_at TEXT,
    level TEXT NOT NULL, level_since TEXT NOT NULL, max_level TEXT NOT NULL, owner TEXT,
    backup TEXT, role TEXT, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticket_events (
    id {serial_key}, ref TEXT NOT NULL, at TEXT NOT NULL,
    run_id INTEGER NOT NULL, kind TEXT NOT NULL, old_level TEXT, new_level TEXT, owner TEXT);
CREATE INDEX IF NOT EXISTS ticket_events_by_at ON ticket_events (at);
CREATE INDEX IF NOT EXISTS ticket_events_by_ref ON ticket_events (ref);
CREATE TABLE IF NOT EXISTS sla_outcomes (
    ref TEXT NOT NULL, metric TEXT NOT NULL, start_at TEXT NOT NULL, due_at TEXT NOT NULL,
    met_at TEXT, target_seconds {real} NOT NULL, taken_seconds {real}, breached INTEGER NOT NULL,
    level TEXT NOT NULL, PRIMARY KEY (ref, metric, start_at));
CREATE INDEX IF NOT EXISTS sla_outcomes_by_start ON sla_outcomes (start_at);
"""
