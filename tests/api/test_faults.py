"""Faults of the server (not of the client) get the same error body, say
nothing about their cause, and are logged."""

from __future__ import annotations

import logging

import pytest
from psycopg.conninfo import make_conninfo

from api import create_app
from tests.api import fixture_data as data
from tests.api.conftest import Key, Warehouse, error_of


def test_an_unexpected_exception_is_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app({"DATABASE_CONNINFO": "dbname=unused"})

    @app.get("/api/v2/boom")
    def boom() -> str:
        raise RuntimeError("secret detail from deep inside")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v2/boom")
    assert response.status_code == 500
    assert error_of(response) == {
        "status": 500,
        "code": "internal_error",
        "message": "The server failed to answer this request.",
    }
    assert "secret detail" not in response.get_data(as_text=True)
    assert "secret detail from deep inside" in caplog.text  # the traceback goes to the log


def test_an_unreachable_database_is_a_503(warehouse: Warehouse, keys: dict[str, Key]) -> None:
    conninfo = make_conninfo(warehouse.conninfo, dbname="usage_reports_test_api_does_not_exist")
    app = create_app({"DATABASE_CONNINFO": conninfo, "POOL_TIMEOUT_SECONDS": 0.5})
    try:
        response = app.test_client().get(f"/api/v2/w/{data.W1}/members", headers=keys["admin"].header)
    finally:
        app.extensions["usage_reports_db"].close()
    assert response.status_code == 503
    assert error_of(response)["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert "does_not_exist" not in response.get_data(as_text=True)
