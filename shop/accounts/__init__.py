"""Accounts: users, roles, registration, login. Links to producers and sales points live in those domains."""
