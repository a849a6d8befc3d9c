"""Photos of paper lying on a desk, as a document camera (高拍仪) would take them, made on the fly.

A real A4 form with Chinese text, lit unevenly (darker towards one corner), on a
brown desk, slightly blurred, saved as a camera JPEG. The text is known, so tests
can check that the page is still legible after capture.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from hallclient.resources import resource_path

TITLE = "营业执照申请书"
LINE = "申请人：王芳　住所：北京市东城区景山前街四号"


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(resource_path("fonts", "DroidSansFallbackFull.ttf")), size)


def paper_photo(
    *, lines: int = 30, size: tuple[int, int] = (3264, 2448), landscape_paper: bool = False, seed: int = 0
) -> bytes:
    """A JPEG of an A4 sheet (portrait, or landscape) on a desk; ``seed`` varies the text a little."""
    width, height = size
    desk = Image.new("RGB", size, (96, 72, 50))
    pw, ph = (1500, 2120) if not landscape_paper else (2120, 1500)
    pw, ph = min(pw, width - 200), min(ph, height - 200)
    paper = Image.new("L", (pw, ph), 236)
    draw = ImageDraw.Draw(paper)
    draw.text((110, 110), f"{TITLE} 第{seed + 1}页", fill=25, font=_font(64))
    body = _font(36)
    for i in range(lines):
        y = 250 + i * 50
        if y > ph - 80:
            break
        draw.text((110, y), f"{LINE}　第{i + 1 + seed}号", fill=45, font=body)
    shade = Image.linear_gradient("L").resize((pw, ph)).point(lambda v: int(v * 0.35))
    sheet = ImageChops.subtract(Image.merge("RGB", [paper] * 3), Image.merge("RGB", [shade] * 3))
    desk.paste(sheet, ((width - pw) // 2 + 60, (height - ph) // 2))
    photo = desk.filter(ImageFilter.GaussianBlur(1.0))
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def write_photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"page{n + 1}.jpg"
        path.write_bytes(paper_photo(seed=n))
        paths.append(path)
    return paths
