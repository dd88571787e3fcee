"""Uploaded images: checked by content (not by name or header), size-capped, re-encoded.

Re-encoding through Pillow drops EXIF (location, camera) and anything smuggled after the
image data; a thumbnail is kept beside each picture. Files are named by content hash, so the
same picture uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from kefu.kit.errors import InvalidInput, _

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = (320, 320)

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class StoredImage:
    path: str  # relative to the upload folder
    thumbnail_path: str
    width: int
    height: int
    content_type: str
    original_bytes: bytes


def _encode(image: Image.Image) -> tuple[bytes, str, str]:
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), "png", "image/png"
    image = image.convert("RGB")
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue(), "jpg", "image/jpeg"


def check_image(data: bytes, max_bytes: int) -> Image.Image:
    if not data:
        raise InvalidInput(_("图片为空"), code="empty_image")
    if len(data) > max_bytes:
        raise InvalidInput(_("图片不能超过 {mb} MB"), code="image_too_large",
                           mb=max_bytes // (1024 * 1024))
    try:
        probe = Image.open(io.BytesIO(data))
        probe.verify()  # structure check; the image must be reopened after verify()
        image = Image.open(io.BytesIO(data))
        if image.format not in ALLOWED_FORMATS:
            raise InvalidInput(_("不支持的图片格式"), code="bad_image_format")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidInput(_("文件不是有效的图片"), code="not_an_image") from error
    return image


def save_image(data: bytes, upload_dir: Path, *, max_bytes: int, folder: str = "images"
               ) -> StoredImage:
    image = check_image(data, max_bytes)
    image = ImageOps.exif_transpose(image) or image
    encoded, extension, content_type = _encode(image)
    digest = hashlib.sha256(encoded).hexdigest()[:32]
    relative = Path(folder) / digest[:2] / f"{digest}.{extension}"
    thumb_relative = Path(folder) / digest[:2] / f"{digest}.thumb.{extension}"
    target = upload_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(encoded)
        thumbnail = image.copy()
        thumbnail.thumbnail(THUMBNAIL_SIZE)
        thumb_bytes, _ext, _ct = _encode(thumbnail)
        (upload_dir / thumb_relative).write_bytes(thumb_bytes)
    return StoredImage(path=relative.as_posix(), thumbnail_path=thumb_relative.as_posix(),
                       width=image.width, height=image.height, content_type=content_type,
                       original_bytes=data)
