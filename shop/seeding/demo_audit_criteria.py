"""The criteria sets of Decisions 920/QĐ-BCT and 950/QĐ-BCT (seed/criteria.json) for `flask seed demo`."""
from shop.audit.criteria.services import load_criteria_sets


def seed_criteria(report) -> None:
    """Idempotent: a second run creates nothing (and leaves criteria edited by officers alone)."""
    loaded = load_criteria_sets()
    if loaded.sets_created:
        report.created["criteria sets"] += loaded.sets_created
    if loaded.criteria_created:
        report.created["criteria"] += loaded.criteria_created
