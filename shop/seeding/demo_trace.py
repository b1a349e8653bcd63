"""Traceability journals of the demo lots (`flask seed demo`, after the demo stock).

For the producers of seed/trace.json (the demo producer account's "Công ty TNHH Trái cây sấy Long Khánh" and a
few others), the latest lots of each listed product get a journal written through the traceability services:
harvest at the orchard with the fruit as input (supplier, origin, quantity, supplier's lot), receiving the
other inputs, processing, a quality test with a small PDF report, packing and shipping to the first point that
received the lot. The receipts of those lots in the demo ledger (written in bulk, without the services) get
their "received at point" custody events. Lots are the ones the demo stock already received; a product with
none gets one new lot. Idempotent: a lot that already has producer events gets no new journal, and a receipt
already in the journal is not written twice."""
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import sqlalchemy as sa
from flask import current_app

from shop.accounts.models import Role, User
from shop.accounts.services import get_user_by_email
from shop.catalog.models import Product
from shop.core.clock import VN_TZ, format_date, today
from shop.core.models import utcnow
from shop.core.pdf import new_document, to_bytes
from shop.extensions import db
from shop.inventory.models import MovementKind, StockMovement
from shop.producers.models import Producer, ProducerMember
from shop.producers.queries import get_by_slug
from shop.sales_points.models import SalesPoint
from shop.seeding.files import load_seed_file, ward_code
from shop.traceability.models import Lot, LotStatus, TraceEvent, TraceEventType
from shop.traceability.services import create_lot, record_custody_event, record_event

PROVINCE = 75  # Đồng Nai
NEW_LOT_AGE_DAYS = 12


def seed_demo_trace(report) -> None:
    """Journals for the demo lots of seed/trace.json; see the module docstring."""
    data = load_seed_file("trace.json")
    upload_dir = current_app.config["UPLOAD_DIR"]
    for item in data["producers"]:
        producer = get_by_slug(item["slug"])
        if producer is None:
            continue
        author = _author(producer, item.get("account"))
        if author is None:
            continue
        for recipe in item["products"]:
            product = db.session.scalar(sa.select(Product).where(Product.slug == recipe["slug"],
                                                                 Product.producer_id == producer.id))
            if product is None:
                continue
            for lot in _lots(report, product, recipe.get("lots", 1), author):
                receipts = _receipts(lot)
                if not _has_journal(lot):
                    _journal(report, lot, producer, item, recipe, receipts, author, upload_dir)
                _custody(report, lot, receipts)


def _author(producer: Producer, email: str | None) -> User | None:
    """Who records the journal: the producer's own account, else the demo administrator."""
    user = get_user_by_email(email) if email else None
    if user is None:
        member = db.session.scalar(sa.select(ProducerMember).where(ProducerMember.producer_id == producer.id)
                                   .order_by(ProducerMember.user_id).limit(1))
        user = db.session.get(User, member.user_id) if member else None
    if user is None:
        user = get_user_by_email("admin@demo.ocop.vn") or db.session.scalar(
            sa.select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    return user


def _lots(report, product: Product, wanted: int, author: User) -> list[Lot]:
    """The product's latest lots not recalled (those the demo points received); one new lot when it has none."""
    lots = list(db.session.scalars(sa.select(Lot).where(Lot.product_id == product.id, Lot.recalled_at.is_(None))
                                   .order_by(Lot.production_date.desc(), Lot.id.desc()).limit(wanted)))
    if not lots:
        produced = today() - timedelta(days=NEW_LOT_AGE_DAYS)
        lots = [create_lot(product, lot_code=f"L{produced:%y%m%d}", production_date=produced,
                           expiry_date=produced + timedelta(days=365), quantity=600, status=LotStatus.RELEASED,
                           actor=author)]
        report.created["trace lots"] += 1
    return lots


def _has_journal(lot: Lot) -> bool:
    return db.session.scalar(sa.select(TraceEvent.id).where(TraceEvent.lot_id == lot.id,
                                                            TraceEvent.automatic.is_(False)).limit(1)) is not None


def _receipts(lot: Lot) -> list[StockMovement]:
    return list(db.session.scalars(
        sa.select(StockMovement).where(StockMovement.lot_id == lot.id, StockMovement.kind == MovementKind.RECEIPT)
        .order_by(StockMovement.occurred_at, StockMovement.id)))


def _at(day: date, clock: str) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=VN_TZ).astimezone(UTC)


