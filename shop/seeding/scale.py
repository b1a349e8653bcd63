"""`flask seed scale`: a large, realistic catalogue for benchmarks, written with bulk INSERTs (no services,
no audit trail, no pictures) so that 20,000 products load in well under two minutes.

The data is still valid by the domain's rules: unique slugs and registration numbers, GTIN-13s with correct
check digits, scores inside their star bands, district certificates only in the district era (Feb 2023 –
Jul 2025), 5★ only at the central level, validity 36 months, and the superseded/withdrawn fields filled the
way the certification services would fill them. Names combine the product kinds, brand words and the
localities of seed/scale.json and seed/localities.json so that search has varied, realistic text."""
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

import sqlalchemy as sa
from flask import current_app
from stdnum import ean

from shop.catalog.models import Product, ProductStatus
from shop.certification.models import STAR_BANDS, VALIDITY_MONTHS, Certificate, IssuingLevel
from shop.core.admin_units import FORMER_DISTRICTS
from shop.core.clock import add_months, today
from shop.core.errors import DomainError
from shop.core.text import slugify
from shop.extensions import db
from shop.producers.models import DocumentKind, LegalForm, Producer, ProducerDocument
from shop.sales_points.models import PointProduct, PointStatus, PointTier, SalesPoint
from shop.search.versioning import bump_catalog_version
from shop.seeding.files import load_seed_file, ward_code
from shop.seeding.scale_stock import ProductFacts, StockReport, insert_stock

PROVINCE = 75  # Đồng Nai (2025 units)
MAX_EXISTING_PRODUCTS = 1000
BATCH = 2000
CARRIED_PER_POINT = (180, 220)
# Share of the former Bình Phước districts (they joined Đồng Nai in 2025); the rest is former Đồng Nai.
BINH_PHUOC = {"dong-xoai", "dong-phu", "bu-dang", "bu-gia-map", "phu-rieng", "phuoc-long", "chon-thanh"}
# District People's Committees recognised 3★ products only under 148/QĐ-TTg, before 1489/QĐ-TTg.
DISTRICT_ERA = (date(2023, 2, 24), date(2025, 7, 5))
MERGER = date(2025, 7, 1)
NO_GTIN_SUBGROUPS = {"5.1", "5.2", "6.1"}
# How the products' certificate histories are shared out (the rest: one valid certificate).
PLAN_SHARES = {"draft": 0.02, "expired": 0.08, "withdrawn": 0.005, "renewed": 0.07, "upgraded": 0.03}
STAR_WEIGHTS = {3: 55, 4: 38, 5: 7}
FOOD_FAMILIES = {"cashew", "fruit", "dried", "honey", "spice", "coffee", "cocoa", "rice", "meat", "tea",
                 "drinks", "herbal"}


class ScaleRefused(DomainError):
    code = "scale_refused"


@dataclass
class ScaleReport:
    producers: int = 0
    documents: int = 0
    products: int = 0
    certificates: int = 0
    points: int = 0
    assortment: int = 0
    seconds: float = 0.0
    plans: dict[str, int] = field(default_factory=dict)
    stock: StockReport = field(default_factory=StockReport)


def scale_steps(products: int, producers: int, points: int, movements: int = 0) -> int:
    """The total that `seed_scale` reports to `progress`, for the length of a progress bar."""
    return producers + 2 * products + 2 * points + movements


def ensure_scale_allowed() -> None:
    """Refuse in production, and on a database that already holds a large catalogue (scale data loaded twice
    would only slow every benchmark down)."""
    if current_app.config["SHOP_ENV"] == "production":
        raise ScaleRefused("Benchmark data cannot be loaded when SHOP_ENV=production.")
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
    if existing > MAX_EXISTING_PRODUCTS:
        raise ScaleRefused(f"The database already has {existing} products, so scale data seems to be loaded "
                           f"already. Load scale data into an empty database (demo data may be present).")


