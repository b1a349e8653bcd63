"""The only module that imports Pillow: checks an upload is a real image, strips its metadata and writes
WebP and JPEG renditions in a few widths under the upload folder, with generated names."""
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from shop.core.errors import DomainError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
IMAGE_SUBDIR = "images"
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class ImageRejected(DomainError):
    code = "bad_image"


@dataclass(frozen=True)
class StoredImage:
    stem: str
    width: int
    height: int


def store_image(stream: BinaryIO, upload_dir: str | Path, *, max_pixels: int,
                widths: tuple[int, ...] = (320, 640, 1280)) -> StoredImage:
    """Validate and store an uploaded image. Raises ImageRejected with a message for people; writes nothing then."""
    data = stream.read()
    if not data:
        raise ImageRejected(str(_l("The file is empty.")), field="image")
    image = _open_checked(data, max_pixels)
    # Turn the picture upright before the EXIF block (orientation, GPS, camera) is dropped.
    image = ImageOps.exif_transpose(image)
    stem = uuid.uuid4().hex
    folder = Path(upload_dir) / IMAGE_SUBDIR / stem[:2]
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for width in rendition_widths(image.width, widths):
            rendition = image if width == image.width else image.resize(
                (width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
            webp = folder / f"{stem}-{width}.webp"
            rendition.save(webp, "WEBP", quality=82, method=4)
            written.append(webp)
            jpeg = folder / f"{stem}-{width}.jpg"
            _flatten(rendition).save(jpeg, "JPEG", quality=85, optimize=True, progressive=True)
            written.append(jpeg)
    except OSError:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return StoredImage(stem=stem, width=image.width, height=image.height)


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo's EXIF says about when and where it was taken (None when the camera did not record it)."""
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None


def clean_photo(data: bytes, *, max_pixels: int) -> tuple[bytes, PhotoFacts]:
    """A checked photo re-encoded as JPEG without its metadata, and the time and GPS position read from the
    metadata first (shown to officers as evidence; never published)."""
    image = _open_checked(data, max_pixels)
    facts = _photo_facts(image)
    image = ImageOps.exif_transpose(image)
    out = BytesIO()
    _flatten(image).save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue(), facts


def _photo_facts(image: Image.Image) -> PhotoFacts:
    exif = image.getexif()
    taken_at = None
    stamp = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if isinstance(stamp, str):
        try:
            # EXIF keeps local time without a zone; the province's (Asia/Ho_Chi_Minh) is the fair reading here.
            taken_at = datetime.strptime(stamp.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=LOCAL_ZONE)
        except ValueError:
            taken_at = None
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    longitude = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    return PhotoFacts(taken_at, latitude, longitude)


def _degrees(value, ref, limit: int) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if ref in ("S", "W"):
        result = -result
    return round(result, 6) if abs(result) <= limit else None


def rendition_widths(original_width: int, widths: tuple[int, ...]) -> list[int]:
    """The configured widths that are smaller than the original, plus the original capped at the largest."""
    largest = min(original_width, max(widths))
    return sorted({w for w in widths if w < largest} | {largest})


def rendition_path(stem: str, width: int, ext: str) -> str:
    """Path below the upload folder, as the media route serves it."""
    return f"{IMAGE_SUBDIR}/{stem[:2]}/{stem}-{width}.{ext}"


def delete_image(upload_dir: str | Path, stem: str) -> None:
    for path in (Path(upload_dir) / IMAGE_SUBDIR / stem[:2]).glob(f"{stem}-*"):
        path.unlink(missing_ok=True)


def delete_image_after_commit(upload_dir: str | Path, stem: str) -> None:
    """Delete a picture's files once the transaction that removed its row commits: a rollback leaves the picture
    intact on disk and in the database."""
    from shop.core.database import after_commit

    after_commit(lambda: delete_image(upload_dir, stem))


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between its two bomb limits: treat the warning as a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
        with probe:
            if probe.format not in ALLOWED_FORMATS:
                raise ImageRejected(str(_l("Only JPEG, PNG, WebP or GIF images are accepted.")), field="image")
            width, height = probe.size
            # The size comes from the header, so a decompression bomb is refused before it is decoded.
            if width * height > max_pixels:
                raise ImageRejected(
                    str(_l("The image is too large (%(mp)s megapixels); the limit is %(limit)s megapixels.",
                           mp=round(width * height / 1e6, 1), limit=round(max_pixels / 1e6))),
                    field="image")
            probe.verify()
        image = Image.open(BytesIO(data))
        image.load()  # a truncated file fails here
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(str(_l("The image is too large.")), field="image") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRejected(str(_l("The file is not a readable image (damaged, truncated or not an image).")),
                            field="image") from None
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "PA") else "RGB")
    return image


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image


def make_placeholder(text_seed: str, size: tuple[int, int] = (800, 600)) -> bytes:
    """A simple coloured picture for demo data when no photo exists (PNG bytes)."""
    from PIL import ImageDraw

    hue = sum(ord(c) for c in text_seed) % 360
    image = Image.new("RGB", size, _hsv(hue, 0.35, 0.92))
    draw = ImageDraw.Draw(image)
    w, h = size
    for i in range(6):
        r = (i + 1) * min(w, h) // 14
        draw.ellipse((w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r), outline=_hsv((hue + 30 * i) % 360, 0.5, 0.7),
                     width=6)
    draw.rectangle((0, h - h // 6, w, h), fill=_hsv((hue + 180) % 360, 0.45, 0.55))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h / 360, s, v)
    return int(r * 255), int(g * 255), int(b * 255)
