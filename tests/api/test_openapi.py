"""The published OpenAPI document and the server's route table describe the same API:
every route the server answers is documented, and every documented route answers."""
import os
import re

ROUTES_C = os.path.join(os.path.dirname(__file__), "..", "..", "src", "api", "routes.c")


def server_routes():
    text = open(ROUTES_C).read()
    return {(m, p) for m, p in re.findall(r'R\("([A-Z]+)",\s*"([^"]+)"', text)}


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
