"""Uploads are checked with Pillow: real images only, within limits, EXIF stripped, renditions written."""
import io

import pytest
from PIL import Image

from shop.core.images import ImageRejected, make_placeholder, rendition_widths, store_image

LIMIT = 40_000_000


def _png(width, height) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def _jpeg_with_exif(width=1600, height=1200) -> bytes:
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera"          # Model
    exif[0x0112] = 6                         # Orientation: rotate 90° CW on display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def _files(tmp_path):
    return sorted(p.name for p in tmp_path.rglob("*") if p.is_file())


def test_renditions_in_webp_and_jpeg_without_exif_and_upright(tmp_path):
    stored = store_image(io.BytesIO(_jpeg_with_exif()), tmp_path, max_pixels=LIMIT)
    # Orientation 6 means the picture is really portrait: 1200 wide, 1600 high once turned.
    assert (stored.width, stored.height) == (1200, 1600)
    names = _files(tmp_path)
    assert names == sorted(f"{stored.stem}-{w}.{ext}" for w in (320, 640, 1200) for ext in ("jpg", "webp"))
    for path in tmp_path.rglob("*.jpg"):
        with Image.open(path) as image:
            assert not image.getexif(), "EXIF (camera, GPS, orientation) must be stripped"


def test_small_image_is_not_enlarged(tmp_path):
    stored = store_image(_png(200, 100), tmp_path, max_pixels=LIMIT)
    assert stored.width == 200
    assert rendition_widths(200, (320, 640, 1280)) == [200]
    assert len(_files(tmp_path)) == 2


def test_generated_names_never_use_the_upload_name(tmp_path):
    a = store_image(_png(50, 50), tmp_path, max_pixels=LIMIT)
    b = store_image(_png(50, 50), tmp_path, max_pixels=LIMIT)
    assert a.stem != b.stem and len(a.stem) == 32


@pytest.mark.parametrize("payload, message", [
    (b"", "empty"),
    (b"%PDF-1.4 not an image", "not a readable image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a readable image"),
])
def test_non_images_are_refused(tmp_path, payload, message):
    with pytest.raises(ImageRejected) as error:
        store_image(io.BytesIO(payload), tmp_path, max_pixels=LIMIT)
    assert message in error.value.message
    assert _files(tmp_path) == []


def test_truncated_jpeg_is_refused(tmp_path):
    data = _jpeg_with_exif()
    with pytest.raises(ImageRejected, match="truncated"):
        store_image(io.BytesIO(data[: len(data) // 2]), tmp_path, max_pixels=LIMIT)
    assert _files(tmp_path) == []


def test_hundred_megapixel_png_is_refused_before_decoding(tmp_path):
    # 10,000 x 10,000 = 100 megapixels; a one-colour PNG of that size is small on disk (a "bomb").
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG", optimize=True)
    assert len(buffer.getvalue()) < 2_000_000
    buffer.seek(0)
    with pytest.raises(ImageRejected, match="too large"):
        store_image(buffer, tmp_path, max_pixels=LIMIT)
    assert _files(tmp_path) == []


def test_format_outside_the_allowed_list_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, "BMP")
    buffer.seek(0)
    with pytest.raises(ImageRejected, match="JPEG, PNG, WebP or GIF"):
        store_image(buffer, tmp_path, max_pixels=LIMIT)


def test_placeholder_is_a_valid_png():
    data = make_placeholder("Cà phê")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (800, 600)
