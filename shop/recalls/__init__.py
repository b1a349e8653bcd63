"""Recalls of a lot: withdrawn from sale everywhere, pull lists for the points holding it, and who bought it."""
