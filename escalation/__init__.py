"""The escalation matrix: pure decisions from (ticket, account, facts, now, matrix).

Public API (import from the modules; this package imports nothing). escalation/ reads the
config models and the records; the words it shares with config/ (the attributes a condition may
name, durations) live in vocabulary/:
- engine.evaluate(ticket, account, facts, now, matrix) -> Decision; engine.evaluate_many(...)
- compiled.compile_matrix(MatrixConfig) -> CompiledMatrix (cached; evaluate accepts either)
- facts.Facts, facts.PriorState (to_dict / from_dict), facts.index_ticket_creation(tickets)
- decision.Decision, MetricSla, Owner, Reason, ReasonKind, SlaState
- summary.summarise(MatrixConfig) -> str
- calendar.build_calendar(name, Calendar): business time (between, add, due_and_left)
- testing: small matrices and records for tests
"""
