"""hallclient/decisions.py: what each decision requires (行政许可法 §32) and what its paper is built from."""

from __future__ import annotations

import datetime as dt

import pytest

from hallclient import wire
from hallclient.decisions import (
    DEFAULT_LEGAL_BASIS,
    REJECTION_REASONS,
    DecisionRefused,
    MaterialFinding,
    approval_text,
    case_header,
    check_accept,
    check_correction,
    check_instant,
    check_rejection,
    checked_materials,
    findings_from_checks,
    problems_of,
    received_materials,
    require_all_checked,
)
from hallclient.domain import HallInfo, MaterialCheck, ReceivedMaterial
from hallclient.papers import MaterialProblem

SEEN = MaterialCheck.ORIGINAL_SEEN
COPY = MaterialCheck.COPY_TAKEN
MISSING = MaterialCheck.MISSING
WRONG = MaterialCheck.WRONG

ITEM = wire.ServiceItem(
    code="11330100MB0002002A4000111004",
    version=2,
    name="不动产转移登记（二手房买卖）",
    department="自然资源和规划局",
    legal_days=30,
    promised_days=5,
    materials=[
        wire.Material(code="M001", name="申请人居民身份证", copies=1),
        wire.Material(code="M401", name="不动产登记申请书", copies=0),
        wire.Material(code="M402", name="不动产权属证书"),
        wire.Material(code="M403", name="存量房买卖合同", copies=2),
        wire.Material(code="M404", name="完税凭证", original_required=False, copies=1),
    ],
)
INSTANT = wire.ServiceItem(
    code="11330100MB0007007A4000112012",
    version=1,
    name="医疗保险异地就医备案",
    department="医疗保障局",
    legal_days=5,
    promised_days=0,
    instant=True,
    materials=[
        wire.Material(code="M001", name="申请人居民身份证"),
        wire.Material(code="M1201", name="异地就医备案申请表", copies=0),
    ],
)
NO_MATERIALS = wire.ServiceItem(
    code="X-0", version=1, name="咨询", department="综合窗口", legal_days=0, promised_days=0, materials=[]
)


def all_fine(item: wire.ServiceItem = ITEM, check: MaterialCheck = SEEN) -> dict[str, MaterialFinding]:
    return {m.code: MaterialFinding(check) for m in item.materials}


def with_(base: dict[str, MaterialFinding], **changes: MaterialFinding) -> dict[str, MaterialFinding]:
    return {**base, **changes}


def refused(fn: object, *args: object) -> str:
    with pytest.raises(DecisionRefused) as err:
        fn(*args)  # type: ignore[operator]
    return str(err.value)


# -- every material looked at --------------------------------------------------------


def test_refusals_are_value_errors() -> None:
    assert issubclass(DecisionRefused, ValueError)


def test_all_checked_passes_with_any_check_per_material() -> None:
    findings = {
        "M001": MaterialFinding(SEEN),
        "M401": MaterialFinding(COPY),
        "M402": MaterialFinding(MISSING),
        "M403": MaterialFinding(WRONG, "缺少卖方签字"),
        "M404": MaterialFinding(SEEN),
    }
    require_all_checked(ITEM, findings)  # no exception


def test_unchecked_materials_are_named_in_catalog_order() -> None:
    findings = all_fine()
    del findings["M404"], findings["M401"]
    message = refused(require_all_checked, ITEM, findings)
    assert "请先核验每一份材料" in message
    assert "不动产登记申请书、完税凭证" in message
    assert "申请人居民身份证" not in message


def test_findings_for_materials_the_item_does_not_have_are_ignored() -> None:
    findings = with_(all_fine(), M999=MaterialFinding(MISSING))
    check_accept(ITEM, findings)
    assert problems_of(ITEM, findings) == []


# -- 受理 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [SEEN, COPY])
def test_accept_with_every_material_seen_or_copied(check: MaterialCheck) -> None:
    check_accept(ITEM, all_fine(check=check))
    check_accept(NO_MATERIALS, {})


def test_accept_with_a_mix_of_originals_and_copies() -> None:
    check_accept(ITEM, with_(all_fine(), M403=MaterialFinding(COPY), M404=MaterialFinding(COPY)))


def test_accept_refused_when_a_material_is_missing() -> None:
    message = refused(check_accept, ITEM, with_(all_fine(), M402=MaterialFinding(MISSING)))
    assert "不能受理" in message and "一次性告知补正" in message
    assert "不动产权属证书" in message
    assert "存量房买卖合同" not in message


def test_accept_refused_when_a_material_is_wrong_even_with_an_explanation() -> None:
    message = refused(check_accept, ITEM, with_(all_fine(), M403=MaterialFinding(WRONG, "缺少卖方签字")))
    assert "存量房买卖合同" in message and "不能受理" in message


def test_accept_refusal_names_every_problem() -> None:
    findings = with_(all_fine(), M001=MaterialFinding(MISSING), M404=MaterialFinding(WRONG, "金额不符"))
    message = refused(check_accept, ITEM, findings)
    assert "申请人居民身份证、完税凭证" in message


