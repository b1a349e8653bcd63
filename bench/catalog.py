"""Catalogue throughput and latency under load: gunicorn with 2 workers, loaded by wrk.

    .venv/bin/python bench/catalog.py                    # 20,000 products, 8,000 producers, 1,000 points
    .venv/bin/python bench/catalog.py --products 2000    # a quick run (producers and points scale along)

Builds a temporary SQLite database with `flask db upgrade`, `flask seed scale` and `flask search reindex`,
serves it with `gunicorn -w 2`, and loads each route with `wrk -t2 -c8 -d10s` one after the other:

- baseline    /_bench/baseline: the site's base layout rendered with no data, by the same app and server
              (this script's `bench_app()` adds that one route; the shop itself has no such route)
- listing     /products
- search      /products?q=ca+phe
- product     one product page

Targets (issue 2): the listing reaches at least half the baseline's requests/s; p95 < 100 ms at 8
connections. The app keeps storefront pages of anonymous visitors in a per-process cache, and wrk asks
for the same URL again and again, so the first pass measures cache hits. A second pass runs the same
routes with PAGE_CACHE_SIZE=0: what a logged-in visitor, a first visit of a URL or the first visit after
a catalogue change costs (--skip-uncached leaves it out). Figures are printed as tables and saved to
bench/results/ (not committed)."""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASELINE_PATH = "/_bench/baseline"

# wrk calls done() once at the end; it prints one JSON line that this script reads (latencies in µs).
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d, '
    .. '"max": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def bench_app():
    """The shop's own app plus one route rendering the base layout with no data: the baseline.
    gunicorn loads it as 'bench.catalog:bench_app()'."""
    from flask import render_template

    from shop import create_app

    overrides = {}
    if os.environ.get("BENCH_PAGE_CACHE_SIZE"):
        overrides["PAGE_CACHE_SIZE"] = int(os.environ["BENCH_PAGE_CACHE_SIZE"])
    app = create_app(overrides)
    app.add_url_rule(BASELINE_PATH, "bench_baseline", lambda: render_template("layouts/base.html"))
    return app


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="ocop-bench-catalog-"))
    env = environment(work)
    print(f"Working folder: {work}")
    timings = prepare_data(args, env)
    lua = work / "report.lua"
    lua.write_text(WRK_REPORT)
    passes = {"default": {}} if args.skip_uncached else {"default": {}, "uncached": {"BENCH_PAGE_CACHE_SIZE": "0"}}
    results = {}
    for name, extra_env in passes.items():
        print(f"Loading the routes ({name} configuration) …")
        results[name] = measure(args, {**env, **extra_env}, work, wrk, lua)
    report(args, timings, results)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def measure(args, env: dict, work: Path, wrk: str, lua: Path) -> dict:
    port = free_port()
    server = start_server(args, env, port, work)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, work)
        routes = {"baseline": BASELINE_PATH, "listing": "/products", "search": "/products?q=ca+phe",
                  "product": first_product_path(base)}
        results = {}
        for name, path in routes.items():
            check_route(base + path)
            run_wrk(wrk, lua, base + path, args, seconds=2)  # warm-up: imports, caches, index readers
            results[name] = {"path": path, **run_wrk(wrk, lua, base + path, args, seconds=args.duration)}
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--producers", type=int, help="default: 40%% of --products (8,000 for 20,000)")
    parser.add_argument("--points", type=int, help="default: 5%% of --products, at least 11 (1,000 for 20,000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per route (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--skip-uncached", action="store_true", help="only the pass with the page cache on")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and logs")
    args = parser.parse_args()
    args.producers = args.producers or max(1, round(args.products * 0.4))
    args.points = args.points or max(11, args.products // 20)
    return args


# The benchmarks' servers run with SHOP_ENV=production over plain HTTP on 127.0.0.1: their session cookies cannot
# be Secure (a client would not send them back).
PLAIN_HTTP = {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}


def environment(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{work / 'shop.sqlite'}", INSTANCE_PATH=str(work),
               SECRET_KEY="bench-secret-key", PYTHONUNBUFFERED="1",
               # Production refuses the development defaults of these (shop.config.apply_production_rules).
               STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET="whsec_bench",
               PUBLIC_URL="http://bench.ocop.invalid")
    return env


def flask(env: dict, *command: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "flask"), *command], check=False, cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"`flask {' '.join(command)}` failed:\n{result.stdout}")
    return time.perf_counter() - started


