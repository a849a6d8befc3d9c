"""The demo case, end to end: accepted at a window, decided on the department page in headless Chromium,
picked up at the window; the citizen never leaves the front desk.

Chromium is driven through chromedriver's W3C WebDriver protocol over plain HTTP
(a few requests calls, no extra Python package). Debian's ``chromium`` and
``chromium-driver`` are in the Makefile's APT_PACKAGES.
"""

from __future__ import annotations

import base64
import io
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from helpers.live_server import LiveServer
from helpers.paper_photos import write_photos
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from hallclient import captures, wire
from hallclient.domain import MaterialCheck
from hallclient.uploads import UploadEngine
from hallserver.db import session_factory
from hallserver.department import add_department_staff
from hallserver.models import CatalogItem

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (make bootstrap installs them)",
)
ELEMENT = "element-6066-11e4-a23a-4b1e-8a4d-1e2b3e4b5c6d"
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"


class Browser:
    """Just enough WebDriver: open a page, find by CSS, click, type, read, screenshot."""

    def __init__(self, driver_url: str, downloads: Path) -> None:
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--window-size=1280,1000",
                            "--lang=zh-CN",
                        ],
                        "prefs": {"download.default_directory": str(downloads)},
                    },
                }
            }
        }
        self.base = driver_url
        answer = requests.post(f"{driver_url}/session", json=caps, timeout=60).json()["value"]
        self.session = f"{driver_url}/session/{answer['sessionId']}"
        # A click that submits a form returns before the next page has loaded when the machine is
        # busy; WebDriver's implicit wait makes every find wait for the element to appear.
        self._call("POST", "/timeouts", {"implicit": 30_000})

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = requests.request(method, f"{self.session}{path}", json=body, timeout=60)
        value = resp.json()["value"]
        if resp.status_code >= 400:
            raise AssertionError(f"WebDriver {path}: {value}")
        return value

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        return str(found.get(ELEMENT_KEY) or found[ELEMENT])

    def click(self, css: str) -> None:
        self._call("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css: str, text: str) -> None:
        self._call("POST", f"/element/{self.find(css)}/value", {"text": text})

    def text(self, css: str) -> str:
        return str(self._call("GET", f"/element/{self.find(css)}/text"))

    def url(self) -> str:
        return str(self._call("GET", "/url"))

    def script(self, source: str, *args: Any) -> Any:
        return self._call("POST", "/execute/async", {"script": source, "args": list(args)})

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))

    def quit(self) -> None:
        requests.delete(self.session, timeout=30)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert CHROMEDRIVER is not None
    driver = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/status", timeout=2).json()["value"]["ready"]:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "chromedriver did not start"
        time.sleep(0.1)
    b = Browser(url, tmp_path / "downloads")
    try:
        yield b
    finally:
        b.quit()
        driver.terminate()
        driver.wait(10)


def result_paper(path: Path) -> Path:
    c = canvas.Canvas(str(path))
    c.drawString(100, 750, "Approval decision (demo)")
    c.showPage()
    c.save()
    return path


def test_demo_case_accepted_decided_in_the_department_page_and_picked_up(
    rig: CounterRig, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    s = rig.services
    counter = s.counter
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.refresh()

    # At the window: call, capture the application form from files, accept, forward.
    ticket = counter.call_next()
    assert ticket is not None
    ctx = counter.service_context(ticket)
    assert ctx.item is not None
    subject = captures.subject_of(ticket.date, ticket.ticket_no)
    cs = captures.CaptureStore(s.store)
    material = ctx.item.materials[0]
    draft = captures.MaterialDraft(material.code, material.name)
    for photo in write_photos(tmp_path / "scans", 2):
        draft.add(photo.read_bytes())
    saved = cs.save(subject, draft)
    assert set(cs.captured(subject)) == {material.code}
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    applicant = (
        None
        if ctx.booking
        else wire.Applicant(name="王芳", id_number="11010519491231002X", phone="13800138000")
    )
    case_no = counter.accept(ctx, checks, applicant=applicant).payload.case_no
    cs.forward(subject, case_no)
    s.sync.sync_once()
    done = UploadEngine(s.store, s.api).run_once()
    assert done.uploaded == 1 and done.forwarded == 1, done

    # The department's account, for the item's department.
    with session_factory(live_server.engine)() as db:
        item = db.get(CatalogItem, ctx.item.code)
        assert item is not None
        department = str(item.body["department"])
        add_department_staff(
            db,
            hall_code="DEMO",
            username="dept1",
            name="李审批",
            staff_no="D001",
            password="dept-pass-1",
            department=department,
        )

    # In the department, in a real browser.
    browser.open(f"{live_server.url}/dept/")
    assert browser.url().endswith("/dept/login")
    browser.type("#hall_code", "DEMO")
    browser.type("#username", "dept1")
    browser.type("#password", "dept-pass-1")
    browser.click("#sign-in")
    assert department in browser.text("#who")
    assert case_no in browser.text("#queue")
    browser.click(f"a.case[href='/dept/cases/{case_no}']")
    assert browser.text("#case-no") == case_no
    assert material.name in browser.text("#materials") and "已校验" in browser.text("#materials")
    # The material opens as the very PDF captured at the window.
    fetched = browser.script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done([r.headers.get('content-type'),"
        " Array.from(new Uint8Array(b)).map(x => x.toString(16).padStart(2, '0')).join('')])));",
        f"/dept/cases/{case_no}/materials/{material.code}",
    )
    assert fetched[0] == "application/pdf"
    pdf = bytes.fromhex(fetched[1])
    assert __import__("hashlib").sha256(pdf).hexdigest() == saved.sha256
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    browser.screenshot(tmp_path / "department-case.png")

    browser.click("#approve")
    browser.type("#remark", "材料齐全，准予许可")
    browser.type("#result", str(result_paper(tmp_path / "approval.pdf")))
    browser.click("#submit")
    assert "审批决定已提交" in browser.text("#message")
    assert browser.text("#verdict").startswith("准予许可")
    browser.screenshot(tmp_path / "department-decided.png")

    # Back at the window: the decision arrives through /sync/pull; the case waits for pick-up.
    assert s.sync.sync_once().last_error == ""  # the sync engine's pull stores case_status changes
    ready = s.store.ready_for_pickup(window_no=1)
    assert [c.case_no for c, _status in ready] == [case_no]
    assert ready[0][1].state is wire.BackOfficeState.APPROVED
    assert s.api.result_paper(case_no).startswith(b"%PDF-")
    counter.pickup(case_no, "王芳")
    s.sync.sync_once()
    assert s.store.ready_for_pickup(window_no=1) == []
    timeline = s.api.case_timeline(case_no)
    assert [e.kind.value for e in timeline.events] == [
        "accepted",
        "forwarded",
        "decided",
        "ready",
        "picked_up",
    ]
