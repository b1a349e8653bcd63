"""The public trace page of a lot with a long journal, and the label sheet PDF.

    .venv/bin/python bench/trace.py                          # SQLite and PostgreSQL (when reachable)
    .venv/bin/python bench/trace.py --db sqlite --duration 5  # a quick run

Builds a database (`flask db upgrade`) holding one certified product with a GTIN and one lot whose journal has
--events events (each with --inputs inputs; default 200 × 2), units of it at three open points, then serves the
shop with `gunicorn -w 2` and measures with wrk, one after the other:

- baseline    /_bench/baseline: the base layout with no data (same app and server; added by `bench_app()`)
- trace       GET /t/<code>                                 (wrk -t2 -c8), then with one connection per worker:
              the page's own time, without queueing
- api         GET /api/v1/trace/<code>                      (idem, c = workers)
- epcis       GET /api/v1/trace/<code>?format=epcis         (idem, c = workers)
- trace, uncached   GET /t/<code> on a server started with TRACE_JOURNAL_CACHE_SIZE=0: the journal rendered for
              every request (what the first scan after a new event costs)

and, in this process, the time of `render_label_sheet` for --labels labels (best and median of 5).

Targets (issue 5): trace page p95 ≤ 50 ms for a lot with 200 events; 100 labels ≤ 5 s. Figures are printed as a
table (requests/s also as a ratio to the baseline) and saved to bench/results/ (not committed)."""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import WRK_REPORT, environment, free_port, wait_until_up
from bench.common import postgres_database, work_folder

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASELINE_PATH = "/_bench/baseline"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ocop_bench_trace"
GTIN = "8938000000015"
LOT_CODE = "BENCH-2026-001"
PUBLIC_URL = "https://ocop.example.vn"
KINDS = ["sourcing", "receiving_inputs", "processing", "packing", "quality_test", "shipping"]


def bench_app():
    """The shop plus one route rendering the base layout with no data (the baseline). gunicorn loads it as
    'bench.trace:bench_app()'."""
    from flask import render_template

    from shop import create_app

    overrides = {}
    if os.environ.get("BENCH_TRACE_JOURNAL_CACHE_SIZE"):
        overrides["TRACE_JOURNAL_CACHE_SIZE"] = int(os.environ["BENCH_TRACE_JOURNAL_CACHE_SIZE"])
    app = create_app(overrides)
    app.add_url_rule(BASELINE_PATH, "bench_baseline", lambda: render_template("layouts/base.html"))
    return app


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL,
                        help="a dedicated PostgreSQL database, created and dropped by the run (default %(default)s)")
    parser.add_argument("--events", type=int, default=200, help="events in the lot's journal (default 200)")
    parser.add_argument("--inputs", type=int, default=2, help="inputs per event (default 2)")
    parser.add_argument("--labels", type=int, default=100, help="labels in the timed PDF (default 100)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and the PostgreSQL database")
    return parser.parse_args()


def run_flask(env: dict, *command: str) -> None:
    result = subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env, text=True, check=False,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"`flask {' '.join(command)}` failed:\n{result.stdout[-3000:]}")


