"""Shared kernel: types, money, text, time, errors, images, audit trail. Imports no domain."""
