"""Audits of a sales point against a criteria set (draft, submitted, concluded), their evidence and reads."""