def test_accept_refused_when_a_material_was_not_checked() -> None:
    findings = all_fine()
    del findings["M402"]
    message = refused(check_accept, ITEM, findings)
    assert "尚未核验" in message and "不动产权属证书" in message


def test_accept_refused_with_nothing_checked() -> None:
    message = refused(check_accept, ITEM, {})
    for m in ITEM.materials:
        assert m.name in message


# -- 一次性告知补正 ----------------------------------------------------------------------------


def test_correction_refused_when_no_problem_is_marked() -> None:
    message = refused(check_correction, ITEM, all_fine())
    assert "至少要列出一份缺失或不符合要求的材料" in message
    assert "请受理" in message


def test_correction_refused_for_an_item_without_materials() -> None:
    assert "至少要列出一份" in refused(check_correction, NO_MATERIALS, {})


def test_correction_refused_when_not_every_material_was_looked_at() -> None:
    findings = with_(all_fine(), M402=MaterialFinding(MISSING))
    del findings["M001"]
    # One notice must list every problem at once: unchecked materials could hide another one.
    assert "申请人居民身份证" in refused(check_correction, ITEM, findings)


@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_correction_refused_when_a_wrong_material_has_no_explanation(note: str) -> None:
    findings = with_(all_fine(), M403=MaterialFinding(WRONG, note))
    message = refused(check_correction, ITEM, findings)
    assert "请写明以下材料哪里不符合要求" in message
    assert "存量房买卖合同" in message


def test_correction_names_every_unexplained_wrong_material_but_not_the_explained_ones() -> None:
    findings = with_(
        all_fine(),
        M001=MaterialFinding(WRONG, ""),
        M402=MaterialFinding(WRONG, "权属人姓名与申请人不一致"),
        M404=MaterialFinding(WRONG),
    )
    message = refused(check_correction, ITEM, findings)
    assert "申请人居民身份证、完税凭证" in message
    assert "不动产权属证书" not in message


def test_a_missing_material_needs_no_explanation() -> None:
    problems = check_correction(ITEM, with_(all_fine(), M402=MaterialFinding(MISSING)))
    assert problems == [MaterialProblem(name="不动产权属证书", check=MISSING, what_is_wrong="", copies=1)]


def test_correction_lists_every_problem_at_once_in_catalog_order() -> None:
    findings = {
        "M404": MaterialFinding(WRONG, "  税额与合同价不符  "),
        "M403": MaterialFinding(MISSING),
        "M402": MaterialFinding(SEEN),
        "M401": MaterialFinding(WRONG, "未签名"),
        "M001": MaterialFinding(COPY),
    }
    problems = check_correction(ITEM, findings)
    assert problems == [
        MaterialProblem(
            name="不动产登记申请书", check=WRONG, what_is_wrong="未签名", original_required=True, copies=0
        ),
        MaterialProblem(name="存量房买卖合同", check=MISSING, what_is_wrong="", copies=2),
        MaterialProblem(
            name="完税凭证", check=WRONG, what_is_wrong="税额与合同价不符", original_required=False, copies=1
        ),
    ]
    assert problems == problems_of(ITEM, findings)


def test_correction_with_every_material_missing() -> None:
    problems = check_correction(ITEM, all_fine(check=MISSING))
    assert [p.name for p in problems] == [m.name for m in ITEM.materials]
    assert all(p.check is MISSING for p in problems)


# -- 不予受理 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reasons", [[], [""], ["  ", "\n"]])
def test_rejection_refused_without_reasons(reasons: list[str]) -> None:
    message = refused(check_rejection, reasons, DEFAULT_LEGAL_BASIS)
    assert "不予受理必须写明理由" in message


@pytest.mark.parametrize("basis", ["", "   "])
def test_rejection_refused_without_legal_basis(basis: str) -> None:
    message = refused(check_rejection, [REJECTION_REASONS[0]], basis)
    assert "不予受理必须写明法律依据" in message


def test_reasons_are_checked_before_the_legal_basis() -> None:
    assert "理由" in refused(check_rejection, [], "")


def test_rejection_keeps_chosen_and_written_reasons_stripped_in_order() -> None:
    reasons = [REJECTION_REASONS[1], "  ", " 申请人提交的是另一辖区的不动产 ", REJECTION_REASONS[4]]
    assert check_rejection(reasons, DEFAULT_LEGAL_BASIS) == [
        REJECTION_REASONS[1],
        "申请人提交的是另一辖区的不动产",
        REJECTION_REASONS[4],
    ]


def test_the_reason_list_and_default_basis_are_the_laws_wording() -> None:
    assert len(REJECTION_REASONS) == len(set(REJECTION_REASONS)) >= 3
    assert "不属于本行政机关职权范围" in REJECTION_REASONS[1]
    assert "行政许可法" in DEFAULT_LEGAL_BASIS and "第三十二条" in DEFAULT_LEGAL_BASIS


# -- 即办件 ------------------------------------------------------------------------------------


def test_instant_item_with_every_material_is_completed() -> None:
    check_instant(INSTANT, all_fine(INSTANT))