def prepare(env: dict, args) -> str:
    """In-process, before the server starts: the product, its certificate, the lot and its journal, stock at three
    points. Returns the lot's trace code."""
    from shop import create_app
    from shop.catalog.services import create_product
    from shop.certification.services import record_certificate
    from shop.core.clock import today
    from shop.extensions import db
    from shop.inventory.models import StockLevel
    from shop.producers.services import create_producer
    from shop.sales_points.services import create_point
    from shop.traceability.models import Lot, TraceEvent, TraceInput

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                      "SEARCH_ENABLED": False, "UPLOAD_DIR": str(Path(env["INSTANCE_PATH"]) / "uploads")})
    with app.app_context():
        producer = create_producer(name="HTX Nông nghiệp Điều Phú Hòa", legal_form="cooperative", province_code=75,
                                   ward_code=26221, former_district="dinh-quan",
                                   story_md="Chúng tôi trồng **điều** trên đất đỏ bazan từ năm 1990. " * 6)
        product = create_product(producer, publish=True, name="Hạt điều rang muối vỏ lụa Phú Hòa", group_code="1",
                                 subgroup_code="1.3c", price_vnd=185_000, unit="Hộp 500 g",
                                 description="Hạt điều loại W240 rang muối.", gtin=GTIN)
        record_certificate(product, stars=4, score=80, level="province", decision_no="1234/QĐ-UBND",
                           decision_date=today() - timedelta(days=90))
        lot = Lot(product_id=product.id, lot_code=LOT_CODE, production_date=today() - timedelta(days=30),
                  expiry_date=today() + timedelta(days=335), quantity=5000)
        db.session.add(lot)
        db.session.flush()
        start = datetime.now(UTC) - timedelta(days=29)
        for n in range(args.events):
            event = TraceEvent(
                lot_id=lot.id, event_type=KINDS[n % len(KINDS)], occurred_at=start + timedelta(hours=3 * n),
                place=f"Xưởng chế biến số {n % 4 + 1}, ấp 3, xã Phú Hòa", province_code=75, ward_code=26221,
                actor_name="Nguyễn Thị Lan, tổ trưởng tổ chế biến", previous_step="Vườn điều hộ ông Trần Văn Tư",
                next_step="Kho thành phẩm HTX", description="Phân loại, rang và đóng gói theo quy trình HACCP.",
                reference=f"PX-{n:04d}")
            for m in range(args.inputs):
                event.inputs.append(TraceInput(material=f"Hạt điều thô W240 mẻ {m + 1}", supplier="Tổ hợp tác Phú Hòa",
                                               origin="Xã Phú Hòa, Đồng Nai", quantity=Decimal("125.500"), unit="kg",
                                               supplier_lot=f"THT-{n:03d}-{m}"))
            db.session.add(event)
        for code in ("DN-BENCH-1", "DN-BENCH-2", "DN-BENCH-3"):
            point = create_point(code=code, name=f"Điểm OCOP {code}", province_code=75, ward_code=26221,
                                 former_district="dinh-quan", status="open")
            db.session.flush()
            db.session.add(StockLevel(point_id=point.id, product_id=product.id, lot_id=lot.id, on_hand=40))
        db.session.commit()
        return lot.trace_code


def time_labels(env: dict, code: str, labels: int) -> dict:
    from shop import create_app
    from shop.traceability.labels import render_label_sheet
    from shop.traceability.trace_page import lot_by_trace_code

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                      "SEARCH_ENABLED": False})
    seconds, size = [], 0
    with app.app_context():
        lot = lot_by_trace_code(code)
        for _ in range(5):
            started = time.perf_counter()
            size = len(render_label_sheet(lot, labels, base_url=PUBLIC_URL))
            seconds.append(time.perf_counter() - started)
    return {"labels": labels, "best_s": min(seconds), "median_s": statistics.median(seconds), "bytes": size}


def run_wrk(wrk: str, lua: Path, url: str, threads: int, connections: int, seconds: int) -> dict:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency",
               "-s", str(lua), url]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        sys.exit(f"wrk printed no report for {url}:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("WRK_JSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def measure(args, env: dict, work: Path, wrk: str, code: str, *, journal_cache: bool = True) -> dict:
    import urllib.request

    lua = work / "report.lua"
    lua.write_text(WRK_REPORT)
    port = free_port()
    log = (work / "gunicorn.log").open("a")
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                               "--chdir", str(ROOT), "bench.trace:bench_app()"],
                              cwd=ROOT, env={**env, "SHOP_ENV": "production",
                                             **({} if journal_cache else {"BENCH_TRACE_JOURNAL_CACHE_SIZE": "0"})},
                              stdout=log, stderr=subprocess.STDOUT)
    results = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, work)
        routes = {"baseline": BASELINE_PATH, "trace": f"/t/{code}", "api": f"/api/v1/trace/{code}",
                  "epcis": f"/api/v1/trace/{code}?format=epcis"}
        if not journal_cache:  # the page rendering its whole journal on every request
            routes = {"trace, uncached": f"/t/{code}"}
        for name, path in routes.items():
            with urllib.request.urlopen(base + path, timeout=60) as response:
                body = response.read()
                if response.status != 200:
                    sys.exit(f"{path} answered {response.status}")
            if name.startswith("trace") and body.count(b'<li id="event-') != args.events:
                sys.exit(f"{path} does not show the {args.events} events")
            run_wrk(wrk, lua, base + path, args.threads, args.connections, 2)  # warm-up
            if name in ("baseline", "trace"):
                results[name] = {"path": path, "page_bytes": len(body),
                                 **run_wrk(wrk, lua, base + path, args.threads, args.connections, args.duration)}
            # One connection per worker: the page's own time, without waiting behind other requests.
            results[f"{name} (c{args.workers})"] = {
                "path": path, "page_bytes": len(body),
                **run_wrk(wrk, lua, base + path, 1, args.workers, args.duration)}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return results


