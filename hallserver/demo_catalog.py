"""The demo hall's catalog: real kinds of 政务服务事项 with their materials.

Item codes follow the shape of the national unified codes (事项编码); they are
demo values, not a province's real codes. Time limits are in working days.
"""

from __future__ import annotations

from hallclient import wire


def _m(
    code: str,
    name: str,
    *,
    original: bool = True,
    copies: int = 1,
    licenses: tuple[str, ...] = (),
    reuse_days: int = 0,
) -> wire.Material:
    return wire.Material(
        code=code,
        name=name,
        original_required=original,
        copies=copies,
        license_types=list(licenses),
        reuse_days=reuse_days,
    )


# How long a copy the citizen handed in for an earlier case may stand for the same material
# again (复用既往材料). Forms and anything that describes one application are never re-used.
_HALF_YEAR, _YEAR = 180, 365


# E-license type codes (hallserver/licenses.py) that satisfy a material: shared data is used
# instead of a paper copy (减证便民).
_ID, _HOUSEHOLD, _BUSINESS, _MARRIAGE, _PROPERTY, _DRIVING, _BIRTH = (
    "DZZZ-GA-001",
    "DZZZ-GA-002",
    "DZZZ-SCJG-001",
    "DZZZ-MZ-001",
    "DZZZ-ZRZY-001",
    "DZZZ-GA-003",
    "DZZZ-WSJK-001",
)
ID_CARD = _m("M001", "申请人居民身份证", copies=1, licenses=(_ID,), reuse_days=_HALF_YEAR)

