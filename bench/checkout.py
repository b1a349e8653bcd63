"""Checkout under load: guest buyers placing pickup orders, paid at the point, against a limited stock.

    .venv/bin/python bench/checkout.py                                  # SQLite file, then PostgreSQL
    .venv/bin/python bench/checkout.py --db sqlite --buyers 16 --duration 10           # a quick run
    .venv/bin/python bench/checkout.py --db postgresql --flow quick --profile --keep   # where the time goes
    .venv/bin/python bench/checkout.py --db postgresql --database-url postgresql+psycopg://postgres@127.0.0.1:5432/ocop_bench_checkout

For each database: an empty schema (`flask db upgrade`; on PostgreSQL a dedicated database is created and
dropped afterwards, never `test`), a generated catalogue of --products products, one open sales point holding
--stock units spread over --stocked products (two lots each) plus --last units of one more product; then the shop
is served by `gunicorn -w --workers --threads --threads` and measured:

- baseline  GET /_bench/baseline (the base layout, no data; wrk with --buyers connections): the ratio column
- load      --buyers threads, each a guest with its own session, for --duration seconds: POST /cart/add (one
            unit of a random stocked product), GET /checkout, POST /checkout (pickup at the point, pay at pickup:
            no payment server in the loop). Orders/s counts the redirects to the order page.
- race      --buyers new guests, each with one unit of the last product in the cart, post /checkout at the same
            instant: exactly --last of them must get an order, the others a "not enough stock" refusal.

After the run the books are checked in the database: on_hand ≥ 0, 0 ≤ reserved ≤ on_hand, the held order
allocations of each level add up to its `reserved`, no product ordered beyond what was received (oversold units,
must be 0), every order's allocations cover its lines, and the ledger balances (inventory.verify_ledger).
Target (issue 4): ≥ 50 orders/s on PostgreSQL on the 2-core machine. --flow quick leaves out the GET /checkout
of each cycle (to time the placing alone). --profile writes one pyinstrument profile per kind of request of the
cycle. The machine's load average is printed: other work running at the same time lowers the figures.

Server shape (measured on the 2-core machine, PostgreSQL, 32 buyers): 2 workers × 8 threads is the best of those
tried (about 10 % more orders/s than 2 × 4); 2 × 16 and 3 or 4 workers do worse (more processes than cores, and
more transactions waiting on the same stock rows). Figures are printed as a table and saved to bench/results/
(not committed)."""
import argparse
import contextlib
import json
import os
import random
import re
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.exc import OperationalError

from bench.catalog import PLAIN_HTTP, WRK_REPORT, environment, free_port, wait_until_up
from bench.common import (
    certified_on,
    generate_catalogue,
    guest_session,
    percentile,
    postgres_database,
    work_folder,
)
from bench.inventory import run_flask, run_wrk
from tests.live_server import run_together  # one implementation for the tests and the benchmarks

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASELINE_PATH = "/_bench/baseline"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ocop_bench_checkout"
POINT_CODE = "DN-XL-01"
MANAGER = "bench-checkout-manager@example.com"
ORDER_PAGE_RE = re.compile(r"/orders/DH-\d+")
STOCK_REFUSAL_RE = re.compile(r"not enough|no longer has every product", re.IGNORECASE)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ONCE_KEY_RE = re.compile(r'name="once_key"[^>]*value="([^"]+)"')  # the checkout form's one-time key
PROFILED = ("/checkout", "/cart/add")  # --profile: the requests of a buyer's cycle
MESSAGE_RE = re.compile(r'(?is)<(?:p|div|li|span)[^>]*(?:role="alert"|class="[^"]*(?:error|invalid)[^"]*")[^>]*>'
                        r"(.*?)</(?:p|div|li|span)>")


def bench_app():
    """The shop plus the baseline route (the base layout, no data). Login and checkout throttling and the hold
    caps are off (every buyer comes from 127.0.0.1 with the same contact), and cookies are not Secure (plain HTTP
    on 127.0.0.1 although SHOP_ENV=production). With BENCH_PROFILE_DIR set, each POST /checkout is profiled with
    pyinstrument into that folder. gunicorn loads it as 'bench.checkout:bench_app()'."""
    from flask import render_template

    from shop import create_app

    app = create_app({"RATELIMIT_ENABLED": False, "SEARCH_ENABLED": False, "MAX_OPEN_ORDERS_PER_CONTACT": 0,
                      "MAX_HELD_UNITS_PER_PRODUCT": 0, **PLAIN_HTTP})
    app.add_url_rule(BASELINE_PATH, "bench_baseline", lambda: render_template("layouts/base.html"))
    if os.environ.get("BENCH_PROFILE_DIR"):
        _profile_checkout_posts(app, Path(os.environ["BENCH_PROFILE_DIR"]))
    return app


