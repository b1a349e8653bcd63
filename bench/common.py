"""Shared by the benchmarks: timing helpers and a scale dataset in a SQLite file.

`scale_app(path, products=…)` returns an app on that database, filled once and reused by later runs. It uses
the shop's own scale seeding (`shop.seeding.seed_scale`) when it exists, else `generate_catalogue` below,
which writes realistic Đồng Nai OCOP data straight through SQLAlchemy Core (fast; no services, no index).
"""
import contextlib
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 100 values is the 95th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5 - 1e-9)))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "mean": statistics.fmean(ms), "max": max(ms)}


class Stopwatch:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def scale_app(database: Path, *, products: int, producers: int, points: int = 0, index_dir: Path | None = None,
              fresh: bool = False, log=print):
    """An app on a SQLite file holding the scale dataset (made on first use). Search hooks are off: the
    benchmark times a full reindex itself."""
    from shop import create_app
    from shop.catalog.models import Product
    from shop.extensions import db

    if fresh and database.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench", "SEARCH_ENABLED": False,
        "SEARCH_INDEX_DIR": str(index_dir or database.with_suffix(".index")),
        "UPLOAD_DIR": str(database.with_suffix(".uploads")),
    })
    with app.app_context():
        db.create_all()
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        if existing >= products:
            log(f"Reusing {database} ({existing} products)")
            return app
        if existing:
            raise SystemExit(f"{database} holds {existing} products, fewer than asked: run with --fresh")
        started = time.perf_counter()
        seed_scale = shared_seeding()
        if seed_scale is not None:
            log(f"Seeding with shop.seeding.seed_scale: {products} products, {producers} producers…")
            seed_scale(products=products, producers=producers, points=points)
            db.session.commit()
        else:
            log(f"Generating {products} products, {producers} producers…")
            generate_catalogue(db.engine, products=products, producers=producers)
        log(f"  done in {time.perf_counter() - started:.1f} s")
    return app


def shared_seeding():
    """shop.seeding.seed_scale when the shop has it."""
    try:
        from shop.seeding import seed_scale
    except ImportError:
        return None
    return seed_scale


# --- a realistic catalogue without the shop's seeding -------------------------------------------------------

# (name, group, sub-group): product kinds of Đồng Nai's OCOP lists (see /work/shared/domain).
KINDS = [
    ("Bưởi đường lá cam", "1", "1.1a"), ("Chôm chôm nhãn", "1", "1.1a"), ("Sầu riêng Ri6", "1", "1.1a"),
    ("Xoài cát chu", "1", "1.1a"), ("Dưa lưới", "1", "1.1a"), ("Măng cụt", "1", "1.1a"),
    ("Thanh long ruột đỏ", "1", "1.1a"), ("Bơ sáp", "1", "1.1a"), ("Mít Thái", "1", "1.1a"),
    ("Gà thảo mộc", "1", "1.1b"), ("Trứng gà thảo mộc", "1", "1.1b"), ("Cá lăng", "1", "1.1b"),
    ("Tôm càng xanh", "1", "1.1b"), ("Sữa tươi thanh trùng", "1", "1.1b"),
    ("Gạo thơm", "1", "1.2a"), ("Gạo lứt huyết rồng", "1", "1.2a"), ("Nếp cái hoa vàng", "1", "1.2a"),
    ("Mật ong hoa cà phê", "1", "1.2b"), ("Mật ong hoa nhãn", "1", "1.2b"), ("Mật ong rừng", "1", "1.2b"),
    ("Yến sào", "1", "1.2b"), ("Bánh tráng phơi sương", "1", "1.3b"), ("Bún gạo lứt", "1", "1.3b"),
    ("Bánh phồng nếp", "1", "1.3b"), ("Hạt điều rang muối", "1", "1.3c"), ("Hạt điều vỏ lụa", "1", "1.3c"),
    ("Hạt điều tỏi ớt", "1", "1.3c"), ("Hạt điều phô mai trứng muối", "1", "1.3c"), ("Kẹo hạt điều", "1", "1.3c"),
    ("Mít sấy", "1", "1.3c"), ("Chuối sấy dẻo", "1", "1.3c"), ("Xoài sấy dẻo", "1", "1.3c"),
    ("Khô cá kìm", "1", "1.3d"), ("Giò chả", "1", "1.3d"), ("Chà bông heo", "1", "1.3d"),
    ("Lạp xưởng tươi", "1", "1.3d"), ("Sữa chua", "1", "1.3d"), ("Hạt tiêu đen", "1", "1.4"),
    ("Tiêu sọ", "1", "1.4"), ("Muối tiêu", "1", "1.4"), ("Nước mắm", "1", "1.4"), ("Tương ớt", "1", "1.4"),
    ("Trà mãng cầu", "1", "1.5"), ("Trà atiso", "1", "1.5"), ("Trà xanh", "1", "1.5"),
    ("Cà phê bột Robusta", "1", "1.6"), ("Cà phê hạt rang xay", "1", "1.6"), ("Cà phê nguyên chất", "1", "1.6"),
    ("Bột ca cao nguyên chất", "1", "1.6"), ("Bột ca cao 3 trong 1", "1", "1.6"), ("Sô-cô-la sữa", "1", "1.6"),
    ("Rượu đế", "2", "2.1"), ("Rượu nếp than", "2", "2.1"), ("Rượu chuối hột", "2", "2.1"),
    ("Nước ép bưởi", "2", "2.2"), ("Nước cốt chanh dây", "2", "2.2"), ("Sữa hạt điều", "2", "2.2"),
    ("Cao xáo tam phân", "3", "3.1"), ("Trà túi lọc đinh lăng", "3", "3.1"), ("Nấm linh chi", "3", "3.1"),
    ("Xà bông thảo dược", "3", "3.2"), ("Dầu gội bồ kết", "3", "3.2"), ("Tinh dầu sả chanh", "3", "3.3"),
    ("Tinh dầu tràm", "3", "3.3"), ("Giỏ mây tre đan", "4", "4.1"), ("Bình gốm Biên Hòa", "4", "4.1"),
    ("Khay lục bình", "4", "4.1"), ("Đũa gỗ", "4", "4.1"), ("Lan hồ điệp", "5", "5.1"), ("Mai vàng", "5", "5.1"),
    ("Bonsai mini", "5", "5.1"), ("Cá Koi", "5", "5.2"), ("Du lịch sinh thái miệt vườn", "6", "6.1"),
    ("Homestay vườn trái cây", "6", "6.1"),
]
SYLLABLES = ["An", "Bình", "Phú", "Minh", "Thành", "Hưng", "Long", "Tân", "Xuân", "Hòa", "Phát", "Lộc", "Thịnh",
             "Đức", "Trường", "Ngọc", "Hoàng", "Gia", "Kim", "Thiên", "Sơn", "Hải", "Nam", "Việt", "Quang", "Tâm",
             "Phúc", "Trung", "Hiệp", "Đông", "Tây", "Bảo", "Khánh", "Thủy", "Vĩnh", "Cát", "Mỹ", "Lợi", "Hạnh",
             "Đại", "Toàn", "Thuận", "Hậu", "Nhân", "Ý", "Như", "Trọng", "Sương", "Mai", "Lan"]
