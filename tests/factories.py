"""Builders for test data. They go through the domain services (so test data obeys the same rules) and
flush; call them inside an app context and commit when a request must see the data."""
import itertools
from datetime import date, timedelta

from shop.accounts.models import Role
from shop.accounts.services import create_user
from shop.catalog.services import create_product
from shop.certification.services import record_certificate
from shop.core.clock import today
from shop.inventory.services import receive_stock
from shop.producers.services import create_producer
from shop.sales_points.services import assign_manager, create_point

_seq = itertools.count(1)
DONG_NAI = 75
PHU_HOA = 26221  # Xã Phú Hòa, Đồng Nai


def make_user(role: Role = Role.CUSTOMER, email: str | None = None, password: str = "password123", **kw):
    return create_user(email or f"user{next(_seq)}@example.vn", password, role=role,
                       full_name=kw.pop("full_name", "Nguyễn Văn A"), **kw)


def make_producer(name: str | None = None, **kw):
    fields = {"name": f"HTX Nông nghiệp {next(_seq)}" if name is None else name, "legal_form": "cooperative",
                  "province_code": DONG_NAI, "ward_code": PHU_HOA, "former_district": "dinh-quan",
                  "story_md": "Chúng tôi trồng **ca cao** từ năm 1990."}
    fields.update(kw)
    return create_producer(**fields)


def make_product(producer=None, name: str | None = None, *, stars: int | None = 4, publish: bool = True,
                 decision_date: date | None = None, **kw):
    producer = producer or make_producer()
    fields = {"name": name or f"Sản phẩm {next(_seq)}", "group_code": "1", "subgroup_code": "1.6", "price_vnd": 150_000,
                  "unit": "Hộp 500 g", "description": "Mô tả sản phẩm."}
    fields.update(kw)
    product = create_product(producer, publish=publish, **fields)
    if stars:
        make_certificate(product, stars=stars, decision_date=decision_date)
    return product


SCORES = {1: 20, 2: 40, 3: 60, 4: 80, 5: 95}


def make_certificate(product, stars: int = 4, decision_date: date | None = None, **kw):
    level = kw.pop("level", "central" if stars == 5 else "province")
    return record_certificate(product, stars=stars, score=kw.pop("score", SCORES[stars]), level=level,
                              decision_no=kw.pop("decision_no", f"{next(_seq)}/QĐ-UBND"),
                              decision_date=decision_date or today() - timedelta(days=30), **kw)


def make_point(code: str | None = None, **kw):
    fields = {"code": code or f"DN-T{next(_seq):02d}", "name": "Điểm giới thiệu và bán sản phẩm OCOP",
                  "province_code": DONG_NAI, "ward_code": PHU_HOA, "former_district": "dinh-quan", "status": "open"}
    fields.update(kw)
    return create_point(**fields)


def make_stock(point, product, actor, *, lot_code="L1", quantity=10, produced_days_ago=10, expires_in_days=180, **kw):
    """Goods received at `point` (a receipt through the service, so the ledger has its row)."""
    fields = {"lot_code": lot_code, "production_date": today() - timedelta(days=produced_days_ago),
              "expiry_date": None if expires_in_days is None else today() + timedelta(days=expires_in_days),
              "quantity": quantity, "unit_cost_vnd": 80_000, "delivery_note": "PGH-001", "actor": actor}
    fields.update(kw)
    return receive_stock(point, product, **fields)


def make_point_manager(*points, email: str | None = None, **kw):
    """A point-manager account managing `points`."""
    user = make_user(Role.POINT_MANAGER, email=email, **kw)
    for point in points:
        assign_manager(point, user)
    return user


def recall_lot(lot, *, reason: str, actor=None) -> list:
    """Recall `lot` the way the shop does it (recalls.recall: orders holding it cancelled, the lot marked, every
    shelf emptied, the journal told), by `actor` or else by a trade officer of the department. Returns the ledger
    rows that took it off the shelves."""
    from shop.recalls.services import recall

    if actor is None:
        actor = make_user(Role.TRADE_OFFICER, email=f"recall-officer-{next(_seq)}@example.vn")
    return recall(lot, reason=reason, actor=actor).pulled
