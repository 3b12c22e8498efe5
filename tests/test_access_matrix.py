"""Live proof of the access matrix: for random worlds, every actor can read, insert, update and delete exactly
what the spec's `access:` says, through every table and view, and nothing else.

The expected outcome comes from the matrix (tests/access_oracle.py), never from the policies. Each world is built
as the superuser inside one transaction; each actor then acts through the API roles (SET ROLE + JWT claims) in a
savepoint, every probe in its own savepoint, and everything is rolled back. A violation is reported in words:
"customer c1 (member of tenant A) read support_tickets TKT-00000003, owned by customer c2 ... but the matrix says
it may not".
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from access_oracle import Oracle, Row, User, describe_row, table_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors, sql

from generator import live
from generator.derive import Catalog
from generator.model import COMMANDS
from generator.pipeline import Build
from generator.sqltext import QName

STAFF_ROLES = ("platform_admin", "support_admin", "support_manager", "support_lead", "support_agent")
PRIORITIES = ("critical", "high", "medium", "low")
STATUSES = ("new", "open", "in_progress", "waiting_customer", "waiting_internal", "resolved", "closed", "cancelled")
WORLDS = 50  # every actor x table x command is checked once per world
CHECKED: Counter[tuple[str, str, str]] = Counter()
OUTCOMES: Counter[tuple[str, bool]] = Counter()  # (command, allowed by the matrix): proof the probes are not one-sided


# -- worlds --------------------------------------------------------------------------------------------------------
@dataclass
class Ticket:
    tenant: int
    customer: int
    priority: str
    status: str
    assignee: int | None
    tags: list[str]


@dataclass
class World:
    tenants: int
    customers: list[frozenset[int]]  # tenant memberships
    staff: list[frozenset[str]]  # staff role sets; one user per single role first, then random sets
    tickets: list[Ticket]
    messages: list[tuple[int, int | None, bool, str]]  # (ticket, staff author or None = the customer, internal, type)
    attachments: list[tuple[int, int | None, int | None]]  # (ticket, message or None, staff uploader or None)
    canned: list[tuple[int, bool, bool]]  # (staff author, is_public, is_active)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    tenants = draw(st.integers(2, 3))
    customers = draw(st.lists(st.frozensets(st.integers(0, tenants - 1), max_size=2), min_size=2, max_size=3))
    extra = draw(st.lists(st.frozensets(st.sampled_from(STAFF_ROLES), min_size=1, max_size=3), max_size=2))
    staff = [frozenset({r}) for r in STAFF_ROLES] + extra
    tickets = draw(st.lists(st.builds(
        Ticket, st.integers(0, tenants - 1), st.integers(0, len(customers) - 1), st.sampled_from(PRIORITIES),
        st.sampled_from(STATUSES), st.none() | st.integers(0, len(staff) - 1),
        st.lists(st.sampled_from(["billing", "urgent", "vip"]), max_size=2, unique=True)), min_size=2, max_size=5))
    messages = draw(st.lists(st.tuples(
        st.integers(0, len(tickets) - 1), st.none() | st.integers(0, len(staff) - 1), st.booleans(),
        st.sampled_from(["comment", "note", "escalation"])), max_size=6))
    # Only staff write internal notes or non-comment messages; a customer's message is a public comment.
    messages = [(t, a, i and a is not None, kind if a is not None else "comment") for t, a, i, kind in messages]
    attachments = draw(st.lists(st.tuples(
        st.integers(0, len(tickets) - 1), st.none() | st.integers(0, max(len(messages) - 1, 0)),
        st.none() | st.integers(0, len(staff) - 1)), max_size=4))
    # An attachment's message must be on the same ticket (the composite foreign key); otherwise none.
    attachments = [(t, m if messages and m is not None and messages[m][0] == t else None, u)
                   for t, m, u in attachments]
    canned = draw(st.lists(st.tuples(st.integers(0, len(staff) - 1), st.booleans(), st.booleans()), max_size=3))
    return World(tenants, customers, staff, tickets, messages, attachments, canned)


def uid(kind: int, n: int) -> str:
    return str(uuid.UUID(int=(kind << 64) + n + 1))


@dataclass
class Built:
    users: list[User]
    labels: dict[str, str]
    tenant_names: dict[str, str]
    customer_ids: list[str]
    staff_ids: list[str]
    ticket_ids: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)


def build_world(conn: psycopg.Connection[Any], world: World) -> Built:
    """Insert the world as the superuser (inside the caller's transaction)."""
    tenant_ids = [uid(1, i) for i in range(world.tenants)]
    customer_ids = [uid(2, i) for i in range(len(world.customers))]
    staff_ids = [uid(3, i) for i in range(len(world.staff))]
    tenant_names = {t: f"tenant {chr(65 + i)}" for i, t in enumerate(tenant_ids)}
    labels = dict(tenant_names)
    users = [User(None, "anon", frozenset({"anon"}), "anon"),
             User(None, "service_role", frozenset({"service_role"}), "service_role")]
    for i, (cid, tenants) in enumerate(zip(customer_ids, world.customers, strict=True)):
        labels[cid] = f"customer c{i + 1}"
        users.append(User(cid, labels[cid], frozenset({"customer"}), "authenticated",
                          frozenset(tenant_ids[t] for t in tenants)))
    for i, (sid, roles) in enumerate(zip(staff_ids, world.staff, strict=True)):
        labels[sid] = f"{'+'.join(sorted(roles))} s{i + 1}"
        users.append(User(sid, labels[sid], roles, "authenticated"))
    cur = conn.cursor()
    cur.executemany("INSERT INTO auth.users (id, email) VALUES (%s, %s)",
                    [(u, f"{labels[u].replace(' ', '.')}@example.com") for u in customer_ids + staff_ids])
    cur.executemany("INSERT INTO public.tenants (id, name) VALUES (%s, %s)", list(tenant_names.items()))
    cur.executemany("INSERT INTO public.tenant_members (tenant_id, user_id) VALUES (%s, %s)",
                    [(tenant_ids[t], cid) for cid, ts in zip(customer_ids, world.customers, strict=True)
                     for t in sorted(ts)])
    cur.executemany("INSERT INTO public.user_roles (user_id, role_name) VALUES (%s, %s)",
                    [(sid, r) for sid, roles in zip(staff_ids, world.staff, strict=True) for r in sorted(roles)])
    # Leave one priority unconfigured so that inserting an SLA row is a possible action.
    cur.execute("DELETE FROM public.support_sla_config WHERE priority = 'critical'")
    built = Built(users, labels, tenant_names, customer_ids, staff_ids)
    for i, t in enumerate(world.tickets):
        row = cur.execute(
            "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description, priority, status, "
            "assigned_to, tags) VALUES (%s, %s, %s, 'd', %s, %s, %s, %s) RETURNING id",
            (tenant_ids[t.tenant], customer_ids[t.customer], f"ticket {i + 1}", t.priority, t.status,
             staff_ids[t.assignee] if t.assignee is not None else None, t.tags)).fetchone()
        assert row is not None
        built.ticket_ids.append(str(row[0]))
    for ticket, author, internal, kind in world.messages:
        user = staff_ids[author] if author is not None else customer_ids[world.tickets[ticket].customer]
        row = cur.execute("INSERT INTO public.ticket_messages (ticket_id, user_id, message, is_internal, message_type) "
                          "VALUES (%s, %s, 'hello', %s, %s) RETURNING id",
                          (built.ticket_ids[ticket], user, internal, kind)).fetchone()
        assert row is not None
        built.message_ids.append(str(row[0]))
    for ticket, message, uploader in world.attachments:
        user = staff_ids[uploader] if uploader is not None else customer_ids[world.tickets[ticket].customer]
        cur.execute("INSERT INTO public.ticket_attachments (ticket_id, message_id, file_name, file_size, "
                    "storage_path, uploaded_by) VALUES (%s, %s, 'f.txt', 10, 'p/f.txt', %s)",
                    (built.ticket_ids[ticket], built.message_ids[message] if message is not None else None, user))
    for author, public, active in world.canned:
        cur.execute("INSERT INTO public.support_canned_responses (title, content, is_public, is_active, created_by) "
                    "VALUES ('hi', 'hello', %s, %s, %s)", (public, active, staff_ids[author]))
    return built


def read_world(conn: psycopg.Connection[Any], catalog: Catalog) -> dict[QName, list[Row]]:
    """Every row of every table and view with an access matrix, as the superuser sees it (uuids as text)."""
    world: dict[QName, list[Row]] = {}
    for name in access_objects(catalog):
        cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name.schema, name.name)))
        columns = [d.name for d in cur.description or ()]
        world[name] = [{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in cur.fetchall()]
    return world


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def access_objects(catalog: Catalog) -> list[QName]:
    tables = [n for n, t in catalog.tables.items() if t.access is not None]
    views = [n for n, v in catalog.views.items() if v.access is not None]
    return sorted(tables) + sorted(views)


# -- probes --------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    allowed: bool
    error: str | None = None


@dataclass
class Probe:
    """One attempted action with what the matrix predicts and what happened."""

    command: str
    name: QName
    what: str
    expected: bool
    actual: Outcome


DENIED = (errors.InsufficientPrivilege,)  # RLS WITH CHECK, a guard trigger, or a missing grant: all 42501


def attempt(conn: psycopg.Connection[Any], statement: sql.Composable, params: tuple[Any, ...],
            integrity_counts_as_allowed: bool = False) -> Outcome:
    with conn.transaction(force_rollback=True):
        try:
            cur = conn.execute(statement, params)
        except DENIED as exc:
            return Outcome(False, str(exc).splitlines()[0])
        except errors.ForeignKeyViolation as exc:
            if integrity_counts_as_allowed:  # RLS let the delete through; the data's integrity refused it
                return Outcome(True, str(exc).splitlines()[0])
            raise
        return Outcome(cur.rowcount == 1)


def _where(key: tuple[str, ...], row: Row) -> tuple[sql.Composable, tuple[Any, ...]]:
    return (sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in key),
            tuple(row[k] for k in key))


