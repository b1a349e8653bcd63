import io
from datetime import date

import pytest
from PIL import Image

from shop.core.errors import Conflict, DomainError
from shop.core.images import ImageRejected
from shop.extensions import db
from shop.producers.models import ProducerImage
from shop.producers.services import add_document, add_producer_image, update_producer
from tests.factories import DONG_NAI, PHU_HOA, make_producer


def test_create_producer_with_2025_address_and_former_district(app_ctx):
    producer = make_producer("Công ty TNHH Ca cao Trọng Đức", legal_form="enterprise", registration_no="3600123456")
    assert producer.slug == "cong-ty-tnhh-ca-cao-trong-duc"
    assert (producer.province_code, producer.ward_code, producer.former_district) == (DONG_NAI, PHU_HOA, "dinh-quan")


@pytest.mark.parametrize("fields, field", [
    ({"legal_form": "corporation"}, "legal_form"),
    ({"province_code": 999}, "province_code"),
    ({"ward_code": 1}, "ward_code"),               # a ward of Hà Nội, not of Đồng Nai
    ({"former_district": "atlantis"}, "former_district"),
    ({"name": ""}, "name"),
])
def test_bad_producer_fields(app_ctx, fields, field):
    with pytest.raises(DomainError) as error:
        make_producer(**fields)
    assert error.value.field == field


def test_registration_number_is_unique(app_ctx):
    make_producer(registration_no="3600000001")
    with pytest.raises(Conflict):
        make_producer(registration_no="3600000001")
    other = make_producer(registration_no="3600000002")
    with pytest.raises(Conflict):
        update_producer(other, registration_no="3600000001")


def test_document_validity_dates(app_ctx):
    producer = make_producer()
    document = add_document(producer, kind="food_safety", number="123/ATTP", issued_on=date(2024, 1, 1),
                            valid_until=date(2027, 1, 1))
    assert document.is_valid_on(date(2026, 6, 1)) and not document.is_valid_on(date(2027, 1, 2))
    with pytest.raises(DomainError):
        add_document(producer, kind="food_safety", number="124/ATTP", issued_on=date(2024, 1, 1),
                     valid_until=date(2023, 1, 1))


def test_logo_and_photos(app_ctx):
    producer = make_producer()
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "green").save(buffer, "PNG")
    buffer.seek(0)
    add_producer_image(producer, buffer, is_logo=True)
    assert producer.logo is not None and producer.logo.alt == producer.name
    with pytest.raises(ImageRejected):
        add_producer_image(producer, io.BytesIO(b"not an image"))
    assert db.session.scalar(db.select(db.func.count()).select_from(ProducerImage)) == 1