FORMS = [("cooperative", "HTX Nông nghiệp"), ("cooperative", "HTX Dịch vụ"), ("enterprise", "Công ty TNHH"),
         ("enterprise", "Công ty CP"), ("cooperative_group", "Tổ hợp tác"), ("household", "Hộ kinh doanh"),
         ("household", "Cơ sở")]
VARIANTS = ["", "", "loại đặc biệt", "hũ 500 g", "túi 250 g", "hộp quà", "hữu cơ", "thượng hạng", "chai 500 ml",
            "gói 1 kg"]
DISTRICTS = ["bien-hoa", "long-khanh", "vinh-cuu", "tan-phu", "dinh-quan", "xuan-loc", "cam-my", "thong-nhat",
             "trang-bom", "long-thanh", "nhon-trach", "dong-xoai", "dong-phu", "bu-dang", "phu-rieng"]


def generate_catalogue(engine: sa.Engine, *, products: int, producers: int, seed: int = 2) -> None:
    """Producers, published products with unique names ("kind + brand [+ variant]") and certificates: most
    valid now (3★ 70 %, 4★ 27 %, 5★ 3 %), some expired, a few withdrawn, a few drafts."""
    from shop.catalog.models import Product
    from shop.certification.models import Certificate
    from shop.core.clock import add_months, today
    from shop.core.text import slugify
    from shop.producers.models import Producer

    rng = random.Random(seed)
    now = datetime.now(UTC)
    day = today()
    brands = [f"{a} {b}" for a in SYLLABLES for b in SYLLABLES if a != b]
    rng.shuffle(brands)
    producer_rows, used_slugs = [], set()
    for i in range(producers):
        legal_form, prefix = rng.choice(FORMS)
        brand = brands[i % len(brands)]
        name = f"{prefix} {brand}" + (f" {i // len(brands) + 1}" if i >= len(brands) else "")
        slug = slugify(name)
        used_slugs.add(slug)
        producer_rows.append({"id": i + 1, "slug": slug, "name": name, "legal_form": legal_form,
                              "province_code": 75, "former_district": rng.choice(DISTRICTS),
                              "story_md": f"{name} làm sản phẩm OCOP.", "created_at": now, "updated_at": now})
    product_rows, certificate_rows, names = [], [], set()
    for i in range(products):
        producer = producer_rows[rng.randrange(producers)]
        brand = producer["name"].split(" ", 2)[-1] if producer["name"].startswith(("HTX", "Công ty")) \
            else " ".join(producer["name"].split()[-2:])
        for _attempt in range(50):
            kind, group, subgroup = rng.choice(KINDS)
            name = " ".join(filter(None, [kind, brand, rng.choice(VARIANTS)]))
            if name not in names:
                break
        else:
            name = f"{name} {i}"
        names.add(name)
        slug = slugify(name)
        if slug in used_slugs:
            slug = f"{slug}-{i}"
        used_slugs.add(slug)
        published_at = now - timedelta(days=rng.randrange(1, 1500), seconds=rng.randrange(86400))
        district = producer["former_district"]
        product_rows.append({
            "id": i + 1, "slug": slug, "name": name, "producer_id": producer["id"], "group_code": group,
            "subgroup_code": subgroup,
            "description": f"{kind} của {producer['name']}, sản xuất tại {district.replace('-', ' ')} theo quy "
                           f"trình truyền thống, đạt chứng nhận OCOP.",
            "price_vnd": rng.choice([35, 50, 65, 80, 95, 120, 150, 180, 220, 280, 350, 450, 650, 900]) * 1000,
            "unit": rng.choice(["Hộp 500 g", "Túi 250 g", "Chai 500 ml", "Hũ 300 g", "Cái", "Gói 1 kg"]),
            "is_alcohol": subgroup == "2.1", "status": "draft" if rng.random() < 0.03 else "published",
            "published_at": published_at, "created_at": now, "updated_at": now})
        stars = rng.choices([3, 4, 5], weights=[70, 27, 3])[0]
        # 85 % decided within the last 36 months (valid), the rest earlier (expired).
        age = rng.randrange(30, 1090) if rng.random() < 0.85 else rng.randrange(1100, 1800)
        decided = day - timedelta(days=age)
        withdrawn = decided + timedelta(days=rng.randrange(1, max(2, age))) if rng.random() < 0.01 else None
        certificate_rows.append({
            "product_id": i + 1, "stars": stars, "score": {3: 60, 4: 80, 5: 95}[stars],
            "level": "central" if stars == 5 else "province", "decision_no": f"{1000 + i}/QĐ-UBND",
            "decision_date": decided, "valid_until": add_months(decided, 36), "withdrawn_on": withdrawn,
            "withdrawal_decision_no": f"{5000 + i}/QĐ-UBND" if withdrawn else None,
            "withdrawal_reason": "Không duy trì tiêu chí bắt buộc" if withdrawn else None,
            "created_at": now, "updated_at": now})
    with engine.begin() as connection:
        for table, rows in ((Producer.__table__, producer_rows), (Product.__table__, product_rows),
                            (Certificate.__table__, certificate_rows)):
            for start in range(0, len(rows), 5000):
                connection.execute(table.insert(), rows[start:start + 5000])