def insert_candidates(name: QName, user: User, b: Built, world: dict[QName, list[Row]]) -> Iterator[Row]:
    """Rows an actor might try to insert: their own and others', in their tenants and not, with and without
    staff-only columns."""
    me = user.id or b.customer_ids[0]
    other = next(c for c in b.customer_ids if c != me) if me in b.customer_ids else b.customer_ids[0]
    tenants = sorted(b.tenant_names)
    tickets = world[QName("public", "support_tickets")]
    messages = world[QName("public", "ticket_messages")]
    table = name.name
    if table == "support_tickets":
        for tenant, customer in itertools.product(tenants[:2], (me, other)):
            yield {"tenant_id": tenant, "customer_id": customer, "subject": "s", "description": "d"}
        yield {"tenant_id": tenants[0], "customer_id": me, "subject": "s", "description": "d", "priority": "high"}
        for column, value in (("status", "open"), ("assigned_to", b.staff_ids[0]), ("satisfaction_rating", 5)):
            for tenant in tenants[:2]:
                yield {"tenant_id": tenant, "customer_id": me, "subject": "s", "description": "d", column: value}
    elif table == "ticket_messages":
        for ticket in tickets[:4]:
            for author, internal, kind in ((me, False, "comment"), (me, True, "note"), (other, False, "comment"),
                                           (me, False, "system")):
                yield {"ticket_id": ticket["id"], "user_id": author, "message": "m", "is_internal": internal,
                       "message_type": kind}
    elif table == "ticket_attachments":
        for ticket in tickets[:3]:
            on_ticket = [m for m in messages if m["ticket_id"] == ticket["id"]][:2]
            for message in [None, *on_ticket]:
                base = {"ticket_id": ticket["id"], "message_id": message["id"] if message else None,
                        "file_name": "a.txt", "file_size": 5, "storage_path": "x/a.txt"}
                yield {**base, "uploaded_by": me}
                yield {**base, "uploaded_by": other}
                yield {**base, "uploaded_by": me, "is_public": True}
    elif table == "ticket_activity_log":
        yield {"ticket_id": tickets[0]["id"], "user_id": me, "activity_type": "created", "description": "forged"}
    elif table == "support_canned_responses":
        yield {"title": "t", "content": "c", "created_by": me}
        yield {"title": "t", "content": "c", "created_by": other}
    elif table == "support_ticket_categories":
        yield {"name": "New", "slug": f"new-{uuid.uuid4().hex[:8]}"}
    elif table == "support_sla_config":
        yield {"priority": "critical", "display_name": "Critical", "color": "#DC2626",
               "first_response_minutes": 15, "resolution_minutes": 120}
    elif table == "tenants":
        yield {"name": "New tenant"}
    elif table == "tenant_members":  # joining a tenant one is not a member of yet
        members = {(r["tenant_id"], r["user_id"]) for r in world[name]}
        yield from ({"tenant_id": t, "user_id": me} for t in tenants if (t, me) not in members)
    elif table == "user_roles":  # granting oneself a staff role one does not hold yet
        held = {r["role_name"] for r in world[name] if r["user_id"] == me}
        yield from ({"user_id": me, "role_name": r} for r in STAFF_ROLES[:2] if r not in held)
    else:
        raise AssertionError(f"no insert candidates for {name}: add them so the matrix is exercised")


