"""User administration and the directory (API.md "Auth and users"; DESIGN.md "API conventions":
ETag, If-Match, If-None-Match, cursor pagination)."""
import itertools

import pytest

from conftest import assert_problem

USERS = "/api/v1/users"
ME = "/api/v1/me"
_seq = itertools.count(1)


def new_user(server, admin, prefix="user", password="member password", **extra):
    """A fresh member and a token for it."""
    n = next(_seq)
    email = f"{prefix}{n}@example.org"
    u = server.create_user(admin, email, name=extra.pop("name", f"{prefix.title()} {n}"),
                           password=password, **extra)
    return u, server.login(email, password)


def get_user(server, token, uid, **kw):
    return server.request("GET", f"{USERS}/{uid}", token=token, **kw)


def directory(server, token, **params):
    r = server.request("GET", USERS, token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def admin_id(server, admin):
    return server.request("GET", ME, token=admin).json()["id"]


# --- creating


def test_admin_creates_user(server, admin):
    r = server.request("POST", USERS, token=admin, json_body={
        "email": "Zoe.Created@Example.org", "name": "Zoë Created", "password": "zoe password"})
    assert r.status_code == 201, r.text
    u = r.json()
    assert u["email"] == "zoe.created@example.org"  # stored normalised
    assert u["name"] == "Zoë Created"
    assert u["role"] == "member"
    assert u["time_zone"] == "UTC"
    assert u["active"] is True
    assert isinstance(u["id"], str) and u["id"]
    assert "password" not in u and "password_hash" not in u
    assert r.headers["Location"] == f"{USERS}/{u['id']}"
    assert r.headers["ETag"] == u["etag"]
    # The Location answers with the same representation.
    again = server.request("GET", r.headers["Location"], token=admin)
    assert again.status_code == 200 and again.json() == u
    # And the new user can log in.
    assert server.login("zoe.created@example.org", "zoe password")


def test_admin_creates_admin_with_time_zone(server, admin):
    r = server.request("POST", USERS, token=admin, json_body={
        "email": "second.admin@example.org", "name": "Second Admin", "password": "admin2 pass",
        "role": "admin", "time_zone": "Europe/Berlin"})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "admin"
    assert r.json()["time_zone"] == "Europe/Berlin"
    token = server.login("second.admin@example.org", "admin2 pass")
    me = server.request("GET", ME, token=token).json()
    assert me["role"] == "admin" and me["time_zone"] == "Europe/Berlin"


def test_duplicate_email_conflict(server, admin):
    server.create_user(admin, "dup@example.org", name="First")
    for email in ("dup@example.org", "DUP@example.org"):
        r = server.request("POST", USERS, token=admin, json_body={
            "email": email, "name": "Second", "password": "another pass"})
        assert_problem(r, 409, "conflict", "email")
    found = directory(server, admin, q="dup@example.org")["items"]
    assert [u["name"] for u in found] == ["First"]


def test_member_cannot_create_users(server, admin):
    _, token = new_user(server, admin)
    r = server.request("POST", USERS, token=token, json_body={
        "email": "sneaky@example.org", "name": "Sneaky", "password": "sneaky pass"})
    assert_problem(r, 403, "forbidden")
    assert directory(server, admin, q="sneaky")["items"] == []


def test_create_needs_a_token(server):
    r = server.request("POST", USERS, json_body={
        "email": "anon@example.org", "name": "Anon", "password": "anon password"})
    assert_problem(r, 401, "unauthorized")


# --- the directory


def test_directory_search_by_name_and_email(server, admin):
    q1 = server.create_user(admin, "qbert@example.org", name="Quentin Blake")
    q2 = server.create_user(admin, "someone@quentin-tools.example", name="Someone Else")
    _, member = new_user(server, admin)
    by_name = directory(server, member, q="Quentin B")["items"]
    assert [u["id"] for u in by_name] == [q1["id"]]
    by_email = directory(server, member, q="quentin-tools")["items"]
    assert [u["id"] for u in by_email] == [q2["id"]]
    both = directory(server, member, q="quentin")["items"]
    assert {u["id"] for u in both} == {q1["id"], q2["id"]}
    assert directory(server, member, q="no-such-person-xyz") == {"items": [], "next_cursor": None}


def test_directory_without_q_lists_everyone_active(server, admin, admin_id):
    items = directory(server, admin, limit=1000)["items"]
    ids = [u["id"] for u in items]
    assert admin_id in ids
    assert ids == sorted(ids, key=int)  # a stable order for the cursor
    assert all(u["active"] for u in items)
    assert all(set(u) >= {"id", "email", "name", "role", "time_zone", "etag"} for u in items)


def test_directory_like_wildcards_are_literal(server, admin):
    assert directory(server, admin, q="%")["items"] == []
    assert directory(server, admin, q="_")["items"] == []
    pct = server.create_user(admin, "percent@example.org", name="100% Sure")
    server.create_user(admin, "under.score@example.org", name="Under Score")
    assert [u["id"] for u in directory(server, admin, q="%")["items"]] == [pct["id"]]
    assert [u["id"] for u in directory(server, admin, q="0% S")["items"]] == [pct["id"]]
    assert directory(server, admin, q="_")["items"] == []
    assert directory(server, admin, q="Under_Score")["items"] == []
    assert directory(server, admin, q="1_0")["items"] == []


def test_directory_pagination(server, admin):
    made = [server.create_user(admin, f"pager{i}@example.org", name=f"Pager {i}")["id"]
            for i in range(7)]
    seen, sizes, cursor = [], [], None
    for _ in range(5):
        params = {"q": "pager", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = directory(server, admin, **params)
        sizes.append(len(page["items"]))
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
    assert sizes == [3, 3, 1]
    assert seen == made
    # Exactly a multiple of the limit: the last full page may say so without an empty page.
    page = directory(server, admin, q="pager", limit=7)
    assert [u["id"] for u in page["items"]] == made
    if page["next_cursor"] is not None:
        rest = directory(server, admin, q="pager", limit=7, cursor=page["next_cursor"])
        assert rest == {"items": [], "next_cursor": None}


def test_directory_limit_bounds(server, admin):
    assert len(directory(server, admin, limit=1)["items"]) == 1
    assert isinstance(directory(server, admin, limit=1000)["items"], list)
    assert_problem(server.request("GET", USERS, token=admin, params={"limit": 1001}), 422,
                   "validation", "limit")


# --- reading one user


def test_get_user_access(server, admin, admin_id):
    u, token = new_user(server, admin)
    other, _ = new_user(server, admin)
    r = get_user(server, token, u["id"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == u["id"] and r.json()["email"] == u["email"]
    assert r.headers["ETag"] == r.json()["etag"]
    assert_problem(get_user(server, token, other["id"]), 403, "forbidden")
    assert_problem(get_user(server, token, admin_id), 403, "forbidden")
    r = get_user(server, admin, u["id"])
    assert r.status_code == 200 and r.json()["id"] == u["id"]
    assert_problem(get_user(server, admin, "987654321"), 404, "not-found")
    for bad in ("abc", "1x", "0", "-3", "1.0", "%20"):
        assert_problem(get_user(server, admin, bad), 404, "not-found")
        assert_problem(get_user(server, token, bad), 404, "not-found")


def test_if_none_match_gives_304(server, admin):
    u, token = new_user(server, admin)
    r = get_user(server, token, u["id"])
    etag = r.headers["ETag"]
    r = get_user(server, token, u["id"], headers={"If-None-Match": etag})
    assert r.status_code == 304, r.text
    assert r.content == b""
    assert r.headers.get("ETag") == etag
    weak = get_user(server, token, u["id"], headers={"If-None-Match": "W/" + etag})
    assert weak.status_code == 304
    listed = get_user(server, token, u["id"], headers={"If-None-Match": f'"nope", {etag}'})
    assert listed.status_code == 304
    other = get_user(server, token, u["id"], headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json()["etag"] == etag
    me = server.request("GET", ME, token=token, headers={"If-None-Match": etag})
    assert me.status_code == 304


# --- changing


def test_patch_self_name_and_time_zone(server, admin):
    u, token = new_user(server, admin)
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token,
                       json_body={"name": "Renamed Person", "time_zone": "America/New_York"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Renamed Person"
    assert body["time_zone"] == "America/New_York"
    assert body["email"] == u["email"] and body["role"] == "member"
    assert body["etag"] != u["etag"]
    assert r.headers["ETag"] == body["etag"]
    me = server.request("GET", ME, token=token).json()
    assert me["name"] == "Renamed Person" and me["time_zone"] == "America/New_York"


def test_patch_empty_body_changes_nothing_visible(server, admin):
    u, token = new_user(server, admin)
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={})
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("name", "email", "time_zone", "role")} == \
        {k: u[k] for k in ("name", "email", "time_zone", "role")}


def test_patch_with_stale_if_match_is_412(server, admin):
    u, token = new_user(server, admin)
    stale = u["etag"]
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={"name": "First"})
    assert r.status_code == 200, r.text
    fresh = r.json()["etag"]
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token,
                       json_body={"name": "Second", "time_zone": "Asia/Tokyo"},
                       headers={"If-Match": stale})
    assert_problem(r, 412, "precondition-failed")
    now = get_user(server, token, u["id"]).json()
    assert now["name"] == "First" and now["time_zone"] == "UTC"
    assert now["etag"] == fresh


def test_patch_with_matching_if_match(server, admin):
    u, token = new_user(server, admin)
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={"name": "Matched"},
                       headers={"If-Match": u["etag"]})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Matched"
    assert r.headers["ETag"] == r.json()["etag"] != u["etag"]
    # The new ETag works as the next If-Match; the old one no longer does.
    r2 = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={"name": "Again"},
                        headers={"If-Match": r.json()["etag"]})
    assert r2.status_code == 200, r2.text
    r3 = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={"name": "Late"},
                        headers={"If-Match": r.json()["etag"]})
    assert_problem(r3, 412, "precondition-failed")
    assert get_user(server, admin, u["id"]).json()["name"] == "Again"


