"""The department's compliance dashboard: every point with its verdict, checks and open findings."""
