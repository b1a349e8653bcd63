"""OCOP certificates: stars, score, issuing level, decision and validity. Validity is computed from dates
at read time, never cached on the product."""