def test_member_cannot_change_own_role_or_active(server, admin):
    u, token = new_user(server, admin)
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={"role": "admin"})
    assert_problem(r, 403, "forbidden", "role")
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token, json_body={"active": False})
    assert_problem(r, 403, "forbidden", "active")
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token,
                       json_body={"name": "Also Renamed", "role": "admin"})
    assert_problem(r, 403, "forbidden", "role")
    now = get_user(server, admin, u["id"]).json()
    assert now["role"] == "member" and now["name"] == u["name"] and now["etag"] == u["etag"]


def test_member_cannot_patch_someone_else(server, admin, admin_id):
    u, token = new_user(server, admin)
    other, _ = new_user(server, admin)
    for uid in (other["id"], admin_id):
        r = server.request("PATCH", f"{USERS}/{uid}", token=token, json_body={"name": "Pwned"})
        assert_problem(r, 403, "forbidden")
    assert get_user(server, admin, other["id"]).json()["name"] == other["name"]


def test_admin_changes_role(server, admin):
    u, token = new_user(server, admin)
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=admin, json_body={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # Now the user may do admin things.
    r = server.request("POST", USERS, token=server.login(u["email"], "member password"),
                       json_body={"email": "by-promoted@example.org", "name": "By Promoted",
                                  "password": "promoted pass"})
    assert r.status_code == 201, r.text


def test_own_password_change_needs_current_password(server, admin):
    u, token = new_user(server, admin, password="old password 1")
    path = f"{USERS}/{u['id']}"
    r = server.request("PATCH", path, token=token, json_body={"password": "new password 1"})
    assert_problem(r, 422, "validation", "current_password")
    r = server.request("PATCH", path, token=token,
                       json_body={"password": "new password 1", "current_password": "wrong one"})
    assert_problem(r, 422, "validation", "current_password")
    # Neither attempt changed anything.
    token = server.login(u["email"], "old password 1")
    r = server.request("PATCH", path, token=token,
                       json_body={"password": "new password 1",
                                  "current_password": "old password 1"})
    assert r.status_code == 200, r.text
    assert "password" not in r.json()
    old = server.request("POST", "/api/v1/auth/login",
                         json_body={"email": u["email"], "password": "old password 1"})
    assert_problem(old, 401, "unauthorized")
    assert server.login(u["email"], "new password 1")


def test_password_rules_apply_on_change(server, admin):
    u, token = new_user(server, admin, password="old password 2")
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=token,
                       json_body={"password": "short", "current_password": "old password 2"})
    assert_problem(r, 422, "validation", "password")
    assert server.login(u["email"], "old password 2")


