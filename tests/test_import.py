"""`pgspec import`: the round trip is the proof.

For a database D: import -> generate -> apply to a fresh database -> `verify --db` against the imported spec finds
no drift, and `pg_dump --schema-only` of D and of the new database are the same after a normalisation written here
(independent of the code under test: pg_dump is PostgreSQL's own reading of the catalog). Four kinds of D: the
SPEC-131 output, each example's output, SPEC-131's original SQL from the seed document (after the platform module
it assumes), and a schema written by hand in SQL with every kind the spec language has
(tests/import_cases/every_kind.sql). tests/import_cases/unsupported.sql adds kinds the language cannot say yet:
each must be named on stderr.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import OUTPUT, ROOT, SEED_DOC, record
from seed_doc import schema_sql_blocks

from generator import cli, importer, live
from generator.decode import model_classes
from generator.model import Column, ForeignKey, Module, PrimaryKey, Table

CASES = ROOT / "tests" / "import_cases"
EXAMPLES = sorted(p.parent.parent for p in (ROOT / "examples").glob("*/output/schema.sql"))


# -- pg_dump, and the normal form of its output --------------------------------------------------------------------
def pg_dump_for(server: live.Server) -> str:
    """A pg_dump whose major version is the server's (another one prints the catalog differently)."""
    major = server.version.split(".")[0].split()[0]
    candidates = [Path(server.psql).parent / "pg_dump" if server.psql else None,
                  Path(f"/usr/lib/postgresql/{major}/bin/pg_dump"), shutil.which("pg_dump")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
            if re.search(rf"\b{major}\.\d+", version):
                return str(candidate)
    pytest.fail(f"no pg_dump of PostgreSQL {major} found (tried {candidates})")


def schema_dump(server: live.Server, dsn: str) -> str:
    # The pgspec schema is the tool's own record of seed rows (data, which import leaves out), not the user's.
    done = subprocess.run([pg_dump_for(server), "--schema-only", "--no-owner", "--exclude-schema=pgspec", dsn],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


_BODY = re.compile(r"AS \$(\w*)\$\s*(.*?)\s*\$\1\$", re.S)


def normalise(dump: str) -> list[str]:
    """The dump's statements, sorted, without comments, SET lines and psql meta-commands; with two spellings that
    mean the same made one: a view's `security_invoker='false'` (PostgreSQL's default, which the renderer writes
    out) and the whitespace at the ends of a function body (the renderer puts a body on lines of its own)."""
    statements: list[str] = []
    current: list[str] = []
    for line in dump.splitlines():
        if not current and (not line.strip() or line.startswith(("--", "SET ", "\\", "SELECT pg_catalog.set_config"))):
            continue
        current.append(line)
        text = "\n".join(current)
        if line.endswith(";") and len(re.findall(r"\$\w*\$", text)) % 2 == 0:
            statements.append(text)
            current = []
    assert not current, current
    out = []
    for s in statements:
        s = s.replace(" WITH (security_invoker='false')", "")
        s = _BODY.sub(lambda m: f"AS ${m[1]}$ {m[2]} ${m[1]}$", s)
        out.append(s)
    return sorted(out)


# -- the round trip ------------------------------------------------------------------------------------------------
_n = iter(range(1_000_000))
_created: list[str] = []


@pytest.fixture(autouse=True)
def _drop_databases(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if _created:
        server = request.getfixturevalue("pg_server")
        while _created:
            live.drop_database(server, _created.pop())


def fresh_database(server: live.Server, sql: str | None = None) -> str:
    name = f"pgspec_imp{os.getpid()}_{next(_n)}"
    dsn = live.create_database(server, name)
    _created.append(name)
    if sql is not None:
        live.apply_sql(dsn, sql)
    return dsn


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def round_trip(server: live.Server, sql: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str,
               *extra: str) -> Path:
    source = fresh_database(server, sql)
    spec, out = tmp_path / "spec", tmp_path / "output"
    started = time.perf_counter()
    code, _, err = run(["import", "--db", source, "--out", str(spec), *extra], capsys)
    imported = time.perf_counter()
    assert code == 0, err
    code, _, err = run(["generate", "--spec", str(spec), "--out", str(out), "-q"], capsys)
    generated = time.perf_counter()
    assert code == 0, err
    copy = fresh_database(server, (out / "schema.sql").read_text(encoding="utf-8"))
    applied = time.perf_counter()
    record(f"import round trip {label}: import", imported - started)
    record(f"import round trip {label}: generate", generated - imported)
    record(f"import round trip {label}: apply", applied - generated)
    code, stdout, err = run(["verify", "--spec", str(spec), "--db", copy], capsys)
    assert (code, stdout.strip()) == (0, "no drift"), stdout + err
    # verify compares the spec with the copy; pg_dump compares the copy with the original.
    assert normalise(schema_dump(server, copy)) == normalise(schema_dump(server, source))
    return spec


@pytest.mark.xdist_group("import")
def test_round_trip_spec131_output(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    spec = round_trip(pg_server, (OUTPUT / "schema.sql").read_text(encoding="utf-8"), tmp_path, capsys, "SPEC-131")
    assert sorted(p.name for p in spec.iterdir()) == ["00-platform.yaml", "01-auth.yaml", "02-public.yaml"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_round_trip_example(pg_server: live.Server, tmp_path: Path, capsys: Any, example: Path) -> None:
    round_trip(pg_server, (example / "output" / "schema.sql").read_text(encoding="utf-8"), tmp_path, capsys,
               example.name)


def test_round_trip_seed_sql(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    """SPEC-131's SQL as written (defects included) applies after the platform module it assumes (auth.users,
    tenants, staff roles); its import comes back as it was."""
    sql = (OUTPUT / "00-platform.sql").read_text(encoding="utf-8") + "\n" + "\n".join(schema_sql_blocks(SEED_DOC))
    round_trip(pg_server, sql, tmp_path, capsys, "SPEC-131 seed SQL")


@pytest.mark.parametrize("split", [False, True], ids=["per-schema", "split"])
def test_round_trip_every_kind(pg_server: live.Server, tmp_path: Path, capsys: Any, split: bool) -> None:
    spec = round_trip(pg_server, (CASES / "every_kind.sql").read_text(encoding="utf-8"), tmp_path, capsys,
                      "every kind", *(["--split"] if split else []))
    names = sorted(p.name for p in spec.iterdir())
    if split:  # shop's tables are joined by foreign keys: one group (named by its first, complaints);
        # public's tables stand alone
        assert names == ["00-platform.yaml", "01-public.yaml", "02-public-cache.yaml", "03-public-documents.yaml",
                         "04-public-note-tags.yaml", "05-public-notes.yaml", "06-shop.yaml",
                         "07-shop-complaints.yaml"]
    else:
        assert names == ["00-platform.yaml", "01-public.yaml", "02-shop.yaml"]
    if not split:  # owners other than the importing user are written (pg_dump --no-owner cannot tell)
        shop = yaml.safe_load((spec / "02-shop.yaml").read_text(encoding="utf-8"))
        public = yaml.safe_load((spec / "01-public.yaml").read_text(encoding="utf-8"))
        assert [shop["types"][t].get("owner") for t in ("shop.nothing", "shop.positive", "shop.mood")] == \
            ["imp_owner", "imp_owner", None]
        assert public["materialized_views"]["big_spenders"]["owner"] == "imp_owner"
        assert "owner" not in shop["materialized_views"]["shop.order_totals"]
    roles = yaml.safe_load((spec / "00-platform.yaml").read_text(encoding="utf-8"))["roles"]
    assert roles == {"imp_admin": {"bypass_rls": True}, "imp_owner": {}, "imp_reader": {},
                     "imp_writer": {"login": True}}


# What unsupported.sql adds, as import must name it (kind and qualified name).
EXPECTED_UNSUPPORTED = [
    "sequence option shop.visit_numbers (OWNED BY shop.visits_2026.region)",
    "sequence option shop.scratch_n_seq (UNLOGGED)",
    "partition's own object shop.visits_2026 (index visits_2026_alone)",
    "index option shop.scratch_x_idx (WITH (fillfactor=70))",
    "function shop.on_ddl() (RETURNS event_trigger)",
    "rule notes_no_delete on public.notes", "default privileges for role", "event trigger imp_on_ddl",
]


def test_unsupported_kinds_are_named(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    sql = "\n".join((CASES / name).read_text(encoding="utf-8") for name in ("every_kind.sql", "unsupported.sql"))
    source = fresh_database(pg_server, sql)
    code, _, err = run(["import", "--db", source, "--out", str(tmp_path / "spec")], capsys)
    assert code == 1
    lines = [line for line in err.splitlines() if "not imported" in line and "error:" in line]
    for expected in EXPECTED_UNSUPPORTED:
        assert any(expected in line for line in lines), f"{expected!r} not reported:\n{err}"
    assert len(lines) == len(EXPECTED_UNSUPPORTED), err
    # The rest is written, and is a valid spec: generate accepts it.
    code, _, err = run(["generate", "--spec", str(tmp_path / "spec"), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 0, err
    shop = yaml.safe_load((tmp_path / "spec" / "02-shop.yaml").read_text(encoding="utf-8"))
    assert "shop.on_ddl" not in shop["functions"] and "shop.on_ddl()" not in shop["functions"]
    # overloads keyed by signature, procedures in their own section (modelled now: test_overloads.py,
    # test_procedures.py)
    assert {"shop.twice(integer)", "shop.twice(text)"} <= set(shop["functions"])
    assert shop["procedures"]["shop.reset_credit"]["language"] == "sql"
    gadgets = shop["tables"]["shop.gadgets"]["columns"]
    # a serial column: its sequence (named as PostgreSQL names it, integer as serial makes it) owned by the column,
    # and the column's default calling it
    assert gadgets["serial_no"] == {"type": "integer", "not_null": True,
                                    "default_sql": "nextval('shop.gadgets_serial_no_seq'::regclass)"}
    assert shop["sequences"]["shop.gadgets_serial_no_seq"]["owned_by"] == "shop.gadgets.serial_no"
    assert shop["sequences"]["shop.gadgets_serial_no_seq"]["type"] == "integer"
    # a sequence owned by a column that takes no default from it is owned all the same; the column keeps its own
    assert shop["sequences"]["shop.gadget_batches"]["owned_by"] == "shop.gadgets.price"
    assert gadgets["price"] == {"type": "numeric", "not_null": True}
    # in public, named as the spec names public's tables (every_kind.sql's serial and bigserial columns)
    public = yaml.safe_load((tmp_path / "spec" / "01-public.yaml").read_text(encoding="utf-8"))
    assert [public["sequences"][s]["owned_by"] for s in ("documents_number_seq", "documents_big_number_seq")] == \
        ["documents.number", "documents.big_number"]
    assert public["tables"]["documents"]["columns"]["number"]["default_sql"] == \
        "nextval('documents_number_seq'::regclass)"
    # one owned by a partition's column is imported without the ownership (named above)
    assert "owned_by" not in shop["sequences"]["shop.visit_numbers"]
    # identity, generated and collated columns are the spec's now (every_kind.sql's round trip proves them)
    assert gadgets["id"] == {"type": "bigint", "identity": "always"}
    # a DEFERRABLE primary key is written on the table's level, where its options go
    assert shop["tables"]["shop.gadgets"]["primary_key"] == {"columns": ["id"], "deferrable": True}
    assert gadgets["price_with_tax"]["generated"].replace("(", "").replace(")", "") == "price * 1.2"
    # column privileges too (unsupported.sql grants SELECT (label) to imp_reader)
    assert gadgets["label"] == {"type": "text", "collation": "C", "grants": {"imp_reader": ["select"]}}


def test_refuses_a_directory_holding_a_spec(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "01-x.yaml").write_text("module: X\n", encoding="utf-8")
    code, _, err = run(["import", "--db", "host=/nonexistent dbname=x", "--out", str(tmp_path / "spec")], capsys)
    assert code == 2 and "already holds spec files" in err


def test_unreadable_database_is_exit_2(tmp_path: Path, capsys: Any) -> None:
    code, _, err = run(["import", "--db", "host=/nonexistent-socket-dir dbname=x connect_timeout=1",
                        "--out", str(tmp_path / "spec")], capsys)
    assert code == 2 and "cannot read the database" in err
    assert not (tmp_path / "spec").exists()


# -- the writers, without a database -------------------------------------------------------------------------------
def test_every_model_class_has_a_writer() -> None:
    """A kind the writer registry lacks would raise on import: every class a spec can hold has one (the access
    matrix's classes and seed rows are never imported: import writes neither; a checked value list reads back as
    the CHECK it is, and a value rename is a hint for plans that no database holds; raw SQL is what a person writes
    for what import reports it cannot model)."""
    never = {"Access", "ActorAccess", "AccessRule", "Condition", "Actor", "SeedRow", "ValueList", "ValueRename",
             "Lint", "Suppression", "RawSql"}
    missing = [c.__name__ for c in model_classes() if c not in importer.WRITERS and c.__name__ not in never]
    assert missing == []


def test_writer_leaves_defaults_out_and_folds_one_column_keys() -> None:
    table = Table(name="public.t", columns=(Column(name="id", type="uuid", not_null=True),
                                            Column(name="u", type="uuid", default_sql="'x'::text"),
                                            Column(name="n", type="text", default_sql="'it''s'::text")),
                  primary_key=PrimaryKey(columns=("id",)),
                  foreign_keys=(ForeignKey(name="t_u_fkey", columns=("u",), references="auth.users(id)",
                                           on_delete="cascade"),
                                ForeignKey(name="other", columns=("u",), references="public.t(id)")))
    module = Module(module="M", tables=(importer.fold_table(table),))
    text = importer.yaml_text(importer.write(module), "")
    assert yaml.safe_load(text) == {"module": "M", "tables": {"t": {
        "columns": {"id": {"type": "uuid", "not_null": True, "primary_key": True},
                    "u": {"type": "uuid", "default_sql": "'x'::text", "references": "auth.users(id)",
                          "on_delete": "cascade"},
                    "n": {"type": "text", "default": "it's"}},
        "foreign_keys": {"other": {"columns": ["u"], "references": "t(id)"}}}}}
    assert "      id: {type: uuid, not_null: true, primary_key: true}\n" in text


def test_varchar_in_list_is_written_as_in() -> None:
    printed = ("((status)::text = ANY ((ARRAY['a'::character varying, 'it''s'::character varying])::text[]))"
               " AND ((t.kind)::text <> ALL ((ARRAY['x'::character varying])::text[]))")
    assert importer.human_sql(printed) == "(status IN ('a', 'it''s')) AND (t.kind NOT IN ('x'))"


def test_components_follow_foreign_keys_both_ways() -> None:
    def t(name: str, *refs: str) -> Table:
        return Table(name=name, foreign_keys=tuple(ForeignKey(name=f"fk{i}", columns=("x",), references=f"{r}(id)")
                                                   for i, r in enumerate(refs)))
    groups = importer.components([t("public.c", "public.a"), t("public.a"), t("public.b"), t("public.d", "public.c")])
    assert [[x.name for x in g] for g in groups] == [["public.a", "public.c", "public.d"], ["public.b"]]
