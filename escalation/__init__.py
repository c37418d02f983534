"""The escalation matrix: pure decisions from (ticket, account, facts, now, matrix)."""
