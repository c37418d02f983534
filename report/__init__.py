"""The escalation report: `escalation-sync report`, from the state store's history only."""
