"""The programme targets of Decision 1698/QĐ-UBND (seed/targets.json): `seed_demo_targets(report)`.
Idempotent: a target is matched by its code and updated in place, never duplicated."""
from shop.audit.targets.services import upsert_target
from shop.core.text import nfc
from shop.seeding.files import load_seed_file, parse_date

TARGETS_FILE = "targets.json"


def seed_demo_targets(report) -> None:
    for row in load_seed_file(TARGETS_FILE)["targets"]:
        _, created = upsert_target(
            code=row["code"], programme=nfc(row["programme"]), period_start=parse_date(row["period_start"]),
            period_end=parse_date(row["period_end"]), metric=row["metric"], target_value=int(row["target_value"]),
            description_vi=nfc(row["description_vi"]), description_en=row["description_en"],
            source=nfc(row.get("source")))
        if created:
            report.created["programme targets"] += 1
