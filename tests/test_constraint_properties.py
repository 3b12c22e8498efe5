"""Live: for every table of the spec, random rows (valid and invalid) are accepted or rejected by PostgreSQL exactly
as an oracle computed from the model predicts, down to the constraint that fails.

The rows and the oracle both come from tests/strategies.py's `TableModel` (the spec's columns, constraints, enums,
CHECK expressions and BEFORE INSERT triggers), never from output/ or the database catalog. What the database holds
before the examples (the prepared rows below, seed rows, rows written by triggers) is read once, so the oracle
knows which foreign keys exist and which unique keys are taken.

Each table gets its own database (from the template); the FK targets are prepared once in its transaction and every
example is inserted as the superuser (RLS out of the way: the point is constraints) in a savepoint that is rolled
back. The oracle walks the gates in PostgreSQL's order (strategies.TableModel) and predicts the first failure:

    value too long for varchar -> string_data_right_truncation   NOT NULL -> the column
    CHECK (enum checks too)    -> the constraint name             UNIQUE / PRIMARY KEY / FOREIGN KEY -> the name

A CHECK the oracle cannot interpret makes the prediction "unknown" when the outcome depends on it: the insert must
then still end in one of the possible outcomes, and the example is skipped (hypothesis.assume), counted per
constraint. After each table's run, the statistics must show that the oracle is not vacuous: rows were accepted
and rejected, and every reachable constraint was the predicted failure at least once (a gate the random run missed
is looked for with hypothesis.find, and the row found is checked against the database too). Unreachable gates
(a column a trigger sets, a unique key implied by the primary key) are derived from the model, and still probed.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from conftest import SEED_DOC, SPEC, record
from hypothesis import HealthCheck, Phase, assume, find, given, note, settings
from hypothesis.errors import NoSuchExample
from psycopg import sql
from seed_doc import read_seed
from strategies import (
    FRESH,
    OMIT,
    OPAQUE,
    TRUNCATION,
    ColumnModel,
    Existing,
    Gate,
    Marker,
    Row,
    Strategies,
    TableModel,
    Uninterpretable,
    describe,
    rows,
    translate_regex,
)

from generator.derive import Catalog
from generator.load import load_spec
from generator.model import Check, Column, Index, Module, Schema, Table
from generator.pipeline import Build
from generator.sqltext import QName, qname

TABLES = sorted(str(name) for name in Catalog(load_spec(SPEC)).tables)
EXAMPLES = max(200, settings().max_examples)  # the "thorough" profile raises it
TOP_UP_EXAMPLES = 300  # hypothesis.find budget per gate the random run missed
MAX_SKIPPED_SHARE = 0.5  # more examples skipped for uninterpretable checks than this fails the table


# -- the oracle ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Accepted, or the failure PostgreSQL reports: its kind and the column (NOT NULL) or constraint name."""

    kind: str  # "accepted" | TRUNCATION | "not null" | "check" | "unique" | "foreign key" | "error"
    name: str | None = None

    def __str__(self) -> str:
        return self.kind if self.name is None else f"{self.kind} {self.name}"


ACCEPTED = Outcome("accepted")
PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


@dataclass(frozen=True)
class Prediction:
    """The outcomes the oracle considers possible, each with the gate label that produces it (one when certain)."""

    possible: tuple[tuple[Outcome, str], ...]
    unknown: tuple[str, ...] = ()  # gates the oracle could not decide

    @property
    def definite(self) -> bool:
        return len(self.possible) == 1

    @property
    def outcome(self) -> Outcome:
        return self.possible[0][0]

    @property
    def label(self) -> str:
        return self.possible[0][1]

    def allows(self, actual: Outcome) -> bool:
        return any(outcome == actual for outcome, _ in self.possible)

    def __str__(self) -> str:
        shown = " or ".join(str(o) for o, _ in self.possible)
        return shown if self.definite else f"{shown} (undecided: {', '.join(self.unknown)})"