def seed_scale(products: int = 20000, producers: int = 8000, points: int = 1000, seed: int = 42,
               progress: Callable[[int], None] | None = None, movements: int = 0) -> ScaleReport:
    """Insert `producers` producers, `products` products with certificates and `points` sales points carrying
    about 200 products each, and with `movements` > 0 stock at the open points made of that many ledger rows
    (shop.seeding.scale_stock). Flushes only; the caller commits. `progress(n)` is called as work is done."""
    if products < 0 or producers < 1 or points < 0 or movements < 0:
        raise ScaleRefused("Scale data needs at least one producer, and no negative counts.")
    ensure_scale_allowed()
    started = time.perf_counter()
    generator = _Generator(random.Random(seed), today(), progress or (lambda n: None))
    report = ScaleReport()
    producer_rows = generator.insert_producers(producers, report)
    product_rows = generator.insert_products(products, producer_rows, report)
    generator.insert_certificates(product_rows, report)
    generator.insert_points(points, product_rows, report)
    if movements:
        facts = {p["id"]: ProductFacts(p["id"], p["slug"], p["name"], p["price_vnd"], p["subgroup"])
                 for p in product_rows}
        report.stock = insert_stock(generator.open_points, generator.assortment, facts, movements, generator.rng,
                                    generator.progress)
    db.session.flush()
    # Bulk inserts bypass the ORM events: tell running servers their cached listings are stale.
    bump_catalog_version()
    report.seconds = time.perf_counter() - started
    return report


