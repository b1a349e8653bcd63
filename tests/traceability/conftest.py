import io
from datetime import timedelta

import pytest

from shop.accounts.models import Role
from shop.core.clock import today
from shop.core.pdf import new_document, to_bytes
from shop.extensions import db
from shop.producers.services import attach_member
from shop.traceability.services import create_lot
from tests.conftest import login
from tests.factories import make_producer, make_product, make_user


def pdf_bytes(text: str = "Phiếu kết quả thử nghiệm") -> bytes:
    pdf = new_document(title=text)
    pdf.add_page()
    pdf.cell(text=text)
    return to_bytes(pdf)


def png_bytes() -> bytes:
    from shop.core.images import make_placeholder

    return make_placeholder("Ảnh", (64, 48))


def pdf_file(name: str = "ket-qua.pdf", title: str = "Kết quả thử nghiệm"):
    return (io.BytesIO(pdf_bytes()), name, title)


def uploaded_files(app) -> list:
    from pathlib import Path

    base = Path(app.config["UPLOAD_DIR"]) / "trace"
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


@pytest.fixture
def owner(app_ctx):
    """A producer account linked to its producer."""
    producer = make_producer("Công ty TNHH Trái cây sấy Long Khánh")
    user = make_user(Role.PRODUCER, email="producer@example.vn")
    attach_member(producer, user)
    return user


@pytest.fixture
def product(owner):
    from shop.producers.queries import producer_of

    return make_product(producer_of(owner), name="Mít sấy giòn Long Khánh", gtin="8932565000039")


@pytest.fixture
def lot(product, owner):
    return create_lot(product, lot_code="L-001", production_date=today() - timedelta(days=10),
                      expiry_date=today() + timedelta(days=300), quantity=500, actor=owner)


class Portal:
    """Two producers, each with an account, a product and a lot; `self.client` is logged in as `email`."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            mine = make_producer("Công ty TNHH Trái cây sấy Long Khánh")
            theirs = make_producer("HTX Bưởi Tân Triều")
            owner = make_user(Role.PRODUCER, email="producer@example.vn")
            other = make_user(Role.PRODUCER, email="other@example.vn")
            attach_member(mine, owner)
            attach_member(theirs, other)
            for role, email in ((Role.ADMIN, "admin@example.vn"), (Role.CUSTOMER, "customer@example.vn"),
                                (Role.POINT_MANAGER, "manager@example.vn"), (Role.TRADE_OFFICER, "officer@example.vn")):
                make_user(role, email=email)
            product = make_product(mine, name="Mít sấy giòn Long Khánh", gtin="8932565000039")
            other_product = make_product(theirs, name="Mứt vỏ bưởi Tân Triều")
            lot = create_lot(product, lot_code="L-001", production_date=today() - timedelta(days=10),
                             expiry_date=today() + timedelta(days=300), quantity=500, actor=owner)
            other_lot = create_lot(other_product, lot_code="B-001", production_date=today() - timedelta(days=5),
                                   quantity=100, actor=other)
            db.session.commit()
            self.product_id, self.other_product_id = product.id, other_product.id
            self.lot_id, self.other_lot_id = lot.id, other_lot.id
            self.trace_code = lot.trace_code

    def login(self, email: str = "producer@example.vn"):
        login(self.client, email)
        self.client.get("/lang/en")  # the tests read the English messages
        return self


@pytest.fixture
def portal(app, client) -> Portal:
    return Portal(app, client)
