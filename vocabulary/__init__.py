"""The words every layer shares: attribute names and value kinds, durations, statuses, tiers.

The bottom of the import order (tests/test_import_layers.py): config/ validates against these
words, and mapping/, escalation/, connectors/ and sync/ read them, so they live in a place that
imports none of those packages. Standard library only.
"""
