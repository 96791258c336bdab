"""Login, logout, bearer tokens and login throttling (API.md "Auth and users")."""
import datetime as dt
import re

import pytest

from conftest import assert_problem

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,}$")


def parse_time(text):
    """RFC 3339 with an offset (Z or +hh:mm) -> aware datetime."""
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", text), text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now():
    return dt.datetime.now(dt.timezone.utc)


def post_login(server, email, password):
    return server.request("POST", LOGIN, json_body={"email": email, "password": password})


@pytest.fixture(scope="module")
def alice(server, admin):
    """A member used for the wrong-password tests, so the admin account never gets throttled."""
    return server.create_user(admin, "alice@example.org", name="Alice Liddell",
                              password="alice password")


def test_login_success_shape(server, alice):
    before = now()
    r = post_login(server, "alice@example.org", "alice password")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) >= {"token", "expires_at", "user"}
    assert isinstance(body["token"], str) and TOKEN_RE.match(body["token"])
    # The default session lifetime is 30 days (session_ttl_s = 2592000).
    expires = parse_time(body["expires_at"])
    assert abs((expires - before).total_seconds() - 2592000) < 60
    u = body["user"]
    assert u["id"] == alice["id"]
    assert u["email"] == "alice@example.org"
    assert u["name"] == "Alice Liddell"
    assert u["role"] == "member"
    assert u["time_zone"] == "UTC"
    assert isinstance(u["etag"], str) and u["etag"]
    assert "password" not in u and "password_hash" not in u
    # The token works at once.
    me = server.request("GET", ME, token=body["token"])
    assert me.status_code == 200 and me.json()["id"] == alice["id"]


def test_each_login_gets_its_own_token(server, alice):
    a = server.login("alice@example.org", "alice password")
    b = server.login("alice@example.org", "alice password")
    assert a != b
    for t in (a, b):
        assert server.request("GET", ME, token=t).status_code == 200


def test_wrong_password_is_401_problem(server, alice):
    r = post_login(server, "alice@example.org", "not the password")
    p = assert_problem(r, 401, "unauthorized")
    assert "token" not in p
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_unknown_email_same_answer_as_wrong_password(server, alice):
    wrong = post_login(server, "alice@example.org", "not the password")
    unknown = post_login(server, "nobody-here@example.org", "not the password")
    malformed = post_login(server, "not an address", "not the password")
    pw = assert_problem(wrong, 401, "unauthorized")
    for r in (unknown, malformed):
        p = assert_problem(r, 401, "unauthorized")
        assert p["detail"] == pw["detail"]
        assert p["title"] == pw["title"]
        assert p.get("errors") == pw.get("errors")


def test_email_matching_is_case_insensitive(server, alice):
    r = post_login(server, "ALICE@Example.ORG", "alice password")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == "alice@example.org"
    assert server.login("Admin@Planner.Local", server.admin_password)


def test_password_is_case_sensitive(server, alice):
    assert_problem(post_login(server, "alice@example.org", "ALICE PASSWORD"), 401, "unauthorized")


def test_logout_ends_the_token(server, alice):
    token = server.login("alice@example.org", "alice password")
    other = server.login("alice@example.org", "alice password")
    r = server.request("POST", LOGOUT, token=token)
    assert r.status_code == 204, r.text
    assert r.content == b""
    r = server.request("GET", ME, token=token)
    assert_problem(r, 401, "unauthorized")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    # Logging out twice: the token is already gone.
    assert_problem(server.request("POST", LOGOUT, token=token), 401, "unauthorized")
    # Only that session ended.
    assert server.request("GET", ME, token=other).status_code == 200


def test_logout_needs_a_token(server):
    assert_problem(server.request("POST", LOGOUT), 401, "unauthorized")


@pytest.mark.parametrize("header", [
    "Bearer not-a-token",
    "Bearer " + "x" * 42,                       # one short
    "Bearer " + "x" * 44,                       # one long
    "Bearer " + "x" * 42 + "=",                 # padding is not base64url here
    "Bearer " + "A" * 43,                       # well formed, never issued
    "Bearer " + "eyJhbGciOiJub25lIn0.eyJleHAiOjB9.",  # a JWT-looking thing
    "Token " + "A" * 43,
    "Basic YWxpY2VAZXhhbXBsZS5vcmc6YWxpY2UgcGFzc3dvcmQ=",  # alice's real credentials
    "Bearer",
    "garbage",
], ids=["short", "42-chars", "44-chars", "padded", "unknown", "jwt", "token-scheme",
        "basic-valid-credentials", "bearer-alone", "garbage"])
