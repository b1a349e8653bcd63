"""The yearly programme report on the scale data, as XLSX and as PDF (issue 6: ≤ 10 s each).

    .venv/bin/python bench/report.py   # 20,000 products, 1,000 points, 1,000,000 movements
    .venv/bin/python bench/report.py --products 5000 --movements 100000   # a quick run
    .venv/bin/python bench/report.py --database /tmp/r.sqlite --keep   # keep (and reuse) the database

Builds a SQLite database with `flask db upgrade` and `flask seed scale --movements N` (skipped when --database
names a file that already holds the data), then times as subprocesses, --repeat times each (best and median):

- baseline-help   `flask --help`: starting Python and the app, no data
- baseline-empty  `flask report --from 2000-01-01 --to 2000-01-01 --format json`: the whole report machinery on
                  a period with no data (the ledger is still summed up to its end)
- json / xlsx / pdf   `flask report --year Y --format …` (Y: the current year, the one with sales and stock)

and prints seconds, ratios to the baselines and the time the command reports for itself. Figures are saved to
bench/results/ (not committed)."""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_S = 10.0


def environment(database: Path, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{database}", INSTANCE_PATH=str(work), SECRET_KEY="bench-secret-key",
               PYTHONUNBUFFERED="1", SHOP_SEARCH_ENABLED="false")
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_flask(env: dict, *command: str, cpu: list | None = None) -> tuple[float, str]:
    """Wall seconds and stdout; the child's CPU seconds (user + system) appended to `cpu` when given: on a busy
    machine wall time includes waiting for a CPU, CPU time does not."""
    started, cpu_before = time.perf_counter(), children_cpu()
    result = subprocess.run([str(BIN / "flask"), *command], check=False, cwd=ROOT, env=env, text=True,
                            capture_output=True)
    seconds = time.perf_counter() - started
    if cpu is not None:
        cpu.append(children_cpu() - cpu_before)
    if result.returncode != 0:
        sys.exit(f"`flask {' '.join(command)}` failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def time_yearly_report(year: int, fmt: str, env: dict, out: Path) -> float:
    """Wall seconds of `flask report --year YEAR --format FMT` as a subprocess (for other benchmarks, e.g.
    bench/audit.py: `from bench.report import time_yearly_report`)."""
    return run_flask(env, "report", "--year", str(year), "--format", fmt, "--out", str(out / f"report.{fmt}"))[0]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--producers", type=int, help="default: 40%% of --products")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=date.today().year)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--database", type=Path, help="SQLite file to build or reuse")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    args.producers = args.producers or max(1, round(args.products * 0.4))
    return args


def prepare(args, env: dict, database: Path) -> dict:
    timings = {}
    if database.exists() and database.stat().st_size > 10_000_000:
        print(f"Reusing {database}")
        return timings
    print(f"Preparing: {args.products:,} products, {args.points:,} points, {args.movements:,} movements …")
    timings["migrate_s"] = run_flask(env, "db", "upgrade")[0]
    timings["seed_scale_s"], output = run_flask(env, "seed", "scale", "--products", str(args.products),
                                                "--producers", str(args.producers), "--points", str(args.points),
                                                "--movements", str(args.movements))
    print("  " + " ".join(line for line in output.splitlines() if line.startswith(("Scale data", "Stock"))))
    print(f"  seed scale {timings['seed_scale_s']:.1f} s")
    return timings


def measure(env: dict, name: str, command: list[str], repeat: int) -> dict:
    runs, reported, cpu = [], [], []
    for _ in range(repeat):
        seconds, output = run_flask(env, *command, cpu=cpu)
        runs.append(seconds)
        match = re.search(r"in ([0-9.]+) s\.", output)
        if match:
            reported.append(float(match.group(1)))
    result = {"command": "flask " + " ".join(command), "best_s": min(runs), "median_s": statistics.median(runs),
              "runs": runs, "reported_s": min(reported) if reported else None, "cpu_s": min(cpu)}
    print(f"  {name:<15} best {result['best_s']:.2f} s, median {result['median_s']:.2f} s, CPU {result['cpu_s']:.2f} s")
    return result


def main() -> int:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="ocop-bench-report-"))
    database = args.database or work / "shop.sqlite"
    env = environment(database, work)
    print(f"Working folder: {work}; database {database}")
    timings = prepare(args, env, database)
    out = work / "out"
    out.mkdir()
    year = str(args.year)
    commands = {
        "baseline-help": ["--help"],
        "baseline-empty": ["report", "--from", "2000-01-01", "--to", "2000-01-01", "--format", "json",
                           "--out", str(out / "empty.json")],
        "json": ["report", "--year", year, "--format", "json", "--out", str(out / "report.json")],
        "xlsx": ["report", "--year", year, "--format", "xlsx", "--out", str(out / "report.xlsx")],
        "pdf": ["report", "--year", year, "--format", "pdf", "--out", str(out / "report.pdf")],
    }
    print(f"Timing (best of {args.repeat}):")
    results = {name: measure(env, name, command, args.repeat) for name, command in commands.items()}
    sizes = {fmt: (out / f"report.{fmt}").stat().st_size for fmt in ("json", "xlsx", "pdf")}
    tables = json.loads((out / "report.json").read_text(encoding="utf-8"))["tables"]
    rows = sum(len(table["rows"]) for table in tables)
    summary = {row[0]: row[1] for row in next(t for t in tables if t["key"] == "summary")["rows"]}
    report(args, timings, results, sizes, rows, summary)
    if not args.keep and not args.database:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(args, timings: dict, results: dict, sizes: dict, rows: int, summary: dict) -> None:
    help_s, empty_s = results["baseline-help"]["best_s"], results["baseline-empty"]["best_s"]
    print(f"\nYearly report {args.year} on {args.products:,} products / {args.points:,} points / "
          f"{args.movements:,} movements ({rows:,} table rows), {os.cpu_count()} CPUs")
    print(f"load average {os.getloadavg()[0]:.1f}: wall seconds include waiting for a CPU; 'CPU s' does not")
    header = (f"{'run':<15} {'best s':>7} {'median s':>9} {'CPU s':>6} {'×help':>7} {'×empty':>7} {'own s':>6} "
              f"{'bytes':>11}")
    print(header + "\n" + "-" * len(header))
    for name, r in results.items():
        size = sizes.get(name, "")
        own = f"{r['reported_s']:.1f}" if r["reported_s"] is not None else ""
        print(f"{name:<15} {r['best_s']:>7.2f} {r['median_s']:>9.2f} {r['cpu_s']:>6.2f} {r['best_s'] / help_s:>7.2f} "
              f"{r['best_s'] / empty_s:>7.2f} {own:>6} {size:>11}")
    for fmt in ("xlsx", "pdf"):
        best, cpu = results[fmt]["best_s"], results[fmt]["cpu_s"]
        print(f"Target yearly report as {fmt.upper()} ≤ {TARGET_S:.0f} s: {best:.2f} s wall, {cpu:.2f} s CPU — "
              f"{'met' if best <= TARGET_S else ('met in CPU time' if cpu <= TARGET_S else 'MISSED')}")
    print("Key figures: " + "; ".join(f"{k}: {v}" for k, v in summary.items()))
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"report-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "timings": timings,
                                "results": results, "sizes": sizes, "rows": rows}, indent=2))
    print(f"Saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
