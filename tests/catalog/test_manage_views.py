"""Producers edit their own product pages and photos; nobody else's."""
import io

from PIL import Image

from shop.accounts.models import Role
from shop.catalog.models import Product, ProductImage
from shop.extensions import db
from shop.producers.services import attach_member
from tests.conftest import csrf_token, login
from tests.factories import make_product, make_user


def _setup(app):
    with app.app_context():
        own = make_product(name="Cà phê Robusta")
        other = make_product(name="Mật ong rừng")
        user = make_user(Role.PRODUCER, email="owner@example.vn")
        attach_member(own.producer, user)
        make_user(Role.CUSTOMER, email="buyer@example.vn")
        make_user(Role.ADMIN, email="admin@example.vn")
        db.session.commit()
        return own.slug, other.slug


def _png(size=(900, 600), fmt="PNG") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, fmt)
    buffer.seek(0)
    return buffer


def _upload(client, slug, payload, filename="photo.png"):
    url = f"/manage/catalog/products/{slug}/images"
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, "alt": "Gói cà phê", "image": (payload, filename)},
                       content_type="multipart/form-data")


def _image_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(ProductImage))


def test_producer_uploads_a_photo_to_own_product(client, app):
    own, _ = _setup(app)
    login(client, "owner@example.vn")
    response = _upload(client, own, _png())
    assert response.status_code == 302
    assert _image_count(app) == 1
    page = client.get(f"/products/{own}").get_data(as_text=True)
    assert "srcset=" in page and 'type="image/webp"' in page and "Gói cà phê" in page
    listing = client.get("/products").get_data(as_text=True)
    assert 'loading="lazy"' in listing and "-320.webp 320w" in listing


def test_bad_uploads_show_a_form_error_and_store_nothing(client, app, tmp_path):
    own, _ = _setup(app)
    login(client, "owner@example.vn")
    truncated = _png(fmt="JPEG").getvalue()
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")
    bomb.seek(0)
    cases = [
        (io.BytesIO(b"%PDF-1.7 hello"), "doc.png", "Không đọc được ảnh"),
        (io.BytesIO(truncated[: len(truncated) // 2]), "cut.jpg", "bị cắt cụt"),
        (bomb, "huge.png", "Ảnh quá lớn"),
        (io.BytesIO(b"MZ..."), "virus.exe", "Chỉ chấp nhận ảnh JPEG, PNG, WebP hoặc GIF"),
    ]
    for payload, filename, message in cases:
        response = _upload(client, own, payload, filename)
        assert response.status_code == 400, filename
        assert message in response.get_data(as_text=True), filename
    assert _image_count(app) == 0
    upload_dir = app.config["UPLOAD_DIR"]
    import os
    assert not os.path.exists(upload_dir) or not any(files for _, _, files in os.walk(upload_dir))


def test_other_producers_product_is_not_reachable(client, app):
    _, other = _setup(app)
    login(client, "owner@example.vn")
    assert client.get(f"/manage/catalog/products/{other}/images").status_code == 404
    assert client.get(f"/manage/catalog/products/{other}/edit").status_code == 404


def test_customers_and_guests_are_refused(client, app):
    own, _ = _setup(app)
    assert client.get("/manage/catalog/products").status_code == 302  # guest -> login
    login(client, "buyer@example.vn")
    assert client.get("/manage/catalog/products").status_code == 403
    assert client.get(f"/manage/catalog/products/{own}/edit").status_code == 403


def test_admin_edits_any_product_and_bad_gtin_is_a_form_error(client, app):
    _, other = _setup(app)
    login(client, "admin@example.vn")
    url = f"/manage/catalog/products/{other}/edit"
    token = csrf_token(client, url)
    bad = client.post(url, data={"csrf_token": token, "price_vnd": "99000", "gtin": "8934567890128"})
    assert bad.status_code == 400 and "GTIN" in bad.get_data(as_text=True)
    good = client.post(url, data={"csrf_token": token, "price_vnd": "99000", "gtin": "8934567890120",
                                  "description": "Mật ong hoa cà phê", "unit": "Chai 500 ml"})
    assert good.status_code == 302
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.slug == other))
        assert product.price_vnd == 99000 and product.gtin == "8934567890120"


def test_removing_a_photo_deletes_its_files_after_commit(client, app):
    own, _ = _setup(app)
    login(client, "owner@example.vn")
    _upload(client, own, _png())
    with app.app_context():
        image = db.session.scalar(db.select(ProductImage))
        image_id, stem = image.id, image.stem
    token = csrf_token(client, f"/manage/catalog/products/{own}/images")
    response = client.post(f"/manage/catalog/products/{own}/images/{image_id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert _image_count(app) == 0
    import pathlib
    assert not list(pathlib.Path(app.config["UPLOAD_DIR"]).rglob(f"{stem}*"))
