"""Attachments (a PDF or a photo) stored under the upload folder by a random name, never by the name given.

The type is read from the content, not from the file name or the browser's word: a PDF must start with the PDF
signature, a photo must be a real image (checked and re-encoded without metadata by core.images)."""
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from shop.core.errors import DomainError
from shop.core.images import ImageRejected, PhotoFacts, clean_photo

PDF_SIGNATURE = b"%PDF-"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000


class FileRejected(DomainError):
    code = "bad_file"


@dataclass(frozen=True)
class StoredFile:
    kind: str            # "document" (PDF) or "photo" (JPEG)
    stored_name: str     # relative to the upload folder's subfolder, e.g. "ab/ab12….pdf"
    content_type: str
    size_bytes: int
    sha256: str
    original_name: str
    facts: PhotoFacts | None  # photos only: EXIF time and GPS read before they were stripped


def store_attachment(stream: BinaryIO, filename: str | None, upload_dir: str | Path, subdir: str, *,
                     field: str = "file", max_bytes: int = MAX_ATTACHMENT_BYTES) -> StoredFile:
    """Check and store one uploaded file. Raises FileRejected (with `field`) and writes nothing when it is not a
    PDF or an image, is empty or is too large."""
    data = stream.read(max_bytes + 1)
    if not data:
        raise FileRejected(str(_l("The file is empty.")), field=field)
    if len(data) > max_bytes:
        raise FileRejected(str(_l("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024))), field=field)
    facts = None
    if data.startswith(PDF_SIGNATURE):
        if b"%%EOF" not in data[-2048:]:
            raise FileRejected(str(_l("The PDF is damaged or truncated.")), field=field)
        kind, content_type, suffix = "document", "application/pdf", ".pdf"
    else:
        try:
            data, facts = clean_photo(data, max_pixels=MAX_PHOTO_PIXELS)
        except ImageRejected:
            raise FileRejected(str(_l("Only a PDF document or a photo (JPEG, PNG, WebP, GIF) is accepted.")),
                               field=field) from None
        kind, content_type, suffix = "photo", "image/jpeg", ".jpg"
    name = uuid.uuid4().hex
    stored_name = f"{name[:2]}/{name}{suffix}"
    path = Path(upload_dir) / subdir / stored_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    original = Path(filename or "").name[:200] or f"file{suffix}"
    return StoredFile(kind, stored_name, content_type, len(data), hashlib.sha256(data).hexdigest(), original, facts)


def attachment_path(upload_dir: str | Path, subdir: str, stored_name: str) -> Path:
    """The file of a stored name; refuses names that would leave the folder."""
    base = (Path(upload_dir) / subdir).resolve()
    path = (base / stored_name).resolve()
    if base not in path.parents:
        raise FileRejected(str(_l("Unknown file.")), code="not_found")
    return path