def test_bad_tokens_are_401(server, alice, header):
    r = server.request("GET", ME, headers={"Authorization": header})
    assert_problem(r, 401, "unauthorized")
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="planner"'


def test_auth_scheme_is_case_insensitive(server, alice):
    """RFC 9110 section 11.1: the authentication scheme is matched case-insensitively, so
    "bearer" and "BEARER" name the same scheme as "Bearer"."""
    token = server.login("alice@example.org", "alice password")
    for scheme in ("bearer", "BEARER"):
        r = server.request("GET", ME, headers={"Authorization": f"{scheme} {token}"})
        assert r.status_code == 200, (scheme, r.status_code, r.text)


def test_token_of_a_logged_out_session_looks_expired(server, alice):
    """An expired-looking token: the right shape, once valid, now gone."""
    token = server.login("alice@example.org", "alice password")
    assert server.request("POST", LOGOUT, token=token).status_code == 204
    r = server.request("GET", ME, token=token)
    p = assert_problem(r, 401, "unauthorized")
    unknown = assert_problem(server.request("GET", ME, token="B" * 43), 401, "unauthorized")
    assert p["detail"] == unknown["detail"]


# --- throttling, each on its own server so the failure counts start from zero


def test_throttled_per_account(make_server):
    s = make_server(env={"PLANNER_LOGIN_MAX_PER_ACCOUNT": "3"})
    admin = s.admin_token()
    s.create_user(admin, "bob@example.org", name="Bob", password="bob password")
    for _ in range(3):
        assert_problem(post_login(s, "bob@example.org", "wrong password"), 401, "unauthorized")
    r = post_login(s, "bob@example.org", "wrong password")
    assert_problem(r, 429, "rate-limited")
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit(), r.headers
    assert 0 < int(retry) <= 900  # the default window is 900 s
    # The right password is refused too while the account is throttled, and says so.
    r = post_login(s, "bob@example.org", "bob password")
    assert_problem(r, 429, "rate-limited")
    assert int(r.headers["Retry-After"]) > 0
    # The e-mail's case does not dodge the limit.
    assert_problem(post_login(s, "BOB@EXAMPLE.ORG", "bob password"), 429, "rate-limited")
    # Another account from the same address is not affected (3 failures < 20 per address).
    assert s.login("admin@planner.local", s.admin_password)
    # An existing session of the throttled account keeps working.
    assert s.request("GET", ME, token=admin).status_code == 200


def test_throttled_per_address(make_server):
    s = make_server(env={"PLANNER_LOGIN_MAX_PER_ADDRESS": "3"})
    admin = s.admin_token()
    s.create_user(admin, "carol@example.org", name="Carol", password="carol password")
    for i, email in enumerate(["x1@example.org", "x2@example.org", "carol@example.org"]):
        assert_problem(post_login(s, email, f"wrong password {i}"), 401, "unauthorized")
    # A fourth account, never tried before, is refused from this address, right password or not.
    r = post_login(s, "admin@planner.local", s.admin_password)
    assert_problem(r, 429, "rate-limited")
    assert r.headers.get("Retry-After", "").isdigit() and int(r.headers["Retry-After"]) > 0
    assert_problem(post_login(s, "fresh@example.org", "whatever1"), 429, "rate-limited")
    # Tokens issued before still work.
    assert s.request("GET", ME, token=admin).status_code == 200


def test_success_clears_account_failures(make_server):
    s = make_server(env={"PLANNER_LOGIN_MAX_PER_ACCOUNT": "3"})
    admin = s.admin_token()
    s.create_user(admin, "dave@example.org", name="Dave", password="dave password")
    for _ in range(2):
        assert_problem(post_login(s, "dave@example.org", "wrong password"), 401, "unauthorized")
    assert s.login("dave@example.org", "dave password")
    # Had the two failures stayed, the second one below would make three and then 429.
    for _ in range(2):
        assert_problem(post_login(s, "dave@example.org", "wrong password"), 401, "unauthorized")
    assert s.login("dave@example.org", "dave password")
    # And the limit still applies after a success.
    for _ in range(3):
        assert_problem(post_login(s, "dave@example.org", "wrong password"), 401, "unauthorized")
    assert_problem(post_login(s, "dave@example.org", "dave password"), 429, "rate-limited")


def test_session_ttl_setting(make_server):
    s = make_server(env={"PLANNER_SESSION_TTL_S": "60"})
    before = now()
    r = post_login(s, "admin@planner.local", s.admin_password)
    after = now()
    assert r.status_code == 200, r.text
    expires = parse_time(r.json()["expires_at"])
    assert before + dt.timedelta(seconds=59) <= expires <= after + dt.timedelta(seconds=61)
    assert s.request("GET", ME, token=r.json()["token"]).status_code == 200