def test_admin_resets_password_without_current(server, admin):
    u, _ = new_user(server, admin, password="forgotten pw")
    r = server.request("PATCH", f"{USERS}/{u['id']}", token=admin,
                       json_body={"password": "reset by admin"})
    assert r.status_code == 200, r.text
    old = server.request("POST", "/api/v1/auth/login",
                         json_body={"email": u["email"], "password": "forgotten pw"})
    assert_problem(old, 401, "unauthorized")
    assert server.login(u["email"], "reset by admin")


# --- deactivating


def test_admin_deactivates_user(server, admin):
    u, token = new_user(server, admin, prefix="leaver", password="leaver password")
    assert server.request("GET", ME, token=token).status_code == 200
    assert [x["id"] for x in directory(server, admin, q=u["email"])["items"]] == [u["id"]]
    r = server.request("DELETE", f"{USERS}/{u['id']}", token=admin)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_problem(server.request("GET", ME, token=token), 401, "unauthorized")
    login = server.request("POST", "/api/v1/auth/login",
                           json_body={"email": u["email"], "password": "leaver password"})
    assert_problem(login, 401, "unauthorized")
    assert directory(server, admin, q=u["email"])["items"] == []
    assert u["id"] not in [x["id"] for x in directory(server, admin, limit=1000)["items"]]
    # The record stays, marked inactive.
    r = get_user(server, admin, u["id"])
    assert r.status_code == 200 and r.json()["active"] is False
    # Its e-mail stays taken.
    r = server.request("POST", USERS, token=admin, json_body={
        "email": u["email"], "name": "Reuse", "password": "reuse password"})
    assert_problem(r, 409, "conflict", "email")


