"""一次性告知补正: the whole list the citizen will take home, checked once more before printing."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QLabel, QListWidget, QWidget

from hallclient import wire
from hallclient.decisions import MaterialFinding, problems_of
from hallclient.domain import MaterialCheck
from hallclient.i18n import _
from ui.clerk.action_dialog import ActionDialog


class CorrectionDialog(ActionDialog):
    def __init__(
        self,
        item: wire.ServiceItem,
        findings: dict[str, MaterialFinding],
        deadline: dt.date | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("一次性告知补正：{item}").format(item=item.name), _("出具补正告知书"), parent)
        self.setObjectName("correctionDialog")
        self.findings = findings
        problems = problems_of(item, findings)
        self.list = QListWidget()
        self.list.setObjectName("correctionList")
        for p in problems:
            what = _("缺失") if p.check is MaterialCheck.MISSING else _("不符合要求")
            line = f"{p.name}：{what}" + (f"，{p.what_is_wrong}" if p.what_is_wrong else "")
            self.list.addItem(line)
        unchecked = [m.name for m in item.materials if m.code not in findings]
        intro = QLabel(
            _("以下 {n} 项将一次性写入补正告知书，群众补齐后再来一次即可办理：").format(n=len(problems))
            if problems
            else _("还没有标记缺失或不符合要求的材料。")
        )
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        self.body.addWidget(self.list)
        if unchecked:
            warn = QLabel(_("尚未核验：{names}").format(names="、".join(unchecked)))
            warn.setObjectName("dialogError")
            warn.setWordWrap(True)
            self.body.addWidget(warn)
        due = QLabel(
            _("补正期限：{date}").format(date=deadline.isoformat()) if deadline else _("补正期限：不设期限")
        )
        self.body.addWidget(due)

    def values(self) -> dict[str, MaterialFinding]:
        return self.findings