def run_one(kind: str, database_url: str, work: Path, args, wrk: str) -> dict:
    env = {**environment(work), "DATABASE_URL": database_url, "PUBLIC_URL": PUBLIC_URL}
    print(f"\n[{kind}] preparing a lot with {args.events} events × {args.inputs} inputs …")
    run_flask(env, "db", "upgrade")
    code = prepare(env, args)
    labels = time_labels(env, code, args.labels)
    print(f"  lot {code}; {args.labels} labels: best {labels['best_s']:.2f} s, median {labels['median_s']:.2f} s "
          f"({labels['bytes'] / 1024:.0f} KB)")
    results = measure(args, env, work, wrk, code)
    results.update(measure(args, env, work, wrk, code, journal_cache=False))
    return {"db": kind, "code": code, "labels": labels, "results": results}


def report(args, runs: list[dict]) -> None:
    print(f"\ngunicorn -w {args.workers}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, lot with "
          f"{args.events} events × {args.inputs} inputs, {os.cpu_count()} CPUs")
    for run in runs:
        results = run["results"]
        baseline = results["baseline"]["rps"]
        print(f"\n[{run['db']}]")
        header = (f"{'route':<22} {'path':<40} {'KB':>5} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
                  f"{'×base':>6} {'err':>4}")
        print(header + "\n" + "-" * len(header))
        for name, r in results.items():
            print(f"{name:<22} {r['path'][:40]:<40} {r['page_bytes'] / 1024:>5.0f} {r['rps']:>8.1f} "
                  f"{r['p50'] / 1000:>7.1f} {r['p95'] / 1000:>7.1f} {r['p99'] / 1000:>7.1f} "
                  f"{r['rps'] / baseline:>6.2f} {sum(r['errors'].values()):>4}")
        for name in ("trace", f"trace (c{args.workers})", f"trace, uncached (c{args.workers})"):
            p95 = results[name]["p95"] / 1000
            print(f"Target {name} p95 ≤ 50 ms: {p95:.1f} ms — {'met' if p95 <= 50 else 'MISSED'}")
        labels = run["labels"]
        print(f"Target {labels['labels']} labels ≤ 5 s: {labels['median_s']:.2f} s (median of 5) — "
              f"{'met' if labels['median_s'] <= 5 else 'MISSED'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"trace-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2, default=str))
    print(f"Saved {path.relative_to(ROOT)}")


def main() -> int:
    from sqlalchemy.exc import OperationalError

    args = parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    runs = []
    if args.db in ("sqlite", "both"):
        with work_folder("trace-sqlite", args.keep) as work:
            runs.append(run_one("sqlite", f"sqlite:///{work / 'shop.sqlite'}", work, args, wrk))
    if args.db in ("postgresql", "both"):
        with work_folder("trace-pg", args.keep) as work, contextlib.ExitStack() as stack:
            try:
                url = stack.enter_context(postgres_database(args.database_url, keep=args.keep))
            except OperationalError as error:  # no server there: the SQLite figures still stand
                if args.db == "postgresql":
                    raise
                print(f"\nPostgreSQL not reachable at {args.database_url}: not measured ({error.orig})")
            else:
                try:
                    runs.append(run_one("postgresql", url, work, args, wrk))
                except SystemExit as error:  # e.g. the migrations fail there: the SQLite figures still stand
                    if args.db == "postgresql" or not runs:
                        raise
                    print(f"\nPostgreSQL run failed: not measured\n{str(error)[-600:]}")
    report(args, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
