"""Fixtures for the black-box API tests: a real `planner serve` on a free loopback port with
a temporary SQLite database.  PLANNER_BIN names the binary (the Makefile sets it); with
PLANNER_ASAN=1 the server is a sanitizer build and its stderr is checked for reports; with
PLANNER_TSAN=1 as well, that build is ThreadSanitizer's."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

BIN = os.environ.get("PLANNER_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "planner")
ASAN = os.environ.get("PLANNER_ASAN") == "1"
TSAN = os.environ.get("PLANNER_TSAN") == "1"
START_TIMEOUT = 30 if ASAN else 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `planner serve` process tree, started by the test and stopped by PID."""

    def __init__(self, tmp_path, args=(), env=None, workers=2, threads=4):
        self.dir = tmp_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = f"sqlite:{tmp_path}/planner.db"
        self.stdout_path = tmp_path / "stdout.txt"
        self.stderr_path = tmp_path / "stderr.txt"
        e = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
        e["PLANNER_PWHASH"] = "min"  # argon2id at its floor: tests log in a lot
        e.update(env or {})
        self.env = e
        self.args = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--database", self.db,
                     "--workers", str(workers), "--threads", str(threads), *args]
        self.proc = None
        self.admin_password = None

    def start(self, wait=True):
        self._out = open(self.stdout_path, "w")
        self._err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=self.env)
        if wait:
            self.wait_ready()
        m = re.search(r"password (\S+)", self.stdout_path.read_text())
        if m:
            self.admin_password = m.group(1)
        return self

    def wait_ready(self):
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.stderr()}")
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy: " + self.stderr())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._out.close()
        self._err.close()
        return rc

    def stderr(self):
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def log_lines(self):
        """The JSON log lines written so far (non-JSON lines, e.g. sanitizer output, skipped)."""
        out = []
        for line in self.stderr().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def url(self, path):
        return self.base + path

    # Convenience wrappers: JSON in, response out.
    def request(self, method, path, token=None, json_body=None, headers=None, **kw):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url(path), json=json_body, headers=h,
                                timeout=kw.pop("timeout", 30), **kw)

    def login(self, email, password):
        r = self.request("POST", "/api/v1/auth/login",
                         json_body={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def admin_token(self):
        return self.login("admin@planner.local", self.admin_password)

    def create_user(self, admin_token, email, name="Test User", password="correct horse",
                    **extra):
        body = {"email": email, "name": name, "password": password, **extra}
        r = self.request("POST", "/api/v1/users", token=admin_token, json_body=body)
        assert r.status_code == 201, r.text
        return r.json()

    def writers(self, prefix, n):
        """n new users, logged in: [(token, id of their own calendar)]."""
        admin = self.admin_token()
        out = []
        for i in range(n):
            self.create_user(admin, f"{prefix}{i}@example.org", f"{prefix.upper()}{i}")
            t = self.login(f"{prefix}{i}@example.org", "correct horse")
            cal = self.request("GET", "/api/v1/calendars", token=t).json()["items"][0]["id"]
            out.append((t, cal))
        return out


def assert_sanitizer_clean(server):
    if ASAN:
        text = server.stderr()
        assert not any(s in text for s in ("AddressSanitizer", "runtime error:", "ThreadSanitizer")), \
            text[-4000:]


@pytest.fixture
def make_server(tmp_path):
    """Factory for tests that need their own server (flags, env, signals)."""
    started = []

    def make(args=(), env=None, start=True, **kw):
        d = tmp_path / f"s{len(started)}"
        d.mkdir()
        s = Server(d, args=args, env=env, **kw)
        started.append(s)
        return s.start() if start else s

    yield make
    for s in started:
        s.stop()
        assert_sanitizer_clean(s)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server shared by the tests of one module."""
    s = Server(tmp_path_factory.mktemp("srv")).start()
    yield s
    rc = s.stop()
    assert rc == 0, s.stderr()[-4000:]
    assert_sanitizer_clean(s)


@pytest.fixture(scope="module")
def admin(server):
    return server.admin_token()


def assert_problem(r, status, slug=None, field=None):
    """The response is an RFC 9457 problem document with the given status (and slug/field)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/problem+json"), r.headers
    p = r.json()
    assert p["status"] == status
    assert p["type"].startswith("/problems/")
    assert isinstance(p.get("title"), str) and p["title"]
    assert isinstance(p.get("detail"), str)
    if slug:
        assert p["type"] == f"/problems/{slug}", p
    if field:
        assert any(e["field"] == field for e in p.get("errors", [])), p
    return p
