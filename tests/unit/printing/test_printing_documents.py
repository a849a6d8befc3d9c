"""Every paper type rendered through render_paper, in both layouts and both languages, and read back."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_printing_receipt import CASE_NO, RAW_ID, RAW_NAME, RAW_PHONE, VERIFY_URL, make_receipt

from hallclient.domain import HallInfo, MaterialCheck, ReceiptData, ReceivedMaterial
from hallclient.papers import (
    ApprovalDecision,
    CaseHeader,
    CorrectionNotice,
    MaterialProblem,
    Paper,
    PaperKind,
    PickupSlip,
    QueueTicketSlip,
    RejectionNotice,
    VisitLine,
    VisitMaterial,
    VisitReceipt,
    paper_kind,
)
from printing.documents import check_printable, paper_ref, paper_title, render_paper

MM = 72 / 25.4
RARE = "𠀀"  # U+20000, in neither bundled font
HALL = HallInfo(
    code="330106",
    name="杭州市西湖区政务服务中心",
    window_no=3,
    address="杭州市西湖区文三路118号",
    phone="0571-12345",
)


def make_header(**changes: object) -> CaseHeader:
    header = CaseHeader(
        doc_id="BZ-20261124-03-0012-01",
        case_no=CASE_NO,
        hall=HALL,
        clerk_name="李晓梅",
        clerk_staff_no="XH0317",
        item_code="330106-000-XK-0021",
        item_version=3,
        item_name="食品经营许可（新办）",
        department="杭州市西湖区市场监督管理局",
        applicant_name=RAW_NAME,
        applicant_id_number=RAW_ID,
        applicant_phone=RAW_PHONE,
        decided_at=dt.datetime(2026, 11, 24, 10, 32),
        verify_url=VERIFY_URL,
        booking_code="YY20261124-0456",
        signature_strokes=[[(0.1, 0.5), (0.3, 0.2), (0.5, 0.8), (0.9, 0.4)]],
    )
    return replace(header, **changes) if changes else header  # type: ignore[arg-type]


def make_correction(**changes: object) -> CorrectionNotice:
    notice = CorrectionNotice(
        header=make_header(),
        problems=[
            MaterialProblem("食品安全管理制度文本", MaterialCheck.MISSING, copies=1),
            MaterialProblem(
                "经营场所平面布局图",
                MaterialCheck.WRONG,
                what_is_wrong="未标明加工操作区与就餐区的面积，比例尺缺失",
                original_required=True,
                copies=2,
            ),
            MaterialProblem(
                "法定代表人身份证明",
                MaterialCheck.WRONG,
                what_is_wrong="证件已过有效期",
                original_required=False,
            ),
        ],
        received=[
            ReceivedMaterial("食品经营许可申请书", MaterialCheck.ORIGINAL_SEEN, 1),
            ReceivedMaterial("营业执照复印件", MaterialCheck.COPY_TAKEN, 1),
        ],
        bring_to="杭州市西湖区政务服务中心二楼 第3号窗口",
        deadline=dt.date(2026, 12, 1),
    )
    return replace(notice, **changes) if changes else notice  # type: ignore[arg-type]


def make_rejection(**changes: object) -> RejectionNotice:
    notice = RejectionNotice(
        header=make_header(doc_id="BY-20261124-03-0012-01"),
        reasons=[
            "申请事项依法不需要取得行政许可。",
            "申请人申请的经营项目不属于本机关职权范围，应向杭州市市场监督管理局提出申请。",
        ],
        legal_basis="《中华人民共和国行政许可法》第三十二条第一款第（一）项、第（二）项",
        reconsideration_body="杭州市西湖区人民政府",
        court="杭州市西湖区人民法院",
    )
    return replace(notice, **changes) if changes else notice  # type: ignore[arg-type]


def make_approval(**changes: object) -> ApprovalDecision:
    decision = ApprovalDecision(
        header=make_header(doc_id="ZX-20261124-03-0012-01"),
        title="准予行政许可决定书",
        result_text="准予你单位从事预包装食品（含冷藏冷冻食品）销售，经营场所：杭州市西湖区文三路200号1楼。",
        materials=[
            ReceivedMaterial("食品经营许可申请书", MaterialCheck.ORIGINAL_SEEN, 1),
            ReceivedMaterial("营业执照复印件", MaterialCheck.COPY_TAKEN, 1),
        ],
        valid_until=dt.date(2031, 11, 23),
    )
    return replace(decision, **changes) if changes else decision  # type: ignore[arg-type]


def make_pickup(**changes: object) -> PickupSlip:
    slip = PickupSlip(
        header=make_header(doc_id="CJ-20261208-03-0012-01"),
        result_name="食品经营许可证（正本、副本各一份）",
        picked_up_at=dt.datetime(2026, 12, 8, 15, 5),
        picked_up_by="王建国",
        promised_date=dt.date(2026, 12, 8),
    )
    return replace(slip, **changes) if changes else slip  # type: ignore[arg-type]


def make_ticket(**changes: object) -> QueueTicketSlip:
    ticket = QueueTicketSlip(
        ticket_no="A012",
        hall_name=HALL.name,
        item_name="食品经营许可（新办）",
        issued_at=dt.datetime(2026, 11, 24, 9, 41),
        waiting_ahead=4,
        booking_code="YY20261124-0456",
        slot="09:30-10:00",
    )
    return replace(ticket, **changes) if changes else ticket  # type: ignore[arg-type]


def make_visit_receipt(**changes: object) -> VisitReceipt:
    """一件事一次办回执 of two items; the first is the case the paper is filed under."""
    from hallclient.wire import Decision

    receipt = VisitReceipt(
        doc_id="YJ-20261124-03-0012-01",
        hall=HALL,
        clerk_name="李晓梅",
        clerk_staff_no="XH0317",
        visit_name="开办餐饮店",
        bundle_code="YJS-CYD",
        applicant_name=RAW_NAME,
        applicant_id_number=RAW_ID,
        applicant_phone=RAW_PHONE,
        ticket_no="B012",
        booking_code="YY20261124-0456",
        lines=[
            VisitLine(
                1,
                "330106-000-XK-0021",
                "食品经营许可（新办）",
                "杭州市西湖区市场监督管理局",
                CASE_NO,
                Decision.ACCEPT,
                dt.date(2026, 12, 8),
                10,
            ),
            VisitLine(
                2,
                "330106-000-XK-0035",
                "户外招牌设置备案",
                "杭州市西湖区综合行政执法局",
                "330106-20261124-03-0013",
                Decision.COMPLETE,
                dt.date(2026, 11, 24),
            ),
        ],
        materials=[
            VisitMaterial(
                "营业执照复印件", MaterialCheck.COPY_TAKEN, 1, ["食品经营许可（新办）", "户外招牌设置备案"]
            ),
            VisitMaterial("食品安全管理制度文本", MaterialCheck.ORIGINAL_SEEN, 1, ["食品经营许可（新办）"]),
        ],
        issued_at=dt.datetime(2026, 11, 24, 10, 32),
        verify_url=VERIFY_URL,
        signature_strokes=[[(0.1, 0.5), (0.3, 0.2), (0.5, 0.8), (0.9, 0.4)]],
    )
    return replace(receipt, **changes) if changes else receipt  # type: ignore[arg-type]


BUILDERS: dict[PaperKind, Callable[[], Paper]] = {
    PaperKind.RECEIPT: make_receipt,
    PaperKind.CORRECTION: make_correction,
    PaperKind.REJECTION: make_rejection,
    PaperKind.APPROVAL: make_approval,
    PaperKind.PICKUP: make_pickup,
    PaperKind.TICKET: make_ticket,
    PaperKind.VISIT_RECEIPT: make_visit_receipt,
}
CASE_KINDS = [k for k in PaperKind if k != PaperKind.TICKET]

# Text each paper must show in Chinese (beside the shared facts).
KEY_TEXT: dict[PaperKind, list[str]] = {
    PaperKind.RECEIPT: ["受理通知书", "第三十二条第一款第（五）项"],
    PaperKind.CORRECTION: [
        "一次性补正告知书",
        "第三十二条第一款第（四）项",
        "一次告知申请人需要补正的全部内容",
        "食品安全管理制度文本",
        "未提交",
        "经营场所平面布局图",
        "未标明加工操作区与就餐区的面积，比例尺缺失",
        "证件已过有效期",
        "提交原件（核验）及复印件2份",
        "2026年12月1日",
        "杭州市西湖区政务服务中心二楼第3号窗口",
        "营业执照复印件",
    ],
    PaperKind.REJECTION: [
        "不予受理通知书",
        "（一）申请事项依法不需要取得行政许可。",
        "（二）申请人申请的经营项目不属于本机关职权范围",
        "第三十二条第一款第（一）项、第（二）项",
        "如不服本决定，可在收到本通知书之日起六十日内向杭州市西湖区人民政府申请行政复议，"
        "或者在六个月内向杭州市西湖区人民法院提起行政诉讼。",
    ],
    PaperKind.APPROVAL: [
        "准予行政许可决定书",
        "第三十四条第二款、第三十八条第一款",
        "准予你单位从事预包装食品（含冷藏冷冻食品）销售",
        "2031年11月23日",
    ],
    PaperKind.PICKUP: [
        "办理结果领取凭证",
        "食品经营许可证（正本、副本各一份）",
        "王**",
        "2026年12月8日15:05",
    ],
    PaperKind.TICKET: ["排队号票", "A012", "食品经营许可（新办）", "您前面还有4人等候", "09:30-10:00"],
    PaperKind.VISIT_RECEIPT: [
        "一件事一次办回执",
        "开办餐饮店",
        "330106-20261124-03-0013",
        "户外招牌设置备案",
    ],
}
# In English the legal names stay Chinese data; the numbers and the case facts must be there.
SHARED_FACTS = [
    CASE_NO,
    "330106-000-XK-0021",
    "110105********002X",
    "张**",
    "138****5678",
    "李晓梅",
    "XH0317",
]


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed")
    return path


def zbar(png: Path, symbology: str) -> list[str]:
    res = subprocess.run(
        [need("zbarimg"), "-q", "--raw", "-Sdisable", f"-S{symbology}.enable", str(png)],
        check=False,
        capture_output=True,
        text=True,
    )
    return [line for line in res.stdout.split("\n") if line]


def first_page_png(pdf: bytes, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [
            need("pdftoppm"),
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(tmp_path / name),
        ],
        check=True,
    )
    return tmp_path / f"{name}.png"


CASES = [(kind, layout, lang) for kind in PaperKind for layout in ("a4", "slip") for lang in ("zh_CN", "en")]


@pytest.fixture(scope="module", params=CASES, ids="-".join)
def rendered(request: pytest.FixtureRequest) -> tuple[PaperKind, str, str, bytes]:
    kind, layout, lang = request.param
    return kind, layout, lang, render_paper(BUILDERS[kind](), layout=layout, lang=lang)


def test_key_text_present(rendered: tuple[PaperKind, str, str, bytes]) -> None:
    kind, _, lang, pdf = rendered
    text = pdf_text(pdf)
    if kind != PaperKind.TICKET:
        for expected in SHARED_FACTS:
            assert expected in text, expected
    if lang == "zh_CN":
        for expected in KEY_TEXT[kind]:
            assert "".join(expected.split()) in text, expected


def test_raw_personal_data_never_on_paper(rendered: tuple[PaperKind, str, str, bytes]) -> None:
    kind, _, _, pdf = rendered
    text = pdf_text(pdf)
    for raw in (RAW_ID, RAW_PHONE, RAW_NAME, "王建国"):
        assert raw not in text
    for raw in (RAW_ID, RAW_PHONE):
        assert raw.encode() not in pdf


def test_one_page_and_page_size(rendered: tuple[PaperKind, str, str, bytes]) -> None:
    _, layout, _, pdf = rendered
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    if layout == "a4":
        assert (float(box.width), float(box.height)) == pytest.approx((210 * MM, 297 * MM), abs=0.5)
    else:
        assert float(box.width) == pytest.approx(80 * MM, abs=0.5)


def test_every_font_embedded(rendered: tuple[PaperKind, str, str, bytes], tmp_path: Path) -> None:
    pdffonts = need("pdffonts")
    path = tmp_path / "doc.pdf"
    path.write_bytes(rendered[3])
    out = subprocess.run([pdffonts, str(path)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", row
        assert "STSong" not in name and "Helvetica" not in name and "Times" not in name, row


def test_codes_decode(rendered: tuple[PaperKind, str, str, bytes], tmp_path: Path) -> None:
    kind, layout, lang, pdf = rendered
    png = first_page_png(pdf, tmp_path, f"{kind}-{layout}-{lang}")
    if kind == PaperKind.TICKET:
        assert zbar(png, "code128") == ["A012"]
        assert zbar(png, "qrcode") == []
        return
    assert zbar(png, "qrcode") == [VERIFY_URL]
    assert zbar(png, "code128") == [CASE_NO]


@pytest.mark.parametrize("kind", list(PaperKind))
@pytest.mark.parametrize("layout", ["a4", "slip"])
def test_reprint_mark(kind: PaperKind, layout: str) -> None:
    paper = BUILDERS[kind]()
    assert "补打" not in pdf_text(render_paper(paper, layout=layout))
    assert "补打（第3次）" in pdf_text(render_paper(paper, layout=layout, reprint_no=3))


@pytest.mark.parametrize("kind", CASE_KINDS)
def test_metadata_and_ids(kind: PaperKind) -> None:
    paper = BUILDERS[kind]()
    assert paper_kind(paper) == kind
    pdf = render_paper(paper)
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.title == f"{paper_title(paper)} {CASE_NO}"
    assert paper_ref(paper) == CASE_NO
    doc_id = paper.doc_id if isinstance(paper, ReceiptData | VisitReceipt) else paper.header.doc_id  # type: ignore[union-attr]
    assert doc_id in pdf_text(pdf)


def test_rejection_periods_follow_the_notice() -> None:
    text = pdf_text(render_paper(make_rejection(reconsideration_days=15, lawsuit_months=3)))
    assert "之日起十五日内" in text and "在三个月内" in text
    en = pdf_text(render_paper(make_rejection(reconsideration_days=15, lawsuit_months=3), lang="en"))
    assert "15" in en and "3" in en


def test_correction_without_deadline_or_received_materials() -> None:
    text = pdf_text(render_paper(make_correction(deadline=None, received=[])))
    assert "请将上述材料一次补齐后" in text
    assert "已收取并留存的材料" not in text


def test_long_lists_flow_onto_more_a4_pages_and_one_long_slip() -> None:
    problems = [MaterialProblem(f"补充材料第{i}项", MaterialCheck.MISSING) for i in range(45)]
    pdf = render_paper(make_correction(problems=problems))
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    assert "补充材料第44项" in pdf_text(pdf)
    slip = PdfReader(io.BytesIO(render_paper(make_correction(problems=problems), layout="slip")))
    assert len(slip.pages) == 1


def test_approval_title_comes_from_the_data() -> None:
    text = pdf_text(render_paper(make_approval(title="排水许可决定书", valid_until=None)))
    assert "排水许可决定书" in text and "长期" in text


def test_unknown_layout_and_type_are_refused() -> None:
    with pytest.raises(ValueError, match="layout"):
        render_paper(make_rejection(), layout="a5")
    with pytest.raises(TypeError):
        render_paper(object())  # type: ignore[arg-type]


def test_papers_in_a_thread_pool_give_the_same_bytes() -> None:
    from concurrent.futures import ThreadPoolExecutor

    papers: list[Paper] = [BUILDERS[k]() for k in PaperKind]
    reference = [render_paper(p, layout="slip") for p in papers]
    with ThreadPoolExecutor(4) as pool:
        again = list(pool.map(lambda p: render_paper(p, layout="slip"), papers))
    assert again == reference


# --- 生僻字 ---------------------------------------------------------------------------


def test_check_printable_is_quiet_for_ordinary_papers() -> None:
    for kind in PaperKind:
        assert check_printable(BUILDERS[kind]()) == []


def test_check_printable_names_each_field_with_a_rare_character() -> None:
    notice = make_correction(
        header=make_header(clerk_name=f"李{RARE}梅", applicant_name=f"{RARE}三丰"),
        bring_to=f"西湖区{RARE}路8号",
    )
    messages = check_printable(notice)
    assert len(messages) == 3, messages
    assert any("「经办人」" in m and "[U+20000]" in m for m in messages)
    assert any("「申请人」" in m for m in messages)
    assert any("「补正地点」" in m for m in messages)
    assert all(RARE in m for m in messages)


def test_masked_part_of_a_name_is_not_reported() -> None:
    # Only the family name prints; the rest is masked.
    assert check_printable(make_rejection(header=make_header(applicant_name=f"张{RARE}"))) == []


def test_check_printable_reaches_list_items() -> None:
    notice = make_rejection(reasons=["正常理由", f"地址含{RARE}字"])
    (message,) = check_printable(notice)
    assert "不予受理理由第2项" in message
    problem = MaterialProblem(f"{RARE}材料", MaterialCheck.MISSING)
    (message,) = check_printable(make_correction(problems=[problem]))
    assert "需要补正的材料第1项的材料名称" in message


def test_check_printable_for_receipt_and_ticket_in_english() -> None:
    assert check_printable(make_receipt(item_name=f"{RARE}事项"), lang="en")
    assert check_printable(make_ticket(hall_name=f"{RARE}大厅"), lang="en")


def test_rare_character_prints_its_code_point_not_an_empty_box() -> None:
    text = pdf_text(render_paper(make_rejection(reasons=[f"地址含{RARE}字"])))
    assert "地址含[U+20000]字" in text


# --- the receipt's English A4 reprint (a known defect: two pages, title under the 补打 box) ----


def words(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """(text, xMin, yMin, xMax, yMax) of every word on the first page, as poppler lays them out."""
    import re

    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [need("pdftotext"), "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(pattern, out)]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("kind", CASE_KINDS)
def test_a4_reprint_is_one_page_and_the_title_clears_the_mark(
    kind: PaperKind, lang: str, tmp_path: Path
) -> None:
    pdf = render_paper(BUILDERS[kind](), lang=lang, reprint_no=2)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    found = words(pdf, tmp_path)
    mark_words = [w for w in found if w[0].startswith(("补打", "Reprint"))]
    assert mark_words, found[:10]
    mark = mark_words[0]
    # The title is the tallest text near the mark's line.
    title = [w for w in found if w[4] - w[2] > 16 and abs(w[2] - mark[2]) < 20 and w is not mark]
    assert title, found[:10]
    assert max(w[3] for w in title) < mark[1] - 3, (title, mark)