def resolve(model: TableModel, row: Row) -> dict[str, Any]:
    """The row PostgreSQL checks after defaults, varchar space truncation and BEFORE INSERT triggers."""
    out: dict[str, Any] = {}
    for c in model.columns:
        value = row[c.name]
        if value is OMIT:
            value = c.default if c.has_default else None
        elif c.type.length is not None and isinstance(value, str):
            value = value[:c.type.length]  # only excess spaces get this far (see _truncation)
        out[c.name] = FRESH if c.trigger_set else value
    return out


def _truncation(c: ColumnModel, supplied: Any) -> str:
    n = c.type.length
    too_long = n is not None and isinstance(supplied, str) and len(supplied) > n and supplied[n:].strip(" ") != ""
    return FAIL if too_long else PASS


def _check(gate: Gate, values: Mapping[str, Any]) -> str:
    if gate.check is None:
        return UNKNOWN
    truth = gate.check.evaluate(values)
    return PASS if False not in truth else FAIL if truth == {False} else UNKNOWN


def _unique(key: tuple[Any, ...], taken: frozenset[tuple[Any, ...]]) -> str:
    if any(v is None or v is FRESH for v in key):  # NULLs are distinct; fresh values collide with nothing
        return PASS
    if any(isinstance(v, Marker) for v in key):
        return UNKNOWN
    return FAIL if key in taken else PASS


def _foreign_key(key: tuple[Any, ...], present: frozenset[tuple[Any, ...]]) -> str:
    if any(v is None for v in key):  # MATCH SIMPLE: a NULL column skips the check
        return PASS
    if any(isinstance(v, Marker) for v in key):
        return UNKNOWN
    return PASS if key in present else FAIL


def predict(model: TableModel, existing: Existing, row: Row) -> Prediction:
    """Walk the gates in PostgreSQL's order: the first certain failure ends the walk; an undecided gate adds its
    failure to the possible outcomes and the walk goes on."""
    values = resolve(model, row)
    possible: list[tuple[Outcome, str]] = []
    unknown: list[str] = []
    for gate in model.gates:
        key = tuple(values[c] for c in gate.columns)
        if gate.kind == TRUNCATION:
            verdict, failure = _truncation(model.column(gate.name), row[gate.name]), Outcome(TRUNCATION)
        elif gate.kind == "not null":
            verdict, failure = (FAIL if values[gate.name] is None else PASS), Outcome("not null", gate.name)
        elif gate.kind == "check":
            verdict, failure = _check(gate, values), Outcome("check", gate.name)
        elif gate.kind == "unique":
            verdict = _unique(key, frozenset(existing.get(model.name, gate.columns)))
            failure = Outcome("unique", gate.name)
        else:
            assert gate.target is not None
            verdict, failure = _foreign_key(key, frozenset(existing.get(*gate.target))), Outcome("foreign key",
                                                                                                   gate.name)
        if verdict == FAIL:
            return Prediction((*possible, (failure, gate.label)), tuple(unknown))
        if verdict == UNKNOWN:
            possible.append((failure, gate.label))
            unknown.append(gate.label)
    return Prediction((*possible, (ACCEPTED, "accepted")), tuple(unknown))


# -- the database ----------------------------------------------------------------------------------------------------


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pgspec:constraint-properties:{name}")


