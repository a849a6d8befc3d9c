"""Property-based run of the whole API against its own OpenAPI document (schemathesis).

Every operation gets generated requests; the server must never answer 5xx, and
every answer must match the documented status codes and response schemas.
The operations are driven from inside one test per database, because the app
needs that test's seeded database and a signed-in window.
"""

from __future__ import annotations

import schemathesis
from hallserver_testkit import Counter, MovableClock
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from hallserver.app import create_app

EXAMPLES_PER_OPERATION = 25


def test_api_honours_its_schema(engine: Engine, clock: MovableClock, window1: Counter) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine, clock=clock))
    operations = [result.ok() for result in schema.get_all_operations()]
    # Logging out would revoke the token every other operation runs with (tested in the auth tests).
    operations = [op for op in operations if op.path != "/api/v1/auth/logout"]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=window1.headers)

        exercise()
