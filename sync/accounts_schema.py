"""The account matrix's tables in the state store (sync/accounts_store.py reads and writes them).

Migration 4 of the state store (sync/migrations.py), written with CREATE ... IF NOT EXISTS: a
state file that gained them before schema versions (the account matrix made them when it first
ran) keeps its rows. Epoch seconds are `{real}` (a double in both databases).

account_states    each account's engine state (level, since, last trigger), as PriorState.
account_history   the values of the attributes `changed` conditions follow, one row per change.
account_breaches  SLA targets of an account's tickets that fell due unmet.
account_tasks     per account and playbook, the task we made (or found) and for which stay.
"""

ACCOUNTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS account_states (account_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_history (
    account_id TEXT NOT NULL, attribute TEXT NOT NULL, at {real} NOT NULL, value TEXT,
    PRIMARY KEY (account_id, attribute, at));
CREATE TABLE IF NOT EXISTS account_breaches (
    account_id TEXT NOT NULL, ticket_ref TEXT NOT NULL, metric TEXT NOT NULL,
    due_at {real} NOT NULL, PRIMARY KEY (ticket_ref, metric, due_at));
CREATE TABLE IF NOT EXISTS account_tasks (
    account_id TEXT NOT NULL, playbook TEXT NOT NULL, task_id TEXT, since TEXT NOT NULL,
    left_alone INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account_id, playbook));
"""
