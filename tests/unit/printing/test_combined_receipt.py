"""一件事一次办回执: every item of a visit with its case number, decision and date, read back from the PDF."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from hallclient.domain import HallInfo, MaterialCheck
from hallclient.papers import VisitLine, VisitMaterial, VisitReceipt
from hallclient.wire import Decision
from printing.documents import check_printable, paper_ref, paper_title, render_paper
from printing.visit_receipt import used_for_text

DAY = dt.date(2026, 3, 2)
ITEMS = [
    ("有限责任公司设立登记", "市场监督管理局", Decision.ACCEPT, dt.date(2026, 3, 5), 3, None),
    ("公章刻制备案", "公安局治安管理支队", Decision.COMPLETE, DAY, 0, None),
    ("新办纳税人涉税事项（含发票申领）", "税务局", Decision.CORRECT, None, 1, dt.date(2026, 3, 9)),
    ("单位社会保险登记（员工参保）", "人力资源和社会保障局", Decision.REJECT, None, 0, None),
    ("住房公积金单位缴存登记", "住房公积金管理中心", Decision.ACCEPT, dt.date(2026, 3, 3), 1, None),
]


def receipt() -> VisitReceipt:
    lines = [
        VisitLine(
            position=n,
            item_code=f"ITEM{n}",
            item_name=name,
            department=dept,
            case_no=f"DEMO-20260302-01-{n:04d}",
            decision=decision,
            promised_date=promised,
            promised_days=days,
            correction_deadline=deadline,
        )
        for n, (name, dept, decision, promised, days, deadline) in enumerate(ITEMS, start=1)
    ]
    names = [i[0] for i in ITEMS]
    return VisitReceipt(
        doc_id="0123456789abcdef0123",
        hall=HallInfo("DEMO", "示范区政务服务中心", 1),
        clerk_name="王晓燕",
        clerk_staff_no="ZW-0107",
        visit_name="开办企业",
        bundle_code="YJS-KBQY",
        applicant_name="赵开业",
        applicant_id_number="11010519491231002X",
        applicant_phone="13812345678",
        ticket_no="B001",
        booking_code=None,
        lines=lines,
        materials=[
            VisitMaterial("开办企业“一表通”申请表", MaterialCheck.ORIGINAL_SEEN, 0, names),
            VisitMaterial("公司章程", MaterialCheck.COPY_TAKEN, 1, names[:1]),
            VisitMaterial(
                "申请人居民身份证",
                MaterialCheck.E_LICENSE,
                0,
                names[1:],
                "电子证照 居民身份证 DZ-110105-0001",
            ),
        ],
        issued_at=dt.datetime(2026, 3, 2, 10, 5),
        verify_url="http://127.0.0.1:8470/api/v1/verify/0123456789abcdef0123?s=sig",
        signature_strokes=[[(0.1, 0.6), (0.4, 0.2), (0.8, 0.7)]],
    )


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


@pytest.mark.parametrize("layout", ["a4", "slip"])
def test_every_item_with_its_case_number_decision_and_date(layout: str) -> None:
    pages, text = text_of(render_paper(receipt(), layout=layout))
    assert pages == 1
    assert "一件事一次办回执" in text and "开办企业" in text and "共5个事项" in text
    for n, (name, _dept, _d, _p, _days, _dl) in enumerate(ITEMS, start=1):
        assert f"DEMO-20260302-01-{n:04d}" in text
        assert name.replace("（", "(")[:6] in text.replace("（", "(")
    assert "2026年3月5日前（3个工作日）" in text  # the company: accepted, promised in 3 working days
    assert "2026年3月3日前（1个工作日）" in text
    assert "当场办结" in text and "已办结，当场领取" in text
    assert "请于2026年3月9日前补正" in text  # tax: correction with its deadline
    assert "不予受理" in text and "见不予受理通知书" in text
    # The applicant only masked; the e-license named.
    assert "赵**" in text and "110105********002X" in text and "138****5678" in text
    assert "赵开业" not in text and "13812345678" not in text and "11010519491231002X" not in text
    assert "DZ-110105-0001" in text


def test_shared_papers_are_listed_once_with_the_items_they_served() -> None:
    r = receipt()
    _pages, text = text_of(render_paper(r))
    assert text.count("开办企业“一表通”申请表") == 1 and text.count("申请人居民身份证") == 1
    assert used_for_text(r.materials[0], r.lines, lambda s: s) == "全部事项"
    assert used_for_text(r.materials[1], r.lines, lambda s: s) == "第1项"
    assert used_for_text(r.materials[2], r.lines, lambda s: s) == "第2、3、4、5项"
    assert "全部事项" in text and "第2、3、4、5项" in text


def test_filed_under_the_first_case_titled_checked_and_marked_when_reprinted() -> None:
    r = receipt()
    assert paper_ref(r) == "DEMO-20260302-01-0001" == r.case_no
    assert paper_title(r) == "一件事一次办回执"
    assert check_printable(r) == []
    _pages, text = text_of(render_paper(r, reprint_no=2))
    assert "补打（第2次）" in text
    # The same paper renders to the same bytes (its SHA-256 is archived).
    assert render_paper(r) == render_paper(r)


def test_english_labels_keep_the_case_numbers() -> None:
    _pages, text = text_of(render_paper(receipt(), lang="en"))
    for n in range(1, 6):
        assert f"DEMO-20260302-01-{n:04d}" in text
