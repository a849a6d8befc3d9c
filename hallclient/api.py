"""The platform client: the only code that talks HTTP to the platform server.

Plain, blocking ``requests`` calls with timeouts, meant to run on a worker
thread. Every failure becomes a :class:`PlatformError` whose message a clerk can
read; :class:`Unreachable` marks the failures that mean "work offline".
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from hallclient import wire
from hallclient.i18n import _

if TYPE_CHECKING:
    import requests

M = TypeVar("M", bound=BaseModel)


class PlatformError(Exception):
    def __init__(self, message: str, *, code: str = "error", status: int = 0, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field


class Unreachable(PlatformError):
    """The server could not be reached or did not answer in time: work offline."""


class PlatformClient:
    def __init__(self, base_url: str, *, timeout_s: float = 5.0, ca_bundle: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.token: str | None = None
        self._verify: bool | str = ca_bundle or True
        self._session: requests.Session | None = None

    def _http(self) -> requests.Session:
        # requests costs ~0.3 s to import: only pay it on the first call, off the GUI thread.
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        raw: bool = False,
    ) -> Any:
        """The answer's JSON, or its bytes with ``raw`` (a file); errors raise either way."""
        import requests

        headers = {"Accept": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = body.model_dump_json().encode("utf-8")
        url = f"{self.base_url}{wire.API_PREFIX}{path}"
        try:
            resp = self._http().request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=self.timeout_s,
                verify=self._verify,
            )
        except requests.Timeout:
            raise Unreachable(
                _("服务器在 {seconds} 秒内没有响应").format(seconds=self.timeout_s), code="timeout"
            ) from None
        except requests.exceptions.SSLError:
            # Reachable, but not trusted: say so, or IT staff hunt a network fault that is a certificate.
            raise Unreachable(
                _("服务器 {url} 的证书校验失败，请检查 [server] ca_bundle 配置和本机时间").format(
                    url=self.base_url
                ),
                code="tls",
            ) from None
        except requests.ConnectionError:
            raise Unreachable(
                _("无法连接服务器 {url}").format(url=self.base_url), code="unreachable"
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise Unreachable(_("服务器的回答中途断开"), code="network") from None
        except requests.RequestException as exc:
            raise Unreachable(
                _("与服务器通信失败：{error}").format(error=type(exc).__name__), code="network"
            ) from None
        if raw and resp.status_code < 400:
            return resp.content
        try:
            payload = resp.json()
        except (ValueError, json.JSONDecodeError):
            payload = None
        if resp.status_code >= 400:
            self._raise_for(resp.status_code, payload)
        if payload is None:
            # Not our server talking (a proxy's or captive portal's page): as good as offline,
            # so the counter keeps serving from its local queue.
            raise Unreachable(
                _("服务器返回的不是有效的 JSON（HTTP {status}）").format(status=resp.status_code),
                code="bad_gateway",
                status=resp.status_code,
            )
        return payload

    @staticmethod
    def _raise_for(status: int, payload: Any) -> None:
        try:
            err = wire.ErrorBody.model_validate(payload)
            message, code, field = err.message, err.error, err.field
        except ValidationError:
            # Without the contract's error shape the answer is not from the platform itself.
            message = _("服务器错误（HTTP {status}）").format(status=status)
            raise Unreachable(message, code="bad_gateway", status=status) from None
        if status >= 500:
            raise Unreachable(message, code=code, status=status, field=field)
        raise PlatformError(message, code=code, status=status, field=field)

    @staticmethod
    def _parse(model: type[M], payload: Any) -> M:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            raise PlatformError(
                _("服务器的回答不符合接口约定：{detail}").format(detail=exc.errors()[0].get("msg", "")),
                code="bad_response",
            ) from None

    # -- endpoints ------------------------------------------------------------

    def health(self) -> wire.HealthResponse:
        return self._parse(wire.HealthResponse, self._call("GET", "/health", auth=False))

    def login(self, req: wire.LoginRequest) -> wire.LoginResponse:
        resp = self._parse(wire.LoginResponse, self._call("POST", "/auth/login", body=req, auth=False))
        self.token = resp.token
        return resp

    def logout(self) -> None:
        if self.token:
            self._call("POST", "/auth/logout")
            self.token = None

    def catalog(self) -> wire.CatalogResponse:
        return self._parse(wire.CatalogResponse, self._call("GET", "/catalog"))

    def bookings(self, day: dt.date) -> wire.BookingsResponse:
        return self._parse(
            wire.BookingsResponse, self._call("GET", "/bookings", params={"date": day.isoformat()})
        )

    def call_next(self, window_no: int) -> wire.CallNextResponse:
        body = wire.CallNextRequest(window_no=window_no)
        return self._parse(wire.CallNextResponse, self._call("POST", "/queue/call-next", body=body))

    def walk_in(self, item_code: str | None) -> wire.Ticket:
        return self._parse(
            wire.Ticket, self._call("POST", "/queue/walk-in", body=wire.WalkInRequest(item_code=item_code))
        )

    def take_number(self, req: wire.WalkInRequest) -> wire.Ticket:
        """取号 with the visit's items, priority category and phone (see ``walk_in`` for the plain one)."""
        return self._parse(wire.Ticket, self._call("POST", "/queue/walk-in", body=req))

    def mark_priority(self, req: wire.PriorityRequest) -> wire.Ticket:
        return self._parse(wire.Ticket, self._call("POST", "/queue/priority", body=req))

    def wait_estimate(self, ticket_no: str | None = None) -> wire.WaitEstimate:
        params = {"ticket_no": ticket_no} if ticket_no else None
        return self._parse(wire.WaitEstimate, self._call("GET", "/queue/estimate", params=params))

    def licenses(self, holder_id: str, ticket_no: str) -> wire.ELicensesResponse:
        params = {"holder_id": holder_id, "ticket_no": ticket_no}
        return self._parse(wire.ELicensesResponse, self._call("GET", "/licenses", params=params))

    def license_file(self, license_no: str, ticket_no: str) -> bytes:
        content: bytes = self._call(
            "GET", f"/licenses/{license_no}/file", params={"ticket_no": ticket_no}, raw=True
        )
        return content

    def earlier_materials(self, holder_id: str, ticket_no: str) -> wire.EarlierMaterialsResponse:
        params = {"holder_id": holder_id, "ticket_no": ticket_no}
        return self._parse(
            wire.EarlierMaterialsResponse, self._call("GET", "/earlier-materials", params=params)
        )

    def windows(self) -> wire.WindowsResponse:
        return self._parse(wire.WindowsResponse, self._call("GET", "/windows"))

    def push(self, req: wire.PushRequest) -> wire.PushResponse:
        return self._parse(wire.PushResponse, self._call("POST", "/sync/push", body=req))

    def pull(self, cursor: int, limit: int = 500) -> wire.PullResponse:
        return self._parse(
            wire.PullResponse, self._call("GET", "/sync/pull", params={"cursor": cursor, "limit": limit})
        )

    # -- supervision (supervisor/admin only; a clerk gets a 403 PlatformError) ----------------

    @staticmethod
    def _range(date_from: dt.date, date_to: dt.date, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"from": date_from.isoformat(), "to": date_to.isoformat()}
        # Enums are StrEnums: they go out as their value.
        params.update({k: v for k, v in extra.items() if v is not None})
        return params

    def supervision_figures(
        self,
        date_from: dt.date,
        date_to: dt.date,
        *,
        by: wire.FigureGroup = wire.FigureGroup.HALL,
        period: wire.FigurePeriod = wire.FigurePeriod.TOTAL,
        window: int | None = None,
        item: str | None = None,
        clerk: int | None = None,
    ) -> wire.FiguresResponse:
        params = self._range(date_from, date_to, by=by, period=period, window=window, item=item, clerk=clerk)
        return self._parse(wire.FiguresResponse, self._call("GET", "/supervision/figures", params=params))

    def supervision_overdue(
        self, *, window: int | None = None, item: str | None = None, horizon: int | None = None
    ) -> wire.WarningsResponse:
        params = {
            k: v for k, v in (("window", window), ("item", item), ("horizon", horizon)) if v is not None
        }
        return self._parse(wire.WarningsResponse, self._call("GET", "/supervision/overdue", params=params))

    def supervision_corrections(
        self, *, window: int | None = None, item: str | None = None
    ) -> wire.WarningsResponse:
        params = {k: v for k, v in (("window", window), ("item", item)) if v is not None}
        return self._parse(
            wire.WarningsResponse, self._call("GET", "/supervision/corrections", params=params)
        )

    def supervision_follow_ups(
        self,
        status: wire.FollowUpFilter = wire.FollowUpFilter.OPEN,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        window: int | None = None,
    ) -> wire.FollowUpsResponse:
        params: dict[str, Any] = {"status": status.value}
        for key, value in (("from", date_from), ("to", date_to)):
            if value is not None:
                params[key] = value.isoformat()
        if window is not None:
            params["window"] = window
        return self._parse(
            wire.FollowUpsResponse, self._call("GET", "/supervision/follow-ups", params=params)
        )

    def assign_follow_up(self, case_no: str, assignee_id: int, note: str = "") -> wire.FollowUpInfo:
        body = wire.AssignFollowUpRequest(assignee_id=assignee_id, note=note)
        return self._parse(
            wire.FollowUpInfo, self._call("POST", f"/supervision/follow-ups/{case_no}/assign", body=body)
        )

    def follow_up_result(self, case_no: str, result: str) -> wire.FollowUpInfo:
        body = wire.FollowUpResultRequest(result=result)
        return self._parse(
            wire.FollowUpInfo, self._call("POST", f"/supervision/follow-ups/{case_no}/result", body=body)
        )

    def close_follow_up(self, case_no: str, note: str = "") -> wire.FollowUpInfo:
        body = wire.CloseFollowUpRequest(note=note)
        return self._parse(
            wire.FollowUpInfo, self._call("POST", f"/supervision/follow-ups/{case_no}/close", body=body)
        )

    def supervision_bursts(
        self,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        window: int | None = None,
        unreviewed: bool = False,
    ) -> wire.BurstsResponse:
        params: dict[str, Any] = {"unreviewed": "true" if unreviewed else "false"}
        for key, value in (("from", date_from), ("to", date_to)):
            if value is not None:
                params[key] = value.isoformat()
        if window is not None:
            params["window"] = window
        return self._parse(wire.BurstsResponse, self._call("GET", "/supervision/bursts", params=params))

    def review_burst(self, case_no: str, verdict: wire.BurstVerdict, note: str = "") -> wire.BurstRating:
        body = wire.BurstReviewRequest(verdict=verdict, note=note)
        return self._parse(
            wire.BurstRating, self._call("POST", f"/supervision/bursts/{case_no}/review", body=body)
        )

    def supervision_staff(self) -> wire.StaffResponse:
        return self._parse(wire.StaffResponse, self._call("GET", "/supervision/staff"))

    def enrol_totp(self, clerk_id: int, *, reset: bool = False) -> wire.TotpEnrolment:
        """Bind the clerk's authenticator (admin only); 409 ``totp_already_enrolled`` without reset."""
        body = wire.TotpEnrolRequest(reset=reset)
        return self._parse(
            wire.TotpEnrolment, self._call("POST", f"/admin/clerks/{clerk_id}/totp", body=body)
        )

    def supervision_export(
        self,
        what: wire.ExportWhat,
        date_from: dt.date,
        date_to: dt.date,
        *,
        fmt: wire.ExportFormat = wire.ExportFormat.CSV,
        by: wire.FigureGroup = wire.FigureGroup.WINDOW,
        period: wire.FigurePeriod = wire.FigurePeriod.TOTAL,
        window: int | None = None,
        item: str | None = None,
    ) -> tuple[str, bytes]:
        """The spreadsheet's suggested file name and its bytes (CSV with BOM, or xlsx)."""
        import base64
        import binascii

        params = self._range(
            date_from, date_to, what=what, format=fmt, by=by, period=period, window=window, item=item
        )
        resp = self._parse(wire.ExportFile, self._call("GET", "/supervision/export", params=params))
        try:
            return resp.filename, base64.b64decode(resp.content_base64, validate=True)
        except binascii.Error:
            raise PlatformError(_("服务器返回的导出文件已损坏"), code="bad_response") from None

    # -- captured materials and the back office ------------------------------------------------

    def announce_upload(self, upload_id: str, req: wire.UploadCreateRequest) -> wire.UploadStatus:
        return self._parse(wire.UploadStatus, self._call("PUT", f"/uploads/{upload_id}", body=req))

    def upload_status(self, upload_id: str) -> wire.UploadStatus:
        return self._parse(wire.UploadStatus, self._call("GET", f"/uploads/{upload_id}"))

    def upload_chunk(self, upload_id: str, offset: int, chunk: bytes) -> wire.UploadStatus:
        """One chunk, as raw bytes; a chunk sent twice (its answer lost) is harmless."""
        import requests

        headers = {"Accept": "application/json", "Content-Type": "application/octet-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = f"{self.base_url}{wire.API_PREFIX}/uploads/{upload_id}/chunks/{offset}"
        try:
            resp = self._http().put(
                url, data=chunk, headers=headers, timeout=self.timeout_s, verify=self._verify
            )
        except requests.Timeout:
            raise Unreachable(
                _("服务器在 {seconds} 秒内没有响应").format(seconds=self.timeout_s), code="timeout"
            ) from None
        except requests.RequestException:
            raise Unreachable(_("上传材料时与服务器的连接断开"), code="network") from None
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        if resp.status_code >= 400:
            self._raise_for(resp.status_code, payload)
        return self._parse(wire.UploadStatus, payload)

    def complete_upload(self, upload_id: str) -> wire.UploadStatus:
        return self._parse(wire.UploadStatus, self._call("POST", f"/uploads/{upload_id}/complete"))

    def forward_case(self, req: wire.ForwardRequest) -> wire.BackOfficeStatus:
        return self._parse(wire.BackOfficeStatus, self._call("POST", "/back-office/forward", body=req))

    def case_timeline(self, case_no: str) -> wire.CaseTimeline:
        return self._parse(wire.CaseTimeline, self._call("GET", f"/cases/{case_no}/timeline"))

    def result_paper(self, case_no: str) -> bytes:
        """The back office's result paper (PDF) for 出件."""
        content: bytes = self._call("GET", f"/back-office/cases/{case_no}/result", raw=True)
        return content