def test_instant_refused_for_an_item_that_is_not_instant() -> None:
    message = refused(check_instant, ITEM, all_fine())
    assert "“不动产转移登记（二手房买卖）”不是即办件" in message
    assert "请受理" in message


def test_instant_item_still_needs_every_material_in_order() -> None:
    findings = with_(all_fine(INSTANT), M1201=MaterialFinding(MISSING))
    assert "异地就医备案申请表" in refused(check_instant, INSTANT, findings)
    del findings["M1201"]
    assert "尚未核验" in refused(check_instant, INSTANT, findings)


# -- what the papers are built from -----------------------------------------------------------


def test_findings_from_checks() -> None:
    assert findings_from_checks({"M001": SEEN, "M402": MISSING}) == {
        "M001": MaterialFinding(SEEN, ""),
        "M402": MaterialFinding(MISSING, ""),
    }


def test_checked_materials_carry_status_and_stripped_note_in_catalog_order() -> None:
    findings = {
        "M404": MaterialFinding(WRONG, " 金额不符 "),
        "M001": MaterialFinding(SEEN),
        "M403": MaterialFinding(COPY),
    }
    assert checked_materials(ITEM, findings) == [
        wire.CheckedMaterial(code="M001", name="申请人居民身份证", status="original_seen", note=""),
        wire.CheckedMaterial(code="M403", name="存量房买卖合同", status="copy_taken", note=""),
        wire.CheckedMaterial(code="M404", name="完税凭证", status="wrong", note="金额不符"),
    ]


def payload(materials: list[wire.CheckedMaterial]) -> wire.CaseDecidedPayload:
    return wire.CaseDecidedPayload(
        case_no="DEMO-20261125-01-0007",
        ticket_no="A007",
        booking_code="YY202611250007",
        item_code=ITEM.code,
        item_version=ITEM.version,
        decision=wire.Decision.CORRECT,
        window_no=1,
        clerk_id=3,
        decided_at=dt.datetime(2026, 11, 25, 10, 15, tzinfo=dt.UTC),
        promised_date=None,
        materials=materials,
        applicant=wire.Applicant(name="欧阳娜娜", id_number="11010519491231002X", phone="13812345678"),
        notes="预审意见已核对",
    )


def test_received_materials_are_the_ones_kept_on_file_with_their_copies() -> None:
    findings = {
        "M001": MaterialFinding(SEEN),
        "M401": MaterialFinding(COPY),
        "M402": MaterialFinding(MISSING),
        "M403": MaterialFinding(COPY),
        "M404": MaterialFinding(WRONG, "金额不符"),
    }
    p = payload(checked_materials(ITEM, findings))
    assert received_materials(ITEM, p) == [
        ReceivedMaterial(name="申请人居民身份证", check=SEEN, copies=1),
        ReceivedMaterial(name="不动产登记申请书", check=COPY, copies=0),
        ReceivedMaterial(name="存量房买卖合同", check=COPY, copies=2),
    ]


def test_received_materials_of_a_material_gone_from_the_catalog_default_to_one_copy() -> None:
    p = payload([wire.CheckedMaterial(code="OLD1", name="旧版申请表", status="original_seen")])
    assert received_materials(ITEM, p) == [ReceivedMaterial(name="旧版申请表", check=SEEN, copies=1)]


def test_case_header_states_the_case_facts() -> None:
    p = payload([])
    hall = HallInfo("DEMO", "示范区政务服务中心", 1)
    clerk = wire.ClerkInfo(id=3, name="王晓燕", staff_no="ZW-0107")
    at = dt.datetime(2026, 11, 25, 18, 15)
    strokes = [[(0.0, 0.0), (1.0, 1.0)]]
    header = case_header(
        doc_id="d1",
        p=p,
        item=ITEM,
        hall=hall,
        clerk=clerk,
        decided_at=at,
        verify_url="http://h/api/v1/verify/d1?s=x",
        signature_strokes=strokes,
    )
    assert (header.doc_id, header.case_no, header.hall) == ("d1", p.case_no, hall)
    assert (header.clerk_name, header.clerk_staff_no) == ("王晓燕", "ZW-0107")
    assert (header.item_code, header.item_version, header.item_name, header.department) == (
        ITEM.code,
        2,
        ITEM.name,
        "自然资源和规划局",
    )
    assert (header.applicant_name, header.applicant_id_number, header.applicant_phone) == (
        "欧阳娜娜",
        "11010519491231002X",
        "13812345678",
    )
    assert header.decided_at == at
    assert header.booking_code == "YY202611250007"
    assert header.notes == "预审意见已核对"
    assert header.signature_strokes == strokes
    no_strokes = case_header(
        doc_id="d2", p=p, item=ITEM, hall=hall, clerk=clerk, decided_at=at, verify_url="u"
    )
    assert no_strokes.signature_strokes == []


def test_approval_text_names_the_applicant_the_item_and_the_law() -> None:
    text = approval_text("欧阳娜娜", "医疗保险异地就医备案")
    assert "申请人欧阳娜娜" in text
    assert "“医疗保险异地就医备案”" in text
    assert "行政许可法" in text and "决定准予行政许可" in text