def _journal(report, lot: Lot, producer: Producer, item: dict, recipe: dict, receipts: list[StockMovement],
             author: User, upload_dir: str) -> None:
    produced = lot.production_date
    stamp = f"{produced:%y%m%d}"
    latest = utcnow() - timedelta(minutes=5)
    first_receipt = receipts[0].occurred_at if receipts else None
    factory = item["factory"]
    factory_ward = ward_code(PROVINCE, factory["ward"])
    harvest = recipe["harvest"]
    first_point = db.session.get(SalesPoint, receipts[0].point_id) if receipts else None
    shipped_to = first_point.name if first_point else "Trung tâm OCOP tỉnh Đồng Nai"

    def when(day_offset: int, clock: str, *, not_before_production: bool = False) -> datetime:
        moment = min(_at(produced + timedelta(days=day_offset), clock), latest)
        if not_before_production:
            moment = max(moment, _at(produced, "00:01"))
        return moment

    def inputs(rows: list[dict]) -> list[dict]:
        return [{**row, "supplier_lot": (row.get("supplier_lot") or "").replace("{date}", stamp)} for row in rows]

    steps = [
        _step(event_type=TraceEventType.SOURCING, occurred_at=when(-3, "06:30"), place=harvest["place"],
             ward_code=ward_code(PROVINCE, harvest["ward"]), actor_name=harvest["actor"],
             previous_step=harvest["actor"], next_step=producer.name, description=harvest["description"],
             inputs=inputs(harvest["inputs"])),
        _step(event_type=TraceEventType.RECEIVING_INPUTS, occurred_at=when(-2, "08:00"), place=factory["place"],
             ward_code=factory_ward, actor_name=producer.name, previous_step=harvest["actor"],
             next_step=factory["place"], description="Nhận nguyên liệu, kiểm tra cảm quan và cân tại xưởng.",
             inputs=inputs(recipe["inputs"])),
        _step(event_type=TraceEventType.PROCESSING, occurred_at=when(-1, "07:00"), place=factory["place"],
             ward_code=factory_ward, actor_name=producer.name, previous_step="Kho nguyên liệu",
             next_step="Phòng kiểm nghiệm", description=recipe["processing"]),
        _step(event_type=TraceEventType.QUALITY_TEST, occurred_at=when(0, "10:00", not_before_production=True),
             place=factory["place"], ward_code=factory_ward, actor_name=item["lab"],
             previous_step="Dây chuyền sản xuất", next_step="Đóng gói",
             description="Lấy mẫu ngẫu nhiên 3 đơn vị của lô; các chỉ tiêu đều đạt.",
             attachments=[(BytesIO(_test_report(lot, producer, item["lab"], recipe["tests"])),
                           f"kiem-nghiem-{lot.lot_code}.pdf", "Phiếu kết quả kiểm nghiệm")]),
        _step(event_type=TraceEventType.PACKING, occurred_at=when(0, "15:00", not_before_production=True),
             place=factory["place"], ward_code=factory_ward, actor_name=producer.name,
             previous_step="Phòng kiểm nghiệm", next_step="Kho thành phẩm", description=recipe["packing"]),
    ]
    ship_at = when(1, "06:00", not_before_production=True)
    if first_receipt is not None:
        ship_at = max(min(ship_at, first_receipt - timedelta(hours=2)), _at(produced, "00:01"))
    steps.append(_step(event_type=TraceEventType.SHIPPING, occurred_at=min(ship_at, latest), place=factory["place"],
                      ward_code=factory_ward, actor_name=producer.name, previous_step="Kho thành phẩm",
                      next_step=shipped_to, description=f"Giao hàng bằng xe tải lạnh của công ty đến {shipped_to}."))
    for step in steps:
        record_event(lot, province_code=PROVINCE, upload_dir=upload_dir, recorded_by=author, **step)
        report.created["trace events"] += 1
        report.created["trace attachments"] += len(step.get("attachments", ()))


def _step(**fields) -> dict:
    return fields


def _custody(report, lot: Lot, receipts: list[StockMovement]) -> None:
    """A "received at point" event for each receipt of the lot in the demo ledger, once."""
    done = {(point_id, reference) for point_id, reference in db.session.execute(
        sa.select(TraceEvent.point_id, TraceEvent.reference).where(
            TraceEvent.lot_id == lot.id, TraceEvent.event_type == TraceEventType.RECEIVED_AT_POINT))}
    for movement in receipts:
        if (movement.point_id, movement.reference) in done:
            continue
        record_custody_event(lot, event_type=TraceEventType.RECEIVED_AT_POINT,
                             point=db.session.get(SalesPoint, movement.point_id), reference=movement.reference,
                             actor=db.session.get(User, movement.actor_id), occurred_at=movement.occurred_at)
        done.add((movement.point_id, movement.reference))
        report.created["trace events"] += 1


def _test_report(lot: Lot, producer: Producer, lab: str, tests: list[list[str]]) -> bytes:
    """A one-page test report (PDF, Vietnamese glyphs embedded)."""
    pdf = new_document(title=f"Phiếu kết quả kiểm nghiệm {lot.lot_code}", author=lab)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, "PHIẾU KẾT QUẢ KIỂM NGHIỆM", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, f"Đơn vị kiểm nghiệm: {lab}\nKhách hàng: {producer.name}\n"
                         f"Mẫu: {lot.product.name} — lô {lot.lot_code}, "
                         f"sản xuất ngày {format_date(lot.production_date)}\n"
                         f"Dữ liệu minh hoạ của trang trình diễn, không phải kết quả thật.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (80, 50, 50)
    pdf.set_font("DejaVu", "B", 10)
    for width, heading in zip(widths, ("Chỉ tiêu", "Mức cho phép", "Kết quả"), strict=True):
        pdf.cell(width, 8, heading, border=1)
    pdf.ln()
    pdf.set_font("DejaVu", "", 10)
    for row in tests:
        for width, value in zip(widths, row, strict=True):
            pdf.cell(width, 8, value, border=1)
        pdf.ln()
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Kết luận: mẫu đạt các chỉ tiêu đã kiểm.", new_x="LMARGIN", new_y="NEXT")
    return to_bytes(pdf)