def test_admin_cannot_delete_self(server, admin, admin_id):
    r = server.request("DELETE", f"{USERS}/{admin_id}", token=admin)
    assert_problem(r, 409, "conflict")
    assert server.request("GET", ME, token=admin).status_code == 200


def test_member_cannot_delete(server, admin, admin_id):
    u, token = new_user(server, admin)
    other, other_token = new_user(server, admin)
    for uid in (other["id"], u["id"], admin_id):
        assert_problem(server.request("DELETE", f"{USERS}/{uid}", token=token), 403, "forbidden")
    assert server.request("GET", ME, token=other_token).status_code == 200


def test_delete_unknown_user_is_404(server, admin):
    assert_problem(server.request("DELETE", f"{USERS}/987654321", token=admin), 404, "not-found")


# --- consistency across the server's threads and processes


def test_every_thread_sees_a_new_user_at_once(server, admin):
    """Reads land on any worker and thread (each with its own database connection); every
    one of them must see a write that finished before the read began."""
    for _ in range(24):  # touch every connection with reads first
        assert server.request("GET", ME, token=admin).status_code == 200
    u = server.create_user(admin, "visible@example.org", name="Visible Everywhere")
    misses = 0
    for _ in range(24):
        items = directory(server, admin, q="visible@example.org")["items"]
        misses += [x["id"] for x in items] != [u["id"]]
    assert misses == 0, f"{misses} of 24 reads did not see the user created before them"


def test_every_thread_forgets_a_logged_out_token(server, admin):
    u, token = new_user(server, admin)
    for _ in range(24):
        assert server.request("GET", ME, token=token).status_code == 200
    assert server.request("POST", "/api/v1/auth/logout", token=token).status_code == 204
    still = sum(server.request("GET", ME, token=token).status_code != 401 for _ in range(24))
    assert still == 0, f"the logged-out token still worked on {still} of 24 requests"
