"""Paper materials captured at the counter: pages cleaned up, one PDF per material, kept encrypted.

Qt-free. A page comes in as image bytes (a document camera's frame, a scanner's
or a file's image; the ui renders PDF files to images first). Each page is
cropped to the paper against the desk, its lighting flattened and its contrast
stretched so it stays legible printed in grey, scaled to A4 at 200 dpi and
encoded as a grey JPEG within a size budget (<= 300 KB a page). The pages of a
material, in order, become one PDF whose SHA-256 is recorded with it; the PDF
is stored encrypted (the store's AES-GCM) and attached to the case on 受理.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hallclient import wire
from hallclient.store import CaptureInfo, Store

if TYPE_CHECKING:
    from PIL import Image

A4_MM = (210.0, 297.0)
DPI = 200
PAGE_BUDGET_BYTES = 280 * 1024  # leaves room for the PDF's own bytes under 300 KB a page
QUALITIES = (70, 60, 50, 42, 35, 28)
_MM_PER_INCH = 25.4


def a4_pixels(landscape: bool = False) -> tuple[int, int]:
    w, h = (round(mm / _MM_PER_INCH * DPI) for mm in A4_MM)
    return (h, w) if landscape else (w, h)


def subject_of(day: dt.date, ticket_no: str | None = None, booking_code: str | None = None) -> str:
    """The key captures are kept under before the case number exists: today's ticket, else the booking."""
    if ticket_no:
        return f"ticket:{day.isoformat()}/{ticket_no}"
    if booking_code:
        return f"booking:{booking_code}"
    raise ValueError("a capture needs the ticket or the booking it belongs to")


# -- one page -----------------------------------------------------------------------------------


def load_image(data: bytes) -> Image.Image:
    from PIL import Image, ImageOps

    opened = Image.open(io.BytesIO(data))
    img: Image.Image = ImageOps.exif_transpose(opened) or opened  # cameras say "rotated" in EXIF
    return img.convert("RGB") if img.mode not in ("RGB", "L") else img


def _otsu(histogram: Sequence[int]) -> int:
    total = sum(histogram)
    sum_all = sum(i * h for i, h in enumerate(histogram))
    best, threshold, w0, sum0 = -1.0, 128, 0, 0
    for t in range(256):
        w0 += histogram[t]
        if w0 == 0:
            continue
        w1 = total - w0
        if w1 == 0:
            break
        sum0 += t * histogram[t]
        m0, m1 = sum0 / w0, (sum_all - sum0) / w1
        between = w0 * w1 * (m0 - m1) ** 2
        if between > best:
            best, threshold = between, t
    return threshold


def paper_box(grey: Image.Image) -> tuple[int, int, int, int] | None:
    """The paper's bounding box against a darker desk, or None when the paper fills the frame.

    Works on a small copy: the bright (paper) class after Otsu's threshold; rows and
    columns that are mostly paper bound it. Good enough for a sheet lying squarely
    under a document camera, which is how a 高拍仪 is used.
    """
    from PIL import ImageFilter

    small = grey.copy()
    small.thumbnail((400, 400))
    small = small.filter(ImageFilter.MedianFilter(5))
    threshold = _otsu(small.histogram())
    low, high = small.getextrema()
    if float(high) - float(low) < 60:  # type: ignore[arg-type]
        return None  # no contrast between paper and desk: nothing to crop against
    mask = small.point(lambda v: 255 if v > threshold else 0)
    w, h = mask.size
    data = mask.tobytes()
    rows = [sum(1 for x in range(w) if data[y * w + x]) / w for y in range(h)]
    cols = [sum(1 for y in range(h) if data[y * w + x]) / h for x in range(w)]
    ys = [y for y, share in enumerate(rows) if share > 0.35]
    xs = [x for x, share in enumerate(cols) if share > 0.35]
    if not ys or not xs:
        return None
    left, right, top, bottom = xs[0], xs[-1] + 1, ys[0], ys[-1] + 1
    if (right - left) * (bottom - top) > 0.93 * w * h:
        return None  # already the paper alone
    if (right - left) < 0.2 * w or (bottom - top) < 0.2 * h:
        return None  # a bright spot, not a sheet
    sx, sy = grey.width / w, grey.height / h
    pad = 2
    return (
        max(0, round((left + pad) * sx)),
        max(0, round((top + pad) * sy)),
        min(grey.width, round((right - pad) * sx)),
        min(grey.height, round((bottom - pad) * sy)),
    )