# Updates to try on each row: (column, new value from the old row, or None to skip this row).
UpdateRule = Callable[[Row, Built], Any]
UPDATES: dict[str, list[tuple[str, UpdateRule]]] = {
    "support_tickets": [
        ("subject", lambda r, b: r["subject"] + "!"),
        ("status", lambda r, b: "cancelled" if r["status"] != "cancelled" else None),
        ("status", lambda r, b: "open" if r["status"] != "open" else None),
        ("satisfaction_rating", lambda r, b: 4 if r["satisfaction_rating"] != 4 else None),
        ("assigned_to", lambda r, b: b.staff_ids[0] if r["assigned_to"] != b.staff_ids[0] else None),
        ("priority", lambda r, b: "high" if r["priority"] != "high" else "low"),
    ],
    "ticket_messages": [("message", lambda r, b: r["message"] + "!"),
                        ("is_internal", lambda r, b: not r["is_internal"])],
    "ticket_attachments": [("file_name", lambda r, b: r["file_name"] + "x"),
                           ("is_public", lambda r, b: not r["is_public"])],
    "ticket_activity_log": [("description", lambda r, b: "forged")],
    "support_canned_responses": [("title", lambda r, b: r["title"] + "!")],
    "support_ticket_categories": [("name", lambda r, b: r["name"] + "!")],
    "support_sla_config": [("display_name", lambda r, b: r["display_name"] + "!")],
    "tenants": [("name", lambda r, b: r["name"] + "!")],
    "tenant_members": [("created_at", lambda r, b: r["created_at"] + timedelta(days=1))],
    "user_roles": [("created_at", lambda r, b: r["created_at"] + timedelta(days=1))],
}


