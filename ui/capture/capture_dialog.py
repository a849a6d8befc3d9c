"""采集材料: capture a material's pages from a document camera (高拍仪) or from files.

A document camera is a USB camera to the OS: QtMultimedia's QCamera shows its
live picture and QImageCapture takes a page. Without one (or alongside it) the
clerk adds image or PDF files (a scanner's output, a file the citizen brought).
Pages can be reordered, deleted and rotated; each is cropped to the paper and
cleaned up by hallclient.captures as it comes in, so the thumbnails show what
goes into the PDF. Saving makes the material's one PDF, keeps it encrypted in
the store and emits ``captured(material_code, sha256, pages)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hallclient import captures, scanners
from hallclient.i18n import _
from hallclient.store import StoreError
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

THUMB_SIDE = 340
PREVIEW_SIDE = 1000


@dataclass(frozen=True)
class ReadyPage:
    """A page rendered off the GUI thread, with the two pictures the dialog shows of it."""

    page: captures.Page
    thumbnail: bytes
    preview: bytes


def render_page(page: captures.Page) -> ReadyPage:
    """Crop, clean up and encode a frame (about half a second a page): worker-thread work."""
    encoded = page.ready()
    return ReadyPage(
        page, captures.preview_png(encoded, THUMB_SIDE), captures.preview_png(encoded, PREVIEW_SIDE)
    )


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
PDF_DPI = 200


def image_bytes(image: QImage, fmt: str = "PNG") -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, fmt)  # type: ignore[call-overload]
    buf.close()
    return bytes(data.data())


def pdf_pages(path: Path) -> list[bytes]:
    """Each page of a PDF file rendered at 200 dpi, as PNG bytes (QtPdf)."""
    from PySide6.QtPdf import QPdfDocument

    doc = QPdfDocument()
    if doc.load(str(path)) != QPdfDocument.Error.None_:
        raise ValueError(_("无法打开 PDF 文件 {path}").format(path=path.name))
    pages = []
    for n in range(doc.pageCount()):
        size = doc.pagePointSize(n)
        pixels = QSize(round(size.width() / 72 * PDF_DPI), round(size.height() / 72 * PDF_DPI))
        image = doc.render(n, pixels)
        white = QImage(image.size(), QImage.Format.Format_RGB32)
        white.fill(Qt.GlobalColor.white)  # transparent PDF pages would come out black
        from PySide6.QtGui import QPainter

        painter = QPainter(white)
        painter.drawImage(0, 0, image)
        painter.end()
        pages.append(image_bytes(white))
    doc.close()
    return pages


class CaptureDialog(QDialog):
    """One material's pages. ``captures.captured(subject)`` afterwards says it is captured."""

    captured = Signal(str, str, int)  # material_code, sha256, pages

    def __init__(
        self,
        material_code: str,
        material_name: str,
        captures_store: captures.CaptureStore,
        parent: QWidget | None = None,
        *,
        subject: str,
        use_camera: bool = True,
        find_scanners: Callable[[], list[scanners.Scanner]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("captureDialog")
        self.setWindowTitle(_("采集材料：{name}").format(name=material_name))
        self.captures = captures_store
        self.subject = subject
        self.draft = captures.MaterialDraft(material_code, material_name)
        self.saved: captures.CapturedMaterial | None = None
        # Pages are rendered one by one, in the order they came, on a worker of the dialog's own:
        # the camera's live picture and the clerk's keys go on meanwhile.
        self._runner = TaskRunner(self)
        self._pending = 0
        self._shown: dict[int, ReadyPage] = {}  # id(page) -> its pictures
        # QtMultimedia is imported only when a camera is used: Any keeps it out of start-up.
        self._camera: Any = None
        self._session: Any = None
        self._image_capture: Any = None
        self._sink: Any = None

        self.source = QComboBox()
        self.source.setObjectName("captureSource")
        self.preview = QLabel(_("没有高拍仪：请从文件添加（图片或 PDF）"))
        self.preview.setObjectName("capturePreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(480, 360)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setStyleSheet("background:#333;color:#eee;")
        self.shoot = QPushButton(_("拍摄本页（空格）"))
        self.shoot.setObjectName("captureShoot")
        self.add_files_button = QPushButton(_("从文件添加…"))
        self.add_files_button.setObjectName("captureAddFiles")

        self.pages = QListWidget()
        self.pages.setObjectName("capturePages")
        self.pages.setViewMode(QListView.ViewMode.IconMode)
        self.pages.setIconSize(QSize(120, 170))
        self.pages.setMovement(QListView.Movement.Static)
        self.pages.setMinimumWidth(300)
        self.pages.currentRowChanged.connect(self._show_page)
        self.up = QPushButton(_("前移"))
        self.up.setObjectName("capturePageUp")
        self.down = QPushButton(_("后移"))
        self.down.setObjectName("capturePageDown")
        self.rotate = QPushButton(_("旋转 90°"))
        self.rotate.setObjectName("capturePageRotate")
        self.delete = QPushButton(_("删除本页"))
        self.delete.setObjectName("capturePageDelete")
        self.summary = QLabel()
        self.summary.setObjectName("captureSummary")
        self.problem = QLabel()
        self.problem.setObjectName("captureProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b00020;")
        self.problem.setVisible(False)
        self.save_button = QPushButton(_("保存材料"))
        self.save_button.setObjectName("captureSave")
        self.save_button.setDefault(True)
        cancel = QPushButton(_("取消"))

        left = QVBoxLayout()
        left.addWidget(self.source)
        left.addWidget(self.preview, 1)
        shots = QHBoxLayout()
        shots.addWidget(self.shoot)
        shots.addWidget(self.add_files_button)
        left.addLayout(shots)
        right = QVBoxLayout()
        right.addWidget(QLabel(_("已采集的页（按顺序合成一份 PDF）")))
        right.addWidget(self.pages, 1)
        edit = QHBoxLayout()
        for b in (self.up, self.down, self.rotate, self.delete):
            edit.addWidget(b)
        right.addLayout(edit)
        top = QHBoxLayout()
        top.addLayout(left, 3)
        top.addLayout(right, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(cancel)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.problem)
        layout.addLayout(bottom)

        self.shoot.clicked.connect(self.take_picture)
        self.add_files_button.clicked.connect(self._choose_files)
        self.up.clicked.connect(lambda: self.move_current(-1))
        self.down.clicked.connect(lambda: self.move_current(1))
        self.rotate.clicked.connect(self.rotate_current)
        self.delete.clicked.connect(self.delete_current)
        self.save_button.clicked.connect(self.save)
        cancel.clicked.connect(self.reject)
        space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        space.activated.connect(self.take_picture)
        self.source.currentIndexChanged.connect(self._source_changed)

        self._scanning = False
        self._fill_sources(use_camera)
        # Asking SANE for scanners can take seconds (network scanners): the list grows when it answers.
        search = find_scanners or (scanners.find_scanners if use_camera else None)
        if search is not None:
            self._runner.run(search, self._scanners_found, pool="io")
        self._refresh()
        self.resize(1100, 720)

    # -- sources --------------------------------------------------------------------------------

    def _fill_sources(self, use_camera: bool) -> None:
        devices = []
        if use_camera:
            try:
                from PySide6.QtMultimedia import QMediaDevices

                devices = list(QMediaDevices.videoInputs())
            except ImportError:  # QtMultimedia missing from a trimmed install: files still work
                devices = []
        self.source.blockSignals(True)
        for device in devices:
            self.source.addItem(_("高拍仪：{name}").format(name=device.description()), device)
        self.source.addItem(_("文件（图片或 PDF）"), None)
        self.source.blockSignals(False)
        self._source_changed()

    def _scanners_found(self, found: list[scanners.Scanner]) -> None:
        files_at = self.source.count() - 1
        self.source.blockSignals(True)
        for scanner in found:
            self.source.insertItem(files_at, _("扫描仪：{name}").format(name=scanner.label), scanner)
            files_at += 1
        self.source.blockSignals(False)

    def _scanner(self) -> scanners.Scanner | None:
        data = self.source.currentData()
        return data if isinstance(data, scanners.Scanner) else None

    def _source_changed(self) -> None:
        self._stop_camera()
        device = self.source.currentData()
        scanner = self._scanner()
        if device is not None and scanner is None:
            self._start_camera(device)
        self.shoot.setEnabled((self._camera is not None or scanner is not None) and not self._scanning)
        self.shoot.setText(_("扫描本页（空格）") if scanner else _("拍摄本页（空格）"))
        if scanner is not None:
            self.preview.setText(_("把材料放在扫描仪上，按空格扫描一页"))
        elif self._camera is None:
            self.preview.setText(_("没有高拍仪：请从文件添加（图片或 PDF）"))

    def _start_camera(self, device: object) -> None:
        from PySide6.QtMultimedia import QCamera, QImageCapture, QMediaCaptureSession, QVideoSink

        camera = QCamera(device)  # type: ignore[call-overload]
        session = QMediaCaptureSession(self)
        session.setCamera(camera)
        image_capture = QImageCapture(self)
        image_capture.setQuality(QImageCapture.Quality.VeryHighQuality)
        session.setImageCapture(image_capture)
        sink = QVideoSink(self)
        session.setVideoSink(sink)
        sink.videoFrameChanged.connect(self._frame)
        image_capture.imageCaptured.connect(self._captured_image)
        image_capture.errorOccurred.connect(lambda _id, _err, text: self._problem(text))
        camera.errorOccurred.connect(lambda _err, text: self._problem(text))
        self._camera, self._session, self._image_capture, self._sink = camera, session, image_capture, sink
        camera.start()

    def _stop_camera(self) -> None:
        if self._camera is not None:
            self._camera.stop()
        self._camera = self._session = self._image_capture = self._sink = None

    def camera_active(self) -> bool:
        return self._camera is not None and self._camera.isActive()

    def _frame(self, frame: object) -> None:
        image = frame.toImage()  # type: ignore[attr-defined]
        if not image.isNull():
            self.preview.setPixmap(
                QPixmap.fromImage(image).scaled(
                    self.preview.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
            )

    def take_picture(self) -> None:
        scanner = self._scanner()
        if scanner is not None:
            self._scan(scanner)
        elif self._image_capture is not None and self._image_capture.isReadyForCapture():
            self._image_capture.capture()

    def _scan(self, scanner: scanners.Scanner) -> None:
        if self._scanning:
            return
        self._scanning = True
        self.shoot.setEnabled(False)
        self.preview.setText(_("正在扫描…"))

        def finished() -> None:
            self._scanning = False
            self.shoot.setEnabled(self._camera is not None or self._scanner() is not None)
            if self._scanner() is not None:
                self.preview.setText(_("把材料放在扫描仪上，按空格扫描一页"))

        def scanned(png: bytes) -> None:
            finished()
            self.show_problem("")
            self.add_images([png])

        def failed(exc: BaseException) -> None:
            finished()
            self.show_problem(str(exc))

        self._runner.run(lambda: scanners.scan_page(scanner), scanned, failed, pool="io")

    def _captured_image(self, _id: int, image: QImage) -> None:
        self.add_images([image_bytes(image, "JPG")])

    def _problem(self, text: str) -> None:
        log.warning("document camera: %s", text)
        self.show_problem(_("高拍仪出错：{error}").format(error=text))

    def show_problem(self, text: str) -> None:
        """Said in the dialog itself (not a modal box): the clerk goes on capturing."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    # -- pages ----------------------------------------------------------------------------------

    def _choose_files(self) -> None:
        names, _filter = QFileDialog.getOpenFileNames(
            self, _("选择材料文件"), "", _("图片或 PDF (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp *.pdf)")
        )
        if names:
            self.add_files([Path(n) for n in names])

    def add_files(self, paths: Sequence[Path]) -> None:
        images: list[bytes] = []
        for path in paths:
            try:
                if path.suffix.lower() == ".pdf":
                    images.extend(pdf_pages(path))
                elif path.suffix.lower() in IMAGE_SUFFIXES:
                    images.append(path.read_bytes())
                else:
                    raise ValueError(_("不支持的文件类型：{name}").format(name=path.name))
            except (OSError, ValueError) as exc:
                self.show_problem(str(exc))
        self.add_images(images)

    @property
    def busy(self) -> bool:
        """Pages still being rendered: saving and editing wait for them."""
        return self._pending > 0

    def add_images(self, images: Sequence[bytes]) -> None:
        for data in images:
            self._render(captures.Page(data), self._page_added)
        self._refresh(self.pages.currentRow())

    def _render(self, page: captures.Page, done: Any) -> None:
        self._pending += 1
        self._runner.run(lambda: render_page(page), done, self._page_failed)

    def _page_added(self, ready: ReadyPage) -> None:
        self._pending -= 1
        self._shown[id(ready.page)] = ready
        self.draft.pages.append(ready.page)
        self._refresh(len(self.draft.pages) - 1)

    def _page_failed(self, exc: BaseException) -> None:
        self._pending -= 1
        log.warning("a captured page could not be read: %s", type(exc).__name__)
        if isinstance(exc, (OSError, ValueError)):  # PIL's "cannot identify image file <BytesIO…>"
            self.show_problem(_("无法读取图片：不是可识别的图片文件，或文件已损坏"))
        else:
            self.show_problem(_("无法读取图片：{error}").format(error=exc))
        self._refresh(self.pages.currentRow())

    def move_current(self, step: int) -> None:
        row = self.pages.currentRow()
        if row < 0 or self.busy or not 0 <= row + step < len(self.draft.pages):
            return
        self.draft.move(row, row + step)
        self._refresh(row + step)

    def rotate_current(self) -> None:
        row = self.pages.currentRow()
        if row < 0 or self.busy:
            return
        old = self.draft.pages[row]

        def turned(ready: ReadyPage) -> None:
            self._pending -= 1
            self._shown.pop(id(old), None)
            self._shown[id(ready.page)] = ready
            # Editing waits while a page renders, so the old page is still in the draft.
            at = self.draft.pages.index(old)
            self.draft.pages[at] = ready.page
            self._refresh(at)

        self._render(old.turned(90), turned)
        self._refresh(row)

    def delete_current(self) -> None:
        row = self.pages.currentRow()
        if row >= 0 and not self.busy:
            self._shown.pop(id(self.draft.pages[row]), None)
            self.draft.delete(row)
            self._refresh(min(row, len(self.draft.pages) - 1))

    def _pictures(self, page: captures.Page) -> ReadyPage:
        ready = self._shown.get(id(page))
        if ready is None:  # a page put in the draft by other code: render it here, once
            ready = self._shown[id(page)] = render_page(page)
        return ready

    def _thumbnail(self, page: captures.Page) -> QPixmap:
        pixmap = QPixmap()
        pixmap.loadFromData(self._pictures(page).thumbnail)
        return pixmap

    def _refresh(self, select: int = -1) -> None:
        self.pages.blockSignals(True)
        self.pages.clear()
        for n, page in enumerate(self.draft.pages, start=1):
            item = QListWidgetItem(QIcon(self._thumbnail(page)), _("第 {n} 页").format(n=n))
            self.pages.addItem(item)
        self.pages.blockSignals(False)
        if select >= 0:
            self.pages.setCurrentRow(select)
            self._show_page(select)
        size = sum(len(p.ready().data) for p in self.draft.pages)
        text = (
            _("共 {n} 页，约 {kb} KB").format(n=len(self.draft.pages), kb=size // 1024)
            if self.draft.pages
            else ""
        )
        if self.busy:
            text = (text + "  " if text else "") + _("正在处理 {n} 页…").format(n=self._pending)
        self.summary.setText(text)
        editable = bool(self.draft.pages) and not self.busy
        for b in (self.up, self.down, self.rotate, self.delete, self.save_button):
            b.setEnabled(editable)

    def _show_page(self, row: int) -> None:
        if self._camera is not None or not 0 <= row < len(self.draft.pages):
            return
        pixmap = QPixmap()
        pixmap.loadFromData(self._pictures(self.draft.pages[row]).preview)
        self.preview.setPixmap(
            pixmap.scaled(
                self.preview.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    # -- saving ---------------------------------------------------------------------------------

    def save(self) -> None:
        if not self.draft.pages or self.busy:
            return
        try:
            self.saved = self.captures.save(self.subject, self.draft)
        except StoreError as exc:
            self.show_problem(str(exc))
            return
        self.captured.emit(self.draft.material_code, self.saved.sha256, self.saved.pages)
        self.accept()

    def done(self, result: int) -> None:
        self._stop_camera()
        self._runner.shutdown()
        super().done(result)
