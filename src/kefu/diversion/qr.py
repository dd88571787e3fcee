"""QR codes in pictures (OpenCV's QRCodeDetector, headless build).

A merchant who cannot type a contact sends a picture of a WeChat / QQ QR code, often as a
small part of a product photo. :func:`find_qr_codes` looks for QR codes in the picture at its
own size, scaled down when it is large and scaled up when the code may be small, and returns
what each code says ("" when a code is found but cannot be read).
"""

from __future__ import annotations

import io
import itertools
from typing import Any

import cv2
import numpy as np

__all__ = ["find_qr_codes", "qr_png"]

_MAX_SIDE = 1600
_MIN_SIDE = 480


def _decode_image(data: bytes) -> Any | None:
    """The picture as a BGR array, or None when it is not a picture."""
    if not data:
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR)
    if image is not None:
        return image
    try:  # formats OpenCV does not read (GIF, some WebP/ICO): Pillow, first frame
        from PIL import Image

        with Image.open(io.BytesIO(data)) as picture:
            rgb = np.asarray(picture.convert("RGB"))
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    except Exception:
        return None


def _scales(image: Any) -> list[float]:
    height, width = image.shape[:2]
    side = max(height, width)
    if side > _MAX_SIDE:
        return [_MAX_SIDE / side, 1.0]
    if side < _MIN_SIDE:
        return [1.0, _MIN_SIDE / side]
    return [1.0, 2.0] if side < 900 else [1.0]


def _pad(image: Any) -> Any:
    """A white border: a code touching the picture's edge has no quiet zone otherwise."""
    border = max(8, min(image.shape[:2]) // 20)
    return cv2.copyMakeBorder(image, border, border, border, border, cv2.BORDER_CONSTANT,
                              value=(255, 255, 255))


def _runs(line: Any) -> list[tuple[int, int]]:
    """(value, length) runs of a binary pixel line."""
    changes = np.flatnonzero(np.diff(line.astype(np.int16))) + 1
    bounds = [0, *changes.tolist(), len(line)]
    return [(int(line[a]), b - a) for a, b in itertools.pairwise(bounds)]


def _finder_at_corner(square: Any, flip_x: bool, flip_y: bool) -> bool:
    """Is there a QR finder pattern (dark/light/dark/light/dark as 1:1:3:1:1) along the
    diagonal from this corner of the straightened, binarised code?"""
    view = square[:, ::-1] if flip_x else square
    view = view[::-1, :] if flip_y else view
    runs = _runs(np.diagonal(view))
    while runs and runs[0][0] != 0:  # skip a light margin before the pattern
        runs = runs[1:]
    if len(runs) < 5:
        return False
    lengths = [length for _value, length in runs[:5]]
    unit = sum(lengths) / 7.0
    if unit < 1.0:
        return False
    expected = (1, 1, 3, 1, 1)
    return all(abs(length - e * unit) <= 0.7 * unit * max(e, 1.5) + 1
               for length, e in zip(lengths, expected, strict=True))


def _looks_like_qr(gray: Any, points: Any) -> bool:
    """A located but unreadable code is a QR code only if it is about square and has the
    three finder patterns in its corners (noise and chequer patterns do not)."""
    quad = np.asarray(points, dtype=np.float32).reshape(-1, 2)[:4]
    if quad.shape[0] != 4:
        return False
    sides = [float(np.linalg.norm(quad[i] - quad[(i + 1) % 4])) for i in range(4)]
    if min(sides) < 21 or max(sides) / max(min(sides), 1e-6) > 1.5:
        return False
    side = 210
    target = np.array([[0, 0], [side - 1, 0], [side - 1, side - 1], [0, side - 1]],
                      dtype=np.float32)
    warp = cv2.getPerspectiveTransform(quad, target)
    square = cv2.warpPerspective(gray, warp, (side, side), flags=cv2.INTER_LINEAR)
    _threshold, binary = cv2.threshold(square, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = (binary > 0).astype(np.uint8)
    return (_finder_at_corner(binary, False, False) and _finder_at_corner(binary, True, False)
            and _finder_at_corner(binary, False, True))


def find_qr_codes(data: bytes) -> list[str] | None:
    """What the QR codes in the picture say (``""`` for a code that is certainly a QR code
    but cannot be read); an empty list when there is none; None when ``data`` is not a
    picture."""
    image = _decode_image(data)
    if image is None:
        return None
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    detector = cv2.QRCodeDetector()
    unreadable = False
    for scale in _scales(gray):
        height, width = gray.shape[:2]
        if scale != 1.0 and (round(height * scale) < 1 or round(width * scale) < 1):
            continue  # a sliver of an image: scaling it would leave nothing
        scaled = gray if scale == 1.0 else cv2.resize(
            gray, None, fx=scale, fy=scale,
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        scaled = _pad(scaled)
        try:
            ok, texts, points, _codes = detector.detectAndDecodeMulti(scaled)
        except cv2.error:
            ok, texts, points = False, (), None
        if ok and points is not None and len(points):
            read = [str(t) for t in texts if t]
            if read:
                return read
            unreadable = unreadable or any(_looks_like_qr(scaled, quad) for quad in points)
            continue
        try:
            text, points, _code = detector.detectAndDecode(scaled)
        except cv2.error:
            text, points = "", None
        if points is not None and len(points):
            if text:
                return [str(text)]
            unreadable = unreadable or _looks_like_qr(scaled, points)
    return [""] if unreadable else []


def qr_png(text: str, *, size: int = 240) -> bytes:
    """A PNG of a QR code saying ``text`` (for tests and the operators' docs)."""
    encoder = cv2.QRCodeEncoder.create()
    code = encoder.encode(text)
    scale = max(1, size // max(code.shape[:2]))
    code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    code = cv2.copyMakeBorder(code, 4 * scale, 4 * scale, 4 * scale, 4 * scale,
                              cv2.BORDER_CONSTANT, value=255)
    ok, encoded = cv2.imencode(".png", code)
    if not ok:
        raise ValueError("could not encode the QR code")
    return bytes(encoded.tobytes())
