"""Demo and benchmark data. `seed_demo()` loads seed/*.json through the domain services, so demo data
obeys the same rules as real data; `seed_scale()` writes a large generated catalogue with bulk inserts for
benchmarks. Both flush only: the caller (the CLI command, a test, a benchmark) commits."""
from shop.seeding.demo import DemoRefused, DemoReport, seed_demo
from shop.seeding.files import SEED_DIR, load_seed_file
from shop.seeding.scale import ScaleRefused, ScaleReport, ensure_scale_allowed, scale_steps, seed_scale

__all__ = [
           "SEED_DIR",
           "DemoRefused",
           "DemoReport",
           "ScaleRefused",
           "ScaleReport",
           "ensure_scale_allowed",
           "load_seed_file",
           "scale_steps",
           "seed_demo",
           "seed_scale",
]