def probe_user(conn: psycopg.Connection[Any], catalog: Catalog, oracle: Oracle, user: User, b: Built,
               world: dict[QName, list[Row]]) -> list[Probe]:
    probes: list[Probe] = []
    with live.acting_as(conn, user.id, user.role):
        for name in access_objects(catalog):
            probes += probe_select(conn, catalog, oracle, user, name, world, b)
            if name not in catalog.tables:
                continue
            ident = sql.Identifier(name.schema, name.name)
            for row in insert_candidates(name, user, b, world):
                statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    ident, sql.SQL(", ").join(map(sql.Identifier, row)),
                    sql.SQL(", ").join(sql.Placeholder() * len(row)))
                probes.append(Probe("insert", name, f"insert {row}", oracle.can_insert(name, user, row, set(row)),
                                    attempt(conn, statement, tuple(row.values()))))
            key = table_key(catalog, name)
            for row in world[name][:12]:
                where, params = _where(key, row)
                for column, new_value in UPDATES[name.name]:
                    value = new_value(row, b)
                    if value is None or value == row[column]:
                        continue
                    statement = sql.SQL("UPDATE {} SET {} = %s WHERE ").format(ident, sql.Identifier(column)) + where
                    expected = oracle.can_update(name, user, row, {**row, column: value}, {column})
                    what = f"set {column} = {value!r} on {describe_row(oracle, name, row, b.labels)}"
                    probes.append(Probe("update", name, what, expected, attempt(conn, statement, (value, *params))))
                statement = sql.SQL("DELETE FROM {} WHERE ").format(ident) + where
                probes.append(Probe("delete", name, f"delete {describe_row(oracle, name, row, b.labels)}",
                                    oracle.can_delete(name, user, row),
                                    attempt(conn, statement, params, integrity_counts_as_allowed=True)))
    return probes


def probe_select(conn: psycopg.Connection[Any], catalog: Catalog, oracle: Oracle, user: User, name: QName,
                 world: dict[QName, list[Row]], b: Built) -> list[Probe]:
    ident = sql.Identifier(name.schema, name.name)
    if name.name == "v_agent_ticket_stats":  # an aggregate: per agent, over the tickets the actor may read
        expected_counts = Counter(r["assigned_to"] for r in oracle.visible(QName("public", "support_tickets"), user)
                                  if r["assigned_to"] is not None)
        rows = _select(conn, sql.SQL("SELECT agent_id, total_assigned FROM {}").format(ident))
        actual_counts = {str(a): n for a, n in rows} if rows is not None else {}
        what = f"see agent totals {actual_counts} where the tickets it may read give {dict(expected_counts)}"
        return [Probe("select", name, what, dict(expected_counts) == actual_counts, Outcome(True))]
    key = table_key(catalog, name)
    rows = _select(conn, sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, key)), ident))
    seen = {tuple(_plain(v) for v in r) for r in rows} if rows is not None else set()
    probes = []
    for row in world[name]:
        row_key = tuple(row[k] for k in key)
        probes.append(Probe("select", name, f"read {describe_row(oracle, name, row, b.labels)}",
                            oracle.can_select(name, user, row), Outcome(row_key in seen)))
    if not world[name]:  # still count the check: nothing to read is a statement too
        probes.append(Probe("select", name, "read an empty table", True, Outcome(True)))
    return probes


