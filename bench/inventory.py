"""A point's back office under load on the scale data: stock page, dashboard, counter sales, ledger check.

    .venv/bin/python bench/inventory.py   # 20,000 products, 1,000 points, 1,000,000 movements
    .venv/bin/python bench/inventory.py --products 5000 --movements 100000 --duration 5   # a quick run

Builds a temporary SQLite database with `flask db upgrade` and `flask seed scale --movements N`, times
`flask inventory verify` over the N ledger rows, makes two manager accounts of the busiest point (the one with
30 days of counter sales) and receives a large lot there so the counter never runs dry, then serves the shop with
`gunicorn -w 2` and measures, one after the other:

- baseline    /_bench/baseline: the base layout with no data, logged in, same app and server (added by
              this script's `bench_app()`; the shop has no such route)
- stock       GET /manage/points/<code>/stock      (wrk -t2 -c8, with the manager's session cookie), then
              again with one connection per gunicorn worker: the page's own time, without queueing
- dashboard   GET /manage/points/<code>            (idem)
- counter     POST /manage/points/<code>/counter   one unit, cash: --sellers threads, each with its own
              logged-in session, selling for --duration seconds; sales/s counts the 303 answers

Target (issue 3): p95 ≤ 100 ms for the stock page and the dashboard. `flask inventory verify` runs again after
the counter load (the ledger must still balance). A page not built yet is reported as missing, not measured.
Figures are printed as a table and saved to bench/results/ (not committed)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import PLAIN_HTTP, WRK_REPORT, environment, free_port, wait_until_up
from bench.common import USER_AGENT, cookie_header, csrf_token_of, logged_in_session, summary_ms

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASELINE_PATH = "/_bench/baseline"
PASSWORD = "bench-password-2026"
MANAGERS = ("bench-manager-1@example.com", "bench-manager-2@example.com")
BENCH_LOT = "BENCH-COUNTER"


def bench_app():
    """The shop plus one route rendering the base layout with no data (the baseline). Login throttling is off:
    every seller thread logs in from 127.0.0.1. gunicorn loads it as 'bench.inventory:bench_app()'."""
    from flask import render_template

    from shop import create_app

    app = create_app({"RATELIMIT_ENABLED": False, **PLAIN_HTTP})
    app.add_url_rule(BASELINE_PATH, "bench_baseline", lambda: render_template("layouts/base.html"))
    return app


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="ocop-bench-inventory-"))
    env = environment(work)
    print(f"Working folder: {work}")
    timings = prepare_data(args, env)
    point_code, product_id = prepare_point(env)
    print(f"Busiest point {point_code}; the counter sells product {product_id}")
    lua = work / "report.lua"
    lua.write_text(WRK_REPORT)
    results = measure(args, env, work, wrk, lua, point_code, product_id)
    timings["verify_after_load_s"], timings["verify_after_load_report"] = verify(env)
    report(args, timings, results, point_code)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--producers", type=int, help="default: 40%% of --products")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--movements", type=int, default=1_000_000, help="ledger rows (default 1,000,000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--sellers", type=int, default=8, help="concurrent counter sessions (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and logs")
    args = parser.parse_args()
    args.producers = args.producers or max(1, round(args.products * 0.4))
    return args


def run_flask(env: dict, *command: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "flask"), *command], check=False, cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"`flask {' '.join(command)}` failed:\n{result.stdout[-3000:]}")
    return time.perf_counter() - started, result.stdout


def verify(env: dict) -> tuple[float, str]:
    seconds, output = run_flask(env, "inventory", "verify")
    return seconds, output.strip().splitlines()[-1]


def prepare_data(args, env: dict) -> dict:
    print(f"Preparing: {args.products:,} products, {args.points:,} points, {args.movements:,} movements …")
    timings = {"migrate_s": run_flask(env, "db", "upgrade")[0]}
    timings["seed_scale_s"], output = run_flask(env, "seed", "scale", "--products", str(args.products),
                                                "--producers", str(args.producers), "--points", str(args.points),
                                                "--movements", str(args.movements))
    print("  " + " ".join(line for line in output.splitlines() if line.startswith("Stock:")))
    timings["verify_s"], timings["verify_report"] = verify(env)
    # The command reports the time of its own check, without the start of Python and the app.
    match = re.search(r"in ([0-9.]+) s", timings["verify_report"])
    timings["verify_check_s"] = float(match.group(1)) if match else None
    print(f"  seed scale {timings['seed_scale_s']:.1f} s; flask inventory verify {timings['verify_s']:.1f} s "
          f"({timings['verify_report']})")
    return timings


def prepare_point(env: dict) -> tuple[str, int]:
    """In-process, before the server starts: the busiest point, its two bench managers and a big lot of one of
    its products (received through the service, so the ledger has the row)."""
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY")})
    import sqlalchemy as sa

    from shop import create_app
    from shop.accounts.models import Role
    from shop.accounts.services import create_user
    from shop.core.clock import today
    from shop.core.errors import DomainError
    from shop.extensions import db
    from shop.inventory.models import CounterSale
    from shop.inventory.services import receive_stock
    from shop.sales_points.models import PointProduct, SalesPoint
    from shop.sales_points.services import assign_manager

    app = create_app({"SEARCH_ENABLED": False})
    with app.app_context():
        busiest = db.session.execute(
            sa.select(CounterSale.point_id).group_by(CounterSale.point_id)
            .order_by(sa.func.count().desc()).limit(1)).scalar()
        if busiest is None:
            sys.exit("no counter sales in the scale data: run with --movements 8000 or more")
        point = db.session.get(SalesPoint, busiest)
        managers = [create_user(email, PASSWORD, role=Role.POINT_MANAGER, full_name="Bench") for email in MANAGERS]
        for manager in managers:
            assign_manager(point, manager)
        for product in db.session.scalars(sa.select(PointProduct).where(PointProduct.point_id == point.id)
                                          .order_by(PointProduct.product_id)):
            try:
                receive_stock(point, product.product, lot_code=BENCH_LOT, production_date=today() - timedelta(days=1),
                              expiry_date=today() + timedelta(days=365), quantity=10_000_000, unit_cost_vnd=1000,
                              delivery_note="BENCH", actor=managers[0])
            except DomainError:  # no qualifying basis today: try the next product
                continue
            db.session.commit()
            return point.code, product.product_id
    sys.exit(f"no product of {point.code} may be received")


def start_server(args, env: dict, port: int, work: Path) -> subprocess.Popen:
    log = (work / "gunicorn.log").open("a")
    return subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                             "--chdir", str(ROOT), "bench.inventory:bench_app()"],
                            cwd=ROOT, env={**env, "SHOP_ENV": "production"}, stdout=log, stderr=subprocess.STDOUT)


def measure(args, env: dict, work: Path, wrk: str, lua: Path, code: str, product_id: int) -> dict:
    port = free_port()
    server = start_server(args, env, port, work)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, work)
        session = logged_in_session(base, MANAGERS[0], PASSWORD)
        headers = [f"Cookie: {cookie_header(session)}", f"User-Agent: {USER_AGENT}"]
        routes = {"baseline": BASELINE_PATH, "stock": f"/manage/points/{code}/stock",
                  "dashboard": f"/manage/points/{code}"}
        results = {}
        for name, path in routes.items():
            status = session.get(base + path, timeout=120, allow_redirects=False).status_code
            if status != 200:
                print(f"  {name}: {path} answers {status}: not measured")
                results[name] = {"path": path, "missing": status}
                continue
            run_wrk(wrk, lua, base + path, args, headers, seconds=2)  # warm-up
            results[name] = {"path": path, **run_wrk(wrk, lua, base + path, args, headers, args.duration)}
            if name != "baseline":
                # One connection per worker: the page's own time, without waiting behind other requests.
                light = argparse.Namespace(**{**vars(args), "connections": args.workers, "threads": 1})
                results[f"{name} (c{args.workers})"] = {
                    "path": path, **run_wrk(wrk, lua, base + path, light, headers, args.duration)}
        results["counter"] = counter_load(base, code, product_id, args)
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_wrk(wrk: str, lua: Path, url: str, args, headers: list[str], seconds: int) -> dict:
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "30s", "--latency",
               "-s", str(lua)]
    for header in headers:
        command += ["-H", header]
    result = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        sys.exit(f"wrk printed no report for {url}:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("WRK_JSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def counter_load(base: str, code: str, product_id: int, args) -> dict:
    """--sellers threads, each logged in on its own session (half as each bench manager), posting one-unit cash
    sales for --duration seconds. Sales/s counts the answers 303 (the receipt)."""
    url = f"{base}/manage/points/{code}/counter"
    probe = logged_in_session(base, MANAGERS[0], PASSWORD)
    if probe.get(url, timeout=60).status_code != 200:
        print(f"  counter: {url} is not there yet: not measured")
        return {"path": url[len(base):], "missing": True}
    sellers = [logged_in_session(base, MANAGERS[n % 2], PASSWORD) for n in range(args.sellers)]
    tokens = [csrf_token_of(seller, url) for seller in sellers]
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(sellers) + 1)

    def sell(seller, token) -> None:
        data = {"csrf_token": token, "payment_method": "cash", "product_id": str(product_id), "quantity": "1"}
        start.wait()
        deadline = time.monotonic() + args.duration
        while time.monotonic() < deadline:
            began = time.perf_counter()
            status = seller.post(url, data=data, allow_redirects=False, timeout=60).status_code
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=sell, args=pair) for pair in zip(sellers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    sold = statuses.get(303, 0)
    return {"path": url[len(base):], "sellers": args.sellers, "seconds": seconds, "sales": sold,
            "sales_per_s": sold / seconds, "statuses": statuses, **summary_ms(latencies)}


def report(args, timings: dict, results: dict, code: str) -> None:
    print(f"\ngunicorn -w {args.workers}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"{args.products:,} products / {args.points:,} points / {args.movements:,} movements, point {code}, "
          f"{os.cpu_count()} CPUs")
    measured = {name: r for name, r in results.items() if name != "counter" and "missing" not in r}
    baseline = measured.get("baseline", {}).get("rps")
    header = (f"{'route':<14} {'path':<34} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
              f"{'×base':>6} {'errors':>6}")
    print(header + "\n" + "-" * len(header))
    for name, r in results.items():
        if name == "counter":
            continue
        if "missing" in r:
            print(f"{name:<14} {r['path'][:34]:<34} not measured (answered {r['missing']})")
            continue
        ratio = r["rps"] / baseline if baseline else float("nan")
        print(f"{name:<14} {r['path'][:34]:<34} {r['rps']:>8.1f} {r['p50'] / 1000:>7.1f} {r['p95'] / 1000:>7.1f} "
              f"{r['p99'] / 1000:>7.1f} {ratio:>6.2f} {sum(r['errors'].values()):>6}")
    counter = results["counter"]
    if "missing" not in counter:
        print(f"\nCounter: {counter['sales']} sales in {counter['seconds']:.1f} s by {counter['sellers']} sessions = "
              f"{counter['sales_per_s']:.1f} sales/s; POST p50 {counter['p50']:.1f} ms, p95 {counter['p95']:.1f} ms; "
              f"answers {counter['statuses']}")
    print(f"flask inventory verify over {args.movements:,} movements: {timings['verify_s']:.1f} s wall "
          f"(check itself {timings['verify_check_s']} s); after the counter load: "
          f"{timings['verify_after_load_s']:.1f} s — {timings['verify_after_load_report']}")
    print(f"flask seed scale --movements {args.movements}: {timings['seed_scale_s']:.1f} s")
    for name in ("stock", "dashboard", f"stock (c{args.workers})", f"dashboard (c{args.workers})"):
        if name in measured:
            p95 = measured[name]["p95"] / 1000
            print(f"Target {name} p95 ≤ 100 ms: {p95:.1f} ms — {'met' if p95 <= 100 else 'MISSED'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"inventory-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"args": vars(args), "timings": timings, "results": results}, indent=2))
    print(f"Saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