def _profile_checkout_posts(app, folder: Path) -> None:
    from flask import g, request
    from pyinstrument import Profiler

    @app.before_request
    def start_profile():
        if request.path in PROFILED:
            g.bench_profiler = Profiler(interval=0.0005)
            g.bench_profiler.start()

    @app.teardown_request
    def save_profile(_error):
        profiler = g.pop("bench_profiler", None)
        if profiler is not None:
            name = f"{request.method}{request.path.replace('/', '_')}-{os.getpid()}-{uuid.uuid4().hex}.pyisession"
            profiler.stop().save(str(folder / name))


# ------------------------------------------------------------------------------------------------- the data

def bench_side_app(database_url: str, work: Path):
    """The app in this process (preparing the data, checking the books), on the database the server uses."""
    from shop import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "SEARCH_ENABLED": False,
                       "UPLOAD_DIR": str(work / "uploads"), "SEARCH_INDEX_DIR": str(work / "index")})


@dataclass
class Shop:
    point_code: str
    stocked: list[tuple[int, str]]  # (product id, slug) of the products on sale during the load
    last: tuple[int, str]           # the product with --last units, raced for at the end
    units: dict[int, int]           # units received per product id


def prepare_shop(database_url: str, work: Path, args) -> Shop:
    """In-process, before the server starts: migrate, generate the catalogue, open the point and receive the
    stock through the inventory service (so the ledger has its rows)."""
    run_flask({**environment(work), "DATABASE_URL": database_url}, "db", "upgrade")
    from shop.extensions import db

    app = bench_side_app(database_url, work)
    with app.app_context():
        generate_catalogue(db.engine, products=args.products, producers=max(1, args.products // 3))
        shop = _stock_point(args)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return shop


def _sellable_products(count: int) -> list:
    """Published, certified, non-alcoholic products (no age check at checkout) that may be received today."""
    from shop.catalog.models import Product
    from shop.core.clock import today
    from shop.extensions import db
    from shop.inventory.services import basis_problem

    ids = [row.id for row in db.session.execute(certified_on(today()).where(Product.is_alcohol.is_(False)))]
    chosen = []
    for product in (db.session.get(Product, product_id) for product_id in ids):
        if basis_problem(product, today()) is None:
            chosen.append(product)
        if len(chosen) == count:
            return chosen
    sys.exit(f"only {len(chosen)} sellable products in the catalogue: raise --products")


def _stock_point(args) -> Shop:
    from shop.accounts.models import Role
    from shop.accounts.services import create_user
    from shop.core.clock import today
    from shop.inventory.services import receive_stock
    from shop.sales_points.services import create_point

    point = create_point(code=POINT_CODE, name="Điểm OCOP Xuân Lộc", province_code=75, ward_code=26221,
                         former_district="xuan-loc", status="open")
    manager = create_user(MANAGER, "bench-password-2026", role=Role.POINT_MANAGER, full_name="Bench")
    *stocked, last = _sellable_products(args.stocked + 1)
    share, extra = divmod(args.stock, args.stocked)
    quantities = {product.id: share + (1 if n < extra else 0) for n, product in enumerate(stocked)}
    quantities[last.id] = args.last
    for product in [*stocked, last]:
        total = quantities[product.id]
        # Two lots: the orders take the one expiring sooner first (FEFO), then the other.
        for lot_code, units, days in (("SOON", total // 2, 60), ("LATE", total - total // 2, 300)):
            if units:
                receive_stock(point, product, lot_code=lot_code, production_date=today() - timedelta(days=5),
                              expiry_date=today() + timedelta(days=days), quantity=units, unit_cost_vnd=50_000,
                              delivery_note="BENCH", actor=manager)
    return Shop(point_code=point.code, stocked=[(p.id, p.slug) for p in stocked], last=(last.id, last.slug),
                units=quantities)


# -------------------------------------------------------------------------------------------------- a buyer

def checkout_form(token: str, point_code: str, once_key: str | None = None) -> dict:
    """What a guest types on /checkout for a pickup at the point, paid there (with the form's one-time key, as a
    browser sends it)."""
    return {"csrf_token": token, **({"once_key": once_key} if once_key else {}), "name": "Nguyễn Thị Hoa",
            "phone": "0912 345 678", "email": "hoa@example.vn", "fulfilment": "pickup", "pickup_point": point_code,
            "payment_method": "pay_at_pickup"}


def token_of(response) -> str:
    match = CSRF_RE.search(response.text)
    if not match:
        raise RuntimeError(f"no CSRF token on {response.url} (status {response.status_code})")
    return match.group(1)


def outcome(response) -> str:
    """ordered | refused_stock | refused (another 400) | error."""
    if response.status_code in (302, 303) and ORDER_PAGE_RE.search(response.headers.get("Location", "")):
        return "ordered"
    if response.status_code == 400:
        return "refused_stock" if STOCK_REFUSAL_RE.search(response.text) else "refused"
    return "error"


def message_of(response) -> str:
    found = MESSAGE_RE.search(response.text)
    text = re.sub(r"<[^>]+>|\s+", " ", found.group(1) if found else response.text[:200]).strip()
    return f"{response.status_code}: {text[:160]}"


class Buyer:
    """A guest with a cart: adds one unit of a product, opens the checkout page, places the order."""

    def __init__(self, base: str, point_code: str, product_slug: str):
        self.base, self.point_code, self.once_key = base, point_code, None
        self.session = guest_session()
        self.session.get(base + "/lang/en", timeout=60)  # the refusals in English, as STOCK_REFUSAL_RE expects
        self.token = token_of(self.session.get(f"{base}/products/{product_slug}", timeout=60))

    def add(self, product_id: int) -> float:
        began = time.perf_counter()
        response = self.session.post(self.base + "/cart/add", allow_redirects=False, timeout=60, data={
            "csrf_token": self.token, "product_id": str(product_id), "quantity": "1"})
        if response.status_code not in (200, 302, 303):
            raise RuntimeError(f"POST /cart/add {message_of(response)}")
        return time.perf_counter() - began

    def open_checkout(self) -> float:
        began = time.perf_counter()
        response = self.session.get(self.base + "/checkout", timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"GET /checkout {message_of(response)}")
        self.token = token_of(response)
        found = ONCE_KEY_RE.search(response.text)
        self.once_key = found.group(1) if found else None
        return time.perf_counter() - began

    def place(self):
        """(seconds, response) of the POST /checkout."""
        began = time.perf_counter()
        form = checkout_form(self.token, self.point_code, self.once_key)
        response = self.session.post(self.base + "/checkout", data=form, allow_redirects=False, timeout=60)
        return time.perf_counter() - began, response


@dataclass
class Tally:
    """What the buyers saw, shared by their threads."""

    steps: dict[str, list[float]] = field(default_factory=lambda: {"add": [], "page": [], "post": [], "cycle": []})
    outcomes: dict[str, int] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)  # one message per kind of refusal or error
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, timings: dict[str, float], sample: str | None = None) -> None:
        with self.lock:
            self.outcomes[kind] = self.outcomes.get(kind, 0) + 1
            for step, seconds in timings.items():
                self.steps[step].append(seconds)
            if sample and kind not in self.samples:
                self.samples[kind] = sample


def buy_until(buyer: Buyer, shop: Shop, deadline: float, tally: Tally, rng: random.Random, flow: str) -> None:
    """Orders one unit at a time until the deadline. Flow "full": add to the cart, open the checkout page, place
    the order; "quick": the page is not opened again (the buyer's CSRF token stays valid for the session), to
    time the order placement without the page."""
    while time.monotonic() < deadline:
        began = time.perf_counter()
        try:
            timings = {"add": buyer.add(rng.choice(shop.stocked)[0])}
            if flow == "full":
                timings["page"] = buyer.open_checkout()
            timings["post"], response = buyer.place()
        except Exception as error:  # noqa: BLE001 - counted and shown; the buyer goes on
            tally.record("error", {}, repr(error)[:200])
            continue
        kind = outcome(response)
        timings["cycle"] = time.perf_counter() - began
        tally.record(kind, timings, None if kind == "ordered" else message_of(response))
        if kind == "refused_stock":
            return  # sold out for this buyer: a real one would leave


# ----------------------------------------------------------------------------------------------- measuring

def load_phase(base: str, shop: Shop, args) -> dict:
    buyers = [Buyer(base, shop.point_code, shop.stocked[n % len(shop.stocked)][1]) for n in range(args.buyers)]
    tally = Tally()
    start = threading.Barrier(len(buyers) + 1)

    def run(buyer: Buyer, seed: int) -> None:
        start.wait()
        buy_until(buyer, shop, deadline, tally, random.Random(seed), args.flow)

    threads = [threading.Thread(target=run, args=(buyer, n)) for n, buyer in enumerate(buyers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + args.duration
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    ordered = tally.outcomes.get("ordered", 0)
    requests_made = (3 if args.flow == "full" else 2) * sum(tally.outcomes.values())
    return {"seconds": seconds, "orders": ordered, "orders_per_s": ordered / seconds,
            "requests_per_s": requests_made / seconds, "outcomes": tally.outcomes, "samples": tally.samples,
            **{f"{step}_{name}": percentile([s * 1000 for s in values], pct)
               for step, values in tally.steps.items() for name, pct in (("p50", 50), ("p95", 95))}}


def race_phase(base: str, shop: Shop, args) -> dict:
    """Every buyer has the last product in the cart; all post /checkout at the same instant."""
    product_id, slug = shop.last
    buyers = [Buyer(base, shop.point_code, slug) for _ in range(args.buyers)]
    for buyer in buyers:
        buyer.add(product_id)
        buyer.open_checkout()
    results = run_together([buyer.place for buyer in buyers])
    crashes = [repr(r) for r in results if isinstance(r, Exception)]
    kinds = [outcome(r[1]) for r in results if not isinstance(r, Exception)]
    refusals = {message_of(r[1]) for r in results if not isinstance(r, Exception) and outcome(r[1]) != "ordered"}
    return {"buyers": args.buyers, "units": args.last, "ordered": kinds.count("ordered"),
            "refused_stock": kinds.count("refused_stock"), "other": len(kinds) - kinds.count("ordered")
            - kinds.count("refused_stock") + len(crashes), "crashes": crashes[:3], "refusals": sorted(refusals)[:3],
            "post_p95": percentile([r[0] * 1000 for r in results if not isinstance(r, Exception)], 95)}


def baseline_phase(base: str, work: Path, args) -> dict | None:
    wrk = shutil.which("wrk")
    if not wrk:
        print("  wrk is not installed: no baseline (apt-get install wrk)")
        return None
    lua = work / "report.lua"
    lua.write_text(WRK_REPORT)
    options = argparse.Namespace(threads=min(2, args.buyers), connections=args.buyers)
    run_wrk(wrk, lua, base + BASELINE_PATH, options, [], seconds=2)  # warm-up
    result = run_wrk(wrk, lua, base + BASELINE_PATH, options, [], seconds=min(args.duration, 5))
    return {"rps": result["rps"], "p50": result["p50"] / 1000, "p95": result["p95"] / 1000}


def start_server(database_url: str, work: Path, args, port: int):
    import subprocess

    env = {**environment(work), "DATABASE_URL": database_url, "SHOP_ENV": "production",
           "MAIL_FOLDER": str(work / "mail")}
    if args.profile:
        (work / "profile").mkdir(exist_ok=True)
        env["BENCH_PROFILE_DIR"] = str(work / "profile")
    log = (work / "gunicorn.log").open("a")
    return subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "--threads", str(args.threads),
                             "-b", f"127.0.0.1:{port}", "--timeout", "120", "--chdir", str(ROOT),
                             "bench.checkout:bench_app()"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def measure(database_url: str, shop: Shop, work: Path, args) -> dict:
    port = free_port()
    server = start_server(database_url, work, args, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, work)
        results = {"baseline": baseline_phase(base, work, args)}
        # Other work on the machine (a test run) changes the figures: say how busy it was.
        results["load_average_before"] = os.getloadavg()[0]
        print(f"  load: {args.buyers} buyers for {args.duration} s (machine load average "
              f"{results['load_average_before']:.1f}) …")
        results["load"] = load_phase(base, shop, args)
        results["load_average_after"] = os.getloadavg()[0]
        print(f"  race: {args.buyers} buyers for the last {args.last} units …")
        results["race"] = race_phase(base, shop, args)
        return results
    finally:
        server.terminate()
        server.wait(timeout=60)


# ---------------------------------------------------------------------------------------------- the books

def check_books(database_url: str, shop: Shop, work: Path) -> dict:
    """What the database says after the run: any oversold unit, negative or over-reserved level, held
    allocations that do not add up to a level's reservation, order without its allocations, ledger difference."""
    import sqlalchemy as sa

    from shop.extensions import db
    from shop.inventory.models import StockLevel
    from shop.inventory.queries import verify_ledger
    from shop.orders.models import AllocationState, Order, OrderAllocation, OrderLine, OrderStatus

    with bench_side_app(database_url, work).app_context():
        levels = db.session.scalars(sa.select(StockLevel)).all()
        held = dict(db.session.execute(
            sa.select(OrderAllocation.stock_level_id, sa.func.sum(OrderAllocation.quantity))
            .where(OrderAllocation.state == AllocationState.HELD).group_by(OrderAllocation.stock_level_id)).all())
        live = Order.status != OrderStatus.CANCELLED
        ordered = dict(db.session.execute(
            sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity)).join(Order).where(live)
            .group_by(OrderLine.product_id)).all())
        allocated = (sa.select(OrderAllocation.line_id, sa.func.sum(OrderAllocation.quantity).label("units"))
                     .group_by(OrderAllocation.line_id).subquery())
        uncovered = db.session.scalar(
            sa.select(sa.func.count()).select_from(OrderLine).join(Order)
            .outerjoin(allocated, allocated.c.line_id == OrderLine.id)
            .where(live, sa.func.coalesce(allocated.c.units, 0) != OrderLine.quantity))
        books = {
            "orders": db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(live)),
            "oversold_units": sum(max(0, int(units) - shop.units.get(product_id, 0))
                                  for product_id, units in ordered.items()),
            "negative_levels": sum(1 for level in levels if level.on_hand < 0 or level.reserved < 0),
            "over_reserved_levels": sum(1 for level in levels if level.reserved > level.on_hand),
            "allocation_mismatches": sum(1 for level in levels if int(held.get(level.id, 0)) != level.reserved),
            "lines_without_allocations": uncovered,
            "ledger_differences": len(verify_ledger()),
            "units_left": sum(level.on_hand - level.reserved for level in levels),
        }
        db.session.remove()
        db.engine.dispose()
    return books


def problems(books: dict, results: dict) -> list[str]:
    found = [f"{name} = {books[name]}" for name in ("oversold_units", "negative_levels", "over_reserved_levels",
                                                    "allocation_mismatches", "lines_without_allocations",
                                                    "ledger_differences") if books[name]]
    placed = results["load"]["orders"] + results["race"]["ordered"]
    if books["orders"] != placed:
        found.append(f"{books['orders']} orders in the database, {placed} confirmed to buyers")
    race = results["race"]
    if race["ordered"] != min(race["units"], race["buyers"]):
        found.append(f"race: {race['ordered']} orders for {race['units']} units")
    return found


# --------------------------------------------------------------------------------------------------- running

def run_one(kind: str, database_url: str, work: Path, args) -> dict:
    print(f"\n== {kind}: {database_url}")
    started = time.perf_counter()
    shop = prepare_shop(database_url, work, args)
    print(f"  prepared in {time.perf_counter() - started:.1f} s: {args.products} products, point {shop.point_code} "
          f"with {sum(shop.units.values())} units ({args.stocked} products + {args.last} of the last one)")
    results = measure(database_url, shop, work, args)
    books = check_books(database_url, shop, work)
    profile = summarise_profile(work / "profile") if args.profile else None
    return {"database": kind, "results": results, "books": books, "problems": problems(books, results),
            "profile": profile}


def summarise_profile(folder: Path) -> dict[str, str]:
    """One combined pyinstrument profile per kind of request (POST_checkout, GET_checkout, POST_cart_add)."""
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    texts = {}
    for kind in sorted({path.name.split("-", 1)[0] for path in folder.glob("*.pyisession")}):
        sessions = [Session.load(str(path)) for path in sorted(folder.glob(f"{kind}-*.pyisession"))]
        combined = sessions[0]
        for session in sessions[1:]:
            combined = Session.combine(combined, session)
        texts[kind] = ConsoleRenderer(unicode=True, color=False, show_all=False,
                                      time="percent_of_total").render(combined)
        (folder / f"{kind}.txt").write_text(texts[kind])
        print(f"  profile of {len(sessions)} {kind}: {folder / kind}.txt")
    return texts


def report(args, runs: list[dict]) -> None:
    print(f"\ngunicorn -w {args.workers} --threads {args.threads}, flow {args.flow}, {args.buyers} buyers × "
          f"{args.duration} s, "
          f"{args.stock} units over {args.stocked} products, race for {args.last}; {os.cpu_count()} CPUs")
    header = (f"{'database':<11} {'orders':>6} {'orders/s':>8} {'POST p50':>8} {'POST p95':>8} {'cycle p95':>9} "
              f"{'req/s':>7} {'×base':>6} {'refused':>7} {'errors':>6} {'race':>7} {'oversold':>8}")
    print(header + "\n" + "-" * len(header))
    for run in runs:
        load, race, baseline = run["results"]["load"], run["results"]["race"], run["results"]["baseline"]
        ratio = load["requests_per_s"] / baseline["rps"] if baseline else float("nan")
        refused = sum(n for kind, n in load["outcomes"].items() if kind.startswith("refused"))
        errors = load["outcomes"].get("error", 0)
        print(f"{run['database']:<11} {load['orders']:>6} {load['orders_per_s']:>8.1f} {load['post_p50']:>8.1f} "
              f"{load['post_p95']:>8.1f} {load['cycle_p95']:>9.1f} {load['requests_per_s']:>7.1f} {ratio:>6.2f} "
              f"{refused:>7} {errors:>6} {race['ordered']:>3}/{race['units']:<3} {run['books']['oversold_units']:>8}")
    print("(latencies in ms; req/s = the buyers' requests (2 or 3 per cycle, see --flow); "
          "×base = req/s over the baseline page's req/s at the same concurrency)")
    for run in runs:
        baseline = run["results"]["baseline"]
        print(f"{run['database']}: machine load average (1 min) {run['results']['load_average_before']:.1f} before "
              f"the load, {run['results']['load_average_after']:.1f} after (2 CPUs: above ~2 others were busy too)")
        if baseline:
            print(f"{run['database']}: baseline {baseline['rps']:.0f} req/s, p50 {baseline['p50']:.1f} ms, "
                  f"p95 {baseline['p95']:.1f} ms")
        load = run["results"]["load"]
        print(f"{run['database']}: p50/p95 ms of a cycle's steps: POST /cart/add {load['add_p50']:.1f}/"
              f"{load['add_p95']:.1f}, GET /checkout {load['page_p50']:.1f}/{load['page_p95']:.1f}, "
              f"POST /checkout {load['post_p50']:.1f}/{load['post_p95']:.1f}")
        for kind, sample in load["samples"].items():
            print(f"{run['database']}: {kind} e.g. {sample}")
        print(f"{run['database']}: race refusals e.g. {run['results']['race']['refusals'][:1]}")
        print(f"{run['database']}: books {run['books']}")
        print(f"{run['database']}: {'PROBLEMS: ' + '; '.join(run['problems']) if run['problems'] else 'books OK'}")
        if run["database"] == "postgresql":
            rate = run["results"]["load"]["orders_per_s"]
            print(f"Target ≥ 50 orders/s on PostgreSQL: {rate:.1f} — {'met' if rate >= 50 else 'MISSED'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"checkout-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2, default=str))
    print(f"Saved {path.relative_to(ROOT)}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL,
                        help="a dedicated PostgreSQL database, created and dropped by the run (default %(default)s)")
    parser.add_argument("--buyers", type=int, default=32, help="concurrent guest buyers (default 32)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    parser.add_argument("--stock", type=int, default=2000, help="units on sale during the load (default 2000)")
    parser.add_argument("--stocked", type=int, default=4, help="products sharing --stock (default 4)")
    parser.add_argument("--last", type=int, default=5, help="units of the product raced for at the end (default 5)")
    parser.add_argument("--products", type=int, default=300, help="products in the catalogue (default 300)")
    parser.add_argument("--flow", choices=("full", "quick"), default="full",
                        help="full: add to cart, GET /checkout, POST /checkout (default); quick: no GET /checkout")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (default 8)")
    parser.add_argument("--profile", action="store_true", help="profile each POST /checkout with pyinstrument")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and the PostgreSQL database")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    runs = []
    if args.db in ("sqlite", "both"):
        with work_folder("checkout-sqlite", args.keep) as work:
            runs.append(run_one("sqlite", f"sqlite:///{work / 'shop.sqlite'}", work, args))
    if args.db in ("postgresql", "both"):
        with work_folder("checkout-pg", args.keep) as work, contextlib.ExitStack() as stack:
            try:
                url = stack.enter_context(postgres_database(args.database_url, keep=args.keep))
            except OperationalError as error:  # no server there: `make bench` still reports SQLite
                if args.db == "postgresql":
                    raise
                print(f"\nPostgreSQL not reachable at {args.database_url}: not measured ({error.orig})")
            else:
                runs.append(run_one("postgresql", url, work, args))
    report(args, runs)
    return 1 if any(run["problems"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