# FK targets for every table (and a first row in each table for unique collisions): two tenants, three users (a
# member, a staff member, a plain user), a category, two tickets, a message on each, an attachment, a canned
# response. Triggers add the tickets' numbers and activity-log rows.
PREPARE = [
    ("INSERT INTO auth.users (id, email) VALUES (%s, 'customer@example.com'), (%s, 'agent@example.com'), (%s, NULL)",
     [_id("user 1"), _id("user 2"), _id("user 3")]),
    ("INSERT INTO public.tenants (id, name) VALUES (%s, 'Tenant A'), (%s, 'Tenant B')",
     [_id("tenant A"), _id("tenant B")]),
    ("INSERT INTO public.tenant_members (tenant_id, user_id) VALUES (%s, %s)", [_id("tenant A"), _id("user 1")]),
    ("INSERT INTO public.user_roles (user_id, role_name) VALUES (%s, 'support_agent')", [_id("user 2")]),
    ("INSERT INTO public.support_ticket_categories (id, name, slug) VALUES (%s, 'Prepared', 'prepared')",
     [_id("category")]),
    ("INSERT INTO public.support_tickets (id, tenant_id, customer_id, category_id, subject, description) "
     "VALUES (%s, %s, %s, %s, 'First', 'One'), (%s, %s, %s, NULL, 'Second', 'Two')",
     [_id("ticket 1"), _id("tenant A"), _id("user 1"), _id("category"),
      _id("ticket 2"), _id("tenant B"), _id("user 3")]),
    ("INSERT INTO public.ticket_messages (id, ticket_id, user_id, message) VALUES (%s, %s, %s, 'Hello'), "
     "(%s, %s, %s, 'Reply')", [_id("message 1"), _id("ticket 1"), _id("user 1"),
                                _id("message 2"), _id("ticket 2"), _id("user 2")]),
    ("INSERT INTO public.ticket_attachments (id, ticket_id, message_id, file_name, file_size, storage_path) "
     "VALUES (%s, %s, %s, 'a.txt', 10, 'tickets/a.txt')", [_id("attachment"), _id("ticket 1"), _id("message 1")]),
    ("INSERT INTO public.support_canned_responses (id, title, shortcut, content, created_by) "
     "VALUES (%s, 'Hello', 'hello', 'Hello!', %s)", [_id("canned"), _id("user 2")]),
]


def prepare(conn: psycopg.Connection[Any], table: QName) -> None:
    """The table under test keeps one of its seed rows (the seeds of support_sla_config take every priority its
    unique key allows), then the FK targets are inserted."""
    relation = sql.Identifier(table.schema, table.name)
    conn.execute(sql.SQL("DELETE FROM {t} WHERE ctid <> (SELECT min(ctid) FROM {t})").format(t=relation))
    for statement, params in PREPARE:
        conn.execute(statement, params)


def read_existing(conn: psycopg.Connection[Any], model: TableModel) -> Existing:
    keys: dict[tuple[QName, tuple[str, ...]], tuple[tuple[Any, ...], ...]] = {}
    for relation, columns in model.key_sets():
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        not_null = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
        query = sql.SQL("SELECT DISTINCT {cols} FROM {t} WHERE {not_null}").format(
            cols=cols, t=sql.Identifier(relation.schema, relation.name), not_null=not_null)
        keys[relation, columns] = tuple(tuple(r) for r in conn.execute(query).fetchall())
    return Existing(keys)


_SQLSTATES = {"23502": "not null", "23514": "check", "23505": "unique", "23503": "foreign key",
              "22001": TRUNCATION}


def outcome_of(exc: psycopg.Error) -> Outcome:
    kind = _SQLSTATES.get(exc.sqlstate or "")
    if kind is None:
        return Outcome("error", f"{exc.sqlstate}: {exc.diag.message_primary}")
    if kind == TRUNCATION:
        return Outcome(kind)
    return Outcome(kind, exc.diag.column_name if kind == "not null" else exc.diag.constraint_name)


def insert(conn: psycopg.Connection[Any], model: TableModel, row: Row) -> Outcome:
    names = [c.name for c in model.columns if row[c.name] is not OMIT]
    relation = sql.Identifier(model.name.schema, model.name.name)
    if names:
        columns = sql.SQL(", ").join(map(sql.Identifier, names))
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            relation, columns, sql.SQL(", ").join([sql.Placeholder()] * len(names)))
    else:
        query = sql.SQL("INSERT INTO {} DEFAULT VALUES").format(relation)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(query, [row[n] for n in names])
    except psycopg.Error as exc:
        return outcome_of(exc)
    return ACCEPTED


# -- statistics ------------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    predicted: Counter[str] = field(default_factory=Counter)  # label of the (definite) predicted outcome
    skipped: Counter[str] = field(default_factory=Counter)  # undecided gate -> examples skipped because of it
    examples: int = 0
    topped_up: Counter[str] = field(default_factory=Counter)  # gates first predicted by a row found by top_up

    @property
    def rejected(self) -> int:
        return sum(n for label, n in self.predicted.items() if label != "accepted")


