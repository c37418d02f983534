"""Tell the owners: events from decisions, rules to recipients, templates, the outbox, sends."""
