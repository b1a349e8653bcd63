"""The trade department's work: criteria sets of Decisions 920/950, audits of sales points with evidence,
nightly automatic checks, certificate expiry alerts, programme targets and periodic reports."""
