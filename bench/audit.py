"""The trade department's batch work on the scale data: `flask audit run` over every point (target: ≤ 10 s for
1,000 points), timed as the real command in a subprocess against a baseline measured in the same run.

    .venv/bin/python bench/audit.py                                  # 20,000 products, 1,000 points, 300,000 movements
    .venv/bin/python bench/audit.py --products 5000 --movements 50000 --repeat 1   # a quick run
    .venv/bin/python bench/audit.py --reports                        # also the yearly report, when it exists
    .venv/bin/python bench/audit.py --keep            then  --work /tmp/ocop-bench-audit-…   # reuse the data

Builds a temporary SQLite database with `flask db upgrade`, `flask seed scale --points N --movements M` and
`flask audit load-criteria`, then times, --repeat times each (the median is reported):

- baseline      `flask audit --help`: Python, the app factory and the CLI, no database work
- audit run     `flask audit run` over every point not closed (each run stores its snapshots)
- report-*      hooks for the yearly report (REPORT_COMMANDS below), run with --reports when the shop has a
                `flask report` command: the lead fills in the arguments once shop/audit/report_cli.py exists

Figures are printed as seconds and ratios to the baseline, and saved to bench/results/ (not committed)."""
import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import environment

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_S = 10.0  # issue 6: `flask audit run` over 1,000 points

# The yearly report in each format: name -> arguments of `flask`. {out} is replaced by a file in the work folder.
# Hook for the lead: adjust the arguments to the final `flask report` command.
REPORT_COMMANDS: dict[str, list[str]] = {
    "report-xlsx": ["report", "--year", "{year}", "--format", "xlsx", "--out", "{out}/report.xlsx"],
    "report-pdf": ["report", "--year", "{year}", "--format", "pdf", "--out", "{out}/report.pdf"],
}


def run_flask(env: dict, *command: str, check: bool = True) -> tuple[float, str, int]:
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "flask"), *command], check=False, cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if check and result.returncode != 0:
        sys.exit(f"`flask {' '.join(command)}` failed:\n{result.stdout[-3000:]}")
    return seconds, result.stdout, result.returncode


def time_command(env: dict, *command: str, repeat: int = 3) -> dict:
    """Median wall time of the command run `repeat` times, with the last output."""
    runs, output = [], ""
    for _ in range(repeat):
        seconds, output, _code = run_flask(env, *command)
        runs.append(seconds)
    return {"command": "flask " + " ".join(command), "runs_s": runs, "median_s": statistics.median(runs),
            "output": output.strip().splitlines()[-3:]}


def has_command(env: dict, name: str) -> bool:
    _seconds, output, code = run_flask(env, "--help", check=False)
    return code == 0 and re.search(rf"^\s+{re.escape(name)}\s", output, re.MULTILINE) is not None


def prepare(args, env: dict) -> dict:
    print(f"Preparing: {args.products:,} products, {args.points:,} points, {args.movements:,} movements …")
    timings = {"migrate_s": run_flask(env, "db", "upgrade")[0]}
    timings["seed_scale_s"] = run_flask(env, "seed", "scale", "--products", str(args.products), "--producers",
                                        str(args.producers), "--points", str(args.points), "--movements",
                                        str(args.movements))[0]
    timings["load_criteria_s"] = run_flask(env, "audit", "load-criteria")[0]
    print("  " + ", ".join(f"{key[:-2]} {value:.1f} s" for key, value in timings.items()))
    return timings


def measure(args, env: dict, work: Path) -> dict:
    results = {"baseline": time_command(env, "audit", "--help", repeat=args.repeat)}
    results["audit run"] = time_command(env, "audit", "run", repeat=args.repeat)
    match = re.search(r"(\d+) point\(s\) checked .* in ([0-9.]+) s", " ".join(results["audit run"]["output"]))
    if match:
        results["audit run"]["points"] = int(match.group(1))
        results["audit run"]["own_s"] = float(match.group(2))  # the command's own figure, without start-up
    if args.reports:
        results.update(measure_reports(args, env, work))
    return results


def measure_reports(args, env: dict, work: Path) -> dict:
    """The yearly report in XLSX and PDF (REPORT_COMMANDS), when the shop has `flask report`."""
    if not has_command(env, "report"):
        print("  `flask report` does not exist yet: report timings skipped")
        return {}
    found = {}
    for name, command in REPORT_COMMANDS.items():
        command = [part.format(out=work, year=datetime.now().year) for part in command]
        _seconds, output, code = run_flask(env, *command, check=False)  # a first try: wrong hook arguments skip
        if code != 0:
            print(f"  `flask {' '.join(command)}` failed, skipped (adjust REPORT_COMMANDS):\n    "
                  + "\n    ".join(output.strip().splitlines()[-3:]))
            continue
        found[name] = time_command(env, *command, repeat=args.repeat)
    return found


def report(args, timings: dict, results: dict) -> None:
    baseline = results["baseline"]["median_s"]
    print(f"\n{'measure':<14} {'median s':>9} {'× baseline':>11}  command")
    for name, figures in results.items():
        print(f"{name:<14} {figures['median_s']:>9.2f} {figures['median_s'] / baseline:>11.1f}  {figures['command']}")
    run = results["audit run"]
    verdict = "meets" if run["median_s"] <= TARGET_S else "MISSES"
    print(f"\n`flask audit run` over {run.get('points', '?')} points: {run['median_s']:.2f} s wall "
          f"({run.get('own_s', float('nan')):.1f} s inside the command) — {verdict} the {TARGET_S:.0f} s target.")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"audit-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                                "prepare": timings, "results": results}, indent=2, ensure_ascii=False))
    print(f"Saved {path.relative_to(ROOT)}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--producers", type=int, help="default: 40%% of --products")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--movements", type=int, default=300_000, help="stock ledger rows (default 300,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (the median counts)")
    parser.add_argument("--reports", action="store_true", help="also time the yearly report (XLSX and PDF)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--work", type=Path, help="reuse the database of an earlier --keep run in this folder")
    args = parser.parse_args()
    args.producers = args.producers or max(1, round(args.products * 0.4))
    return args


def main() -> int:
    args = parse_args()
    reuse = args.work is not None and (args.work / "shop.sqlite").exists()
    work = args.work if reuse else Path(tempfile.mkdtemp(prefix="ocop-bench-audit-"))
    env = environment(work)
    print(f"Working folder: {work}" + (" (reused)" if reuse else ""))
    timings = {} if reuse else prepare(args, env)
    results = measure(args, env, work)
    report(args, timings, results)
    if not args.keep and not reuse:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
