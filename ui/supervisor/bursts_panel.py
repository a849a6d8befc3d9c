"""集中评价: ratings flagged as a burst (identical, seconds after the decision) for review.

The supervisor records a verdict beside each rating (genuine or suspicious); the
rating itself is never changed or dropped.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import N_, _
from ui.supervisor.fmt import level_name

VERDICTS = {
    wire.BurstVerdict.GENUINE: (N_("确认真实"), "#15803d"),
    wire.BurstVerdict.SUSPICIOUS: (N_("可疑"), "#b91c1c"),
}


class BurstsPanel(QWidget):
    filter_changed = Signal()
    review_requested = Signal(str, object, str)  # case_no, BurstVerdict, note

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("burstsPanel")
        self.items: list[wire.BurstRating] = []
        self.summary = QLabel()
        self.summary.setObjectName("panelTitle")
        self.unreviewed = QCheckBox(_("只看未复核"))
        self.unreviewed.setObjectName("unreviewedOnly")
        self.unreviewed.toggled.connect(lambda _on: self.filter_changed.emit())
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.unreviewed)

        headers = [_("窗口"), _("工作人员"), _("办件编号"), _("事项"), _("评价"), _("办结时间")]
        headers += [_("评价时间"), _("间隔(秒)"), _("复核")]
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName("burstsTable")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._selected)

        self.note = QLineEdit()
        self.note.setObjectName("burstNote")
        self.note.setPlaceholderText(_("复核说明，例如：已调看监控"))
        self.genuine = QPushButton(_("确认为真实评价"))
        self.genuine.setObjectName("genuineButton")
        self.genuine.clicked.connect(lambda: self._review(wire.BurstVerdict.GENUINE))
        self.suspicious = QPushButton(_("标记为可疑"))
        self.suspicious.setObjectName("suspiciousButton")
        self.suspicious.clicked.connect(lambda: self._review(wire.BurstVerdict.SUSPICIOUS))
        actions = QHBoxLayout()
        actions.addWidget(self.note, 1)
        actions.addWidget(self.genuine)
        actions.addWidget(self.suspicious)
        hint = QLabel(
            _(
                "同一窗口连续多条相同评价、且都在办结后几秒内给出，可能不是群众本人所评；复核结论只记录在旁，评价本身不改。"
            )
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(actions)
        lay.addWidget(hint)
        self._selected()

    def show_bursts(self, response: wire.BurstsResponse) -> None:
        self.items = response.bursts
        open_ = sum(b.review is None for b in self.items)
        self.summary.setText(_("集中评价 {n} 条，待复核 {open} 条").format(n=len(self.items), open=open_))
        self.table.setRowCount(len(self.items))
        for row, b in enumerate(self.items):
            verdict, color = VERDICTS[b.review.verdict] if b.review else (N_("待复核"), "#b45309")
            review = _(verdict)
            if b.review is not None:
                review += f"（{b.review.reviewer_name}）"
            cells = [
                str(b.window_no),
                b.clerk_name,
                b.case_no,
                b.item_name or b.item_code,
                level_name(b.level.value),
                b.decided_at.astimezone().strftime("%m-%d %H:%M:%S"),
                b.rated_at.astimezone().strftime("%m-%d %H:%M:%S"),
                f"{b.seconds_after:.0f}",
                review,
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == len(cells) - 1:
                    item.setForeground(QBrush(QColor(color)))
                if col in (0, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self._selected()

    def selected(self) -> list[wire.BurstRating]:
        model = self.table.selectionModel()
        rows = sorted({i.row() for i in model.selectedRows()}) if model else []
        return [self.items[r] for r in rows if r < len(self.items)]

    def _selected(self) -> None:
        chosen = bool(self.selected())
        self.genuine.setEnabled(chosen)
        self.suspicious.setEnabled(chosen)

    def _review(self, verdict: wire.BurstVerdict) -> None:
        note = self.note.text().strip()
        for b in self.selected():
            self.review_requested.emit(b.case_no, verdict, note)
        self.note.clear()
