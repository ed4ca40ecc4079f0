"""A real PostgreSQL for the tests: Debian's ``postgresql`` binaries, ``initdb`` into a temporary
directory, ``postgres`` on 127.0.0.1 and a free port, password (SCRAM) authentication, no Unix socket.

PostgreSQL refuses to run as root: as root, ``initdb`` and ``postgres`` run as ``nobody`` (the data
directory is made theirs). The binaries are ``$AGENTGUARD_POSTGRES_BIN``, else the newest
``/usr/lib/postgresql/*/bin``, else ``postgres`` on ``PATH`` (``make system-packages`` installs them).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest

READY_TIMEOUT = 60.0
USER = "agentguard"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str) -> NoReturn:
    """Fail (or, with ``AGENTGUARD_SKIP_COMPONENTS=1`` outside CI, skip): PostgreSQL is not installed."""
    message = f"{what}: run `make venv system-packages` (psycopg, and PostgreSQL from Debian's packages)"
    if _truthy(os.environ.get("AGENTGUARD_SKIP_COMPONENTS")):
        if _truthy(os.environ.get("CI")):
            pytest.fail(f"{message}. AGENTGUARD_SKIP_COMPONENTS is not honoured when CI is set.", False)
        pytest.skip(f"AGENTGUARD_SKIP_COMPONENTS=1: {message}")
    pytest.fail(message, pytrace=False)


def bindir() -> Path:
    configured = os.environ.get("AGENTGUARD_POSTGRES_BIN")
    candidates = [Path(configured)] if configured else []

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in p.parent.name.split(".") if x.isdigit())

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    found = shutil.which("postgres")
    if found:
        candidates.append(Path(found).parent)
    for candidate in candidates:
        if os.access(candidate / "postgres", os.X_OK) and os.access(candidate / "initdb", os.X_OK):
            return candidate
    missing("no PostgreSQL server binaries (initdb, postgres)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running server; :meth:`new_database` gives each test a database of its own."""

    def __init__(self, *, log_dir: Path) -> None:
        try:
            import psycopg
        except ImportError:
            missing("psycopg is not installed (agentguard[postgres])")
        self._psycopg: Any = psycopg
        self.bin = bindir()
        self.password = "pw-" + secrets.token_hex(8)
        self.port = _free_port()
        self.log_path = log_dir / "postgres.log"
        # as root the server runs as nobody, who must reach the directory: /tmp, not a private $TMPDIR
        self._dir = Path(tempfile.mkdtemp(prefix="agentguard-pg-", dir="/tmp" if os.geteuid() == 0 else None))
        self._proc: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self._as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            os.chown(self._dir, nobody.pw_uid, nobody.pw_gid)

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{USER}:{secret}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        data = self._dir / "data"
        pwfile = self._dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as:
            os.chown(pwfile, self._as["user"], self._as["group"])
        log_dir = self.log_path.parent
        log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            initdb = [
                str(self.bin / "initdb"),
                f"--pgdata={data}",
                f"--username={USER}",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ]
            subprocess.run(
                initdb, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, check=True,
                timeout=120, cwd=self._dir, **self._as,
            )  # fmt: skip
            pwfile.unlink()
            argv = [
                str(self.bin / "postgres"),
                "-D", str(data),
                "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "shared_buffers=16MB",
                "-c", "max_connections=100",
            ]  # fmt: skip
            setpriv = shutil.which("setpriv")
            if setpriv:  # the server gets SIGKILL if the test process dies without teardown
                argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self._dir,
                start_new_session=True, **self._as,
            )  # fmt: skip
        started = time.monotonic()
        while True:
            code = self._proc.poll()
            if code is not None:
                self.stop()
                pytest.fail(f"postgres exited with {code}:\n{self.tail()}", pytrace=False)
            try:
                self._psycopg.connect(self.url(), connect_timeout=2).close()
                break
            except self._psycopg.OperationalError:
                if time.monotonic() - started > READY_TIMEOUT:
                    self.stop()
                    pytest.fail(f"postgres not ready in {READY_TIMEOUT:.0f} s:\n{self.tail()}", pytrace=False)
                time.sleep(0.1)
        sys.stderr.write(f"\n[components] postgres ready in {time.monotonic() - started:.1f} s\n")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        name = "t_" + secrets.token_hex(6)
        with self._psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def sql(self, url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement in the database at ``url`` as the superuser; its rows."""
        with self._psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return list(cur.fetchall()) if cur.description is not None else []

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)  # fast shutdown
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        shutil.rmtree(self._dir, ignore_errors=True)