def missing_labels(model: TableModel, stats: Stats) -> list[str]:
    """Gates that can be the first failure (by the model) but never were the predicted one."""
    decidable = dict.fromkeys(g.label for g in model.gates if g.kind != "check" or g.check is not None)
    return [label for label in decidable if label not in model.unreachable and not stats.predicted[label]]


def vacuity_problems(model: TableModel, stats: Stats) -> list[str]:
    """Why a run proved too little: no accepted or no rejected rows, a reachable gate never the predicted failure,
    only uninterpretable checks, or too many skipped examples."""
    problems = []
    if not stats.predicted["accepted"]:
        problems.append("no example was accepted")
    if not stats.rejected:
        problems.append("no example was rejected")
    checks = [g for g in model.gates if g.kind == "check"]
    if checks and all(g.check is None for g in checks):
        problems.append("no CHECK of the table is interpretable: " + "; ".join(
            f"{g.name}: {g.uninterpretable}" for g in checks))
    never = missing_labels(model, stats)
    if never:
        problems.append(f"never the predicted failure: {', '.join(never)}")
    skipped = sum(stats.skipped.values())
    if skipped > MAX_SKIPPED_SHARE * max(stats.examples, 1):
        problems.append(f"{skipped} of {stats.examples} examples skipped for undecided gates: {dict(stats.skipped)}")
    return problems


# -- the property test ----------------------------------------------------------------------------------------------


def agree(conn: psycopg.Connection[Any], model: TableModel, existing: Existing, row: Row, stats: Stats,
          log: Callable[[str], None] = note) -> Prediction:
    """One example: the database must end the INSERT as predicted (one of the possible outcomes when undecided)."""
    prediction = predict(model, existing, row)
    log(f"row: {describe(row)}\npredicted: {prediction}")
    actual = insert(conn, model, row)
    stats.examples += 1
    assert prediction.allows(actual), (
        f"{model.name}: INSERT of ({describe(row)})\n  expected: {prediction}\n  actual:   {actual}")
    if prediction.definite:
        stats.predicted[prediction.label] += 1
    else:
        stats.skipped.update(prediction.unknown)
    return prediction


def top_up(conn: psycopg.Connection[Any], model: TableModel, existing: Existing, stats: Stats) -> None:
    """For each reachable gate the random run never predicted as the failure, find (hypothesis.find, no database)
    a row aimed at it that the oracle predicts fails there, and check that row against the database too."""
    aimed = {label for label, _ in Strategies(model, existing).mutations}
    for label in missing_labels(model, stats):
        if label not in aimed:
            continue
        wanted = ((_outcome(label), label),)

        def fails_there(row: Row, wanted: tuple[tuple[Outcome, str], ...] = wanted) -> bool:
            return predict(model, existing, row).possible == wanted

        try:
            row = find(rows(model, existing, focus=label), fails_there,
                       settings=settings(max_examples=TOP_UP_EXAMPLES, database=None, phases=[Phase.generate]))
        except NoSuchExample:
            continue
        stats.topped_up[label] += 1
        agree(conn, model, existing, row, stats, log=lambda _: None)


def _outcome(label: str) -> Outcome:
    if label == TRUNCATION:
        return Outcome(TRUNCATION)
    kind, _, name = label.rpartition(" ")
    return Outcome(kind, name)


# SPEC-131's own CHECKs (docs/seed): the oracle holds the SPEC-131 tables to them whatever spec/ says, so a CHECK
# dropped or loosened in the YAML makes the inserts disagree with the oracle.
SEED_CHECKS = read_seed(SEED_DOC).checks


def spec_131_model(spec_build: Build, table: str) -> TableModel:
    return TableModel.of(spec_build.catalog, qname(table), extra_checks=SEED_CHECKS.get(qname(table).name))


