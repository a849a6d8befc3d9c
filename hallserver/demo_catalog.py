"""The demo hall's catalog: real kinds of 政务服务事项 with their materials.

Item codes follow the shape of the national unified codes (事项编码); they are
demo values, not a province's real codes. Time limits are in working days.
"""

from __future__ import annotations

from hallclient import wire


def _m(
    code: str, name: str, *, original: bool = True, copies: int = 1, licenses: tuple[str, ...] = ()
) -> wire.Material:
    return wire.Material(
        code=code, name=name, original_required=original, copies=copies, license_types=list(licenses)
    )


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
ID_CARD = _m("M001", "申请人居民身份证", copies=1, licenses=(_ID,))

DEMO_CATALOG: list[wire.ServiceItem] = [
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
            _m("M102", "经营场所使用证明（房产证或租赁合同）"),
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
            _m("M203", "股东主体资格证明", copies=1),
            _m("M204", "法定代表人、董事、监事和经理的任职文件", copies=1),
            _m("M102", "经营场所使用证明（房产证或租赁合同）"),
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
            _m("M302", "营业执照", copies=1, licenses=(_BUSINESS,)),
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
            _m("M402", "不动产权属证书", licenses=(_PROPERTY,)),
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
            _m("M701", "购房合同或不动产权证书", copies=1, licenses=(_PROPERTY,)),
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
            _m("M302", "营业执照", copies=1, licenses=(_BUSINESS,)),
            _m("M102", "经营场所使用证明（房产证或租赁合同）"),
        ],
    ),
]
