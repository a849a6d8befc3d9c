"""The hall admin's endpoints (管理员, role ``admin``): binding clerks' authenticators.

- ``POST /admin/clerks/{clerk_id}/totp``: a new secret and ten recovery codes for a clerk
  of the admin's own hall, answered once (``Cache-Control: no-store``) and never again.

The list of the hall's accounts with their second factor is ``GET /supervision/staff``
(``totp_enrolled_at``). A clerk of another hall is answered like an unknown one, 404, so an
admin cannot probe other halls' accounts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from fastapi import Path as PathParam

from hallclient import wire
from hallserver import enrolment, security
from hallserver.deps import Db, Now
from hallserver.errors import ApiError
from hallserver.models import Clerk


def _admin(db: Db, now: Now, authorization: Annotated[str | None, Header()] = None) -> security.Principal:
    with db() as s:
        who = security.authenticate(s, authorization, now)[0]
    if who.role != "admin":
        raise ApiError(403, "forbidden", "绑定或重新绑定动态口令仅限本大厅管理员（admin）办理")
    return who


Admin = Annotated[security.Principal, Depends(_admin)]
ClerkId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": wire.ErrorBody} for code in (401, 403, 404, 409, 422)
}

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERRORS)


@router.post("/clerks/{clerk_id}/totp", response_model=wire.TotpEnrolment)
def enrol_totp(
    clerk_id: ClerkId, req: wire.TotpEnrolRequest, db: Db, who: Admin, now: Now, response: Response
) -> wire.TotpEnrolment:
    """Bind (or with ``reset``, re-bind) a clerk's authenticator; logged in the login log."""
    # The secret and the codes must not stay in any cache between here and the admin's screen.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    with db() as s:
        clerk = s.get(Clerk, clerk_id)
        if clerk is None or clerk.hall_code != who.hall_code:
            raise ApiError(404, "not_found", "本大厅没有这个账号")
        try:
            done = enrolment.enrol(
                s,
                clerk,
                reset=req.reset,
                actor=enrolment.Actor(who.device_id, who.window_no),
                now=now,
            )
        except enrolment.AlreadyEnrolled:
            raise ApiError(
                409,
                "totp_already_enrolled",
                "该账号已绑定动态口令；手机丢失或更换时请选择“重新绑定”（reset），旧手机和备用码随即作废",
                "reset",
            ) from None
        s.commit()
    return wire.TotpEnrolment(
        clerk_id=clerk_id,
        uri=done.uri,
        secret=done.secret,
        recovery_codes=done.recovery_codes,
        enrolled_at=done.enrolled_at,
        replaced=done.replaced,
    )