@pytest.mark.parametrize("table", TABLES)
def test_inserts_agree_with_the_oracle(spec_build: Build, schema_db: str, table: str) -> None:
    started = time.perf_counter()
    model = spec_131_model(spec_build, table)
    stats = Stats()
    with psycopg.connect(schema_db) as conn:
        prepare(conn, model.name)
        existing = read_existing(conn, model)
        empty = [f"{rel}({', '.join(cols)})" for rel, cols in model.key_sets() if not existing.get(rel, cols)]
        assert not empty, f"the prepared rows leave nothing to reference or collide with in {empty}"

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(row=rows(model, existing))
        def inserts_agree(row: Row) -> None:
            prediction = agree(conn, model, existing, row, stats)
            assume(prediction.definite)  # undecided: only an uninterpretable CHECK (or an opaque default) does that

        inserts_agree()
        top_up(conn, model, existing, stats)
        conn.rollback()
    record("constraint properties, one table", time.perf_counter() - started)
    problems = vacuity_problems(model, stats)
    assert not problems, f"{table}: the oracle proved too little ({dict(stats.predicted)}): " + "; ".join(problems)


# -- the oracle on its own (no database) -----------------------------------------------------------------------------


def _model(columns: list[Column], checks: list[Check], indexes: tuple[Index, ...] = ()) -> TableModel:
    table = Table(name="t", columns=tuple(columns), checks=tuple(checks), indexes=indexes)
    return TableModel.of(Catalog(Schema((Module(module="m", tables=(table,)),))), qname("t"))


def _row(model: TableModel, **values: Any) -> Row:
    return {c.name: values.get(c.name, OMIT) for c in model.columns}


NO_ROWS = Existing({})


def test_uninterpretable_check_is_unknown_and_fails_the_vacuity_check() -> None:
    model = _model([Column(name="name", type="text")], [Check(name="long_name", expr="length(name) > 3")])
    gate = next(g for g in model.gates if g.kind == "check")
    assert gate.check is None and gate.uninterpretable and "FuncCall" in gate.uninterpretable
    prediction = predict(model, NO_ROWS, _row(model, name="ab"))
    assert not prediction.definite and {str(o) for o, _ in prediction.possible} == {"check long_name", "accepted"}
    stats = Stats(predicted=Counter({"accepted": 3, "not null x": 1}), skipped=Counter({"check long_name": 4}),
                  examples=8)
    assert any("no CHECK of the table is interpretable" in p for p in vacuity_problems(model, stats))


def test_undecided_check_does_not_hide_an_earlier_certain_failure() -> None:
    model = _model([Column(name="a", type="integer", not_null=True), Column(name="b", type="text")],
                   [Check(name="b_check", expr="upper(b) = b")])
    prediction = predict(model, NO_ROWS, _row(model, a=None, b="x"))
    assert prediction.definite and str(prediction.outcome) == "not null a"


def test_oracle_follows_postgresql_semantics() -> None:
    model = _model(
        [Column(name="code", type="varchar(7)"), Column(name="n", type="integer"), Column(name="m", type="integer"),
         Column(name="kind", type="varchar(10)", not_null=True, default="a")],
        [Check(name="code_format", expr="code ~ '^#[0-9A-F]{6}$'"),
         Check(name="order", expr="n > 0 AND m >= n"), Check(name="kind_list", expr="kind IN ('a', 'b')")])

    def outcome(**values: Any) -> str:
        prediction = predict(model, NO_ROWS, _row(model, **values))
        assert prediction.definite, prediction
        return str(prediction.outcome)

    assert outcome() == "accepted"  # every column defaulted: NULL passes the checks, kind takes 'a'
    assert outcome(code="#00FF00") == "accepted"
    assert outcome(code="#00FF0") == "check code_format"
    assert outcome(code="#00FF00" + "\n") == TRUNCATION  # 8 characters, the excess is not a space
    assert outcome(code="#00FF00   ") == "accepted"  # excess spaces are cut off
    assert outcome(kind="b         " + " ") == "check kind_list"  # cut to 10 characters, still not 'b'
    assert outcome(n=1, m=0) == "check order"
    assert outcome(n=None, m=0) == "accepted"  # NULL AND (NULL >= ...) is NULL: passes
    assert outcome(n=0, m=None) == "check order"  # false AND NULL is false
    assert outcome(code="x", n=0) == "check code_format"  # checks run in name order
    assert outcome(kind=None) == "not null kind"
    assert outcome(code="#GGGGGG", kind="c" * 11) == TRUNCATION  # coercion precedes every constraint


