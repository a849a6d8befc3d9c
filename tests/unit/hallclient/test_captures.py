"""Capturing paper: the desk cropped away, pages legible in grey, one small PDF per material, kept encrypted."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import sqlite3
from pathlib import Path

import pytest
from helpers.paper_photos import paper_photo
from PIL import Image
from pypdf import PdfReader

from hallclient import captures
from hallclient.crypto import FieldCipher
from hallclient.localdb import SCHEMA_VERSION
from hallclient.store import Store, StoreError

KEY = bytes(range(32))
NOW = dt.datetime(2026, 11, 25, 9, 30)
A4_RATIO = 297 / 210


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    return [paper_photo(seed=n) for n in range(3)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "counter.sqlite", FieldCipher(KEY))
    yield s  # type: ignore[misc]
    s.close()


def dark_share(img: Image.Image, below: int = 128) -> float:
    hist = img.convert("L").histogram()
    return sum(hist[:below]) / sum(hist)


def test_the_desk_is_cropped_away_and_the_page_is_a4_shaped(photos: list[bytes]) -> None:
    page = captures.prepare_page(captures.load_image(photos[0]))
    assert page.mode == "L"
    assert abs(page.height / page.width - A4_RATIO) < 0.05, page.size
    assert page.width <= captures.a4_pixels()[0] and page.height <= captures.a4_pixels()[1]
    # No brown desk left along the edges: the margins are paper, printed white.
    for box in (
        (0, 0, page.width, 20),
        (0, page.height - 20, page.width, page.height),
        (0, 0, 20, page.height),
    ):
        assert dark_share(page.crop(box)) < 0.01, box


def test_uneven_light_is_flattened_so_the_page_prints_clean_in_grey(photos: list[bytes]) -> None:
    page = captures.prepare_page(captures.load_image(photos[0]))
    hist = page.histogram()
    white = hist[255] / sum(hist)
    assert white > 0.6, "the paper should be white, also in the corner the lamp did not reach"
    # The text is still there and dark: between a few and a third of the pixels.
    assert 0.02 < dark_share(page) < 0.35
    # The darkest corner of the photo (bottom right) is as white as the lit one.
    w, h = page.size
    lit, shaded = page.crop((20, 20, 120, 80)), page.crop((w - 120, h - 80, w - 20, h - 20))
    assert abs(sum(lit.tobytes()) / 6000 - sum(shaded.tobytes()) / 6000) < 10


def test_a_photo_that_is_already_just_paper_is_not_cropped() -> None:
    img = Image.new("L", (1000, 1414), 240)
    assert captures.paper_box(img) is None
    assert captures.prepare_page(img).size == (1000, 1414)


def test_rotation_turns_the_page_clockwise(photos: list[bytes]) -> None:
    upright = captures.prepare_page(captures.load_image(photos[0]))
    turned = captures.prepare_page(captures.load_image(photos[0]), 90)
    assert turned.width > turned.height and upright.height > upright.width


def test_one_material_is_one_pdf_with_its_pages_in_order_under_300_kb_a_page(photos: list[bytes]) -> None:
    draft = captures.MaterialDraft("M01", "申请书")
    for photo in photos:
        draft.add(photo)
    draft.move(2, 0)  # the clerk puts the last page first
    draft.add(photos[0])
    draft.delete(3)
    pdf = draft.build_pdf()
    assert len(pdf) <= 300 * 1024 * 3
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    assert reader.metadata is not None and reader.metadata.title == "M01 申请书"
    expected = [p.ready() for p in draft.pages]
    for page, encoded in zip(reader.pages, expected, strict=True):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            (595.2756, 841.8898)
        )
        (image,) = page.images
        # The very pixels of the page the clerk saw, in the clerk's order.
        assert image.image.size == (encoded.width, encoded.height)
        shown = Image.open(io.BytesIO(captures.preview_png(encoded))).convert("L")
        assert image.image.convert("L").tobytes() == shown.tobytes()
    sizes = [len(p.ready().data) for p in draft.pages]
    assert len({p.ready().data for p in draft.pages}) == 3, "three different pages"
    assert max(sizes) <= captures.PAGE_BUDGET_BYTES


def test_a_landscape_sheet_gets_a_landscape_page() -> None:
    photo = paper_photo(landscape_paper=True, lines=20)
    draft = captures.MaterialDraft("M02", "平面图")
    draft.add(photo)
    page = PdfReader(io.BytesIO(draft.build_pdf())).pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)


def test_a_photo_like_page_falls_back_to_jpeg_within_budget() -> None:
    noise = Image.effect_noise((1654, 2339), 60)
    encoded = captures.encode_page(noise)
    assert encoded.filter == "DCTDecode"
    assert len(encoded.data) <= captures.PAGE_BUDGET_BYTES
    pdf = captures.build_pdf([encoded])
    (image,) = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert image.image.size == (encoded.width, encoded.height)


def test_an_empty_material_cannot_be_saved() -> None:
    with pytest.raises(ValueError):
        captures.MaterialDraft("M01", "申请书").build_pdf()


def test_subjects_name_the_ticket_or_the_booking() -> None:
    day = dt.date(2026, 11, 25)
    assert captures.subject_of(day, "A001") == "ticket:2026-11-25/A001"
    assert captures.subject_of(day, None, "BK1") == "booking:BK1"
    with pytest.raises(ValueError):
        captures.subject_of(day)


# -- in the store ---------------------------------------------------------------------------------


def test_a_captured_pdf_is_encrypted_at_rest_and_comes_back_intact(
    store: Store, photos: list[bytes], tmp_path: Path
) -> None:
    cs = captures.CaptureStore(store, clock=lambda: NOW)
    draft = captures.MaterialDraft("M01", "申请书")
    draft.add(photos[0])
    saved = cs.save("ticket:2026-11-25/A001", draft)
    pdf = draft.build_pdf()
    assert saved.sha256 == hashlib.sha256(pdf).hexdigest() and saved.pages == 1
    (info,) = cs.captured("ticket:2026-11-25/A001").values()
    assert info.upload_state == "held" and info.case_no is None
    assert cs.pdf(info.capture_id) == pdf
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("counter.sqlite*"))
    assert b"%PDF" not in raw and pdf[200:260] not in raw
    # The blob is bound to its row: moved onto another row it does not decrypt.
    with sqlite3.connect(tmp_path / "counter.sqlite") as db:
        blob = db.execute("SELECT pdf_enc FROM captures").fetchone()[0]
    other = Store(tmp_path / "counter.sqlite", FieldCipher(KEY))
    with pytest.raises(Exception):  # noqa: B017 (cryptography's InvalidTag)
        other._open_pdf("00000000-0000-0000-0000-000000000000", blob)
    other.close()


def test_capturing_again_replaces_and_accept_attaches_the_captures_to_the_case(
    store: Store, photos: list[bytes]
) -> None:
    cs = captures.CaptureStore(store, clock=lambda: NOW)
    subject = "ticket:2026-11-25/A002"
    first = cs.save_pdf(subject, "M01", "申请书", b"%PDF-1.4 first", 1)
    second = cs.save_pdf(subject, "M01", "申请书", b"%PDF-1.4 second", 1)
    cs.save_pdf(subject, "M02", "身份证复印件", b"%PDF-1.4 id", 1)
    captured = cs.captured(subject)
    assert set(captured) == {"M01", "M02"} and captured["M01"].sha256 == second.sha256 != first.sha256
    assert store.pending_uploads() == []  # nothing leaves the counter before 受理
    assert cs.forward(subject, "DEMO-20261125-01-0001") == 2
    assert {c.material_code for c in store.pending_uploads()} == {"M01", "M02"}
    assert {c.material_code for c in cs.of_case("DEMO-20261125-01-0001")} == {"M01", "M02"}
    # A material captured after 受理 (still at the counter) joins the case.
    cs.save_pdf(subject, "M03", "授权书", b"%PDF-1.4 auth", 1)
    assert len(cs.of_case("DEMO-20261125-01-0001")) == 3
    store.mark_forwarded("DEMO-20261125-01-0001", NOW)
    with pytest.raises(StoreError):
        cs.save_pdf(subject, "M01", "申请书", b"%PDF-1.4 too late", 1)


def test_a_version_5_file_is_upgraded_to_hold_captures(tmp_path: Path) -> None:
    path = tmp_path / "counter.sqlite"
    Store(path, FieldCipher(KEY)).close()
    with sqlite3.connect(path) as db:
        for table in ("captures", "forwards", "back_office"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 5")
    store = Store(path, FieldCipher(KEY))
    try:
        captures.CaptureStore(store).save_pdf("booking:BK1", "M01", "申请书", b"%PDF-1.4 x", 1)
        assert set(store.captured_materials("booking:BK1")) == {"M01"}
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