# Items citizens book one at a time (the seeded bookings pick from these).
SINGLE_ITEMS: list[wire.ServiceItem] = [
    wire.ServiceItem(
        code="11330100MB0001001A4000117001",
        version=3,
        name="个体工商户设立登记",
        department="市场监督管理局",
        legal_days=15,
        promised_days=1,
        materials=[
            ID_CARD,
            _m("M101", "个体工商户登记（备案）申请书", copies=0),
            _m("M102", "经营场所使用证明（房产证或租赁合同）", reuse_days=_YEAR),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0001001A4000117002",
        version=2,
        name="有限责任公司设立登记",
        department="市场监督管理局",
        legal_days=15,
        promised_days=3,
        materials=[
            _m("M201", "公司登记（备案）申请书", copies=0),
            _m("M202", "公司章程", copies=1),
            _m("M203", "股东主体资格证明", copies=1, reuse_days=_HALF_YEAR),
            _m("M204", "法定代表人、董事、监事和经理的任职文件", copies=1),
            _m("M102", "经营场所使用证明（房产证或租赁合同）", reuse_days=_YEAR),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0001001A4000121003",
        version=4,
        name="食品经营许可证核发",
        department="市场监督管理局",
        legal_days=20,
        promised_days=10,
        materials=[
            _m("M301", "食品经营许可申请书", copies=0),
            _m("M302", "营业执照", copies=1, licenses=(_BUSINESS,), reuse_days=_YEAR),
            _m("M303", "与食品经营相适应的主要设备设施布局、操作流程等文件", original=False),
            _m("M304", "食品安全管理制度", original=False),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0002002A4000111004",
        version=2,
        name="不动产转移登记（二手房买卖）",
        department="自然资源和规划局",
        legal_days=30,
        promised_days=5,
        materials=[
            ID_CARD,
            _m("M401", "不动产登记申请书", copies=0),
            _m("M402", "不动产权属证书", licenses=(_PROPERTY,), reuse_days=_YEAR),
            _m("M403", "存量房买卖合同", copies=1),
            _m("M404", "完税凭证", copies=1),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0003003A4000112005",
        version=1,
        name="城乡居民基本养老保险参保登记",
        department="人力资源和社会保障局",
        legal_days=20,
        promised_days=0,
        instant=True,
        materials=[ID_CARD, _m("M501", "户口簿", copies=1, licenses=(_HOUSEHOLD,))],
    ),
    wire.ServiceItem(
        code="11330100MB0003003A4000112006",
        version=2,
        name="社会保障卡补领、换领",
        department="人力资源和社会保障局",
        legal_days=20,
        promised_days=5,
        materials=[ID_CARD, _m("M601", "社会保障卡补换申请表", copies=0)],
        fee="工本费 20 元",
    ),
    wire.ServiceItem(
        code="11330100MB0004004A4000112007",
        version=3,
        name="住房公积金提取（购买自住住房）",
        department="住房公积金管理中心",
        legal_days=3,
        promised_days=1,
        materials=[
            ID_CARD,
            _m("M701", "购房合同或不动产权证书", copies=1, licenses=(_PROPERTY,), reuse_days=_YEAR),
            _m("M702", "购房发票", copies=1),
            _m("M703", "本人名下银行卡", copies=0),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0005005A4000112008",
        version=2,
        name="机动车驾驶证期满换证",
        department="公安局交通警察支队",
        legal_days=1,
        promised_days=0,
        instant=True,
        materials=[
            ID_CARD,
            _m("M801", "机动车驾驶证", licenses=(_DRIVING,)),
            _m("M802", "身体条件证明", copies=0),
        ],
        fee="工本费 10 元",
    ),
    wire.ServiceItem(
        code="11330100MB0005005A4000112009",
        version=1,
        name="户口迁入（投靠）",
        department="公安局",
        legal_days=20,
        promised_days=10,
        materials=[
            ID_CARD,
            _m("M901", "户口簿", copies=1, licenses=(_HOUSEHOLD,)),
            _m("M902", "亲属关系证明（结婚证、出生医学证明等）", copies=1, licenses=(_MARRIAGE, _BIRTH)),
            _m("M903", "合法稳定住所证明", copies=1),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0006006A4000117010",
        version=2,
        name="建筑工程施工许可证核发",
        department="住房和城乡建设局",
        legal_days=7,
        promised_days=3,
        materials=[
            _m("M1001", "建筑工程施工许可证申请表", copies=0),
            _m("M1002", "建设工程规划许可证", copies=1),
            _m("M1003", "施工合同", copies=1),
            _m("M1004", "施工图设计文件审查合格书", copies=1),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0003003A4000112011",
        version=1,
        name="失业保险金申领",
        department="人力资源和社会保障局",
        legal_days=10,
        promised_days=2,
        materials=[ID_CARD, _m("M1101", "解除或终止劳动关系证明", copies=1)],
    ),
    wire.ServiceItem(
        code="11330100MB0007007A4000112012",
        version=1,
        name="医疗保险异地就医备案",
        department="医疗保障局",
        legal_days=5,
        promised_days=0,
        instant=True,
        materials=[ID_CARD, _m("M1201", "异地就医备案申请表", copies=0)],
    ),
    wire.ServiceItem(
        code="11330100MB0008008A4000117013",
        version=2,
        name="出版物零售单位设立审批",
        department="文化广电旅游局",
        legal_days=20,
        promised_days=5,
        materials=[
            _m("M1301", "出版物零售单位设立申请表", copies=0),
            _m("M302", "营业执照", copies=1, licenses=(_BUSINESS,), reuse_days=_YEAR),
            _m("M102", "经营场所使用证明（房产证或租赁合同）", reuse_days=_YEAR),
        ],
    ),
]

# Items done within the 一件事 bundles below (and on their own).
BUNDLE_ITEMS: list[wire.ServiceItem] = [
    wire.ServiceItem(
        code="11330100MB0005005A4000117014",
        version=1,
        name="公章刻制备案",
        department="公安局治安管理支队",
        legal_days=1,
        promised_days=0,
        instant=True,
        materials=[ID_CARD, _m("M1402", "印章刻制申请表", copies=0)],
    ),
    wire.ServiceItem(
        code="11330100MB0009009A4000117015",
        version=1,
        name="新办纳税人涉税事项（含发票申领）",
        department="税务局",
        legal_days=5,
        promised_days=1,
        materials=[
            ID_CARD,
            _m("M1501", "新办纳税人涉税事项综合申请表", copies=0),
            _m("M102", "经营场所使用证明（房产证或租赁合同）", reuse_days=_YEAR),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0003003A4000117016",
        version=1,
        name="单位社会保险登记（员工参保）",
        department="人力资源和社会保障局",
        legal_days=15,
        promised_days=0,
        instant=True,
        materials=[ID_CARD, _m("M1601", "社会保险单位登记表", copies=0)],
    ),
    wire.ServiceItem(
        code="11330100MB0004004A4000117017",
        version=1,
        name="住房公积金单位缴存登记",
        department="住房公积金管理中心",
        legal_days=5,
        promised_days=1,
        materials=[ID_CARD, _m("M1701", "住房公积金单位缴存登记表", copies=0)],
    ),
    wire.ServiceItem(
        code="11330100MB0005005A4000112018",
        version=1,
        name="出生登记（新生儿入户）",
        department="公安局",
        legal_days=5,
        promised_days=0,
        instant=True,
        materials=[
            _m("M1801", "出生医学证明", licenses=(_BIRTH,)),
            _m("M501", "户口簿", copies=1, licenses=(_HOUSEHOLD,)),
            _m("M1802", "父母双方居民身份证", copies=1, licenses=(_ID,)),
            _m("M1803", "父母结婚证", copies=1, licenses=(_MARRIAGE,)),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0007007A4000112019",
        version=1,
        name="城乡居民基本医疗保险参保登记（新生儿）",
        department="医疗保障局",
        legal_days=5,
        promised_days=0,
        instant=True,
        materials=[
            _m("M1901", "新生儿出生医学证明", copies=1, licenses=(_BIRTH,)),
            _m("M501", "户口簿", copies=1, licenses=(_HOUSEHOLD,)),
            _m("M1902", "监护人居民身份证", copies=1, licenses=(_ID,)),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0003003A4000112020",
        version=1,
        name="社会保障卡申领（新生儿）",
        department="人力资源和社会保障局",
        legal_days=20,
        promised_days=5,
        materials=[
            _m("M501", "户口簿", copies=1, licenses=(_HOUSEHOLD,)),
            _m("M1902", "监护人居民身份证", copies=1, licenses=(_ID,)),
            _m("M2001", "社会保障卡申领登记表", copies=0),
            _m("M2002", "新生儿近期免冠照片（电子回执）", copies=0),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0003003A4000112021",
        version=1,
        name="企业职工基本养老保险退休待遇申领",
        department="人力资源和社会保障局",
        legal_days=20,
        promised_days=10,
        materials=[
            ID_CARD,
            _m("M2101", "基本养老保险待遇申领表", copies=0),
            _m("M2102", "本人人事档案（存档机构出具）", copies=0),
            _m("M703", "本人名下银行卡", copies=0),
        ],
    ),
    wire.ServiceItem(
        code="11330100MB0007007A4000112022",
        version=1,
        name="职工医保退休人员待遇核定",
        department="医疗保障局",
        legal_days=15,
        promised_days=5,
        materials=[ID_CARD, _m("M2201", "职工医保退休人员待遇核定申请表", copies=0)],
    ),
    wire.ServiceItem(
        code="11330100MB0004004A4000112023",
        version=1,
        name="住房公积金提取（离休、退休）",
        department="住房公积金管理中心",
        legal_days=3,
        promised_days=1,
        materials=[
            ID_CARD,
            _m("M2301", "退休证明（退休审批表或养老待遇核准通知）", copies=1),
            _m("M703", "本人名下银行卡", copies=0),
        ],
    ),
]

DEMO_CATALOG: list[wire.ServiceItem] = SINGLE_ITEMS + BUNDLE_ITEMS
_BY_CODE = {i.code: i for i in DEMO_CATALOG}


def _alias(code: str, name: str, *uses: tuple[str, str], copies: int = 0) -> wire.SharedMaterial:
    """Differently coded materials of several items that are one paper in the bundle."""
    return wire.SharedMaterial(
        code=code,
        name=name,
        copies=copies,
        used_by=[wire.MaterialUse(item_code=i, material_code=m) for i, m in uses],
    )


def _bundle(
    code: str, name: str, description: str, items: list[str], aliases: list[wire.SharedMaterial]
) -> wire.Bundle:
    from hallclient.visits import shared_materials

    return wire.Bundle(
        code=code,
        version=1,
        name=name,
        description=description,
        items=items,
        shared_materials=shared_materials([_BY_CODE[c] for c in items], aliases),
    )


_COMPANY, _SEAL, _TAX, _SOCIAL, _FUND = (
    "11330100MB0001001A4000117002",
    "11330100MB0005005A4000117014",
    "11330100MB0009009A4000117015",
    "11330100MB0003003A4000117016",
    "11330100MB0004004A4000117017",
)
_BIRTH_REG, _BIRTH_MED, _BIRTH_CARD = (
    "11330100MB0005005A4000112018",
    "11330100MB0007007A4000112019",
    "11330100MB0003003A4000112020",
)
_PENSION, _RETIRE_MED, _RETIRE_FUND = (
    "11330100MB0003003A4000112021",
    "11330100MB0007007A4000112022",
    "11330100MB0004004A4000112023",
)

# 一件事一次办: the items in the order they are decided (the company exists before its seal,
# its tax registration and its staff's insurance), and the papers asked for once.
DEMO_BUNDLES: list[wire.Bundle] = [
    _bundle(
        "YJS-KBQY",
        "开办企业",
        "企业设立登记、公章刻制、新办纳税人涉税事项、员工参保登记、公积金缴存登记，一表申请、一窗办理。",
        [_COMPANY, _SEAL, _TAX, _SOCIAL, _FUND],
        [
            _alias(
                "S-KBQY-FORM",
                "开办企业“一表通”申请表",
                (_COMPANY, "M201"),
                (_SEAL, "M1402"),
                (_TAX, "M1501"),
                (_SOCIAL, "M1601"),
                (_FUND, "M1701"),
            )
        ],
    ),
    _bundle(
        "YJS-XSECS",
        "新生儿出生",
        "出生登记、医保参保、社保卡申领一次办结，出生医学证明和户口簿只需出示一次。",
        [_BIRTH_REG, _BIRTH_MED, _BIRTH_CARD],
        [
            _alias("S-CSYXZM", "出生医学证明", (_BIRTH_REG, "M1801"), (_BIRTH_MED, "M1901"), copies=1),
            _alias(
                "S-FMSFZ",
                "父母（监护人）居民身份证",
                (_BIRTH_REG, "M1802"),
                (_BIRTH_MED, "M1902"),
                (_BIRTH_CARD, "M1902"),
                copies=1,
            ),
        ],
    ),
    _bundle(
        "YJS-TX",
        "退休",
        "养老保险退休待遇申领、医保退休待遇核定、公积金退休提取联办，一张联办申请表。",
        [_PENSION, _RETIRE_MED, _RETIRE_FUND],
        [
            _alias(
                "S-TX-FORM",
                "退休“一件事”联办申请表",
                (_PENSION, "M2101"),
                (_RETIRE_MED, "M2201"),
            )
        ],
    ),
]
