"""The approvals queue in PostgreSQL, for agents and approvers on different machines.

``ApprovalStore(url="postgresql://agent@db.internal/agents")`` keeps the same tables as the SQLite file,
in the schema ``agentguard`` of the database the URL names (created on first use, with its version in
``agentguard.schema_version``). Needs ``psycopg`` 3: ``pip install 'agentguard[postgres]'``.

Every write transaction first takes one transaction-level advisory lock for the queue (released at
commit or rollback), so writers take turns exactly as they do on SQLite's file lock: two answers to one
request cannot both win. ``lock_timeout`` bounds that wait. Reads are single statements.

The password never leaves this module: :func:`redact_url` masks it in every place the URL is shown
(``repr``, ``location``, error messages), driver errors are re-raised as
:class:`~agentguard.approval.ApprovalError` with the password scrubbed and without the driver's
exception chained, and a URL libpq cannot parse is reported without libpq's message (which quotes it).
A password in ``PGPASSWORD`` or ``~/.pgpass`` works as well and keeps it out of the URL altogether.

PostgreSQL ``text`` cannot hold NUL: a NUL in a value is stored as the four characters ``\\x00``
(what :func:`~agentguard.approval.visible` shows for it).

>>> redact_url("postgresql://agent:s3cret@db.internal:5432/agents?sslmode=require")
'postgresql://agent:***@db.internal:5432/agents?sslmode=require'
"""

from __future__ import annotations

import functools
import re
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, NoReturn

from ._backend import SCHEMA_VERSION, Row
from ._errors import ApprovalError

if TYPE_CHECKING:
    import psycopg

SCHEMES: Final = ("postgresql", "postgres")
SCHEMA: Final = "agentguard"
_LOCK_KEY: Final = "agentguard.approvals"
_LOCK_SQL: Final = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"

_DDL: Final = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.requests (
    id            TEXT PRIMARY KEY,
    action_hash   TEXT NOT NULL,
    tool          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    rule_ids      TEXT NOT NULL,
    run_id        TEXT,
    agent         TEXT,
    created       DOUBLE PRECISION NOT NULL,
    expires       DOUBLE PRECISION,
    status        TEXT NOT NULL,
    answered      DOUBLE PRECISION,
    answered_by   TEXT,
    scope         TEXT,
    answer_reason TEXT NOT NULL DEFAULT '',
    grant_id      TEXT,
    waiter_pid    INTEGER,
    waiter_host   TEXT,
    waiter_seen   DOUBLE PRECISION
)""",
    f"CREATE INDEX IF NOT EXISTS requests_status ON {SCHEMA}.requests (status, created)",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.grants (
    id          TEXT PRIMARY KEY,
    action_hash TEXT NOT NULL,
    scope       TEXT NOT NULL,
    run_id      TEXT,
    tool        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    created     DOUBLE PRECISION NOT NULL,
    created_by  TEXT NOT NULL,
    request_id  TEXT,
    revoked     DOUBLE PRECISION,
    revoked_by  TEXT
)""",
    f"CREATE INDEX IF NOT EXISTS grants_hash ON {SCHEMA}.grants (action_hash)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (version INTEGER NOT NULL)",
)


def is_postgres_url(value: object) -> bool:
    """``value`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(value, str) and value.partition("://")[0].lower() in SCHEMES and "://" in value


def redact_url(url: str) -> str:
    """``url`` with its password (in the user info or a ``password=`` parameter) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"  # not a URL at all: nothing in it can be shown safely
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    head, tail = rest[:cut], rest[cut:]
    userinfo, at, hostpart = head.rpartition("@")  # the last '@': a password may hold '@' or '/'
    if at:
        user, colon, _ = userinfo.partition(":")
        head = f"{user}:***@{hostpart}" if colon else f"{user}@{hostpart}"
    tail = re.sub(r"(?i)((?:^|[?&])password=)[^&#]*", r"\1***", tail)
    return f"{scheme}{sep}{head}{tail}"


class SecretURL:
    """A connection URL that shows itself only with its password masked (``repr``, ``str``, ``vars``
    of whatever holds it); :meth:`reveal` gives the URL to the driver."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def location(self) -> str:
        """The URL with its password masked."""
        return redact_url(self._value)

    def __repr__(self) -> str:
        return f"SecretURL({self.location!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretURL) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _secrets(url: str) -> list[str]:
    """Every spelling of the passwords in ``url``, longest first (to scrub from messages)."""
    found: set[str] = set()
    rest = url.partition("://")[2]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    userinfo, at, _ = rest[:cut].rpartition("@")
    if at and ":" in userinfo:
        found.add(userinfo.partition(":")[2])
    for key, value in urllib.parse.parse_qsl(
        rest[cut:].lstrip("?").partition("#")[0], keep_blank_values=True
    ):
        if key.lower() == "password":
            found.add(value)
    raw = re.findall(r"(?i)(?:^|[?&])password=([^&#]*)", rest[cut:])
    found.update(raw)
    found.update(urllib.parse.unquote(s) for s in list(found))
    return sorted((s for s in found if s), key=len, reverse=True)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            "the PostgreSQL approvals queue needs psycopg 3: pip install 'agentguard[postgres]'"
        ) from exc
    return psycopg


@functools.lru_cache(maxsize=256)
def _dialect(sql: str) -> str:
    """The queue's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _params(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(p.replace("\x00", "\\x00") if isinstance(p, str) and "\x00" in p else p for p in params)


