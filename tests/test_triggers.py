"""Live proof of SPEC-131's trigger behaviour as its text intends, acting as real users.

Every expectation is stated from the brief (docs/seed/) and the notes in spec/, never read back from the trigger
functions under test: ticket numbers, SLA targets, first response and resolution metrics, reopen counting,
updated_at / last_activity_at, and the activity log with the user who acted.

Users are real: staff hold rows in public.user_roles, customers are members of a tenant (public.tenant_members).
Each API call is its own committed transaction (`request`) run as the `authenticated` role with the JWT claims
auth.uid() reads, so grants and RLS apply as they would to a client. Time only advances between transactions (now()
is a transaction's start), so a timestamp set by a trigger is compared with the now() of the request that caused it,
and tickets whose age matters are imported by a service job with an explicit created_at in the past.
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from conftest import SEED_DOC
from psycopg import errors, sql
from psycopg.rows import dict_row

Conn = psycopg.Connection[Any]

# From the brief: the ticket number is 'TKT-' || lpad(n, 8, '0'), so at least 8 digits.
TICKET_NUMBER = re.compile(r"TKT-\d{8,}")
# From the brief's valid_status CHECK: every status but resolved, closed and cancelled is active.
ACTIVE_STATUSES = ("new", "open", "in_progress", "waiting_customer", "waiting_internal")
PAST = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


# -- requests and users --------------------------------------------------------------------------------------------
@pytest.fixture
def conn(schema_db: str) -> Iterator[Conn]:
    """A superuser connection to a fresh database; statements outside `request` commit at once."""
    with psycopg.connect(schema_db, autocommit=True) as connection:
        yield connection


@contextmanager
def request(conn: Conn, user_id: str | None, role: str | None = None) -> Iterator[datetime]:
    """One API call by `user_id`: a committed transaction as `role` with the JWT claims auth.uid() reads.

    `role` None: the role the API gives the user (README, "RLS design"): support_staff for a user holding a staff
    role, authenticated otherwise. Yields the call's time, now() of its transaction.
    """
    if role is None:
        staff = user_id is not None and value(
            conn, "SELECT EXISTS (SELECT FROM public.user_roles WHERE user_id = %s)", (user_id,))
        role = "support_staff" if staff else "authenticated"
    claims = json.dumps({"sub": user_id, "role": role} if user_id else {"role": role})
    with conn.transaction():
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        yield value(conn, "SELECT now()")


def value(conn: Conn, query: str | sql.Composable, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def insert(conn: Conn, table: str, values: dict[str, Any]) -> str:
    """INSERT one row into public.TABLE; returns its id."""
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier("public", table), sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)))
    return str(value(conn, statement, tuple(values.values())))


def make_user(conn: Conn, label: str) -> str:
    user_id = str(uuid.uuid4())
    conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (user_id, f"{label}.{user_id[:8]}@example.com"))
    return user_id


def make_tenant(conn: Conn, name: str = "Acme") -> str:
    return str(value(conn, "INSERT INTO public.tenants (name) VALUES (%s) RETURNING id", (name,)))


def make_customer(conn: Conn, tenant_id: str) -> str:
    """A signed-in user without staff roles, member of the tenant."""
    user_id = make_user(conn, "customer")
    conn.execute("INSERT INTO public.tenant_members (tenant_id, user_id) VALUES (%s, %s)", (tenant_id, user_id))
    return user_id


def make_staff(conn: Conn, *roles: str) -> str:
    """A user holding the given staff roles (support_agent, support_manager, ...)."""
    user_id = make_user(conn, "-".join(roles))
    for role in roles:
        conn.execute("INSERT INTO public.user_roles (user_id, role_name) VALUES (%s, %s)", (user_id, role))
    return user_id


# -- what users do -------------------------------------------------------------------------------------------------
def open_ticket(conn: Conn, customer: str, tenant: str, **columns: Any) -> str:
    """The customer opens a ticket through the API."""
    with request(conn, customer):
        return insert(conn, "support_tickets", {"tenant_id": tenant, "customer_id": customer,
                                                "subject": "Printer on fire", "description": "Help", **columns})


def import_ticket(conn: Conn, customer: str, tenant: str, age: timedelta | None = None, **columns: Any) -> str:
    """A back-end job (service_role) imports a ticket raised `age` ago, e.g. from e-mail."""
    with request(conn, None, "service_role") as now:
        if age is not None:
            columns["created_at"] = now - age
        return insert(conn, "support_tickets", {"tenant_id": tenant, "customer_id": customer, "subject": "Imported",
                                                "description": "From e-mail", "source": "email", **columns})


def update_ticket(conn: Conn, user: str, ticket_id: str, **changes: Any) -> datetime:
    """The user changes the ticket through the API; returns the time of the change."""
    with request(conn, user) as now:
        statement = sql.SQL("UPDATE public.support_tickets SET {} WHERE id = %s").format(
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in changes))
        cur = conn.execute(statement, (*changes.values(), ticket_id))
        assert cur.rowcount == 1, f"{user} could not update ticket {ticket_id} with {changes}"
    return now


def post(conn: Conn, user: str, ticket_id: str, text: str = "Hello", internal: bool = False,
         kind: str = "comment", **columns: Any) -> datetime:
    """The user writes a message on the ticket; returns the time it was written."""
    with request(conn, user) as now:
        insert(conn, "ticket_messages", {"ticket_id": ticket_id, "user_id": user, "message": text,
                                         "is_internal": internal, "message_type": kind, **columns})
    return now


def attach(conn: Conn, user: str, ticket_id: str, file_name: str = "screenshot.png") -> None:
    with request(conn, user):
        insert(conn, "ticket_attachments", {"ticket_id": ticket_id, "file_name": file_name, "file_size": 2048,
                                            "storage_path": f"tickets/{ticket_id}/{file_name}",
                                            "uploaded_by": user})


def ticket(conn: Conn, ticket_id: str) -> dict[str, Any]:
    """The ticket as stored (read as the superuser)."""
    row = conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM public.support_tickets WHERE id = %s", (ticket_id,)).fetchone()
    assert row is not None
    return row


def whole_minutes(delta: timedelta) -> int:
    return math.floor(delta.total_seconds() / 60)


# -- ticket numbers ------------------------------------------------------------------------------------------------
def test_ticket_number_is_always_generated(conn: Conn) -> None:
    """Numbers come from the trigger: one a client supplies is replaced, on insert and on update."""
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    first = open_ticket(conn, customer, tenant)
    forged = open_ticket(conn, customer, tenant, ticket_number="VIP-1")
    taken = ticket(conn, first)["ticket_number"]
    imported = import_ticket(conn, customer, tenant, ticket_number=taken)  # a duplicate would even fail
    numbers = [ticket(conn, t)["ticket_number"] for t in (first, forged, imported)]
    assert all(TICKET_NUMBER.fullmatch(n) for n in numbers), numbers
    assert len(set(numbers)) == 3

    update_ticket(conn, agent, first, ticket_number="TKT-1", subject="Renumbered?")
    assert ticket(conn, first)["ticket_number"] == taken
    assert ticket(conn, first)["subject"] == "Renumbered?"


WRITERS, TICKETS, BATCH = 8, 2000, 50


def test_ticket_numbers_are_unique_under_concurrent_inserts(conn: Conn, schema_db: str) -> None:
    """8 customers on 8 connections open 2,000 tickets at the same time, in committed batches."""
    tenant = make_tenant(conn)
    customers = [make_customer(conn, tenant) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)

    def writer(customer: str) -> None:
        with psycopg.connect(schema_db, autocommit=True) as own:
            start.wait(timeout=30)
            for _ in range(TICKETS // WRITERS // BATCH):
                with request(own, customer):
                    own.cursor().executemany(
                        "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description) "
                        "VALUES (%s, %s, 'Concurrent', 'd')", [(tenant, customer)] * BATCH)

    with ThreadPoolExecutor(WRITERS) as pool:
        for done in [pool.submit(writer, c) for c in customers]:
            done.result()

    numbers = [r[0] for r in conn.execute("SELECT ticket_number FROM public.support_tickets")]
    assert len(numbers) == TICKETS
    assert len(set(numbers)) == TICKETS
    assert all(TICKET_NUMBER.fullmatch(n) for n in numbers)
    # The writers really overlapped: each one's first batch committed before any one's last batch began.
    spans = conn.execute("SELECT customer_id, min(created_at), max(created_at) FROM public.support_tickets "
                         "GROUP BY customer_id").fetchall()
    assert len(spans) == WRITERS
    assert max(first for _, first, _ in spans) < min(last for _, _, last in spans)


def test_ticket_numbers_grow_past_eight_digits_without_truncation(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    conn.execute("SELECT setval('public.support_ticket_number_seq', 99999998)")
    numbers = [ticket(conn, open_ticket(conn, customer, tenant))["ticket_number"] for _ in range(2)]
    assert numbers == ["TKT-99999999", "TKT-100000000"]

    # The last number the sequence can give still fits the column; after it, inserts fail rather than repeat.
    width = value(conn, "SELECT character_maximum_length FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = 'support_tickets' "
                        "AND column_name = 'ticket_number'")
    last = value(conn, "SELECT max_value FROM pg_sequences "
                       "WHERE schemaname = 'public' AND sequencename = 'support_ticket_number_seq'")
    conn.execute("SELECT setval('public.support_ticket_number_seq', %s)", (last - 1,))
    number = ticket(conn, open_ticket(conn, customer, tenant))["ticket_number"]
    assert number == f"TKT-{last}" and len(number) <= width
    with pytest.raises(errors.SequenceGeneratorLimitExceeded):
        open_ticket(conn, customer, tenant)


# -- SLA targets ---------------------------------------------------------------------------------------------------
def sla_minutes(conn: Conn) -> dict[str, tuple[int, int]]:
    """priority -> (first response, resolution) minutes, from the active SLA configuration."""
    rows = conn.execute("SELECT priority, first_response_minutes, resolution_minutes "
                        "FROM public.support_sla_config WHERE is_active").fetchall()
    return {p: (first, resolution) for p, first, resolution in rows}


def sla_targets(conn: Conn, ticket_id: str) -> tuple[datetime, datetime]:
    row = ticket(conn, ticket_id)
    return row["sla_target_response"], row["sla_target_resolution"]


def after(start: datetime, minutes: tuple[int, int]) -> tuple[datetime, datetime]:
    return start + timedelta(minutes=minutes[0]), start + timedelta(minutes=minutes[1])


def test_sla_targets_count_from_the_ticket_creation(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    config = sla_minutes(conn)
    assert set(config) == {"critical", "high", "medium", "low"}  # the brief's priorities, all configured
    for priority, minutes in config.items():
        imported = import_ticket(conn, customer, tenant, created_at=PAST, priority=priority)
        assert sla_targets(conn, imported) == after(PAST, minutes), priority

    # A customer's ticket counts from the moment it is opened, whatever targets the client sends.
    generous = (PAST + timedelta(days=365), PAST + timedelta(days=366))
    with request(conn, customer) as now:
        opened = insert(conn, "support_tickets", {"tenant_id": tenant, "customer_id": customer, "subject": "s",
                                                  "description": "d", "priority": "high",
                                                  "sla_target_response": generous[0],
                                                  "sla_target_resolution": generous[1]})
    assert sla_targets(conn, opened) == after(now, config["high"])


def test_sla_targets_follow_priority_changes(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    config = sla_minutes(conn)
    t = import_ticket(conn, customer, tenant, created_at=PAST, priority="low")
    update_ticket(conn, agent, t, priority="critical")
    assert sla_targets(conn, t) == after(PAST, config["critical"])
    update_ticket(conn, agent, t, subject="Still on fire", priority="critical")  # same priority: targets stay
    assert sla_targets(conn, t) == after(PAST, config["critical"])
    update_ticket(conn, agent, t, priority="medium")
    assert sla_targets(conn, t) == after(PAST, config["medium"])


def test_sla_targets_follow_configuration_edits_for_new_tickets(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    admin = make_staff(conn, "support_admin")
    before_edit = import_ticket(conn, customer, tenant, created_at=PAST, priority="high")
    old = sla_minutes(conn)["high"]
    with request(conn, admin):
        edited = conn.execute("UPDATE public.support_sla_config SET first_response_minutes = 30, "
                              "resolution_minutes = 240 WHERE priority = 'high'")
        assert edited.rowcount == 1
    after_edit = import_ticket(conn, customer, tenant, created_at=PAST, priority="high")
    assert sla_targets(conn, after_edit) == after(PAST, (30, 240))
    assert sla_targets(conn, before_edit) == after(PAST, old)  # a ticket keeps the targets it was opened with


# -- first response, resolution, reopening -------------------------------------------------------------------------
def test_first_response_is_the_first_public_message_of_support_staff(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    manager = make_staff(conn, "support_manager")
    t = import_ticket(conn, customer, tenant, age=timedelta(minutes=90))

    post(conn, customer, t, "Any news?")
    post(conn, agent, t, "Customer is angry", internal=True, kind="note")
    assert ticket(conn, t)["first_response_at"] is None
    assert ticket(conn, t)["response_time_minutes"] is None

    replied = post(conn, agent, t, "We are on it")
    post(conn, manager, t, "Me too")
    row = ticket(conn, t)
    assert row["first_response_at"] == replied
    assert row["response_time_minutes"] == whole_minutes(replied - row["created_at"]) == 90


def test_a_forged_message_time_does_not_forge_the_response_time(conn: Conn) -> None:
    """Issue 13: a client may write any created_at into its message; the first response is the time the server
    received the staff member's answer, as SPEC-131's trigger has it (first_response_at = NOW())."""
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    t = import_ticket(conn, customer, tenant, age=timedelta(hours=5))
    created = ticket(conn, t)["created_at"]
    post(conn, customer, t, "Still waiting", created_at=created + timedelta(minutes=1))  # as the customer
    assert (ticket(conn, t)["first_response_at"], ticket(conn, t)["response_time_minutes"]) == (None, None)
    replied = post(conn, agent, t, "Sorry, on it", created_at=created + timedelta(minutes=1))  # as the agent
    row = ticket(conn, t)
    assert row["first_response_at"] == replied
    assert row["response_time_minutes"] == whole_minutes(replied - created) == 300


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_api_callers_cannot_write_the_server_timestamps_and_metrics(conn: Conn, who: str) -> None:
    """Issue 13: the creation time, first response, resolution and metrics of a ticket are the server's; a
    customer or an agent writing them through the API is refused (42501), on insert and on update."""
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    user = customer if who == "customer" else make_staff(conn, "support_agent")
    t = import_ticket(conn, customer, tenant, age=timedelta(hours=5))
    update_ticket(conn, user, t, status="cancelled" if who == "customer" else "resolved")
    before = ticket(conn, t)
    forged: dict[str, Any] = {
        "created_at": before["created_at"] + timedelta(hours=4, minutes=59),
        "first_response_at": before["created_at"] + timedelta(minutes=1), "resolved_at": PAST, "closed_at": PAST,
        "response_time_minutes": 1, "resolution_time_minutes": 1, "reopened_count": 7}
    for column, value in forged.items():
        with pytest.raises(errors.InsufficientPrivilege):
            update_ticket(conn, user, t, **{column: value})
        with pytest.raises(errors.InsufficientPrivilege):
            open_ticket(conn, customer if who == "customer" else user, tenant, **{column: value})
    assert ticket(conn, t) == before
    if who == "agent":  # writing back the value a row has is no change (clients that write whole rows keep working)
        update_ticket(conn, user, t, created_at=before["created_at"], resolved_at=before["resolved_at"])


def metrics(conn: Conn, ticket_id: str) -> dict[str, Any]:
    """The metric columns (a creation time before year 1 or infinite has no Python datetime)."""
    row = conn.cursor(row_factory=dict_row).execute(
        "SELECT first_response_at, resolved_at, response_time_minutes, resolution_time_minutes, reopened_count "
        "FROM public.support_tickets WHERE id = %s", (ticket_id,)).fetchone()
    assert row is not None
    return row


def test_metrics_cannot_overflow(conn: Conn) -> None:
    """Issue 13: a ticket imported with the earliest timestamp still gets its response and resolution minutes (no
    integer overflow fails the staff member's message or status change); an infinite creation time leaves them
    unknown instead of failing; the reopen counter stops at its maximum instead of failing the reopen."""
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    t = import_ticket(conn, customer, tenant, created_at="4713-01-01 00:00:00+00 BC")  # PostgreSQL's earliest year
    replied = post(conn, agent, t, "Sorry for the wait")
    resolved = update_ticket(conn, agent, t, status="resolved")
    row = metrics(conn, t)
    # Seconds since 1970 of the creation time (Python's datetime stops at year 1); 6,700 years are ~3.5e9 minutes.
    created = value(conn, "SELECT extract(epoch FROM created_at) FROM public.support_tickets WHERE id = %s", (t,))
    assert row["response_time_minutes"] == math.floor((replied.timestamp() - float(created)) / 60) > 2**31
    assert row["resolution_time_minutes"] == math.floor((resolved.timestamp() - float(created)) / 60) > 2**31

    endless = import_ticket(conn, customer, tenant, created_at="-infinity")
    post(conn, agent, endless, "Hello")
    update_ticket(conn, agent, endless, status="resolved")
    row = metrics(conn, endless)
    assert row["first_response_at"] is not None and row["resolved_at"] is not None
    assert (row["response_time_minutes"], row["resolution_time_minutes"]) == (None, None)

    with request(conn, None, "service_role"):
        conn.execute("UPDATE public.support_tickets SET reopened_count = 2147483647 WHERE id = %s", (t,))
    update_ticket(conn, agent, t, status="open")
    assert metrics(conn, t)["reopened_count"] == 2**31 - 1


def test_staff_member_asking_for_help_does_not_answer_their_own_ticket(conn: Conn) -> None:
    """A staff member who is also a customer (member of a tenant) opens a ticket: their own message on it is the
    customer's, not a response."""
    tenant = make_tenant(conn)
    colleague = make_staff(conn, "support_agent")
    conn.execute("INSERT INTO public.tenant_members (tenant_id, user_id) VALUES (%s, %s)", (tenant, colleague))
    agent = make_staff(conn, "support_agent")
    t = open_ticket(conn, colleague, tenant)
    post(conn, colleague, t, "Forgot to say: it is urgent")
    assert ticket(conn, t)["first_response_at"] is None
    replied = post(conn, agent, t, "On it")
    assert ticket(conn, t)["first_response_at"] == replied


def test_resolution_timestamps_follow_the_status_and_every_reopen_counts(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    t = import_ticket(conn, customer, tenant, age=timedelta(hours=3))
    update_ticket(conn, agent, t, status="open")

    resolved = update_ticket(conn, agent, t, status="resolved")
    row = ticket(conn, t)
    assert (row["resolved_at"], row["closed_at"]) == (resolved, None)
    assert row["resolution_time_minutes"] == whole_minutes(resolved - row["created_at"]) == 180

    closed = update_ticket(conn, agent, t, status="closed")
    row = ticket(conn, t)
    assert (row["resolved_at"], row["closed_at"]) == (resolved, closed)  # closing keeps the resolution time

    def reopen(to: str, count: int) -> None:
        """Back to an active status: counted, and the resolution is undone."""
        update_ticket(conn, agent, t, status=to)
        row = ticket(conn, t)
        assert row["reopened_count"] == count, f"reopened to {to}"
        assert (row["resolved_at"], row["closed_at"], row["resolution_time_minutes"]) == (None, None, None), to

    reopens = 1
    reopen("open", reopens)
    for target in ACTIVE_STATUSES:  # from resolved and from closed to every active status
        for finished in ("resolved", "closed"):
            when = update_ticket(conn, agent, t, status=finished)
            row = ticket(conn, t)
            assert row[f"{finished}_at"] == when
            if finished == "resolved":
                assert row["resolution_time_minutes"] == whole_minutes(when - row["created_at"])
            reopens += 1
            reopen(target, reopens)
    assert reopens == 1 + 2 * len(ACTIVE_STATUSES)
    logged = value(conn, "SELECT count(*) FROM public.ticket_activity_log "
                         "WHERE ticket_id = %s AND activity_type = 'reopened'", (t,))
    assert logged == reopens


# -- updated_at, last_activity_at ----------------------------------------------------------------------------------
TABLES_WITH_UPDATED_AT = """
    SELECT c.table_schema, c.table_name
    FROM information_schema.columns c
    JOIN information_schema.tables t USING (table_schema, table_name)
    WHERE c.column_name = 'updated_at' AND t.table_type = 'BASE TABLE'
      AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 1, 2"""

# A text column of the table that no constraint or index involves: editing it is always allowed.
EDITABLE_COLUMN = """
    SELECT a.attname
    FROM pg_attribute a
    WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      AND a.atttypid IN ('text'::regtype, 'varchar'::regtype)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                      WHERE k.conrelid = a.attrelid AND k.contype <> 'n' AND a.attnum = ANY (k.conkey))
      AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND a.attnum = ANY (i.indkey::int2[]))
    ORDER BY a.attnum
    LIMIT 1"""


def test_updated_at_advances_on_every_table_that_has_it(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    t = open_ticket(conn, customer, tenant)
    post(conn, agent, t)
    conn.execute("INSERT INTO public.support_canned_responses (title, content, created_by) "
                 "VALUES ('Welcome', 'Hello!', %s)", (agent,))

    found = conn.execute(TABLES_WITH_UPDATED_AT).fetchall()
    assert {("public", "support_tickets"), ("public", "ticket_messages")} <= set(found)
    tables = [sql.Identifier(schema, name) for schema, name in found]
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")  # triggers off, only to backdate the rows
        for table in tables:
            conn.execute(sql.SQL("UPDATE {} SET updated_at = %s").format(table), (long_ago,))

    stale = []
    for table in tables:
        column = conn.execute(EDITABLE_COLUMN, (table.as_string(conn),)).fetchone()
        assert column is not None, f"{table.as_string(conn)}: no freely editable text column to update"
        with conn.transaction():
            now = value(conn, "SELECT now()")
            edited = conn.execute(sql.SQL(
                "UPDATE {t} SET {c} = coalesce({c}, '') || '.' WHERE ctid = (SELECT ctid FROM {t} LIMIT 1) "
                "RETURNING updated_at").format(t=table, c=sql.Identifier(column[0]))).fetchone()
        assert edited is not None, f"{table.as_string(conn)} has no row: add one above"
        if edited[0] != now:
            stale.append(f"{table.as_string(conn)}: updated_at {edited[0]} after an update at {now}")
    assert not stale


def test_every_message_bumps_last_activity(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    day_ago = datetime.now(UTC) - timedelta(days=1)
    t = import_ticket(conn, customer, tenant, created_at=day_ago, updated_at=day_ago, last_activity_at=day_ago)
    assert ticket(conn, t)["last_activity_at"] == day_ago
    for author, internal in ((customer, False), (agent, True), (agent, False), (customer, False)):
        written = post(conn, author, t, internal=internal, kind="note" if internal else "comment")
        assert ticket(conn, t)["last_activity_at"] == written, (author == customer, internal)


# -- activity log --------------------------------------------------------------------------------------------------
def activity_types_of_the_brief() -> set[str]:
    """The activity types SPEC-131's CHECK valid_activity_type lists."""
    text = SEED_DOC.read_text(encoding="utf-8")
    check = re.search(r"CONSTRAINT valid_activity_type CHECK \(activity_type IN \((.*?)\)\)", text, re.S)
    assert check is not None
    return set(re.findall(r"'([^']+)'", check.group(1)))


def activity_types_allowed_live(conn: Conn) -> set[str]:
    definition = value(conn, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conrelid = 'public.ticket_activity_log'::regclass "
                             "AND conname = 'valid_activity_type'")
    return set(re.findall(r"'([^']+)'", definition))


class ActivityLog:
    """Reads the log (as the superuser) and checks what each action added to it."""

    def __init__(self, conn: Conn, names: dict[str, str]) -> None:
        self.conn, self.names = conn, names
        self.seen: set[str] = set()
        self.types: set[str] = set()

    def expect(self, actor: str, types: set[str], action: str) -> None:
        rows = [r for r in self.conn.execute("SELECT id::text, activity_type, user_id::text "
                                             "FROM public.ticket_activity_log ORDER BY created_at, id")
                if r[0] not in self.seen]
        self.seen |= {r[0] for r in rows}
        logged = {kind for _, kind, _ in rows}
        assert logged == types, f"{action}: logged {sorted(logged)}, expected {sorted(types)}"
        wrong = [(kind, self.names.get(user, user)) for _, kind, user in rows if user != actor]
        assert not wrong, f"{action}: entries not attributed to {self.names[actor]}: {wrong}"
        self.types |= logged


def test_activity_log_records_every_activity_type_with_the_acting_user(conn: Conn) -> None:
    tenant = make_tenant(conn)
    customer = make_customer(conn, tenant)
    agent = make_staff(conn, "support_agent")
    manager = make_staff(conn, "support_manager")
    log = ActivityLog(conn, {customer: "the customer", agent: "the agent", manager: "the manager"})
    category = {slug: value(conn, "SELECT id FROM public.support_ticket_categories WHERE slug = %s", (slug,))
                for slug in ("technical-issue", "billing")}

    t = open_ticket(conn, customer, tenant, category_id=category["technical-issue"])
    log.expect(customer, {"created"}, "the customer opens a ticket")
    post(conn, customer, t, "It is still broken")
    log.expect(customer, {"comment_added"}, "the customer comments")

    staff_actions: list[tuple[str, dict[str, Any], set[str]]] = [
        ("takes the ticket", {"status": "open"}, {"status_changed"}),
        ("raises the priority", {"priority": "high"}, {"priority_changed"}),
        ("moves it to billing", {"category_id": category["billing"]}, {"category_changed"}),
        ("assigns it", {"assigned_to": agent}, {"assigned"}),
        ("unassigns it", {"assigned_to": None}, {"unassigned"}),
        ("tags it", {"tags": ["vip", "invoice"]}, {"tag_added"}),
        ("removes a tag", {"tags": ["vip"]}, {"tag_removed"}),
    ]
    for action, changes, types in staff_actions:
        update_ticket(conn, agent, t, **changes)
        log.expect(agent, types, f"the agent {action}")
    post(conn, agent, t, "Refund pending", internal=True, kind="note")
    log.expect(agent, {"note_added"}, "the agent writes an internal note")
    post(conn, agent, t, "Needs a manager", internal=True, kind="escalation")
    log.expect(agent, {"escalated"}, "the agent escalates")
    attach(conn, agent, t)
    log.expect(agent, {"attachment_added"}, "the agent attaches a file")
    update_ticket(conn, manager, t, status="resolved")
    log.expect(manager, {"status_changed", "resolved"}, "the manager resolves it")
    update_ticket(conn, manager, t, status="closed")
    log.expect(manager, {"status_changed", "closed"}, "the manager closes it")
    update_ticket(conn, agent, t, status="in_progress")
    log.expect(agent, {"status_changed", "reopened"}, "the agent reopens it")

    brief = activity_types_of_the_brief()
    assert len(brief) == 15
    untested = (brief | activity_types_allowed_live(conn)) - log.types
    assert not untested, f"activity types never produced by the actions above: {sorted(untested)}"
