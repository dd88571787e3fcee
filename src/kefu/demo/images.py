"""Placeholder pictures for the demo: product images and store logos, drawn with Pillow.

No text is drawn (so no CJK font is needed): a soft gradient in the product's colours, a few
blurred light spots and a simple white silhouette guessed from the title (dress, shirt,
trousers, fruit, phone, charger, earbuds, pan, kettle, bottle, jar, box …). The output depends
only on the arguments, so the same input always gives byte-identical PNGs.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]
Painter = Callable[[ImageDraw.ImageDraw, int, RGB], None]

_HEX = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SUPERSAMPLE = 2
_WHITE = (255, 255, 255, 240)


def parse_colour(colour: str) -> RGB:
    """``"#rgb"`` or ``"#rrggbb"`` (the ``#`` is optional) as an RGB triple."""
    if not _HEX.match(colour):
        raise ValueError(f"not a hex colour: {colour!r}")
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _luminance(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _png(image: Image.Image, *, keep_alpha: bool = False) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGBA" if keep_alpha else "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _gradient(size: int, stops: Sequence[RGB]) -> Image.Image:
    """A top-to-bottom gradient through ``stops``."""
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    if len(stops) == 1:
        stops = [stops[0], stops[0]]
    segments = len(stops) - 1
    for y in range(size):
        position = y / max(size - 1, 1) * segments
        index = min(int(position), segments - 1)
        draw.line([(0, y), (size, y)], fill=_mix(stops[index], stops[index + 1],
                                                 position - index))
    return image


def _soften(layer: Image.Image, radius: float, size: int) -> Image.Image:
    """Blur a (small) layer and scale it up to ``size``."""
    return layer.filter(ImageFilter.GaussianBlur(radius)).resize(
        (size, size), Image.Resampling.BILINEAR)


def _fallback_palette(title: str) -> list[RGB]:
    rng = _rng("palette", title)
    base = (rng.randrange(80, 220), rng.randrange(80, 220), rng.randrange(80, 220))
    return [_mix(base, (255, 255, 255), 0.85), _mix(base, (255, 255, 255), 0.4), base]


# --- silhouettes, drawn in a unit square scaled to the canvas --------------------------------

def _box(s: int, x0: float, y0: float, x1: float, y1: float) -> Box:
    return (x0 * s, y0 * s, x1 * s, y1 * s)


def _poly(s: int, points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(x * s, y * s) for x, y in points]


def _dress(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.polygon(_poly(s, [(0.42, 0.22), (0.58, 0.22), (0.62, 0.30), (0.58, 0.46),
                        (0.74, 0.80), (0.26, 0.80), (0.42, 0.46), (0.38, 0.30)]), fill=_WHITE)
    d.ellipse(_box(s, 0.33, 0.24, 0.43, 0.34), fill=_WHITE)
    d.ellipse(_box(s, 0.57, 0.24, 0.67, 0.34), fill=_WHITE)
    d.rectangle(_box(s, 0.415, 0.44, 0.585, 0.47), fill=(*accent, 255))


def _shirt(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.polygon(_poly(s, [(0.38, 0.24), (0.62, 0.24), (0.80, 0.34), (0.74, 0.46),
                        (0.66, 0.42), (0.66, 0.78), (0.34, 0.78), (0.34, 0.42),
                        (0.26, 0.46), (0.20, 0.34)]), fill=_WHITE)
    d.pieslice(_box(s, 0.43, 0.19, 0.57, 0.31), 0, 180, fill=(*accent, 255))


def _trousers(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.polygon(_poly(s, [(0.34, 0.22), (0.66, 0.22), (0.72, 0.80), (0.55, 0.80),
                        (0.50, 0.42), (0.45, 0.80), (0.28, 0.80)]), fill=_WHITE)
    d.rectangle(_box(s, 0.34, 0.22, 0.66, 0.27), fill=(*accent, 255))


def _skirt(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.polygon(_poly(s, [(0.38, 0.28), (0.62, 0.28), (0.78, 0.74), (0.22, 0.74)]),
              fill=_WHITE)
    d.rectangle(_box(s, 0.38, 0.26, 0.62, 0.31), fill=(*accent, 255))
    for x in (0.40, 0.50, 0.60):
        d.line(_poly(s, [(0.5 + (x - 0.5) * 0.5, 0.33), (x, 0.72)]), fill=(*accent, 120),
               width=max(1, s // 160))


def _fruit(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.ellipse(_box(s, 0.24, 0.40, 0.54, 0.70), fill=_WHITE)
    d.ellipse(_box(s, 0.46, 0.34, 0.76, 0.64), fill=_WHITE)
    d.ellipse(_box(s, 0.34, 0.52, 0.66, 0.84), fill=_WHITE)
    d.line(_poly(s, [(0.61, 0.34), (0.64, 0.24)]), fill=(*accent, 255), width=max(2, s // 60))
    d.ellipse(_box(s, 0.64, 0.21, 0.76, 0.28), fill=(*accent, 255))


def _phone(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rounded_rectangle(_box(s, 0.34, 0.16, 0.66, 0.84), radius=s * 0.05, fill=_WHITE)
    d.rounded_rectangle(_box(s, 0.38, 0.21, 0.50, 0.33), radius=s * 0.025,
                        fill=(*accent, 255))
    d.ellipse(_box(s, 0.40, 0.23, 0.44, 0.27), fill=_WHITE)
    d.ellipse(_box(s, 0.44, 0.27, 0.48, 0.31), fill=_WHITE)


def _charger(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rectangle(_box(s, 0.43, 0.22, 0.46, 0.32), fill=_WHITE)
    d.rectangle(_box(s, 0.54, 0.22, 0.57, 0.32), fill=_WHITE)
    d.rounded_rectangle(_box(s, 0.34, 0.32, 0.66, 0.62), radius=s * 0.05, fill=_WHITE)
    d.rectangle(_box(s, 0.47, 0.62, 0.53, 0.68), fill=_WHITE)
    d.arc(_box(s, 0.50, 0.60, 0.80, 0.86), 90, 180, fill=_WHITE, width=max(2, s // 60))
    d.polygon(_poly(s, [(0.52, 0.38), (0.46, 0.48), (0.51, 0.48), (0.48, 0.56),
                        (0.55, 0.45), (0.50, 0.45)]), fill=(*accent, 255))


def _earbuds(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rounded_rectangle(_box(s, 0.28, 0.44, 0.72, 0.78), radius=s * 0.12, fill=_WHITE)
    d.line(_poly(s, [(0.30, 0.56), (0.70, 0.56)]), fill=(*accent, 200), width=max(1, s // 120))
    for x in (0.36, 0.56):
        d.ellipse(_box(s, x, 0.22, x + 0.10, 0.32), fill=_WHITE)
        d.rounded_rectangle(_box(s, x + 0.03, 0.28, x + 0.07, 0.42), radius=s * 0.02,
                            fill=_WHITE)
    d.ellipse(_box(s, 0.48, 0.64, 0.52, 0.68), fill=(*accent, 255))


def _pan(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.ellipse(_box(s, 0.16, 0.40, 0.64, 0.72), fill=_WHITE)
    d.ellipse(_box(s, 0.21, 0.44, 0.59, 0.66), fill=(*accent, 230))
    d.rounded_rectangle(_box(s, 0.60, 0.52, 0.88, 0.58), radius=s * 0.03, fill=_WHITE)


def _kettle(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.polygon(_poly(s, [(0.36, 0.30), (0.60, 0.30), (0.66, 0.72), (0.30, 0.72)]), fill=_WHITE)
    d.polygon(_poly(s, [(0.34, 0.38), (0.22, 0.30), (0.24, 0.36), (0.33, 0.46)]), fill=_WHITE)
    d.arc(_box(s, 0.54, 0.34, 0.78, 0.64), 270, 90, fill=_WHITE, width=max(3, s // 30))
    d.rounded_rectangle(_box(s, 0.26, 0.72, 0.70, 0.78), radius=s * 0.02,
                        fill=(*accent, 255))
    d.rectangle(_box(s, 0.42, 0.26, 0.54, 0.30), fill=_WHITE)


def _bottle(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.pieslice(_box(s, 0.42, 0.12, 0.58, 0.30), 180, 360, fill=_WHITE)
    d.rectangle(_box(s, 0.40, 0.21, 0.60, 0.28), fill=(*accent, 255))
    d.rounded_rectangle(_box(s, 0.36, 0.28, 0.64, 0.82), radius=s * 0.06, fill=_WHITE)
    for y in (0.44, 0.54, 0.64):
        d.line(_poly(s, [(0.40, y), (0.48, y)]), fill=(*accent, 255), width=max(1, s // 120))


def _jar(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rounded_rectangle(_box(s, 0.30, 0.30, 0.70, 0.40), radius=s * 0.03, fill=(*accent, 255))
    d.rounded_rectangle(_box(s, 0.28, 0.38, 0.72, 0.74), radius=s * 0.08, fill=_WHITE)
    d.ellipse(_box(s, 0.42, 0.50, 0.58, 0.62), fill=(*accent, 140))


def _container(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rounded_rectangle(_box(s, 0.20, 0.46, 0.60, 0.74), radius=s * 0.04, fill=_WHITE)
    d.rounded_rectangle(_box(s, 0.18, 0.42, 0.62, 0.48), radius=s * 0.02, fill=(*accent, 255))
    d.rounded_rectangle(_box(s, 0.46, 0.28, 0.80, 0.50), radius=s * 0.04, fill=_WHITE)
    d.rounded_rectangle(_box(s, 0.44, 0.24, 0.82, 0.30), radius=s * 0.02, fill=(*accent, 255))


def _rack(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    width = max(3, s // 40)
    for x in (0.28, 0.72):
        d.line(_poly(s, [(x, 0.18), (x, 0.80)]), fill=_WHITE, width=width)
    for y in (0.30, 0.50, 0.70):
        d.rectangle(_box(s, 0.26, y, 0.74, y + 0.03), fill=_WHITE)
    d.ellipse(_box(s, 0.36, 0.42, 0.46, 0.50), fill=(*accent, 255))
    d.rectangle(_box(s, 0.54, 0.60, 0.66, 0.70), fill=(*accent, 255))


def _board(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rounded_rectangle(_box(s, 0.22, 0.30, 0.78, 0.76), radius=s * 0.05, fill=_WHITE)
    d.ellipse(_box(s, 0.66, 0.36, 0.72, 0.42), fill=(*accent, 255))
    for y in (0.48, 0.56, 0.64):
        d.line(_poly(s, [(0.30, y), (0.62, y)]), fill=(*accent, 90), width=max(1, s // 160))


def _towel(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    for i, y in enumerate((0.58, 0.46, 0.34)):
        d.rounded_rectangle(_box(s, 0.24, y, 0.76, y + 0.14), radius=s * 0.05, fill=_WHITE)
        d.line(_poly(s, [(0.24, y + 0.10), (0.76, y + 0.10)]),
               fill=(*accent, 110 + 40 * i), width=max(2, s // 80))


def _onesie(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.polygon(_poly(s, [(0.40, 0.22), (0.60, 0.22), (0.76, 0.32), (0.70, 0.42),
                        (0.64, 0.38), (0.64, 0.60), (0.58, 0.76), (0.42, 0.76),
                        (0.36, 0.60), (0.36, 0.38), (0.30, 0.42), (0.24, 0.32)]), fill=_WHITE)
    d.pieslice(_box(s, 0.44, 0.18, 0.56, 0.28), 0, 180, fill=(*accent, 255))
    for y in (0.36, 0.46, 0.56):
        d.ellipse(_box(s, 0.485, y, 0.515, y + 0.03), fill=(*accent, 255))


def _tub(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.pieslice(_box(s, 0.16, 0.20, 0.84, 0.80), 0, 180, fill=_WHITE)
    d.rounded_rectangle(_box(s, 0.14, 0.46, 0.86, 0.53), radius=s * 0.03, fill=(*accent, 255))
    for x, y, r in ((0.38, 0.36, 0.05), (0.50, 0.30, 0.035), (0.60, 0.38, 0.045)):
        d.ellipse(_box(s, x - r, y - r, x + r, y + r), outline=_WHITE, width=max(2, s // 80))


def _gift(d: ImageDraw.ImageDraw, s: int, accent: RGB) -> None:
    d.rectangle(_box(s, 0.26, 0.40, 0.74, 0.78), fill=_WHITE)
    d.rectangle(_box(s, 0.22, 0.32, 0.78, 0.42), fill=_WHITE)
    d.rectangle(_box(s, 0.46, 0.32, 0.54, 0.78), fill=(*accent, 255))
    d.ellipse(_box(s, 0.36, 0.22, 0.50, 0.33), outline=(*accent, 255), width=max(2, s // 60))
    d.ellipse(_box(s, 0.50, 0.22, 0.64, 0.33), outline=(*accent, 255), width=max(2, s // 60))


# Checked in order: the first keyword found in the title picks the silhouette.
_SILHOUETTES: tuple[tuple[tuple[str, ...], Painter], ...] = (
    (("纸尿裤", "尿不湿", "湿巾", "纸巾"), _towel),
    (("奶瓶", "水杯", "保温杯"), _bottle),
    (("连体衣", "哈衣", "爬服", "婴儿服"), _onesie),
    (("浴盆", "洗澡盆", "澡盆"), _tub),
    (("面霜", "乳液", "润肤", "霜"), _jar),
    (("半身裙", "百褶裙", "短裙"), _skirt),
    (("连衣裙", "裙子", "茶歇裙"), _dress),
    (("牛仔裤", "阔腿裤", "长裤", "裤"), _trousers),
    (("T恤", "衬衫", "开衫", "针织", "上衣", "外套", "卫衣"), _shirt),
    (("耳机",), _earbuds),
    (("充电器", "充电头", "数据线", "充电宝", "移动电源"), _charger),
    (("手机壳", "钢化膜", "贴膜", "手机", "iPhone"), _phone),
    (("水壶", "烧水壶", "热水壶"), _kettle),
    (("炒锅", "平底锅", "不粘锅", "锅"), _pan),
    (("保鲜盒", "饭盒", "便当盒"), _container),
    (("置物架", "收纳架", "架"), _rack),
    (("砧板", "菜板", "案板"), _board),
    (("毛巾", "浴巾"), _towel),
    (("坚果", "果仁", "零食"), _jar),
    (("猕猴桃", "脐橙", "橙", "芒果", "樱桃", "车厘子", "桃", "苹果", "梨", "水果", "果"),
     _fruit),
)


def _silhouette_for(title: str) -> Painter:
    for keywords, painter in _SILHOUETTES:
        if any(k.lower() in title.lower() for k in keywords):
            return painter
    return _gift


def render_product_image(title: str, colours: Sequence[str], size: int = 480) -> bytes:
    """A square PNG placeholder for a product: a gradient in ``colours`` ("#rrggbb"; light to
    dark reads best) with a silhouette guessed from ``title``. Deterministic."""
    if size < 16 or size > 4096:
        raise ValueError(f"image size out of range: {size}")
    stops = [parse_colour(c) for c in colours] or _fallback_palette(title)
    big = size * _SUPERSAMPLE
    canvas = _gradient(big, stops).convert("RGBA")
    rng = _rng("product", title, *colours, str(size))

    # Soft light spots and a round "stage" with the product's floor shadow: blurred layers,
    # drawn small and scaled up (they are soft anyway, and it is much faster).
    small = max(size // 4, 8)
    darkest = min(stops, key=_luminance)
    spots = Image.new("RGBA", (small, small), (0, 0, 0, 0))
    spot_draw = ImageDraw.Draw(spots)
    for _ in range(5):
        radius = rng.uniform(0.08, 0.22) * small
        x, y = rng.uniform(0, small), rng.uniform(0, small)
        spot_draw.ellipse((x - radius, y - radius, x + radius, y + radius),
                          fill=(255, 255, 255, rng.randrange(40, 90)))
    canvas.alpha_composite(_soften(spots, small / 40, big))
    stage = Image.new("RGBA", (small, small), (0, 0, 0, 0))
    stage_draw = ImageDraw.Draw(stage)
    stage_draw.ellipse(_box(small, 0.12, 0.12, 0.88, 0.88), fill=(255, 255, 255, 70))
    stage_draw.ellipse(_box(small, 0.24, 0.80, 0.76, 0.88), fill=(*darkest, 90))
    canvas.alpha_composite(_soften(stage, small / 120, big))

    figure = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    _silhouette_for(title)(ImageDraw.Draw(figure), big, darkest)
    shadow = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    shadow.putalpha(figure.getchannel("A").point(lambda a: a // 4))
    offset = big // 120
    canvas.alpha_composite(_soften(shadow.resize((small, small), Image.Resampling.BILINEAR),
                                   small / 100, big), dest=(offset, offset * 2))
    canvas.alpha_composite(figure)

    return _png(canvas.resize((size, size), Image.Resampling.LANCZOS))


def render_store_logo(name_initial_colour: str, size: int = 128) -> bytes:
    """A square PNG store logo in the store's colour ("#rrggbb"): a rounded tile (transparent
    corners, RGBA) with a white shopping bag and a chat bubble. Deterministic."""
    if size < 16 or size > 2048:
        raise ValueError(f"logo size out of range: {size}")
    base = parse_colour(name_initial_colour)
    big = size * _SUPERSAMPLE
    tile = _gradient(big, [_mix(base, (255, 255, 255), 0.25), base,
                           _mix(base, (0, 0, 0), 0.15)]).convert("RGBA")
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22,
                                           fill=255)
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    canvas.paste(tile, (0, 0), mask)

    draw = ImageDraw.Draw(canvas)
    white = (255, 255, 255, 255)
    line = max(2, big // 24)
    draw.arc(_box(big, 0.34, 0.16, 0.58, 0.44), 180, 360, fill=white, width=line)
    draw.rounded_rectangle(_box(big, 0.24, 0.30, 0.68, 0.78), radius=big * 0.06, fill=white)
    draw.rounded_rectangle(_box(big, 0.52, 0.50, 0.84, 0.74), radius=big * 0.08, fill=base,
                           outline=white, width=line)
    draw.polygon(_poly(big, [(0.60, 0.72), (0.58, 0.84), (0.70, 0.73)]), fill=white)
    for x in (0.61, 0.68, 0.75):
        draw.ellipse(_box(big, x - 0.022, 0.60, x + 0.022, 0.644), fill=white)
    return _png(canvas.resize((size, size), Image.Resampling.LANCZOS), keep_alpha=True)
