"""The shortest path through the foundation: health, login, me."""
from conftest import assert_problem


def test_healthz(server):
    r = server.request("GET", "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["X-Request-Id"]


def test_login_and_me(server, admin):
    r = server.request("GET", "/api/v1/me", token=admin)
    assert r.status_code == 200
    assert r.json()["email"] == "admin@planner.local"
    assert r.json()["role"] == "admin"


def test_me_without_token(server):
    assert_problem(server.request("GET", "/api/v1/me"), 401, "unauthorized")