def certified_on(day: date) -> sa.Select:
    """Ids of published products certified on `day` (for sampling relevance queries)."""
    from shop.catalog.models import Product, ProductStatus
    from shop.certification.queries import certified_stars_subquery

    certified = certified_stars_subquery(day)
    return (sa.select(Product.id, Product.name).join(certified, certified.c.product_id == Product.id)
            .where(Product.status == ProductStatus.PUBLISHED).order_by(Product.id))


# --- logged-in HTTP clients (benchmarks of the back office) --------------------------------------------------

USER_AGENT = "ocop-bench"  # the same for requests and wrk: Flask-Login ties a session to its client's identity
CSRF_FIELD_RE = r'name="csrf_token"[^>]*value="([^"]+)"'


def csrf_token_of(session, url: str) -> str:
    """The CSRF token of the first form on the page at `url`."""
    import re

    response = session.get(url, timeout=60)
    match = re.search(CSRF_FIELD_RE, response.text)
    if not match:
        raise SystemExit(f"no CSRF token on {url} (status {response.status_code})")
    return match.group(1)


def logged_in_session(base: str, email: str, password: str):
    """A requests.Session logged in through /account/login like a browser (CSRF token first)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    token = csrf_token_of(session, base + "/account/login")
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": email, "password": password},
                            allow_redirects=False, timeout=60)
    if response.status_code not in (302, 303):
        raise SystemExit(f"login of {email} failed with status {response.status_code}")
    session.get(base + "/", timeout=60)  # shows (and so removes) the welcome message: the cookie is stable now
    return session


def cookie_header(session) -> str:
    """The session's cookies as one Cookie header (for wrk -H)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


# --- a dedicated PostgreSQL database and guest buyers (the checkout benchmark) ------------------------------

def postgres_database(url: str, *, keep: bool = False):
    """Context manager: the database named in `url` dropped (if left by an earlier run) and created empty, then
    dropped again at the end unless `keep`. Never point it at a database other runs use (`test`)."""
    import contextlib

    from sqlalchemy.engine import make_url

    target = make_url(url)
    if not target.database or target.database in ("postgres", "test", "template0", "template1"):
        raise SystemExit(f"refusing to recreate the database {target.database!r}: name a dedicated one")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))

    @contextlib.contextmanager
    def managed():
        drop()
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
        try:
            yield url
        finally:
            if not keep:
                drop()
            admin.dispose()

    return managed()


def guest_session():
    """A requests.Session like a first-time visitor's browser (no account)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


@contextlib.contextmanager
def work_folder(name: str, keep: bool):
    """A temporary folder for a bench's database file, logs and mail; removed at the end unless `keep`."""
    work = Path(tempfile.mkdtemp(prefix=f"ocop-bench-{name}-"))
    try:
        yield work
    finally:
        if keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
