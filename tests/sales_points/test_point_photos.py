"""Photos of a sales point (frontage, sign, shelves) kept by the trade department on the point's page."""
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from PIL import Image

from shop.accounts.models import Role
from shop.core.audit_trail import AuditEntry
from shop.extensions import db
from shop.sales_points.models import PointPhoto, SalesPoint
from shop.sales_points.services import add_point_photo
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_point, make_point_manager, make_user
from tests.test_accessibility import assert_accessible

PAGE = "/department/points/DN-XL-01"
UPLOAD = PAGE + "/photos"


def jpeg(size=(800, 600), colour=(200, 120, 40), gps=False) -> bytes:
    """A real JPEG, optionally with the GPS position a phone camera writes into it."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (10.0, 56.0, 0.0), 3: "E", 4: (107.0, 14.0, 0.0)}
        exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 128, 0)).save(out, fmt)
    return out.getvalue()


def _setup(app):
    with app.app_context():
        point = make_point("DN-XL-01")
        make_point("DN-BH-01")
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        make_point_manager(point, email="manager@example.vn")
        make_user(Role.PRODUCER, email="producer@example.vn")
        make_user(Role.CUSTOMER, email="customer@example.vn")
        db.session.commit()


@pytest.fixture
def officer(app, client):
    _setup(app)
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return client


def upload(client, data: bytes, filename="frontage.jpg", alt="Mặt tiền điểm bán, biển hiệu OCOP", code="DN-XL-01"):
    return post_form(client, f"/department/points/{code}/photos",
                     {"image": (io.BytesIO(data), filename), "alt": alt}, form_url=f"/department/points/{code}",
                     content_type="multipart/form-data")


def photos(app) -> list[PointPhoto]:
    with app.app_context():
        return list(db.session.scalars(sa.select(PointPhoto).order_by(PointPhoto.position, PointPhoto.id)))


def stored_files(app) -> list[Path]:
    return sorted(Path(app.config["UPLOAD_DIR"]).rglob("*.*"))


def files_of(app, stem: str) -> list[Path]:
    return [path for path in stored_files(app) if path.name.startswith(stem)]


def test_officer_uploads_a_photo_stored_as_renditions_without_exif(app, officer):
    original = jpeg(gps=True)
    with Image.open(io.BytesIO(original)) as camera:
        assert camera.getexif().get(0x010F) == "PhoneMaker"  # the upload does carry EXIF data
    response = upload(officer, original)
    assert response.status_code == 302 and response.headers["Location"].startswith(PAGE)
    [photo] = photos(app)
    assert (photo.width, photo.height, photo.alt, photo.position) == (800, 600, "Mặt tiền điểm bán, biển hiệu OCOP", 0)
    names = sorted(path.name for path in files_of(app, photo.stem))
    assert names == sorted(f"{photo.stem}-{w}.{ext}" for w in (320, 640, 800) for ext in ("jpg", "webp"))
    for path in files_of(app, photo.stem):
        with Image.open(path) as rendition:
            assert not rendition.getexif(), f"{path.name} keeps the camera's EXIF data"

    page = officer.get(PAGE)
    html = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert_accessible(html, PAGE)
    img = html.select_one("#photos-title ~ .photo-grid img")
    assert img["alt"] == "Mặt tiền điểm bán, biển hiệu OCOP" and photo.stem in img["src"]
    media = officer.get(img["src"])
    assert media.status_code == 200 and media.mimetype == "image/jpeg"
    media.close()
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry.actor_id).where(
            AuditEntry.action == "sales_points.photo_added")) is not None


@pytest.mark.parametrize("fmt, filename", [("PNG", "shelves.png"), ("WEBP", "sign.webp")])
def test_png_and_webp_are_accepted(app, officer, fmt, filename):
    assert upload(officer, image_bytes(fmt), filename=filename).status_code == 302
    assert len(photos(app)) == 1


@pytest.mark.parametrize("data, filename", [
    (b"Not a picture at all, only text.\n" * 20, "frontage.jpg"),   # a text file renamed .jpg
    (jpeg()[:300], "truncated.jpg"),                                # a damaged JPEG
    (image_bytes("GIF"), "animation.jpg"),                           # a GIF in disguise: wrong format
    (image_bytes("BMP"), "frontage.bmp"),                            # refused by its extension already
    (b"", "empty.jpg"),
])
def test_a_bad_upload_is_a_form_error_and_stores_nothing(app, officer, data, filename):
    response = upload(officer, data, filename=filename)
    assert response.status_code == 400
    html = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert html.select_one('#image[aria-invalid="true"]') is not None
    assert html.select_one(".error-summary") is not None
    assert_accessible(html, f"{UPLOAD} ({filename})")
    assert photos(app) == [] and stored_files(app) == []


def test_a_photo_needs_its_description(app, officer):
    response = upload(officer, jpeg(), alt="   ")
    assert response.status_code == 400
    html = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert html.select_one('#alt[aria-invalid="true"]') is not None
    assert photos(app) == [] and stored_files(app) == []


def test_a_photo_over_the_size_limit_is_refused(make_app):
    app = make_app(MAX_POINT_PHOTO_BYTES=2_000)
    client = app.test_client()
    _setup(app)
    login(client, "officer@example.vn")
    big = jpeg(size=(600, 400), colour=(10, 200, 90))
    assert len(big) > 2_000
    response = upload(client, big)
    assert response.status_code == 400 and 'id="image-error"' in response.get_data(as_text=True)
    assert photos(app) == [] and stored_files(app) == []


def test_a_photo_over_the_pixel_limit_is_refused(make_app):
    app = make_app(MAX_IMAGE_PIXELS=100_000)
    client = app.test_client()
    _setup(app)
    login(client, "officer@example.vn")
    response = upload(client, jpeg(size=(500, 400)))
    assert response.status_code == 400 and photos(app) == [] and stored_files(app) == []


def test_removing_a_photo_deletes_its_row_and_files(app, officer):
    upload(officer, jpeg(colour=(1, 2, 3)), alt="Quầy kệ")
    upload(officer, jpeg(colour=(4, 5, 6)), alt="Biển hiệu")
    first, second = photos(app)
    response = post_form(officer, f"{PAGE}/photos/{first.id}/remove", {}, form_url=PAGE)
    assert response.status_code == 302
    [left] = photos(app)
    assert (left.id, left.position) == (second.id, 0)
    assert files_of(app, first.stem) == [] and files_of(app, second.stem) != []


def test_photos_can_be_reordered(app, officer):
    for alt in ("Một", "Hai", "Ba"):
        upload(officer, jpeg(), alt=alt)
    third = photos(app)[2]
    assert post_form(officer, f"{PAGE}/photos/{third.id}/move", {"direction": "up"}, form_url=PAGE).status_code == 302
    assert [p.alt for p in photos(app)] == ["Một", "Ba", "Hai"]
    first = photos(app)[0]
    refused = post_form(officer, f"{PAGE}/photos/{first.id}/move", {"direction": "up"}, form_url=PAGE)
    assert refused.status_code == 400 and [p.alt for p in photos(app)] == ["Một", "Ba", "Hai"]


def test_another_points_photo_is_not_found_through_this_point(app, officer):
    assert upload(officer, jpeg(), code="DN-BH-01").status_code == 302
    [theirs] = photos(app)
    response = post_form(officer, f"{PAGE}/photos/{theirs.id}/remove", {}, form_url=PAGE)
    assert response.status_code == 404 and len(photos(app)) == 1 and files_of(app, theirs.stem)
    assert post_form(officer, "/department/points/DN-XX-99/photos", {}, form_url=PAGE).status_code == 404


@pytest.mark.parametrize("email", ["manager@example.vn", "producer@example.vn", "customer@example.vn"])
def test_other_roles_cannot_reach_the_photo_routes(app, client, email):
    _setup(app)
    with app.app_context():
        point = db.session.scalar(sa.select(SalesPoint).where(SalesPoint.code == "DN-XL-01"))
        photo = add_point_photo(point, jpeg(), alt="Mặt tiền", actor=None)
        photo_id, stem = photo.id, photo.stem
        db.session.commit()
    login(client, email)
    assert client.get(PAGE).status_code == 403
    attempt = post_form(client, UPLOAD, {"image": (io.BytesIO(jpeg()), "x.jpg"), "alt": "x"}, form_url="/",
                        content_type="multipart/form-data")
    assert attempt.status_code == 403
    for action, data in (("remove", {}), ("move", {"direction": "down"})):
        assert post_form(client, f"{PAGE}/photos/{photo_id}/{action}", data, form_url="/").status_code == 403
    assert [p.id for p in photos(app)] == [photo_id] and len(files_of(app, stem)) == len(stored_files(app)) == 6


def test_a_guest_is_sent_to_login(app, client):
    _setup(app)
    token = csrf_token(client, "/account/login")  # a valid token, so that the guard itself must answer
    for url in (UPLOAD, f"{PAGE}/photos/1/remove", f"{PAGE}/photos/1/move"):
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url
