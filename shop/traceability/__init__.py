"""Traceability: lots and their journal of events (GS1 CTE/KDE, TCVN 12850:2019), from inputs to the shelf."""
