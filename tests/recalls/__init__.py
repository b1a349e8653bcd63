"""Tests of recalls."""