def test_unique_index_is_checked_after_unique_constraints() -> None:
    model = _model([Column(name="a", type="text", primary_key=True), Column(name="b", type="text")], [],
                   (Index(name="t_b_idx", columns=("b",), unique=True),))
    t = QName("public", "t")
    existing = Existing({(t, ("a",)): (("x",),), (t, ("b",)): (("y",),)})
    assert [g.label for g in model.gates if g.kind == "unique"] == ["unique t_pkey", "unique t_b_idx"]
    assert str(predict(model, existing, _row(model, a="x", b="y")).outcome) == "unique t_pkey"
    assert str(predict(model, existing, _row(model, a="z", b="y")).outcome) == "unique t_b_idx"
    with pytest.raises(ValueError, match="partial or expression"):
        _model([Column(name="b", type="text")], [], (Index(name="i", columns=("b",), unique=True, where="b <> ''"),))


def test_python_regex_matches_like_postgresql() -> None:
    python = translate_regex("^#[0-9A-Fa-f]{6}$")
    assert re.search(python, "#a0a0a0", re.DOTALL)
    assert not re.search(python, "#a0a0a0\n", re.DOTALL)  # Python's own `$` would match here; PostgreSQL's not
    for pattern in (r"^\d+$", "[[:alpha:]]", r"\mword", "(?i)x", "a{2"):
        with pytest.raises(Uninterpretable):
            translate_regex(pattern)


def test_every_table_has_a_model(spec_build: Build) -> None:
    """Every column type of the spec has a strategy, and every trigger function is found."""
    catalog = spec_build.catalog
    assert sorted(str(name) for name in catalog.tables) == TABLES
    models = {str(name): TableModel.of(catalog, name) for name in catalog.tables}
    set_by_triggers = {f"{t}.{c.name}": c.trigger_set for t, m in models.items() for c in m.columns if c.trigger_set}
    # Spot checks of the derivation (the oracle itself names no column).
    assert set_by_triggers == {
        "public.support_tickets.ticket_number": "generate_support_ticket_number",
        "public.support_tickets.sla_target_response": "calculate_ticket_sla_targets",
        "public.support_tickets.sla_target_resolution": "calculate_ticket_sla_targets",
    }
    assert models["public.support_tickets"].column("id").default is FRESH
    assert models["public.support_tickets"].column("created_at").default is OPAQUE
    assert models["public.ticket_messages"].unreachable == {
        "unique ticket_messages_id_ticket_id_key": "implied by ticket_messages_pkey, which PostgreSQL checks first"}


def test_a_message_from_the_year_9999_does_not_overflow_the_response_time(spec_build: Build, schema_db: str) -> None:
    """Found by the property test with timestamps over Python's whole range (years 1 to 9999): the message's
    created_at used to become the first response, and response_time_minutes (integer) overflowed (22003). The
    first response is now the server's time and the minutes are bigint (issue 13)."""
    model = TableModel.of(spec_build.catalog, qname("public.ticket_messages"))
    with psycopg.connect(schema_db) as conn:
        prepare(conn, model.name)
        existing = read_existing(conn, model)
        row = _row(model, ticket_id=_id("ticket 1"), user_id=_id("user 2"), message="Answer", is_internal=False,
                   created_at=datetime.max.replace(tzinfo=UTC))  # user 2 is staff; ticket 1 has no answer yet
        prediction = predict(model, existing, row)
        assert prediction.definite and prediction.outcome == ACCEPTED
        assert insert(conn, model, row) == ACCEPTED
