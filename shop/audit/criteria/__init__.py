"""Criteria sets of Decisions 920 and 950 as data: loading, reading and editing them with a history."""
