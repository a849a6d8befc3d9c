"""The scripted counter day behind ``hallclient demo --headless``.

It drives the real windows the way a clerk and citizens would (typing, clicking
buttons), against the embedded server, and writes what the day produced: the
receipts, screenshots of both windows, and a summary. Exit code 0 only if every
step worked and the server holds every decision and rating.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from hallclient.config import Config
from hallclient.domain import MaterialCheck
from hallclient.i18n import _
from hallclient.services import build_services
from hallclient.wire import RatingLevel
from ui.app import CounterApp
from ui.demo import DEMO_PASSWORD, DEMO_USER
from ui.gui import make_qt_app

# How the demo citizens rate: mostly content, one walks away without rating (未评价).
RATING_SCRIPT = [
    RatingLevel.VERY_SATISFIED,
    RatingLevel.SATISFIED,
    RatingLevel.VERY_SATISFIED,
    RatingLevel.NOT_RATED,
    RatingLevel.BASIC,
    RatingLevel.VERY_SATISFIED,
]


class StepFailed(Exception):
    pass


@dataclass
class Step:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class DayReport:
    steps: list[Step] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    cases: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


def wait_until(predicate: Callable[[], object], what: str, timeout_s: float = 30.0) -> None:
    app = QApplication.instance()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if app is not None:
            app.processEvents()
        if predicate():
            return
        time.sleep(0.01)
    raise StepFailed(_("等待超时：{what}").format(what=what))


class CounterDay:
    def __init__(self, counter_app: CounterApp, out_dir: Path, citizens: int) -> None:
        self.app = counter_app
        self.out = out_dir
        self.citizens = citizens
        self.report = DayReport()
        self.printed: list[tuple[str, Path]] = []

    def _on_receipt(self, case_no: str, path: Path) -> None:
        self.printed.append((case_no, path))

    def shot(self, widget: QWidget, name: str) -> None:
        path = self.out / "screenshots" / f"{name}.png"
        if not widget.grab().save(str(path)):
            raise StepFailed(_("截图保存失败：{path}").format(path=path))
        self.report.screenshots.append(str(path.relative_to(self.out)))

    def step(self, name: str, fn: Callable[[], str | None]) -> None:
        try:
            detail = fn() or ""
        except StepFailed as exc:
            self.report.steps.append(Step(name, False, str(exc)))
            raise
        self.report.steps.append(Step(name, True, detail))

    # -- the day ----------------------------------------------------------------

    def play(self) -> DayReport:
        (self.out / "screenshots").mkdir(parents=True, exist_ok=True)
        (self.out / "receipts").mkdir(parents=True, exist_ok=True)
        try:
            self.step(_("工作人员登录"), self.sign_in)
            for i in range(self.citizens):
                self.step(_("办理第 {n} 位群众").format(n=i + 1), functools.partial(self.serve_one, i))
            self.step(_("同步到服务器"), self.sync_all)
        except StepFailed:
            pass
        return self.report

    def sign_in(self) -> str:
        login = self.app.login
        self.app.start()
        login.username.setText(DEMO_USER)
        login.password.setText(DEMO_PASSWORD)
        self.shot(login, "01-login")
        ok = login.findChild(QPushButton, "loginButton")
        assert ok is not None
        ok.click()
        wait_until(lambda: self.app.main_window is not None, _("登录完成"))
        mw = self.app.main_window
        assert mw is not None
        mw.receipt_ready.connect(self._on_receipt)
        wait_until(lambda: mw.queue.model.rowCount() > 0, _("今日排队列表加载"))
        assert self.app.citizen is not None
        self.shot(self.app.citizen, "02-citizen-idle")
        return _("{name} 已登录，排队 {n} 号").format(name=mw.session.clerk.name, n=mw.queue.model.rowCount())

    def serve_one(self, i: int) -> str:
        mw, citizen = self.app.main_window, self.app.citizen
        assert mw is not None and citizen is not None
        receipts_before = len(self.report.receipts)
        mw.queue.call_button.click()
        wait_until(lambda: mw.case_view.context is not None, _("叫号"))
        ctx = mw.case_view.context
        assert ctx is not None and ctx.item is not None
        wait_until(lambda: citizen.stack.currentWidget() is citizen.called, _("副屏显示叫号"))
        if i == 0:
            self.shot(citizen, "03-citizen-called")
        # The citizen confirms the data; the clerk checks each paper the citizen hands over.
        citizen._service_delay.setInterval(0)
        wait_until(lambda: citizen.stack.currentWidget() is citizen.serving, _("副屏显示核对信息"))
        for m in ctx.item.materials:
            mw.case_view.set_check(
                m.code, MaterialCheck.ORIGINAL_SEEN if m.original_required else MaterialCheck.COPY_TAKEN
            )
        if i == 0:
            self.shot(mw, "04-clerk-case")
            self.shot(citizen, "05-citizen-confirm")
        ready = len(self.printed)
        mw.case_view.accept_button.click()
        wait_until(lambda: len(self.printed) > ready, _("受理通知书生成"))
        case_no, archived = self.printed[-1]
        dest = self.out / "receipts" / f"{case_no}.pdf"
        shutil.copyfile(archived, dest)
        self.report.receipts.append(str(dest.relative_to(self.out)))
        wait_until(lambda: citizen.stack.currentWidget() is citizen.rating, _("副屏显示评价"))
        if i == 0:
            self.shot(citizen, "06-citizen-rating")
        level = RATING_SCRIPT[i % len(RATING_SCRIPT)]
        if level is RatingLevel.NOT_RATED:
            citizen.rating.expire_now()  # the citizen walks away: the countdown runs out
        else:
            citizen.rating.buttons[level].click()
        wait_until(lambda: self.app.services.store.has_rating(case_no), _("评价入库"))
        if i == 0:
            self.shot(citizen, "07-citizen-thanks")
        self.report.cases.append(
            {"case_no": case_no, "ticket": ctx.ticket.ticket_no, "item": ctx.item.name, "rating": level.value}
        )
        assert len(self.report.receipts) == receipts_before + 1
        return _("{ticket} → {case_no}（{item}）").format(
            ticket=ctx.ticket.ticket_no, case_no=case_no, item=ctx.item.name
        )

    def sync_all(self) -> str:
        services = self.app.services
        mw = self.app.main_window
        assert mw is not None
        services.sync_worker.kick()
        wait_until(lambda: services.store.pending_count() == 0, _("待上传操作清零"), timeout_s=60)
        status = services.sync.status()
        if status.conflicts:
            raise StepFailed(_("服务器报告了 {n} 条冲突").format(n=status.conflicts))
        mw.refresh_queue()
        wait_until(lambda: self.app.runner.in_flight == 0, _("界面刷新"))
        self.shot(mw, "08-clerk-end-of-day")
        return _("全部操作已上传，无冲突")


def play_counter_day(config: Config, out_dir: Path, *, citizens: int) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    make_qt_app()
    services = build_services(config)
    counter_app = CounterApp(services)
    day = CounterDay(counter_app, out_dir, citizens)
    report = day.play()
    counter_app.shutdown()
    summary = {"ok": report.ok, **asdict(report)}
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [_("演示结果：{result}").format(result=_("成功") if report.ok else _("失败"))]
    lines += [f"{'✔' if s.ok else '✘'} {s.name}  {s.detail}" for s in report.steps]
    lines.append(
        _("受理通知书 {n} 份，截图 {m} 张").format(n=len(report.receipts), m=len(report.screenshots))
    )
    text = "\n".join(lines)
    (out_dir / "summary.txt").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if report.ok else 1
