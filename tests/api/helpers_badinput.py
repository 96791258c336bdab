"""Helpers for the bad-input catalogue and other tests that need more than `requests` gives:
a raw HTTP/1.1 exchange over a socket (chunked uploads, bodies the server may refuse before
reading them), and snapshots of server state to prove that a refused request changed nothing."""
import json
import re
import socket
import threading
import time

from requests.structures import CaseInsensitiveDict


class RawResponse:
    """Just enough of requests.Response for assert_problem()."""

    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.text = content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


def _parse(data):
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise AssertionError(f"not an HTTP response: {data[:200]!r}")
    headers = CaseInsensitiveDict()
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip()] = v.strip()
    n = int(headers.get("Content-Length", "0"))
    if len(rest) < n:
        return None
    return RawResponse(int(m.group(1)), headers, rest[:n])


def raw_exchange(port, head, body_parts=(), timeout=10):
    """Send `head` (the request line and headers, bytes, ending in CRLFCRLF) and then each of
    `body_parts` from a second thread while this one reads the answer, so that a server that
    answers before reading the whole body (and closes) is still heard.  Errors while sending
    are ignored: only the answer matters.  Returns a RawResponse, or raises AssertionError when
    the connection ends without a complete response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send():
        try:
            sock.sendall(head)
            for part in body_parts:
                sock.sendall(part)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except OSError as e:  # a reset after the answer was read is fine
                if _parse(data) is not None:
                    break
                raise AssertionError(f"connection failed without a response: {e!r}") from e
            if not chunk:
                break
            data += chunk
            r = _parse(data)
            if r is not None:
                return r
    finally:
        sock.close()
        sender.join(timeout)
    r = _parse(data)
    if r is None:
        raise AssertionError(f"the server closed the connection without a complete response "
                             f"(got {len(data)} bytes: {data[:200]!r})")
    return r


def chunked(parts):
    """Encode each part as one HTTP/1.1 chunk, then the last-chunk marker."""
    for p in parts:
        yield b"%x\r\n" % len(p) + p + b"\r\n"
    yield b"0\r\n\r\n"


def request_head(method, path, headers):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def snapshot(server, admin_token):
    """What a refused request must not change: every user (id, email, name, role, time zone,
    active, etag) as the admin sees the directory, and the admin's own /me."""
    r = server.request("GET", "/api/v1/users?limit=1000", token=admin_token)
    assert r.status_code == 200, r.text
    users = sorted((u["id"], u["email"], u["name"], u["role"], u["time_zone"], u["active"],
                    u["etag"]) for u in r.json()["items"])
    me = server.request("GET", "/api/v1/me", token=admin_token)
    assert me.status_code == 200, me.text
    return users, me.json()


def assert_alive(server):
    r = server.request("GET", "/healthz", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok"}, r.text
