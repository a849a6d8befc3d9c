"""A line under the idle and called pages: the priority category of the number called, and the wait.

The category is shown by name only (老年人优先 …), never why the clerk marked it. The
estimate comes from the live queue (hallserver/waits.py) and disappears when the
counter is offline rather than show a stale figure.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from hallclient import wire
from hallclient.counter import CATEGORY_LABELS, PRIORITY_CATEGORIES
from hallclient.i18n import N_

PRIORITY = N_("优先办理：{category}")
WAITING = N_("目前等候 {n} 人，现在取号预计等候约 {m} 分钟")
NOBODY_WAITING = N_("目前无人等候，取号后即可办理")


class QueueInfo(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("citizenHint")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.category: wire.TicketCategory | None = None
        self.estimate: wire.WaitEstimate | None = None

    def show_for(
        self,
        t: Callable[[str], str],
        *,
        category: wire.TicketCategory | None,
        estimate: wire.WaitEstimate | None,
        called: bool,
    ) -> None:
        """The line for the page now up: the category only while a number is being called."""
        self.category, self.estimate = category, estimate
        parts = []
        if called and category in PRIORITY_CATEGORIES:
            assert category is not None
            parts.append(t(PRIORITY).format(category=t(CATEGORY_LABELS[category])))
        if estimate is not None and estimate.minutes is not None:
            if estimate.waiting == 0:
                parts.append(t(NOBODY_WAITING))
            else:
                parts.append(t(WAITING).format(n=estimate.waiting, m=estimate.minutes))
        self.setText("　".join(parts))
        self.setVisible(bool(parts))