class _Generator:
    def __init__(self, rng: random.Random, day: date, progress: Callable[[int], None]):
        self.rng, self.today, self.progress = rng, day, progress
        self.now = datetime.now(UTC)
        self.vocab = load_seed_file("scale.json")
        self.localities = load_seed_file("localities.json")
        self.districts = list(self.localities)
        self.district_weights = [2 if d in BINH_PHUOC else 3 for d in self.districts]
        self.ward_codes = {ward: ward_code(PROVINCE, ward)
                           for locality in self.localities.values() for ward in locality["wards"]}
        self.families = self.vocab["families"]
        # What exists already (demo data), so generated natural keys never collide with it.
        self.slugs = {Producer: set(db.session.scalars(sa.select(Producer.slug))),
                      Product: set(db.session.scalars(sa.select(Product.slug)))}
        self.registration_nos = set(db.session.scalars(
            sa.select(Producer.registration_no).where(Producer.registration_no.is_not(None))))
        self.gtins = set(db.session.scalars(sa.select(Product.gtin).where(Product.gtin.is_not(None))))
        self.point_codes = set(db.session.scalars(sa.select(SalesPoint.code)))
        self.brand_pairs = self._brand_pairs()
        self.sessions = self._decision_sessions()
        self.open_points: list[tuple[int, str]] = []  # (id, code) of the open points, for their stock
        self.assortment: dict[int, list[int]] = {}

    # --- helpers -------------------------------------------------------------------------------------------
    def _brand_pairs(self) -> list[str]:
        words = self.vocab["brand_words"]
        pairs = [f"{a} {b}" if self.rng.random() < 0.5 else f"{b} {a}"
                 for i, a in enumerate(words) for b in words[i + 1:]]
        self.rng.shuffle(pairs)
        return pairs

    def _unique_slug(self, model, name: str) -> str:
        slug = base = slugify(name)
        n = 1
        while slug in self.slugs[model]:
            n += 1
            slug = f"{base}-{n}"
        self.slugs[model].add(slug)
        return slug

    def _stamp(self) -> dict:
        return {"created_at": self.now, "updated_at": self.now}

    def _insert(self, model, rows: list[dict], returning: bool = False, counts: bool = True) -> list[int]:
        """Bulk INSERT in batches; returns the new primary keys in row order when asked. `counts`: each row
        is a unit of progress."""
        ids: list[int] = []
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            if returning:
                statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
                ids.extend(db.session.execute(statement, chunk).scalars())
            else:
                db.session.execute(sa.insert(model), chunk)
            if counts:
                self.progress(len(chunk))
        return ids

    @staticmethod
    def _short(ward: str) -> str:
        return ward.split(" ", 1)[1] if ward.startswith(("Xã ", "Phường ")) else ward

    @staticmethod
    def _district_label(key: str) -> str:
        return FORMER_DISTRICTS[key].split(" ", 1)[1]

    def _phone(self, district: str, mobile: bool) -> str:
        r = self.rng
        if mobile:
            return f"09{r.randrange(10, 100)} {r.randrange(100, 1000)} {r.randrange(100, 1000)}"
        area = "0271" if district in BINH_PHUOC else "0251"
        return f"{area} 3{r.randrange(100, 1000)} {r.randrange(100, 1000)}"

    def _price(self, low: int, high: int) -> int:
        step = 5000 if high > 200_000 else 1000
        return self.rng.randrange(low // step, high // step + 1) * step

    def _person(self) -> tuple[str, str]:
        """A household owner's full name and how customers call them ("Cô Hạnh")."""
        r, v = self.rng, self.vocab
        female = r.random() < 0.5
        given = r.choice(v["given_female" if female else "given_male"])
        middle = r.choice(v["middle_female" if female else "middle_male"])
        title = r.choice(["Cô", "Bà", "Chị"] if female else ["Chú", "Ông", "Anh"])
        return f"{r.choice(v['surnames'])} {middle} {given}", f"{title} {given}"

    # --- producers -----------------------------------------------------------------------------------------
    def insert_producers(self, count: int, report: ScaleReport) -> list[dict]:
        r, v = self.rng, self.vocab
        forms = list(v["legal_forms"])
        form_weights = list(v["legal_forms"].values())
        family_keys = list(self.families)
        rows, meta = [], []
        for i in range(count):
            district = r.choices(self.districts, self.district_weights)[0]
            ward = r.choice(self.localities[district]["wards"])
            form = r.choices(forms, form_weights)[0]
            weights = [self.families[f]["weight"] * (4 if district in self.families[f]["districts"] else 1)
                       for f in family_keys]
            family = r.choices(family_keys, weights)[0]
            trade = self.families[family]["trade"]
            if form == LegalForm.HOUSEHOLD.value:
                person, brand = self._person()
                name = r.choice(v["name_patterns"][form]).format(trade=trade, person=person)
                brand = f"{brand} {self._short(ward)}"
            else:
                brand = self.brand_pairs[i] if i < len(self.brand_pairs) else \
                    f"{r.choice(self.brand_pairs)} {self._short(ward)}"
                name = r.choice(v["name_patterns"][form]).format(trade=trade, brand=brand)
            slug = self._unique_slug(Producer, name)
            while True:
                registration_no = ("38" if district in BINH_PHUOC else "36") + f"{r.randrange(10 ** 8):08d}"
                if registration_no not in self.registration_nos:
                    self.registration_nos.add(registration_no)
                    break
            founded = r.randrange(2000, 2022)
            story = " ".join((
                r.choice(v["producer_stories"]).format(name=name, year=founded, ward=ward,
                                                       district=self._district_label(district)),
                v["family_sentences"][family], r.choice(v["closing_sentences"])))
            street_word = ("Khu phố" if ward.startswith("Phường")
                           else "Thôn" if district in BINH_PHUOC else "Ấp")
            enterprise = form == LegalForm.ENTERPRISE.value
            rows.append({
                "slug": slug, "name": name, "legal_form": LegalForm(form), "registration_no": registration_no,
                "province_code": PROVINCE, "ward_code": self.ward_codes[ward], "former_district": district,
                "street": f"{street_word} {r.randrange(1, 13)}", "story_md": story,
                "phone": self._phone(district, mobile=form == LegalForm.HOUSEHOLD.value),
                "email": f"{slug[:60]}@example.com" if r.random() < 0.6 else None,
                "website": f"https://{slug[:60]}.example.com" if enterprise and r.random() < 0.4 else None,
                **self._stamp()})
            meta.append({"name": name, "brand": brand, "family": family, "district": district, "ward": ward,
                         "founded": founded})
        ids = self._insert(Producer, rows, returning=True)
        documents = []
        for producer_id, row, info in zip(ids, rows, meta, strict=True):
            info["id"] = producer_id
            documents.append({"producer_id": producer_id, "kind": DocumentKind.BUSINESS_REGISTRATION,
                              "number": row["registration_no"], "issued_on": date(info["founded"], 3, 1),
                              "valid_until": None, "issuer": "Sở Kế hoạch và Đầu tư", **self._stamp()})
            if info["family"] in FOOD_FAMILIES:
                issued = self.today - timedelta(days=r.randrange(30, 4 * 365))
                documents.append({"producer_id": producer_id, "kind": DocumentKind.FOOD_SAFETY,
                                  "number": f"{r.randrange(10, 1000)}/{issued.year}/GCNATTP",
                                  "issued_on": issued, "valid_until": add_months(issued, 36),
                                  "issuer": "Sở Công Thương tỉnh Đồng Nai", **self._stamp()})
        self._insert(ProducerDocument, documents, counts=False)
        report.producers, report.documents = count, len(documents)
        return meta

    # --- products ------------------------------------------------------------------------------------------
    def insert_products(self, count: int, producers: list[dict], report: ScaleReport) -> list[dict]:
        r, v = self.rng, self.vocab
        # Every producer gets one product first (when there are enough); the rest go to a few busy producers.
        owners = list(range(len(producers)))
        r.shuffle(owners)
        owners = owners[:count]
        busy = [(1 + i % 50) ** -0.5 for i in range(len(producers))]
        owners += r.choices(range(len(producers)), busy, k=count - len(owners))
        plans = self._plans(count)
        gtin_seq = r.randrange(10 ** 7)
        used_kinds: dict[int, set[str]] = {}
        rows, meta = [], []
        for index, owner in enumerate(owners):
            producer = producers[owner]
            kinds = self.families[producer["family"]]["kinds"]
            taken = used_kinds.setdefault(owner, set())
            free = [k for k in kinds if k["key"] not in taken]
            if not free:  # a busy producer branches out into other families' kinds
                free = [k for f in self.families.values() for k in f["kinds"] if k["key"] not in taken]
            kind = r.choice(free) if free else r.choice(kinds)
            taken.add(kind["key"])
            unit, low, high = r.choice(kind["units"])
            name = f"{kind['name']} {producer['brand']}"
            if slugify(name) in self.slugs[Product]:
                name = f"{name} {self._short(producer['ward'])}"
            slug = self._unique_slug(Product, name)
            gtin = None
            if kind["subgroup"] not in NO_GTIN_SUBGROUPS and unit != "Kg" and r.random() < 0.9:
                while gtin is None or gtin in self.gtins:
                    gtin_seq = (gtin_seq + 1) % 10 ** 8
                    body = f"8938{gtin_seq:08d}"
                    gtin = body + ean.calc_check_digit(body)
                self.gtins.add(gtin)
            plan = plans[index]
            published = plan != "draft"
            district = self._district_label(producer["district"])
            rows.append({
                "slug": slug, "name": name, "producer_id": producer["id"],
                "group_code": kind["subgroup"].split(".")[0], "subgroup_code": kind["subgroup"],
                "description": f"{kind['description']} Sản phẩm của {producer['name']} "
                               f"({producer['ward']}, {district}).",
                "story_md": r.choice(v["product_stories"]).format(
                    producer=producer["name"], ward=producer["ward"], district=district),
                "price_vnd": self._price(low, high), "unit": unit, "gtin": gtin,
                "is_alcohol": kind["is_alcohol"],
                "status": ProductStatus.PUBLISHED if published else ProductStatus.DRAFT,
                "published_at": self.now - timedelta(days=r.randrange(0, 730), minutes=r.randrange(1440))
                if published else None,
                **self._stamp()})
            meta.append({"plan": plan, "district": producer["district"], "slug": slug, "name": name,
                         "price_vnd": rows[-1]["price_vnd"], "subgroup": kind["subgroup"]})
            if len(rows) == BATCH:
                self._flush_products(rows, meta)
                rows = []
        self._flush_products(rows, meta)
        report.products = count
        report.plans = {plan: plans.count(plan) for plan in sorted(set(plans))}
        return meta

    def _flush_products(self, rows: list[dict], meta: list[dict]) -> None:
        if not rows:
            return
        ids = self._insert(Product, rows, returning=True)
        for offset, product_id in enumerate(ids):
            meta[len(meta) - len(rows) + offset]["id"] = product_id

    def _plans(self, count: int) -> list[str]:
        """Exact quotas (at least one of each kind of history once there are 50 products), in random order."""
        plans: list[str] = []
        for plan, share in PLAN_SHARES.items():
            plans += [plan] * max(int(count * share), 1 if count >= 50 else 0)
        plans = plans[:count]
        plans += ["valid"] * (count - len(plans))
        self.rng.shuffle(plans)
        return plans

    # --- certificates --------------------------------------------------------------------------------------
    def _decision_sessions(self) -> dict[tuple[str, str | None], list[tuple[date, str]]]:
        """Recognition decisions as councils issue them: provincial rounds in June and November/December,
        central rounds twice a year, district rounds in the district era. Key: (level, district or None)."""
        r = self.rng
        sessions: dict[tuple[str, str | None], list[tuple[date, str]]] = {}

        def add(level: str, where: str | None, day: date, suffix: str) -> None:
            if day < self.today:
                sessions.setdefault((level, where), []).append((day, f"{r.randrange(100, 6000)}/{suffix}"))

        for year in range(self.today.year - 5, self.today.year + 1):
            for month in (6, 11):
                add("province", "dn", date(year, month, r.randrange(10, 29)), "QĐ-UBND")
                if date(year, month, 1) < MERGER:
                    add("province", "bp", date(year, month, r.randrange(10, 29)), "QĐ-UBND")
            for month in (5, 12):
                day = date(year, month, r.randrange(5, 29))
                add("central", None, day, "QĐ-BNNMT" if day >= date(2025, 3, 1) else "QĐ-BNN-VPĐP")
        for district in self.districts:
            for year, month in ((2023, 5), (2023, 10), (2024, 5), (2024, 10), (2025, 4)):
                day = date(year, month, r.randrange(5, 29))
                if DISTRICT_ERA[0] <= day <= DISTRICT_ERA[1]:
                    add("district", district, day, "QĐ-UBND")
        for dates in sessions.values():
            dates.sort()
        return sessions

    def _decision(self, stars: int, district: str, state: str,
                  after: date | None = None) -> tuple[str, date, str]:
        """(level, date, decision number) for a certificate that is `valid` or `expired` today."""
        if stars == 5:
            options = [("central", None)]
        elif stars == 4:
            options = [("province", "dn" if district not in BINH_PHUOC else "bp")]
        else:
            options = [("district", district), ("province", "dn" if district not in BINH_PHUOC else "bp")]
            if self.rng.random() < 0.4:
                options.reverse()
        for level, where in options:
            candidates = [(d, n) for d, n in self.sessions.get((level, where), [])
                          + (self.sessions.get((level, "dn"), []) if where == "bp" else [])
                          if self._is_valid_today(d) == (state == "valid") and (after is None or d > after)]
            if candidates:
                day, number = self.rng.choice(candidates)
                return level, day, number
        # No council sat in that window (e.g. a very early "today"): a provincial decision of the right age.
        day = self.today - timedelta(days=self.rng.randrange(10, 300) if state == "valid" else
                                     self.rng.randrange(VALIDITY_MONTHS * 31, VALIDITY_MONTHS * 31 + 400))
        if after is not None and day <= after:
            day = min(self.today - timedelta(days=1), after + timedelta(days=1))
        level = "central" if stars == 5 else "province"
        return level, day, f"{self.rng.randrange(100, 6000)}/QĐ-UBND"

    def _is_valid_today(self, decision_date: date) -> bool:
        return add_months(decision_date, VALIDITY_MONTHS) >= self.today

    def _certificate(self, product_id: int, stars: int, district: str, state: str,
                     after: date | None = None) -> dict:
        level, day, number = self._decision(stars, district, state, after)
        low, high = STAR_BANDS[stars]
        return {"product_id": product_id, "stars": stars, "score": self.rng.randint(low, high),
                "level": IssuingLevel(level), "decision_no": number, "decision_date": day,
                "valid_until": add_months(day, VALIDITY_MONTHS), "withdrawn_on": None,
                "withdrawal_decision_no": None, "withdrawal_reason": None, "superseded_on": None,
                "superseded_by_id": None, **self._stamp()}

    def insert_certificates(self, products: list[dict], report: ScaleReport) -> None:
        r = self.rng
        stars_values, stars_weights = list(STAR_WEIGHTS), list(STAR_WEIGHTS.values())
        current, earlier = [], []  # earlier certificates point at the current one they led to
        for done, product in enumerate(products, 1):
            if done % BATCH == 0:
                self.progress(BATCH)
            plan, district = product["plan"], product["district"]
            if plan == "draft":
                continue
            stars = r.choices(stars_values, stars_weights)[0]
            if plan == "expired":
                current.append(self._certificate(product["id"], stars, district, "expired"))
            elif plan == "upgraded":
                stars = max(stars, 4)
                old = self._certificate(product["id"], stars - 1, district, "valid")
                new = self._certificate(product["id"], stars, district, "valid", after=old["decision_date"])
                current.append(new)
                earlier.append((old, len(current) - 1))
            elif plan == "renewed":
                # Re-rated after the old certificate lapsed, so the old one stays in the history as expired.
                old = self._certificate(product["id"], r.choice([3, stars]), district, "expired")
                current.append(self._certificate(product["id"], stars, district, "valid",
                                                 after=old["valid_until"]))
                earlier.append((old, len(current) - 1))
            else:
                certificate = self._certificate(product["id"], stars, district, "valid")
                if plan == "withdrawn":
                    start = certificate["decision_date"] + timedelta(days=30)
                    span = max((self.today - start).days, 1)
                    certificate["withdrawn_on"] = min(start + timedelta(days=r.randrange(span)),
                                                      self.today - timedelta(days=1))
                    certificate["withdrawal_decision_no"] = f"{r.randrange(100, 6000)}/QĐ-UBND"
                    certificate["withdrawal_reason"] = r.choice(self.vocab["withdrawal_reasons"])
                current.append(certificate)
        self.progress(len(products) % BATCH)
        ids = self._insert(Certificate, current, returning=True, counts=False)
        for old, index in earlier:
            new = current[index]
            # The service's rule: a newer decision supersedes an older certificate still valid on its date.
            if old["valid_until"] >= new["decision_date"]:
                old["superseded_on"], old["superseded_by_id"] = new["decision_date"], ids[index]
        self._insert(Certificate, [old for old, _ in earlier], counts=False)
        report.certificates = len(current) + len(earlier)

    # --- points and assortments ----------------------------------------------------------------------------
    def insert_points(self, count: int, products: list[dict], report: ScaleReport) -> None:
        r, v = self.rng, self.vocab
        statuses = [PointStatus.OPEN, PointStatus.PLANNED, PointStatus.SUSPENDED, PointStatus.CLOSED]
        rows, districts, sequence, names = [], [], {}, set()
        for _ in range(count):
            district = r.choices(self.districts, self.district_weights)[0]
            locality = self.localities[district]
            while True:
                sequence[district] = sequence.get(district, 100) + 1
                code = f"DN-{locality['abbr']}-{sequence[district]:03d}"
                if code not in self.point_codes:
                    self.point_codes.add(code)
                    break
            ward = r.choice(locality["wards"])
            venue = r.choice(v["point_venues"])
            name = venue.format(ward=self._short(ward), brand=r.choice(self.brand_pairs))
            base, n = name, 1
            while name in names:
                n += 1
                name = f"{base} {n}"
            names.add(name)
            rows.append({
                "code": code, "name": name, "tier": PointTier.POINT,
                "status": r.choices(statuses, [90, 5, 3, 2])[0], "province_code": PROVINCE,
                "ward_code": self.ward_codes[ward], "former_district": district,
                "street": f"Số {r.randrange(1, 400)}, {ward}",
                "latitude": round(locality["latitude"] + r.uniform(-0.06, 0.06), 5),
                "longitude": round(locality["longitude"] + r.uniform(-0.06, 0.06), 5),
                "opens_at": dtime(r.choice([6, 7, 7, 8]), r.choice([0, 30])),
                "closes_at": dtime(r.choice([17, 18, 19, 20, 21]), r.choice([0, 30])),
                "phone": self._phone(district, mobile=False), **self._stamp()})
            districts.append(district)
        ids = self._insert(SalesPoint, rows, returning=True)
        self.open_points = [(point_id, row["code"]) for point_id, row in zip(ids, rows, strict=True)
                            if row["status"] == PointStatus.OPEN]
        # Points sell what is listed: published products with a valid certificate; half from their own area.
        listed = [p for p in products if p["plan"] in ("valid", "renewed", "upgraded")]
        listed_ids = [p["id"] for p in listed]
        by_district: dict[str, list[int]] = {}
        for p in listed:
            by_district.setdefault(p["district"], []).append(p["id"])
        links: list[dict] = []
        for point_id, district in zip(ids, districts, strict=True):
            want = min(r.randint(*CARRIED_PER_POINT), len(listed_ids))
            local = by_district.get(district, [])
            chosen = set(r.sample(local, min(len(local), want // 2)))
            while len(chosen) < want:
                chosen.add(listed_ids[r.randrange(len(listed_ids))])
            links += [{"point_id": point_id, "product_id": product_id} for product_id in chosen]
            self.assortment[point_id] = sorted(chosen)
            if len(links) >= 10 * BATCH:
                self._insert(PointProduct, links, counts=False)
                report.assortment += len(links)
                links = []
            self.progress(1)
        self._insert(PointProduct, links, counts=False)
        report.assortment += len(links)
        report.points = count
