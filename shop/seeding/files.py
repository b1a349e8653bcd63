"""Reading the data files in seed/ (JSON, UTF-8, Vietnamese text in NFC)."""
import json
from datetime import date, time
from functools import lru_cache
from pathlib import Path

from shop.core.admin_units import ward_code_by_name

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


@lru_cache
def load_seed_file(name: str):
    with open(SEED_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def parse_time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def ward_code(province_code: int, name: str) -> int:
    """The 2025 ward/commune code of a name in the seed files; a name that does not exist is a data bug."""
    code = ward_code_by_name(province_code, name)
    if code is None:
        raise ValueError(f"seed data: no commune or ward named {name!r} in province {province_code}")
    return code
