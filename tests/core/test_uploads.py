"""Attachments: the type comes from the content; photos lose their metadata but keep their time and place."""
from io import BytesIO

import pytest
from PIL import Image

from shop.core.pdf import new_document, to_bytes
from shop.core.uploads import FileRejected, attachment_path, store_attachment


def _photo_with_exif(when="2025:05:12 09:30:00", lat=(10.0, 56.0, 0.0), lon=(107.0, 14.0, 24.0)):
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0132] = when  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", lat, "E", lon
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _pdf() -> bytes:
    pdf = new_document(title="Kết quả kiểm nghiệm")
    pdf.add_page()
    pdf.cell(text="Phiếu kết quả thử nghiệm – Hạt điều rang muối")
    return to_bytes(pdf)


def test_a_pdf_is_stored_under_a_random_name(tmp_path):
    stored = store_attachment(BytesIO(_pdf()), "../../etc/kết quả.pdf", tmp_path, "trace")
    assert stored.kind == "document" and stored.content_type == "application/pdf"
    assert stored.original_name == "kết quả.pdf"
    path = attachment_path(tmp_path, "trace", stored.stored_name)
    assert path.read_bytes().startswith(b"%PDF-") and len(stored.sha256) == 64


def test_a_photo_is_re_encoded_without_metadata_but_its_time_and_place_are_read(tmp_path):
    stored = store_attachment(BytesIO(_photo_with_exif()), "bien-hieu.jpg", tmp_path, "evidence")
    assert stored.kind == "photo"
    assert stored.facts.taken_at.strftime("%d/%m/%Y %H:%M") == "12/05/2025 09:30"
    assert stored.facts.latitude == pytest.approx(10.933333, abs=1e-5)
    assert stored.facts.longitude == pytest.approx(107.24, abs=1e-5)
    with Image.open(attachment_path(tmp_path, "evidence", stored.stored_name)) as saved:
        assert not saved.getexif()


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"MZ\x90\x00 not a document", "Only a PDF document or a photo"),
    (b"%PDF-1.7\n1 0 obj\n", "damaged or truncated"),
])
def test_anything_else_is_refused_and_nothing_is_written(tmp_path, data, message):
    with pytest.raises(FileRejected, match=message):
        store_attachment(BytesIO(data), "x.pdf", tmp_path, "trace")
    assert not (tmp_path / "trace").exists()


def test_a_file_over_the_limit_is_refused(tmp_path):
    with pytest.raises(FileRejected, match="larger than 1 MB"):
        store_attachment(BytesIO(b"%PDF-" + b"0" * (1024 * 1024)), "big.pdf", tmp_path, "trace",
                         max_bytes=1024 * 1024)


def test_a_stored_name_cannot_leave_its_folder(tmp_path):
    with pytest.raises(FileRejected):
        attachment_path(tmp_path, "trace", "../../secret.txt")


def test_pdf_documents_embed_a_font_with_vietnamese_letters():
    data = _pdf()
    assert b"/FontFile2" in data and b"DejaVu" in data
