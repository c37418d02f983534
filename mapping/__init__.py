"""Source records -> canonical Ticket / Account; the join; field mappings."""