def _rollback(conn: psycopg.Connection[Any]) -> None:
    """End a failed or interrupted transaction; a dead connection has none left to end."""
    if conn.broken or conn.closed:
        return
    try:
        conn.execute("ROLLBACK")
    except Exception:  # the connection died meanwhile: the server ends the transaction itself
        conn.close()


class _Tx:
    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._conn.execute(_dialect(sql), _params(params))
        rows: list[Row] = cur.fetchall() if cur.description is not None else []
        return rows


class PostgresBackend:
    """One connection to the database, shared by this process's threads behind a lock, reopened on the
    next call after it broke. ``create=False`` raises :class:`FileNotFoundError` when the database has
    no queue yet (and creates nothing)."""

    name = "postgresql"
    memory = False

    def __init__(
        self, url: str, *, create: bool = True, lock_timeout: float = 10.0, connect_timeout: float = 10.0
    ) -> None:
        if not is_postgres_url(url):
            raise ValueError(f"not a postgresql:// URL: {redact_url(url)!r}")
        self._psycopg = _psycopg()
        self._url = SecretURL(url)
        self.location = redact_url(url)
        self.lock_timeout = lock_timeout
        self.connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._closed = False
        try:
            given = self._psycopg.conninfo.conninfo_to_dict(url)
        except self._psycopg.Error:
            # libpq's message quotes the part of the URL it could not parse, password included
            raise ValueError(
                f"not a valid PostgreSQL connection URL: {self.location!r} (percent-encode special"
                " characters in the user name and password)"
            ) from None
        # the URL's own settings win; else the server's views name us, and connecting gives up in time
        defaults = {
            "application_name": "agentguard-approvals",
            "connect_timeout": str(max(2, round(connect_timeout))),  # libpq's minimum is 2 s
        }
        self._extra = {k: v for k, v in defaults.items() if k not in given}
        self._conn: psycopg.Connection[Any] | None = None
        with self._errors():
            self._conn = self._connect()
        try:
            self._setup(create)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresBackend({self.location!r})"

    # -- connection -----------------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        from psycopg.rows import dict_row

        conn: psycopg.Connection[Any] = self._psycopg.connect(
            self._url.reveal(),
            autocommit=True,
            row_factory=dict_row,
            **self._extra,
        )
        try:
            conn.execute(f"SET search_path TO {SCHEMA}")
            conn.execute(f"SET lock_timeout = {max(1, int(self.lock_timeout * 1000))}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise ApprovalError(f"the approvals store at {self.location} is closed")
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            self._conn = conn = self._connect()
        return conn

    def _fail(self, exc: BaseException) -> NoReturn:
        message = " ".join(str(exc).split()) or type(exc).__name__  # one line: libpq adds hints on more
        for secret in _secrets(self._url.reveal()):
            message = message.replace(secret, "***")
        raise ApprovalError(f"PostgreSQL: {message}") from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg.Error as exc:
            self._fail(exc)

    def _setup(self, create: bool) -> None:
        with self.write() as tx:
            found = tx.execute("SELECT to_regclass(?) IS NOT NULL AS present", (f"{SCHEMA}.schema_version",))
            version = 0
            if found and found[0]["present"]:
                rows = tx.execute(f"SELECT max(version) AS version FROM {SCHEMA}.schema_version")
                version = int(rows[0]["version"] or 0) if rows else 0
            if version == SCHEMA_VERSION:
                return
            if version > SCHEMA_VERSION:
                raise ApprovalError(
                    f"approvals store {self.location} has schema version {version}, newer than this"
                    " agentguard supports; upgrade agentguard"
                )
            if version == 0 and not create:
                raise FileNotFoundError(f"no approvals queue at {self.location}")
            for statement in _DDL:
                tx.execute(statement)
            tx.execute(f"DELETE FROM {SCHEMA}.schema_version")
            tx.execute(f"INSERT INTO {SCHEMA}.schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    def _begin(self) -> psycopg.Connection[Any]:
        """A connection inside a new transaction that holds the queue's lock. A connection found dead
        here (the server restarted, an idle timeout) is replaced once: nothing of the caller's has run."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.execute("BEGIN")
                conn.execute(_LOCK_SQL, (_LOCK_KEY,))
                return conn
            except BaseException as exc:  # also an interrupt while waiting for the lock
                _rollback(conn)
                if attempt == 2 or not conn.broken or not isinstance(exc, self._psycopg.Error):
                    raise
        raise AssertionError("unreachable")

    # -- the Backend interface ------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[_Tx]:
        with self._lock, self._errors():
            conn = self._begin()
            try:
                yield _Tx(conn)
            except BaseException:
                _rollback(conn)
                raise
            conn.execute("COMMIT")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock, self._errors():
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    rows: list[Row] = conn.execute(_dialect(sql), _params(params)).fetchall()
                    return rows
                except self._psycopg.OperationalError:
                    if attempt == 2 or not conn.broken:  # reads are safe to repeat on a new connection
                        raise
            raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