def clean_up(grey: Image.Image) -> Image.Image:
    """Flatten uneven lighting (divide by the background), then stretch: text dark, paper white."""
    from PIL import Image, ImageChops, ImageFilter, ImageOps

    small = grey.copy()
    small.thumbnail((300, 300))
    # The background: text removed by a max filter, then smoothed, brought back to full size.
    background = small.filter(ImageFilter.MaxFilter(9)).filter(ImageFilter.GaussianBlur(6))
    background = background.resize(grey.size, Image.Resampling.BILINEAR)
    # grey / background, with white where the page is as bright as its surroundings.
    inverted = ImageChops.invert(grey)
    shade = ImageChops.invert(background)
    flat = ImageChops.invert(ImageChops.subtract(inverted, shade))
    flat = ImageOps.autocontrast(flat, cutoff=(1, 0.5))
    # Levels: near-white to white (no grey cast when printed), darken strokes a little.
    lut = [0 if v < 40 else 255 if v > 215 else round((v - 40) * 255 / 175) for v in range(256)]
    return flat.point(lut)


def prepare_page(image: Image.Image, rotation: int = 0, *, crop: bool = True) -> Image.Image:
    """A captured frame -> the page as it goes into the PDF: grey, cropped, clean, A4 at 200 dpi."""
    from PIL import Image

    grey = image.convert("L")
    if rotation % 360:
        grey = grey.rotate(-(rotation % 360), expand=True)  # clockwise, as the rotate button says
    if crop:
        box = paper_box(grey)
        if box is not None:
            grey = grey.crop(box)
    grey = clean_up(grey)
    landscape = grey.width > grey.height
    limit = a4_pixels(landscape)
    scale = min(limit[0] / grey.width, limit[1] / grey.height)
    if scale < 1:
        grey = grey.resize(
            (max(1, round(grey.width * scale)), max(1, round(grey.height * scale))), Image.Resampling.LANCZOS
        )
    return grey


@dataclass(frozen=True)
class EncodedPage:
    """A page ready for the PDF: grey pixels, either Flate (lossless) or JPEG (DCT) compressed."""

    width: int
    height: int
    filter: str  # FlateDecode | DCTDecode
    data: bytes


def _levels(grey: Image.Image, levels: int) -> Image.Image:
    step = 255 / (levels - 1)
    return grey.point([round(round(v / step) * step) for v in range(256)])


def _png_flate(grey: Image.Image) -> bytes:
    """The zlib stream of a PNG's IDAT chunks: Flate data with PNG predictors, as PDF takes it."""
    import struct

    buf = io.BytesIO()
    grey.save(buf, format="PNG", compress_level=6)
    png, pos, idat = buf.getvalue(), 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(idat)


