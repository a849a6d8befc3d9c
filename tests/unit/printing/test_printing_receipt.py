"""The 受理通知书 rendered to real PDFs and read back: text, fonts, codes, page size."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from hallclient.domain import HallInfo, MaterialCheck, ReceiptData, ReceivedMaterial
from printing.receipt import render_receipt

MM = 72 / 25.4
RAW_ID = "11010519491231002X"
RAW_PHONE = "13812345678"
RAW_NAME = "张三丰"
CASE_NO = "330106-20261124-03-0012"
VERIFY_URL = (
    "https://zwfw.example.gov.cn/api/v1/verify/SL-20261124-03-0012-01"
    "?s=Zk3v9YqLr2mX7T0bWcQeN5uH8aJdP1sFgK4oIyV6tRzE3lBwUxC9nM2hA7jG0pD5fS8kLqW1eR4tY6uI9oP3aZ"
)
MATERIALS = ["食品经营许可申请书", "营业执照复印件", "法定代表人（负责人）身份证明"]


def make_receipt(**changes: object) -> ReceiptData:
    data = ReceiptData(
        doc_id="SL-20261124-03-0012-01",
        case_no=CASE_NO,
        hall=HallInfo(
            code="330106",
            name="杭州市西湖区政务服务中心",
            window_no=3,
            address="杭州市西湖区文三路118号",
            phone="0571-12345",
        ),
        clerk_name="李晓梅",
        clerk_staff_no="XH0317",
        item_code="330106-000-XK-0021",
        item_version=3,
        item_name="食品经营许可（新办）",
        department="杭州市西湖区市场监督管理局",
        applicant_name=RAW_NAME,
        applicant_id_number=RAW_ID,
        applicant_phone=RAW_PHONE,
        materials=[
            ReceivedMaterial(MATERIALS[0], MaterialCheck.ORIGINAL_SEEN, 1),
            ReceivedMaterial(MATERIALS[1], MaterialCheck.COPY_TAKEN, 1),
            ReceivedMaterial(MATERIALS[2], MaterialCheck.COPY_TAKEN, 2),
        ],
        accepted_at=dt.datetime(2026, 11, 24, 10, 32),
        promised_date=dt.date(2026, 12, 8),
        promised_days=10,
        verify_url=VERIFY_URL,
        booking_code="YY20261124-0456",
        signature_strokes=[[(0.1, 0.5), (0.3, 0.2), (0.5, 0.8), (0.9, 0.4)], [(0.6, 0.6)]],
    )
    if changes:
        from dataclasses import replace

        data = replace(data, **changes)
    return data


@pytest.fixture(scope="module", params=["a4", "slip"])
def rendered(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    layout: str = request.param
    return layout, render_receipt(make_receipt(), layout=layout)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Table cells and wrapped lines may split a value; compare without layout whitespace.
    return "".join(("".join(page.extract_text() for page in reader.pages)).split())


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed")
    return path


def test_receipt_shows_case_facts(rendered: tuple[str, bytes]) -> None:
    _, pdf = rendered
    text = pdf_text(pdf)
    for expected in [
        CASE_NO,
        "受理通知书",
        "食品经营许可（新办）",
        "330106-000-XK-0021",
        "110105********002X",
        "张**",
        "138****5678",
        "2026年12月8日",
        "10个工作日",
        "2026年11月24日",
        "李晓梅",
        "XH0317",
        "第三十二条第一款第（五）项",
        *MATERIALS,
    ]:
        assert expected in text, expected


def test_receipt_never_contains_raw_personal_data(rendered: tuple[str, bytes]) -> None:
    _, pdf = rendered
    text = pdf_text(pdf)
    for raw in (RAW_ID, RAW_PHONE, RAW_NAME):
        assert raw not in text
    # Nor hidden anywhere in the file (metadata, uncompressed streams).
    for raw in (RAW_ID, RAW_PHONE):
        assert raw.encode() not in pdf


def test_metadata(rendered: tuple[str, bytes]) -> None:
    _, pdf = rendered
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.title == f"受理通知书 {CASE_NO}"
    assert meta.creator == "hallclient"


def test_every_font_is_embedded(rendered: tuple[str, bytes], tmp_path: Path) -> None:
    pdffonts = need("pdffonts")
    layout, pdf = rendered
    path = tmp_path / f"{layout}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([pdffonts, str(path)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", row
        assert "STSong" not in name and "Helvetica" not in name and "Times" not in name, row


def test_qr_and_barcode_decode(rendered: tuple[str, bytes], tmp_path: Path) -> None:
    pdftoppm = need("pdftoppm")
    zbarimg = need("zbarimg")
    layout, pdf = rendered
    path = tmp_path / f"{layout}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [pdftoppm, "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(path), str(tmp_path / "p")],
        check=True,
    )
    res = subprocess.run(
        [zbarimg, "-q", "--raw", "-Sqrcode.enable", str(tmp_path / "p.png")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert res.stdout.split("\n").count(VERIFY_URL) == 1, res.stdout
    res = subprocess.run(
        [zbarimg, "-q", "--raw", "-Sdisable", "-Scode128.enable", str(tmp_path / "p.png")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert res.stdout.split("\n").count(CASE_NO) == 1, res.stdout


def test_page_sizes(rendered: tuple[str, bytes]) -> None:
    layout, pdf = rendered
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    width, height = float(box.width), float(box.height)
    if layout == "a4":
        assert width == pytest.approx(210 * MM, abs=0.5)
        assert height == pytest.approx(297 * MM, abs=0.5)
        assert len(reader.pages) == 1
    else:
        assert width == pytest.approx(80 * MM, abs=0.5)
        # One strip fitted to the content, not an A4 page.
        assert len(reader.pages) == 1
        assert 150 * MM < height < 600 * MM
        assert abs(height - 297 * MM) > 5 * MM


def test_slip_grows_with_content() -> None:
    few = render_receipt(make_receipt(materials=[]), layout="slip")
    many_materials = [ReceivedMaterial(f"补充材料第{i}项", MaterialCheck.COPY_TAKEN) for i in range(12)]
    many = render_receipt(make_receipt(materials=many_materials), layout="slip")
    h_few = float(PdfReader(io.BytesIO(few)).pages[0].mediabox.height)
    reader = PdfReader(io.BytesIO(many))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.height) > h_few + 30 * MM


def test_long_materials_list_flows_onto_a_second_a4_page() -> None:
    many = [ReceivedMaterial(f"补充材料第{i}项", MaterialCheck.ORIGINAL_SEEN) for i in range(40)]
    pdf = render_receipt(make_receipt(materials=many), layout="a4")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert "补充材料第39项" in pdf_text(pdf)


@pytest.mark.parametrize("layout", ["a4", "slip"])
def test_reprint_mark(layout: str) -> None:
    original = pdf_text(render_receipt(make_receipt(), layout=layout))
    reprint = pdf_text(render_receipt(make_receipt(), layout=layout, reprint_no=2))
    assert "补打" not in original
    assert "补打（第2次）" in reprint


def test_same_input_gives_same_bytes() -> None:
    assert render_receipt(make_receipt()) == render_receipt(make_receipt())


def test_unsigned_receipt_and_walk_in_render() -> None:
    text = pdf_text(render_receipt(make_receipt(signature_strokes=[], booking_code=None), layout="a4"))
    assert "申请人签名" in text
    assert "现场取号" in text


def test_seal_and_letterhead_images(tmp_path: Path) -> None:
    from PIL import Image as PILImage

    seal = tmp_path / "seal.png"
    PILImage.new("RGBA", (200, 200), (208, 18, 27, 200)).save(seal)
    head = tmp_path / "head.png"
    PILImage.new("RGB", (1200, 200), (255, 255, 255)).save(head)
    pdf = render_receipt(make_receipt(), seal_path=seal, letterhead_path=head)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert len(list(reader.pages[0].images)) >= 2


def test_english_uses_the_catalog_or_falls_back_to_chinese() -> None:
    # Without an en catalog entry the msgid (Chinese) prints; it must never crash or drop text.
    text = pdf_text(render_receipt(make_receipt(), lang="en"))
    assert CASE_NO in text


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="layout"):
        render_receipt(make_receipt(), layout="a5")


def test_concurrent_renders_give_the_same_bytes() -> None:
    from concurrent.futures import ThreadPoolExecutor

    layouts = ("a4", "slip")
    reference = {layout: render_receipt(make_receipt(), layout=layout) for layout in layouts}
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(
                lambda i: (layouts[i % 2], render_receipt(make_receipt(), layout=layouts[i % 2])), range(12)
            )
        )
    assert all(pdf == reference[layout] for layout, pdf in results)
