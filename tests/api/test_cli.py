"""The command line, black-box: usage, exit codes (2 for a bad flag or setting, with a one-line
reason naming it), `planner migrate` and `planner user add`."""
import os
import subprocess

from conftest import ASAN, BIN

SLOW = 4 if ASAN else 1


def run(*args, stdin="", env=None, timeout=20):
    """Run the binary with a clean PLANNER_* environment (plus `env`)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    e["PLANNER_PWHASH"] = "min"
    e.update(env or {})
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, env=e,
                       timeout=timeout * SLOW)
    if ASAN:
        assert "Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, p.stderr[-4000:]
    return p


def usage_error(p, *words):
    """Exit 2 with exactly one line on stderr that names every word."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def db_url(tmp_path, name="x.db"):
    return f"sqlite:{tmp_path}/{name}"


# --- usage -------------------------------------------------------------------------------------

def test_help_lists_commands():
    p = run("--help")
    assert p.returncode == 0, p.stderr
    for cmd in ("serve", "migrate", "user"):
        assert cmd in p.stdout, p.stdout


def test_no_command_is_a_usage_error():
    p = run()
    assert p.returncode == 2
    assert "serve" in p.stderr


def test_serve_help_lists_settings():
    p = run("serve", "--help")
    assert p.returncode == 0, p.stderr
    for flag in ("--listen", "--database", "--workers", "--threads", "--env", "--config",
                 "--slow-request-ms", "--drain-timeout-s", "--connection-timeout-s"):
        assert flag in p.stdout, (flag, p.stdout)


def test_unknown_command_exits_2():
    usage_error(run("frobnicate"), "frobnicate")


def test_unknown_flag_exits_2(tmp_path):
    usage_error(run("serve", "--frobnicate", "1", "--database", db_url(tmp_path)), "--frobnicate")
    usage_error(run("migrate", "--no-such-flag=3", "--database", db_url(tmp_path)),
                "no-such-flag")
    assert not (tmp_path / "x.db").exists()


def test_flag_without_value_exits_2():
    usage_error(run("serve", "--workers"), "workers")


def test_bad_flag_value_names_setting(tmp_path):
    line = usage_error(run("serve", "--workers", "abc", "--database", db_url(tmp_path),
                           "--listen", "127.0.0.1:0"), "workers", "abc")
    assert "--workers" in line
    usage_error(run("serve", "--env", "staging", "--database", db_url(tmp_path)), "env", "staging")
    usage_error(run("serve", "--listen", "nowhere", "--database", db_url(tmp_path)), "listen")
    assert not (tmp_path / "x.db").exists()


def test_bad_env_value_names_variable(tmp_path):
    usage_error(run("serve", "--database", db_url(tmp_path), env={"PLANNER_THREADS": "0"}),
                "PLANNER_THREADS", "threads")
    usage_error(run("migrate", env={"PLANNER_DATABASE": "mysql://x"}), "database")


def test_config_file_unknown_key_names_key_and_line(tmp_path):
    conf = tmp_path / "planner.conf"
    conf.write_text("# comment\n\nenv = production\nbogus_key = 1\n")
    usage_error(run("serve", "--config", str(conf), "--database", db_url(tmp_path)),
                "bogus_key", f"{conf}:4")
    # The file may also be named by PLANNER_CONFIG.
    usage_error(run("migrate", "--database", db_url(tmp_path), env={"PLANNER_CONFIG": str(conf)}),
                "bogus_key", f"{conf}:4")


def test_config_file_bad_value_names_setting_and_line(tmp_path):
    conf = tmp_path / "planner.conf"
    conf.write_text("workers = 2\nthreads = abc\n")
    usage_error(run("serve", "--config", str(conf), "--database", db_url(tmp_path)),
                "threads", "abc", f"{conf}:2")


def test_missing_config_file_exits_2(tmp_path):
    usage_error(run("migrate", "--config", str(tmp_path / "nope.conf"),
                    "--database", db_url(tmp_path)), "config", "nope.conf")


# --- migrate ---------------------------------------------------------------------------------

def test_migrate_applies_once(tmp_path):
    url = db_url(tmp_path)
    p = run("migrate", "--database", url)
    assert p.returncode == 0, p.stderr
    first = p.stdout.strip()
    assert first.startswith("applied "), first
    n = int(first.split()[1])
    assert n >= 1, first
    assert (tmp_path / "x.db").exists()
    p = run("migrate", "--database", url)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().startswith("applied 0 "), p.stdout
    # The schema version is reported and unchanged.
    assert first.split()[-1] == p.stdout.strip().split()[-1]


def test_migrate_unreachable_database_exits_1(tmp_path):
    p = run("migrate", "--database", f"sqlite:{tmp_path}/no/such/dir/x.db")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.strip(), "no reason given"


# --- user add -----------------------------------------------------------------------------------

def test_user_add_admin_can_log_in(tmp_path, make_server):
    url = db_url(tmp_path)
    p = run("user", "add", "--email", "a@b.org", "--name", "A", "--admin", "--database", url,
            stdin="long enough password\n")
    assert p.returncode == 0, p.stderr
    assert "admin" in p.stdout and "a@b.org" in p.stdout, p.stdout

    s = make_server(args=["--database", url])  # the last --database wins
    # An administrator exists already: no first administrator is created.
    assert "created the first administrator" not in s.stdout_path.read_text()
    token = s.login("a@b.org", "long enough password")
    me = s.request("GET", "/api/v1/me", token=token)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "a@b.org" and me.json()["role"] == "admin"
    assert me.json()["name"] == "A"
    r = s.request("POST", "/api/v1/auth/login",
                  json_body={"email": "a@b.org", "password": "wrong password!"})
    assert r.status_code == 401


def test_user_add_member_by_default(tmp_path):
    p = run("user", "add", "--email", "m@b.org", "--name", "M", "--database", db_url(tmp_path),
            stdin="long enough password\n")
    assert p.returncode == 0, p.stderr
    assert "member" in p.stdout and "admin" not in p.stdout, p.stdout


def test_user_add_short_password_exits_2(tmp_path):
    p = run("user", "add", "--email", "a@b.org", "--name", "A", "--database", db_url(tmp_path),
            stdin="short\n")
    usage_error(p, "password")


def test_user_add_without_password_exits_2(tmp_path):
    p = run("user", "add", "--email", "a@b.org", "--name", "A", "--database", db_url(tmp_path),
            stdin="")
    usage_error(p, "password")


def test_user_add_needs_email_and_name(tmp_path):
    usage_error(run("user", "add", "--name", "A", "--database", db_url(tmp_path),
                    stdin="long enough password\n"), "--email")
    usage_error(run("user", "add", "--email", "not-an-email", "--name", "A",
                    "--database", db_url(tmp_path), stdin="long enough password\n"), "email")
    usage_error(run("user", "frob"), "user add")


def test_user_add_duplicate_email_exits_1(tmp_path):
    url = db_url(tmp_path)
    args = ("user", "add", "--email", "dup@b.org", "--name", "D", "--database", url)
    assert run(*args, stdin="long enough password\n").returncode == 0
    p = run(*args, stdin="another long password\n")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip() and len(p.stderr.strip().splitlines()) == 1, p.stderr
    # Case does not make a new address.
    p = run("user", "add", "--email", "DUP@b.org", "--name", "D", "--database", url,
            stdin="another long password\n")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