def encode_page(page: Image.Image, budget: int = PAGE_BUDGET_BYTES) -> EncodedPage:
    """The page compressed within ``budget`` bytes, sharpest first.

    16 grey levels, lossless Flate with PNG predictors: cleaned pages are mostly pure
    white, so text stays crisp and small. Too big (a photo, an ID card copy, a dense
    page): grey JPEG down to quality 50; then 4 grey levels (text needs no more); then
    lower JPEG qualities; last fewer pixels.
    """
    from PIL import Image

    grey = page.convert("L")
    flate = _png_flate(_levels(grey, 16))
    if len(flate) <= budget:
        return EncodedPage(grey.width, grey.height, "FlateDecode", flate)
    for quality in QUALITIES[:3]:
        jpeg = _jpeg(grey, quality)
        if len(jpeg) <= budget:
            return EncodedPage(grey.width, grey.height, "DCTDecode", jpeg)
    flate = _png_flate(_levels(grey, 4))
    if len(flate) <= budget:
        return EncodedPage(grey.width, grey.height, "FlateDecode", flate)
    for quality in QUALITIES[3:]:
        jpeg = _jpeg(grey, quality)
        if len(jpeg) <= budget:
            return EncodedPage(grey.width, grey.height, "DCTDecode", jpeg)
    # Nothing fits (a page of pure texture): fewer pixels until it does, so the budget always holds.
    smaller = grey
    while True:
        smaller = smaller.resize((smaller.width * 3 // 4, smaller.height * 3 // 4), Image.Resampling.LANCZOS)
        jpeg = _jpeg(smaller, QUALITIES[-1])
        if len(jpeg) <= budget or smaller.width < 200:
            return EncodedPage(smaller.width, smaller.height, "DCTDecode", jpeg)


def _jpeg(grey: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    grey.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _unpredict(encoded: EncodedPage) -> Image.Image:
    """Undo the PNG predictors of a Flate page (by wrapping it in a PNG again)."""
    import struct
    import zlib

    from PIL import Image

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", encoded.width, encoded.height, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", encoded.data) + chunk(b"IEND", b"")
    return Image.open(io.BytesIO(png))


def preview_png(encoded: EncodedPage, max_side: int = 0) -> bytes:
    """The page as PNG bytes (for thumbnails and the preview)."""
    from PIL import Image

    if encoded.filter == "FlateDecode":
        img = _unpredict(encoded)
    else:
        img = Image.open(io.BytesIO(encoded.data))
    if max_side:
        img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# -- one material -------------------------------------------------------------------------------


@dataclass
class Page:
    """A page of a material being captured: the original frame, and the page made from it."""

    original: bytes
    rotation: int = 0
    encoded: EncodedPage | None = None

    def render(self) -> None:
        self.encoded = encode_page(prepare_page(load_image(self.original), self.rotation))

    def ready(self) -> EncodedPage:
        if self.encoded is None:
            self.render()
        assert self.encoded is not None
        return self.encoded

    def turned(self, degrees: int = 90) -> Page:
        """The same frame turned further, not yet rendered: a new page, so a worker thread can
        render it while the old one stays shown."""
        return Page(self.original, (self.rotation + degrees) % 360)


@dataclass
class MaterialDraft:
    """The pages of one material while the clerk captures them: add, reorder, delete, rotate."""

    material_code: str
    material_name: str
    pages: list[Page] = field(default_factory=list)

    def add(self, image_bytes: bytes) -> Page:
        page = Page(image_bytes)
        page.render()
        self.pages.append(page)
        return page

    def move(self, index: int, to: int) -> None:
        page = self.pages.pop(index)
        self.pages.insert(max(0, min(to, len(self.pages))), page)

    def delete(self, index: int) -> None:
        del self.pages[index]

    def rotate(self, index: int, degrees: int = 90) -> None:
        page = self.pages[index]
        page.rotation = (page.rotation + degrees) % 360
        page.render()

    def build_pdf(self) -> bytes:
        if not self.pages:
            raise ValueError("a material needs at least one page")
        return build_pdf([p.ready() for p in self.pages], title=f"{self.material_code} {self.material_name}")


A4_POINTS = (595.2756, 841.8898)


def build_pdf(pages: Sequence[EncodedPage], *, title: str = "") -> bytes:
    """An image-only PDF, one A4 page per image (portrait or landscape by its shape).

    Written directly (img2pdf-style) so each page's compressed bytes go in as they
    are: no decoding and re-encoding, no ASCII85 inflation. Deterministic.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    tree = add(b"")
    title_hex = ("FEFF" + title.encode("utf-16-be").hex().upper()).encode("ascii")
    info = add(b"<< /Title <" + title_hex + b"> /Producer (hallclient captures) >>")
    kids = []
    for page in pages:
        landscape = page.width > page.height
        pw, ph = (A4_POINTS[1], A4_POINTS[0]) if landscape else A4_POINTS
        scale = min(pw / page.width, ph / page.height)
        dw, dh = page.width * scale, page.height * scale
        image = add(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
            b" /BitsPerComponent 8 /Filter /%s%s /Length %d >>\nstream\n"
            % (
                page.width,
                page.height,
                page.filter.encode("ascii"),
                b" /DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent 8 /Columns %d >>" % page.width
                if page.filter == "FlateDecode"
                else b"",
                len(page.data),
            )
            + page.data
            + b"\nendstream"
        )
        draw = b"q %.4f 0 0 %.4f %.4f %.4f cm /Im0 Do Q" % (dw, dh, (pw - dw) / 2, (ph - dh) / 2)
        content = add(b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.4f %.4f] /Contents %d 0 R"
                b" /Resources << /XObject << /Im0 %d 0 R >> >> >>" % (tree, pw, ph, content, image)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, info, xref)
    )
    return out.getvalue()


# -- kept in the store --------------------------------------------------------------------------


@dataclass(frozen=True)
class CapturedMaterial:
    material_code: str
    sha256: str
    pages: int
    size: int


class CaptureStore:
    """What the capture dialog and the case workspace use: save a material, ask what is captured."""

    def __init__(self, store: Store, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.store = store
        self.clock = clock

    def save(self, subject: str, draft: MaterialDraft) -> CapturedMaterial:
        pdf = draft.build_pdf()
        return self.save_pdf(subject, draft.material_code, draft.material_name, pdf, len(draft.pages))

    def save_pdf(
        self, subject: str, material_code: str, material_name: str, pdf: bytes, pages: int
    ) -> CapturedMaterial:
        digest = hashlib.sha256(pdf).hexdigest()
        self.store.save_capture(
            subject=subject,
            material_code=material_code,
            material_name=material_name,
            pdf=pdf,
            sha256=digest,
            pages=pages,
            now=self.clock(),
        )
        return CapturedMaterial(material_code, digest, pages, len(pdf))

    def captured(self, subject: str) -> dict[str, CaptureInfo]:
        """Material code -> capture, for the materials checklist's "已采集" column."""
        return self.store.captured_materials(subject)

    def of_case(self, case_no: str) -> list[CaptureInfo]:
        return self.store.captures_of(case_no=case_no)

    def pdf(self, capture_id: str) -> bytes:
        """The decrypted PDF, checked against its recorded SHA-256."""
        return self.store.capture_pdf(capture_id)

    def forward(self, subject: str, case_no: str) -> int:
        """Call right after 受理: the captures go with the case to its back office."""
        return self.store.queue_forward(subject, case_no, self.clock())

    def back_office(self, case_no: str) -> wire.BackOfficeStatus | None:
        return self.store.back_office_status(case_no)