def prepare_data(args, env: dict) -> dict:
    print(f"Preparing: {args.products:,} products, {args.producers:,} producers, {args.points:,} points …")
    timings = {"migrate_s": flask(env, "db", "upgrade")}
    timings["seed_scale_s"] = flask(env, "seed", "scale", "--products", str(args.products),
                                    "--producers", str(args.producers), "--points", str(args.points))
    timings["reindex_s"] = flask(env, "search", "reindex")
    print("  " + ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in timings.items()))
    return timings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args, env: dict, port: int, work: Path) -> subprocess.Popen:
    server_env = {**env, "SHOP_ENV": "production"}
    log = (work / "gunicorn.log").open("a")
    return subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                             "--chdir", str(ROOT), "bench.catalog:bench_app()"],
                            cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(base: str, server: subprocess.Popen, work: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited:\n{(work / 'gunicorn.log').read_text()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def first_product_path(base: str) -> str:
    with urllib.request.urlopen(base + "/products", timeout=30) as response:
        html = response.read().decode()
    match = re.search(r'href="(/products/[^"?#]+)"', html)
    if not match:
        sys.exit("no product link on /products: is the scale data certified and published?")
    return match.group(1)


def check_route(url: str) -> None:
    with urllib.request.urlopen(url, timeout=30) as response:
        if response.status != 200:
            sys.exit(f"{url} answered {response.status}")


def run_wrk(wrk: str, lua: Path, url: str, args, seconds: int) -> dict:
    result = subprocess.run([wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "30s",
                             "--latency", "-s", str(lua), url], capture_output=True, text=True, check=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        sys.exit(f"wrk printed no report for {url}:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("WRK_JSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def report(args, timings: dict, passes: dict) -> None:
    print(f"\ngunicorn -w {args.workers}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"{args.products:,} products / {args.producers:,} producers / {args.points:,} points, "
          f"{os.cpu_count()} CPUs")
    for name, results in passes.items():
        print(f"\n[{name}]" + (" page cache off (PAGE_CACHE_SIZE=0)" if name == "uncached" else
                               " app defaults (page cache on for anonymous visitors)"))
        table(results)
    results = passes["default"]
    baseline = results["baseline"]["rps"]
    listing_ratio = results["listing"]["rps"] / baseline
    worst_p95 = max(r["p95"] for r in results.values()) / 1000
    print(f"\nTarget listing ≥ 0.5× baseline: {listing_ratio:.2f}× — {'met' if listing_ratio >= 0.5 else 'MISSED'}")
    print(f"Target p95 < 100 ms: worst {worst_p95:.1f} ms — {'met' if worst_p95 < 100 else 'MISSED'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"catalog-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"args": vars(args), "timings": timings, "results": passes}, indent=2))
    print(f"Saved {path.relative_to(ROOT)}")


def table(results: dict) -> None:
    baseline = results["baseline"]["rps"]
    # wrk's own timeout is 30 s so that slow answers are measured, not dropped from the percentiles.
    header = (f"{'route':<9} {'path':<40} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
              f"{'×base':>6} {'errors':>6}")
    print(header + "\n" + "-" * len(header))
    for name, r in results.items():
        errors = sum(r["errors"].values())
        print(f"{name:<9} {r['path'][:40]:<40} {r['rps']:>8.1f} {r['p50'] / 1000:>7.1f} {r['p95'] / 1000:>7.1f} "
              f"{r['p99'] / 1000:>7.1f} {r['rps'] / baseline:>6.2f} {errors:>6}")
    failed = [n for n, r in results.items() if sum(r["errors"].values())]
    if failed:
        print(f"errors (non-2xx/3xx, socket or timeout) on: {', '.join(failed)}")


if __name__ == "__main__":
    sys.exit(main())
