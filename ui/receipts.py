"""Turns a decision into its paper: render off the GUI thread, then archive and register it.

``print_receipt`` serves the 受理通知书 of a decision (archived through the
counter); ``print_paper`` serves every paper type of ``hallclient.papers``: it
checks for characters the fonts lack (生僻字), renders on the io pool, hands the
PDF to the caller's archive step on the counter pool, and gives back a
:class:`PrintedPaper` for the preview dialog (``preview``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hallclient.counter import Counter, DecisionOutcome
from hallclient.i18n import _, language
from hallclient.papers import Paper, PaperKind, QueueTicketSlip, paper_kind
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.clerk.preview_dialog import PreviewDialog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintedPaper:
    """A rendered paper: what the preview shows, prints and saves."""

    kind: PaperKind
    ref: str  # the case number, or the ticket number
    title: str
    layout: str
    pdf: bytes
    path: Path | None = None  # where the archive step kept it; None without one
    reprint_no: int = 0
    # For the clerk before printing: characters no font has, a configured image that is missing.
    warnings: list[str] = field(default_factory=list)


class ReceiptPrinter:
    def __init__(self, counter: Counter, runner: TaskRunner, *, layout: str = "a4") -> None:
        self.counter = counter
        self.runner = runner
        self.layout = layout

    # -- configured images ---------------------------------------------------------------

    def _configured_image(self, value: str, what: str, warnings: list[str]) -> Path | None:
        """A letterhead or seal image from config: relative to the config file; missing -> default and a warning."""
        if not value:
            return None
        path = Path(value).expanduser()
        source = self.counter.config.source
        if not path.is_absolute() and source is not None:
            path = source.parent / path
        if path.is_file():
            return path
        log.warning("configured %s image not found: %s", what, path)
        warnings.append(_("配置的{what}图片不存在：{path}，本次使用默认样式。").format(what=what, path=path))
        return None

    def _images(self, warnings: list[str]) -> tuple[Path | None, Path | None]:
        cfg = self.counter.config.printing
        return (
            self._configured_image(cfg.letterhead, _("信头"), warnings),
            self._configured_image(cfg.seal_image, _("印章"), warnings),
        )

    # -- the receipt of a decision ---------------------------------------------------------

    def print_receipt(
        self,
        outcome: DecisionOutcome,
        on_done: Callable[[tuple[str, Path]], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        def render() -> bytes:
            from printing.receipt import render_receipt

            letterhead, seal = self._images([])
            return render_receipt(
                outcome.receipt, layout=self.layout, letterhead_path=letterhead, seal_path=seal
            )

        def archived(pdf: bytes) -> None:
            self.runner.run(
                lambda: (outcome.receipt.case_no, self.counter.archive_document(outcome, pdf)),
                on_done,
                on_error,
            )

        self.runner.run(render, archived, on_error, pool="io")

    # -- any paper -----------------------------------------------------------------------------

    def layout_for(self, paper: Paper) -> str:
        """The configured layout; a queue ticket is always a thermal slip."""
        return "slip" if isinstance(paper, QueueTicketSlip) else self.layout

    def print_paper(
        self,
        paper: Paper,
        on_done: Callable[[PrintedPaper], None],
        on_error: Callable[[Exception], None],
        *,
        layout: str | None = None,
        lang: str = "zh_CN",
        reprint_no: int = 0,
        archive: Callable[[bytes], Path] | None = None,
    ) -> None:
        """Render ``paper`` on the io pool, then ``archive(pdf) -> path`` on the counter pool when given.

        ``on_done`` gets the :class:`PrintedPaper` (with any 生僻字 warnings) on
        the GUI thread; nothing is sent to a printer here: show it with ``preview``.
        """
        chosen = layout or self.layout_for(paper)

        def render() -> PrintedPaper:
            from printing.documents import check_printable, paper_ref, paper_title, render_paper

            # The clerk reads these: in the clerk's language, whatever the paper's.
            warnings = check_printable(paper, language())
            letterhead, seal = self._images(warnings)
            pdf = render_paper(
                paper,
                layout=chosen,
                lang=lang,
                reprint_no=reprint_no,
                letterhead_path=letterhead,
                seal_path=seal,
            )
            return PrintedPaper(
                kind=paper_kind(paper),
                ref=paper_ref(paper),
                title=paper_title(paper, lang),
                layout=chosen,
                pdf=pdf,
                reprint_no=reprint_no,
                warnings=warnings,
            )

        def rendered(printed: PrintedPaper) -> None:
            if archive is None:
                on_done(printed)
                return
            self.runner.run(
                lambda: _with_path(printed, archive(printed.pdf)),
                on_done,
                on_error,
            )

        self.runner.run(render, rendered, on_error, pool="io")

    def printer_name(self, layout: str) -> str:
        """The configured printer for a layout ('' = the system default)."""
        cfg = self.counter.config.printing
        return cfg.a4_printer if layout == "a4" else cfg.slip_printer

    def preview(self, printed: PrintedPaper, parent: QWidget | None = None) -> PreviewDialog:
        """The preview dialog for a rendered paper, set to its configured printer (not shown yet)."""
        from ui.clerk.preview_dialog import PreviewDialog

        return PreviewDialog(
            printed.pdf,
            title=f"{printed.title} {printed.ref}",
            layout=printed.layout,
            printer_name=self.printer_name(printed.layout),
            kept_path=printed.path,
            warnings=printed.warnings,
            parent=parent,
        )

    def warm_up(self) -> None:
        """Register fonts and styles and load the preview now, so the first receipt of the day is not slow."""

        def warm() -> Any:
            from printing.fonts import warm_up

            warm_up()
            # The preview's module (QtPdf, QtPrintSupport): loaded here, not on the GUI thread
            # the first time a clerk previews a paper (a 150-200 ms freeze in the stall bench).
            import ui.clerk.preview_dialog  # noqa: F401

        self.runner.run(warm, pool="io")


def _with_path(printed: PrintedPaper, path: Path) -> PrintedPaper:
    from dataclasses import replace

    return replace(printed, path=path)
