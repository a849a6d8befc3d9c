"""The request dependencies every router shares: the session factory, the clock, the caller.

Endpoints open their session with ``with db() as s:`` and leave it before returning:
a yield-dependency would hold the pooled connection while FastAPI validates and
sends the response, and under load every pooled connection ends up waiting on
a worker thread that is itself waiting for a connection (seen in the load test).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from hallserver import security

Clock = Callable[[], dt.datetime]


def sessions(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


def now(request: Request) -> dt.datetime:
    clock: Clock = request.app.state.clock
    return clock()


Db = Annotated[sessionmaker[Session], Depends(sessions)]
Now = Annotated[dt.datetime, Depends(now)]


def principal(db: Db, now: Now, authorization: Annotated[str | None, Header()] = None) -> security.Principal:
    with db() as s:
        return security.authenticate(s, authorization, now)[0]


Who = Annotated[security.Principal, Depends(principal)]
