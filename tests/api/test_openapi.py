"""The published OpenAPI document and the server's route table describe the same API:
every route the server answers is documented, and every documented route answers."""
import os
import re

ROUTES_C = os.path.join(os.path.dirname(__file__), "..", "..", "src", "api", "routes.c")


def server_routes():
    text = open(ROUTES_C).read()
    return {(m, p) for m, p in re.findall(r'\b(?:R|SLOW)\("([A-Z]+)",\s*"([^"]+)"', text)}


def documented_routes(doc):
    out = set()
    for path, item in doc["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                out.add((method.upper(), path))
    return out


def test_document_is_served(server):
    r = server.request("GET", "/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert doc["paths"]


def test_every_route_is_documented_and_every_documented_route_exists(server):
    doc = server.request("GET", "/api/v1/openapi.json").json()
    routes = server_routes()
    assert len(routes) >= 10
    assert routes == documented_routes(doc)


def test_every_documented_route_answers(server, admin):
    """No documented route is a 404 (no route) or 405 (wrong method) from the router."""
    doc = server.request("GET", "/api/v1/openapi.json").json()
    for method, path in sorted(documented_routes(doc)):
        concrete = re.sub(r"\{[^}]+\}", "999999", path)
        # Logging out would end the shared admin session: spend a token of its own.
        token = server.admin_token() if path.endswith("/logout") else admin
        r = server.request(method, concrete, token=token, json_body={} if method in ("POST", "PATCH", "PUT") else None)
        assert r.status_code != 405, (method, path)
        if r.status_code == 404:
            # A documented route may answer 404 for a missing resource, never for a missing route.
            assert "no resource at" not in r.json()["detail"], (method, path)


def route_access():
    """(method, path) -> HTTP_PUBLIC / HTTP_USER / HTTP_ADMIN, from the route table."""
    text = open(ROUTES_C).read()
    return {(m, p): a for m, p, a in
            re.findall(r'\b(?:R|SLOW)\("([A-Z]+)",\s*"([^"]+)",\s*\w+,\s*(HTTP_[A-Z]+)'
                       r'(?:,\s*HTTP_SIDE_[A-Z]+)?\)', text)}


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def deref(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(doc, node["$ref"])
    return node


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, item, op


def test_every_ref_resolves(server):
    doc = server.request("GET", "/api/v1/openapi.json").json()
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert refs
    for ref in refs:
        resolve(doc, ref)


def test_every_operation_documents_success_auth_and_bodies(server):
    """Each operation has a 2xx; routes behind a token declare the bearer scheme and 401, admin
    routes 403, public ones no security; JSON bodies document 400/413/415/422; POSTs behind a
    token take Idempotency-Key; every path placeholder is a declared parameter."""
    doc = server.request("GET", "/api/v1/openapi.json").json()
    access = route_access()
    assert len(access) == len(server_routes())
    assert doc["security"] == [{"bearer": []}]
    for method, path, item, op in operations(doc):
        where = (method, path)
        codes = set(op["responses"])
        assert any(c.startswith("2") for c in codes), where
        for code, resp in op["responses"].items():
            assert re.fullmatch(r"[1-5][0-9][0-9]", code), (where, code)
            resp = deref(doc, resp)
            assert resp.get("description"), (where, code)
            if code >= "400":
                assert "application/problem+json" in resp.get("content", {}), (where, code)
        level = access[where]
        if level == "HTTP_PUBLIC":
            assert op.get("security") == [], where
        else:
            assert op.get("security", doc["security"]) == [{"bearer": []}], where
            assert "401" in codes, where
        if level == "HTTP_ADMIN":
            assert "403" in codes, where
        params = [deref(doc, p) for p in item.get("parameters", []) + op.get("parameters", [])]
        names = {(p["in"], p["name"]) for p in params}
        for placeholder in re.findall(r"\{([^}]+)\}", path):
            assert ("path", placeholder) in names, (where, placeholder)
        if "requestBody" in op:
            content = deref(doc, op["requestBody"])["content"]
            # JSON everywhere, but for the iCalendar import.
            assert "application/json" in content or (
                "text/calendar" in content and path.endswith("/import")), where
            assert {"400", "413", "415", "422"} <= codes, where
        if method == "POST" and level != "HTTP_PUBLIC":
            assert ("header", "Idempotency-Key") in names, where
            assert {"409", "422"} <= codes, where
