"""Evidence per criterion: photos keep their EXIF time and GPS as facts shown to officers; anything that is not a
PDF or an image is refused and nothing is stored."""
from io import BytesIO
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image

from shop.accounts.models import Role
from shop.audit.audits import services
from shop.audit.audits.evidence import Upload, add_evidence
from shop.audit.models import Audit, Evidence, EvidenceKind
from shop.core.errors import DomainError
from shop.extensions import db
from tests.audit.test_audits import ALL_PASS, fake_checks, make_criteria_set, record_all
from tests.conftest import login, post_form
from tests.factories import make_point, make_user

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def photo_with_exif(taken="2025:05:12 09:30:00", lat=(10.0, 55.0, 48.0), lon=(107.0, 14.0, 24.0)) -> bytes:
    """A JPEG as a phone writes it: the time it was taken and where (10.93 N, 107.24 E)."""
    image = Image.new("RGB", (64, 48), (20, 97, 58))
    exif = Image.Exif()
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if lat and lon:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", lat
        gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", lon
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def plain_photo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (32, 32), (200, 50, 50)).save(out, "PNG")
    return out.getvalue()


def upload(data: bytes, name: str = "bien-hieu.jpg") -> Upload:
    return Upload(BytesIO(data), name)


@pytest.fixture
def world(app_ctx, tmp_path):
    officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
    point = make_point("DN-XL-01")
    criteria_set = make_criteria_set()
    return officer, point, criteria_set, app_ctx.config["UPLOAD_DIR"]


def _stored_files(upload_dir) -> list[Path]:
    folder = Path(upload_dir) / "evidence"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_photo_keeps_its_time_and_position(world):
    officer, point, _, upload_dir = world
    evidence = add_evidence(point, "S-01", upload(photo_with_exif()), "Biển hiệu nhìn từ đường", officer,
                            upload_dir=upload_dir)
    assert evidence.kind == EvidenceKind.PHOTO and evidence.content_type == "image/jpeg"
    assert (evidence.latitude, evidence.longitude) == (10.93, 107.24)
    assert evidence.taken_at.isoformat() == "2025-05-12T09:30:00+07:00"
    assert evidence.original_name == "bien-hieu.jpg" and not evidence.submitted_by_manager
    stored = _stored_files(upload_dir)
    assert len(stored) == 1
    assert b"Exif" not in stored[0].read_bytes()[:200]  # the metadata is stripped from the stored copy


def test_a_photo_without_exif_and_a_pdf_are_accepted(world):
    officer, point, _, upload_dir = world
    photo = add_evidence(point, "L-00", upload(plain_photo(), "mat-tien.png"), "Mặt tiền", officer,
                         upload_dir=upload_dir)
    assert photo.taken_at is None and photo.latitude is None
    document = add_evidence(point, "L-00", upload(PDF, "hop-dong-thue.pdf"), "Hợp đồng thuê mặt bằng", officer,
                            upload_dir=upload_dir)
    assert document.kind == EvidenceKind.DOCUMENT and document.content_type == "application/pdf"


@pytest.mark.parametrize("data, name", [
    (b"hello, this is not a photo", "note.txt"),
    (b"", "empty.jpg"),
    (b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 10), "big.pdf"),
    (b"%PDF-1.4\nno end", "cut.pdf"),
])
def test_bad_files_are_refused_and_nothing_is_stored(world, data, name):
    officer, point, _, upload_dir = world
    with pytest.raises(DomainError) as error:
        add_evidence(point, "S-01", upload(data, name), "Ảnh", officer, upload_dir=upload_dir)
    assert error.value.code == "bad_file" and error.value.field == "file" and error.value.message
    assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 0
    assert _stored_files(upload_dir) == []


@pytest.mark.parametrize("code, title, field", [("Z-99", "Ảnh", "criterion_code"), ("", "Ảnh", "criterion_code"),
                                                ("S-01", "  ", "title")])
def test_an_unknown_criterion_or_no_title_is_refused_before_storing(world, code, title, field):
    officer, point, _, upload_dir = world
    with pytest.raises(DomainError) as error:
        add_evidence(point, code, upload(photo_with_exif()), title, officer, upload_dir=upload_dir)
    assert error.value.field == field
    assert _stored_files(upload_dir) == []


def test_evidence_cannot_be_added_to_a_concluded_audit_or_another_points(world):
    officer, point, criteria_set, upload_dir = world
    other = make_point("DN-TT-01")
    audit = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
    with pytest.raises(DomainError) as error:
        add_evidence(other, "S-01", upload(PDF), "Hợp đồng", officer, upload_dir=upload_dir, audit=audit)
    assert error.value.code == "other_point"
    record_all(audit, officer, ALL_PASS)
    services.submit(audit, officer)
    services.conclude(audit, "meets", "", officer)
    with pytest.raises(DomainError) as error:
        add_evidence(point, "S-01", upload(PDF), "Hợp đồng", officer, upload_dir=upload_dir, audit=audit)
    assert error.value.code == "audit_concluded"
    assert _stored_files(upload_dir) == []


# ------------------------------------------------------------------------------------------------- pages

@pytest.fixture
def audit_page(app, client):
    with app.app_context():
        officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        point = make_point("DN-XL-01", latitude=10.93, longitude=107.24)
        audit = services.start_audit(point, make_criteria_set(), officer, run_checks=fake_checks)
        db.session.commit()
        audit_id = audit.id
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return f"/department/audits/{audit_id}"


def test_an_officer_uploads_a_photo_and_the_page_shows_when_and_where(app, client, audit_page):
    response = post_form(client, f"{audit_page}/evidence",
                         {"criterion_code": "S-01", "title": "Biển hiệu nhìn từ đường",
                          "file": (BytesIO(photo_with_exif()), "bien-hieu.jpg")},
                         form_url=audit_page, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(audit_page).get_data(as_text=True)
    assert "Taken 12/05/2025 09:30" in page and "GPS 10.93, 107.24" in page
    assert "openstreetmap.org/?mlat=10.93&amp;mlon=107.24" in page
    with app.app_context():
        evidence = db.session.scalar(sa.select(Evidence))
        assert evidence.audit_id == int(audit_page.rsplit("/", 1)[1])
        assert evidence.uploaded_by.email == "officer@example.vn"
        evidence_id = evidence.id
    assert f'src="/department/audits/evidence/{evidence_id}"' in page and 'alt="Biển hiệu nhìn từ đường"' in page
    file = client.get(f"/department/audits/evidence/{evidence_id}")
    assert file.status_code == 200 and file.mimetype == "image/jpeg" and file.data.startswith(b"\xff\xd8")
    file.close()
    assert client.get("/department/audits/evidence/999").status_code == 404


def test_a_bad_upload_shows_the_reason_and_stores_nothing(app, client, audit_page):
    response = post_form(client, f"{audit_page}/evidence",
                         {"criterion_code": "S-01", "title": "Ảnh", "file": (BytesIO(b"MZ\x90\x00 not a photo"),
                                                                             "virus.exe")},
                         form_url=audit_page, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Only a PDF document or a photo" in response.get_data(as_text=True)
    response = post_form(client, f"{audit_page}/evidence", {"criterion_code": "S-01", "title": "Ảnh"},
                         form_url=audit_page, content_type="multipart/form-data")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 0
        assert _stored_files(app.config["UPLOAD_DIR"]) == []
        assert db.session.scalar(sa.select(Audit.status)) == "draft"
