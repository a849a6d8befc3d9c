"""A page that says one thing, large (thanks, please wait), and says it again in another language."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.citizen.page import CitizenPage, label


class MessagePage(CitizenPage):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(name, parent)
        self.message = label("citizenMessage")
        self.detail = label("citizenMessageDetail")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 20, 60, 20)
        layout.addStretch(1)
        layout.addWidget(self.message)
        layout.addSpacing(24)
        layout.addWidget(self.detail)
        layout.addStretch(1)
        self._message: tuple[str, dict[str, Any]] = ("", {})
        self._detail: tuple[str, dict[str, Any]] = ("", {})
        self._translated_args: tuple[str, ...] = ()

    def say(
        self, message: str, detail: str = "", *, translate_args: tuple[str, ...] = (), **args: Any
    ) -> None:
        """Show msgids ``message`` and ``detail`` formatted with ``args``; ``translate_args``
        names the args that are msgids themselves (a rating level's name)."""
        self._message, self._detail = (message, args), (detail, args)
        self._translated_args = translate_args
        self._retranslate()

    def text(self) -> str:
        return f"{self.message.text()}\n{self.detail.text()}"

    def _format(self, msgid: str, args: dict[str, Any]) -> str:
        if not msgid:
            return ""
        values = {k: (self.t(v) if k in self._translated_args else v) for k, v in args.items()}
        return self.t(msgid).format(**values)

    def _retranslate(self) -> None:
        self.message.setText(self._format(*self._message))
        self.detail.setText(self._format(*self._detail))
        self.detail.setVisible(bool(self._detail[0]))