def _select(conn: psycopg.Connection[Any], statement: sql.Composable) -> list[tuple[Any, ...]] | None:
    with conn.transaction(force_rollback=True):
        try:
            return conn.execute(statement).fetchall()
        except errors.InsufficientPrivilege:
            return None  # no grant: the actor reads nothing


def check_world(dsn: str, catalog: Catalog, world: World) -> None:
    """Build one world, probe it as every user, and fail with every violation in plain words."""
    violations: list[str] = []
    with psycopg.connect(dsn) as conn, conn.transaction(force_rollback=True):
        b = build_world(conn, world)
        data = read_world(conn, catalog)
        oracle = Oracle(catalog, data)
        for user in b.users:
            for p in probe_user(conn, catalog, oracle, user, b, data):
                OUTCOMES[(p.command, p.expected)] += 1
                if p.expected != p.actual.allowed:
                    verb = "could" if p.actual.allowed else "could not"
                    may = "may not" if p.actual.allowed else "may"
                    detail = f" ({p.actual.error})" if p.actual.error else ""
                    violations.append(f"{user.describe(b.tenant_names)} {verb} {p.what} in {p.name.name}{detail}, "
                                      f"but the access matrix says it {may}")
            for kind in user.kinds:
                for name in access_objects(catalog):
                    for command in COMMANDS if name in catalog.tables else ("select",):
                        CHECKED[(kind, name.name, command)] += 1
    if violations:
        raise AssertionError(f"{len(violations)} access violation(s):\n" + "\n".join(violations[:20]))


# -- tests ---------------------------------------------------------------------------------------------------------
def test_matrix_holds_in_random_worlds(schema_db: str, spec_build: Build) -> None:
    catalog = spec_build.catalog
    CHECKED.clear()
    OUTCOMES.clear()

    @settings(max_examples=WORLDS, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(world=worlds())
    def run(world: World) -> None:
        check_world(schema_db, catalog, world)

    run()
    actors = [a.name for _, a in catalog.schema.all("actors")]
    for name in access_objects(catalog):
        for command in COMMANDS if name in catalog.tables else ("select",):
            for actor in actors:
                assert CHECKED[(actor, name.name, command)] >= WORLDS, (actor, name.name, command)
    for command in COMMANDS:  # every command was tried both where the matrix allows it and where it does not
        assert OUTCOMES[(command, True)] > 0 and OUTCOMES[(command, False)] > 0, (command, OUTCOMES)
    print(f"\naccess matrix: {WORLDS} worlds, {len(actors)} actors, {len(access_objects(catalog))} tables/views, "
          f"{sum(CHECKED.values())} actor x object x command checks, probes (command, allowed): {dict(OUTCOMES)}")


FIXED_WORLD = World(
    tenants=2, customers=[frozenset({0}), frozenset({1})], staff=[frozenset({r}) for r in STAFF_ROLES],
    tickets=[Ticket(0, 0, "high", "open", 4, []), Ticket(1, 1, "low", "resolved", None, ["vip"])],
    messages=[(0, 4, True, "note"), (0, None, False, "comment")], attachments=[(0, 0, 4)], canned=[(4, False, True)])


def test_fixed_world_holds(schema_db: str, spec_build: Build) -> None:
    check_world(schema_db, spec_build.catalog, FIXED_WORLD)


@pytest.mark.parametrize(("breakage", "expected"), [
    ('ALTER POLICY "Customers can view their own tickets" ON public.support_tickets USING (true)',
     "customer c1 (member of tenant A) could read support_tickets TKT-"),
    ("ALTER VIEW public.v_active_tickets_with_sla SET (security_invoker = false)",
     "v_active_tickets_with_sla"),
    ('DROP POLICY "Customers can add comments to their own tickets" ON public.ticket_messages',
     "customer c1 (member of tenant A) could not insert"),
])
def test_broken_policy_is_caught_with_a_readable_counterexample(schema_db: str, spec_build: Build, breakage: str,
                                                                 expected: str) -> None:
    with psycopg.connect(schema_db, autocommit=True) as conn:
        conn.execute(breakage)
    with pytest.raises(AssertionError) as failure:
        check_world(schema_db, spec_build.catalog, FIXED_WORLD)
    assert expected in str(failure.value)
