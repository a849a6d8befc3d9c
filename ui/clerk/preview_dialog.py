"""Preview of a rendered paper (QtPdf): pages, zoom, print to the configured printer, save as PDF.

The PDF is already archived by the time it is shown (``kept_path``); a printer
that is missing or in an error state never loses the paper: the dialog says so
in plain words, names the kept file and offers 另存为PDF.

Printing paints each page as an image rendered by QtPdf into the QPrinter,
white first (DESIGN.md: about 0.3 s a page), on a page of the PDF's own size:
A4, or the thermal slip's 80 mm by its measured height. The clerk's window
must not freeze meanwhile: QtPdf renders a page on a thread of its own (a
``QPdfPageRenderer``, C++ that never takes the GIL) and the page is painted
into the printer a strip at a time, one strip per turn of the event loop;
``print_to`` returns at once and ``printed`` or ``print_failed`` tells how it
ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QObject,
    QPointF,
    QRect,
    QSize,
    QSizeF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument, QPdfDocumentRenderOptions, QPdfPageRenderer
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.i18n import _

log = logging.getLogger(__name__)

# Pages are rendered for the printer at most at this resolution: sharp on paper, and a
# 1200 dpi printer (or a PDF printer) does not get a 140 MB image per page.
PRINT_DPI = 300
# Pixels of a page image painted into the printer per turn of the event loop: the printer's
# PDF engine compresses what it is given while holding the GIL, ~10 ms for this many here.
STRIP_PIXELS = 600_000
ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 4.0


class PrintError(Exception):
    """The paper could not be printed; the message is for the clerk."""


def find_printer(name: str) -> QPrinterInfo:
    """The named printer, or the system default for ''; PrintError if missing or in an error state."""
    if name:
        info = QPrinterInfo.printerInfo(name)
        if info.isNull():
            known = QPrinterInfo.availablePrinterNames()
            raise PrintError(
                _("找不到打印机「{name}」（本机可用：{known}）。").format(
                    name=name, known="、".join(known) if known else _("无")
                )
            )
    else:
        info = QPrinterInfo.defaultPrinter()
        if info.isNull():
            raise PrintError(_("本机没有可用的打印机，也没有设置默认打印机。"))
    if info.state() in (QPrinter.PrinterState.Error, QPrinter.PrinterState.Aborted):
        raise PrintError(_("打印机「{name}」处于离线或故障状态。").format(name=info.printerName()))
    return info


class PreviewDialog(QDialog):
    printed = Signal(str)  # the printer name, or the output file of a PDF printer
    print_failed = Signal(str)  # the clerk's message
    saved = Signal(str)  # the path saved to

    def __init__(
        self,
        pdf: bytes,
        *,
        title: str,
        layout: str = "a4",
        printer_name: str = "",
        kept_path: Path | None = None,
        warnings: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("previewDialog")
        self.setWindowTitle(_("打印预览 - {title}").format(title=title))
        self.pdf = pdf
        self.layout_name = layout
        self.printer_name = printer_name
        self.kept_path = kept_path
        self.doc_title = title
        self._job: _PrintJob | None = None

        # The buffer must outlive the document that reads from it.
        self._data = QByteArray(pdf)
        self._buffer = QBuffer(self)
        self._buffer.setData(self._data)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)

        self.view = QPdfView(self)
        self.view.setObjectName("pdfView")
        self.view.setPageMode(QPdfView.PageMode.SinglePage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        self.view.setDocument(self.document)
        self.view.pageNavigator().currentPageChanged.connect(self._update_page_label)

        self.warning_label = QLabel("\n".join(warnings))
        self.warning_label.setObjectName("printWarnings")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #B00020;")
        self.warning_label.setVisible(bool(warnings))

        self.prev_button = QPushButton(_("上一页"))
        self.prev_button.setObjectName("prevPageButton")
        self.prev_button.clicked.connect(self.previous_page)
        self.next_button = QPushButton(_("下一页"))
        self.next_button.setObjectName("nextPageButton")
        self.next_button.clicked.connect(self.next_page)
        self.page_label = QLabel()
        self.page_label.setObjectName("pageLabel")
        zoom_out = QPushButton(_("缩小"))
        zoom_out.setObjectName("zoomOutButton")
        zoom_out.clicked.connect(self.zoom_out)
        zoom_in = QPushButton(_("放大"))
        zoom_in.setObjectName("zoomInButton")
        zoom_in.clicked.connect(self.zoom_in)
        fit_width = QPushButton(_("适合宽度"))
        fit_width.setObjectName("fitWidthButton")
        fit_width.clicked.connect(lambda: self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth))
        fit_page = QPushButton(_("整页"))
        fit_page.setObjectName("fitPageButton")
        fit_page.clicked.connect(lambda: self.view.setZoomMode(QPdfView.ZoomMode.FitInView))

        self.print_button = QPushButton(_("打印"))
        self.print_button.setObjectName("printButton")
        self.print_button.setDefault(True)
        self.print_button.clicked.connect(self.print_configured)
        save = QPushButton(_("另存为PDF…"))
        save.setObjectName("saveButton")
        save.clicked.connect(self._ask_save)
        close = QPushButton(_("关闭"))
        close.setObjectName("closeButton")
        close.clicked.connect(self.reject)

        self.status_label = QLabel(self._kept_text())
        self.status_label.setObjectName("printStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        nav = QHBoxLayout()
        for w in (self.prev_button, self.page_label, self.next_button):
            nav.addWidget(w)
        nav.addStretch(1)
        for w in (zoom_out, zoom_in, fit_width, fit_page):
            nav.addWidget(w)
        actions = QHBoxLayout()
        actions.addWidget(self.status_label, 1)
        for w in (self.print_button, save, close):
            actions.addWidget(w)
        root = QVBoxLayout(self)
        root.addWidget(self.warning_label)
        root.addLayout(nav)
        root.addWidget(self.view, 1)
        root.addLayout(actions)
        self.resize(760, 900 if layout == "a4" else 760)
        self._update_page_label()

    # -- pages and zoom ------------------------------------------------------------------------

    def page_count(self) -> int:
        return int(self.document.pageCount())

    def current_page(self) -> int:
        return int(self.view.pageNavigator().currentPage())

    def go_to(self, page: int) -> None:
        page = max(0, min(page, self.page_count() - 1))
        self.view.pageNavigator().jump(page, QPointF(), self.view.pageNavigator().currentZoom())
        self._update_page_label()

    def next_page(self) -> None:
        self.go_to(self.current_page() + 1)

    def previous_page(self) -> None:
        self.go_to(self.current_page() - 1)

    def zoom_in(self) -> None:
        self._zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom(1 / ZOOM_STEP)

    def _zoom(self, factor: float) -> None:
        current = self.view.zoomFactor()
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(max(ZOOM_MIN, min(ZOOM_MAX, current * factor)))

    def _update_page_label(self, *_args: object) -> None:
        n, count = self.current_page(), self.page_count()
        self.page_label.setText(_("第 {n} / {count} 页").format(n=n + 1, count=count))
        self.prev_button.setEnabled(n > 0)
        self.next_button.setEnabled(n + 1 < count)

    # -- printing ----------------------------------------------------------------------------------

    def _kept_text(self) -> str:
        if self.kept_path is None:
            return ""
        return _("已存档：{path}").format(path=self.kept_path)

    def _fail(self, message: str) -> None:
        kept = (
            _("文书已保存为 PDF：{path}，可稍后补打。").format(path=self.kept_path)
            if self.kept_path is not None
            else _("可先“另存为PDF”，稍后再打印。")
        )
        text = f"{message}{kept}"
        log.warning("printing %s failed: %s", self.doc_title, message)
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #B00020;")
        self.print_failed.emit(text)

    @property
    def printing(self) -> bool:
        """A print started by ``print_to`` is still being painted into its printer."""
        return self._job is not None

    def print_configured(self) -> bool:
        """Start printing to the configured printer (the system default when none is configured).

        False when it cannot start; otherwise ``printed`` or ``print_failed`` follows.
        """
        try:
            info = find_printer(self.printer_name)
            printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
            self.print_to(printer, announce=True)
        except PrintError as exc:
            self._fail(str(exc))
            return False
        return True

    def print_to(self, printer: QPrinter, *, announce: bool = False) -> None:
        """Start painting every page into ``printer`` at the PDF's own page size; PrintError if it cannot start.

        Returns at once; ``printed`` (the printer's name, or its output file) or
        ``print_failed`` says how it ended. ``announce`` also says so in the status line.
        """
        count = self.page_count()
        if count == 0:
            raise PrintError(_("文书无法显示，未打印。"))
        if self._job is not None:
            log.debug("print of %s asked for while one is still running: ignored", self.doc_title)
            return
        printer.setDocName(self.doc_title)
        printer.setFullPage(True)
        printer.setPageLayout(self._page_layout(0))
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintError(
                _("无法开始打印（打印机「{name}」未就绪或不可写）。").format(
                    name=printer.printerName() or printer.outputFileName()
                )
            )
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        self.print_button.setEnabled(False)
        self._job = _PrintJob(
            self, printer, painter, count, lambda error: self._job_ended(printer, error, announce)
        )
        self._job.start()

    def _job_ended(self, printer: QPrinter, error: str, announce: bool) -> None:
        self._job = None
        QGuiApplication.restoreOverrideCursor()
        self.print_button.setEnabled(True)
        if error:
            self._fail(error)
            return
        name = printer.printerName() or printer.outputFileName()
        if announce:
            self.status_label.setStyleSheet("")
            self.status_label.setText(_("已发送到打印机「{name}」。").format(name=name))
        self.printed.emit(name)

    def _page_layout(self, page: int) -> QPageLayout:
        points = self.document.pagePointSize(page)
        if self.layout_name == "a4":
            size = QPageSize(QPageSize.PageSizeId.A4)
        else:
            size = QPageSize(
                QSizeF(points.width(), points.height()),
                QPageSize.Unit.Point,
                _("热敏小票"),
                QPageSize.SizeMatchPolicy.ExactMatch,
            )
        return QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))

    def image_size(self, page: int, printer: QPrinter) -> QSize:
        """The page rendered for ``printer``: at its resolution, at most PRINT_DPI."""
        dpi = min(printer.resolution(), PRINT_DPI)
        points = self.document.pagePointSize(page)
        return QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))

    # -- saving -------------------------------------------------------------------------------------

    def save_to(self, path: Path) -> None:
        path.write_bytes(self.pdf)
        self.status_label.setStyleSheet("")
        self.status_label.setText(_("已另存为：{path}").format(path=path))
        self.saved.emit(str(path))

    def _ask_save(self) -> None:
        suggested = self.kept_path.name if self.kept_path is not None else f"{self.doc_title}.pdf"
        name, _filter = QFileDialog.getSaveFileName(self, _("另存为PDF"), suggested, _("PDF 文件 (*.pdf)"))
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        try:
            self.save_to(path)
        except OSError as exc:
            self._fail(_("无法保存到 {path}：{error}。").format(path=path, error=exc.strerror or exc))


class _PrintJob(QObject):
    """One print in progress: each page rendered on QtPdf's thread, then painted a strip per event-loop turn."""

    def __init__(
        self,
        dialog: PreviewDialog,
        printer: QPrinter,
        painter: QPainter,
        count: int,
        ended: Callable[[str], None],
    ) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.printer = printer
        self.painter = painter
        self.count = count
        self.ended = ended
        self.page = 0
        self._request = -1
        self._image = QImage()
        self._rows: list[int] = []
        self._strip_rows = 1
        self._target = QRect()
        self.renderer = QPdfPageRenderer(self)
        self.renderer.setRenderMode(QPdfPageRenderer.RenderMode.MultiThreaded)
        self.renderer.setDocument(dialog.document)
        self.renderer.pageRendered.connect(self._rendered)
        # A timer of its own, not singleShot(0, callable): it dies with the job if the dialog is deleted.
        self._next = QTimer(self)
        self._next.setSingleShot(True)
        self._next.setInterval(0)
        self._next.timeout.connect(self._paint_strip)

    def start(self) -> None:
        self._request_page()

    def _request_page(self) -> None:
        size = self.dialog.image_size(self.page, self.printer)
        self._request = int(self.renderer.requestPage(self.page, size, QPdfDocumentRenderOptions()))

    def _rendered(self, page: int, _size: QSize, image: QImage, _options: object, request: int) -> None:
        if int(request) != self._request or page != self.page:
            return
        target = self.printer.paperRect(QPrinter.Unit.DevicePixel).toRect()
        self._target = QRect(0, 0, target.width(), target.height())
        self._image = image
        self._strip_rows = max(16, STRIP_PIXELS // max(1, image.width()))
        self._rows = list(range(0, image.height(), self._strip_rows))
        self._next.start()

    def _paint_strip(self) -> None:
        try:
            self._paint_next_strip()
        except PrintError as exc:
            self._finish(str(exc))

    def _paint_next_strip(self) -> None:
        image, target = self._image, self._target
        if not self._rows:
            self.page += 1
            if self.page == self.count:
                self._finish("")
                return
            self.printer.setPageLayout(self.dialog._page_layout(self.page))
            if not self.printer.newPage():
                raise PrintError(_("打印第 {n} 页时出错。").format(n=self.page + 1))
            self._request_page()
            return
        top = self._rows.pop(0)
        # One row more than the strip: the next strip covers it, so no hairline shows between strips.
        rows = min(self._strip_rows + 1, image.height() - top)
        # QtPdf leaves the page transparent: the paper is white under it, and an opaque strip
        # spares the printer an alpha mask.
        strip = QImage(image.width(), rows, QImage.Format.Format_RGB32)
        strip.fill(QColor("white"))
        composer = QPainter(strip)
        composer.drawImage(QPointF(0, 0), image, QRect(0, top, image.width(), rows))
        composer.end()
        scale = target.height() / image.height()
        y0, y1 = round(top * scale), round((top + rows) * scale)
        self.painter.drawImage(QRect(0, y0, target.width(), y1 - y0), strip)
        self._next.start()

    def _finish(self, error: str) -> None:
        self.painter.end()
        self._image = QImage()
        self.ended(error)
        self.deleteLater()
