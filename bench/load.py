"""Benchmark: the generated SPEC-131 schema under load (issue 11, part 3), beside SPEC-131's own SQL.

Two databases on one server get the same data: ours (output/schema.sql) and the seed (the platform module
output/00-platform.sql, then the SQL blocks of docs/seed/SPEC-131-support-ticket-schema.md, then SEED_PATCH: the
least that lets a customer open a ticket there). The data is set-based SQL (INSERT ... SELECT generate_series),
deterministic (ids and values are hashes of the row number), loaded as the owner with triggers and foreign-key
checks off (session_replication_role = replica: the rows are consistent by construction, and the triggers' work
is written out by the generator: SLA targets, ticket numbers, first responses, activity rows), then VACUUM ANALYZE.
At --scale 1: 200 tenants, 20,000 customers, 60 staff, 1,000,000 tickets (recent ones more numerous; old ones
mostly closed, recent ones open; priority skewed to low/medium; customers and agents skewed), 5 messages per
ticket of which the fourth is an internal note, an attachment on 30 % of tickets, and the activity the triggers
would record (created, assigned, status change, one row per message).

Each read query runs in three forms: as the app sends it relying on RLS alone, with the filter a client adds
(both as the real role: SET LOCAL ROLE authenticated, or support_staff for staff where the schema has that
role (README, "RLS design"; the seed's staff act as authenticated), + the JWT claims auth.uid() reads), and as
the owner with the access predicate written out (the no-RLS limit). Staff queries carry their own filter, so
their two RLS forms are one. Inserts run as the real role through every trigger, and with the table's user
triggers disabled. The forms of a query are interleaved round by round, each timed run after an untimed one
(warm); median and p95 of wall time per statement (planning included). Then the same statements again as
server-side prepared statements (prepared once per connection, as PostgREST does by default), where the plan is
cached. Ratios compare within this run only. EXPLAIN (ANALYZE, BUFFERS) of every form of the first pass is saved
under bench/plans/.

`make bench` runs the full scale and rewrites the `load` section of bench/RESULTS.md; `make bench-smoke` runs a
small scale, prints the table and writes nothing (it fails on any error, never on a timing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from scale import write_section  # noqa: E402
from seed_doc import schema_sql_blocks  # noqa: E402

from generator import live  # noqa: E402

SEED_DOC = ROOT / "docs" / "seed" / "SPEC-131-support-ticket-schema.md"
PLANS = ROOT / "bench" / "plans"
RAW = ROOT / "bench" / "load.json"
ACTIVE = "('new', 'open', 'in_progress', 'waiting_customer', 'waiting_internal')"

# SPEC-131 is written for Supabase, whose default privileges grant the API roles everything on new tables and
# sequences; the seed has no GRANT of its own. This emulates those defaults on its objects.
SEED_GRANTS = """
GRANT SELECT, INSERT, UPDATE, DELETE ON support_ticket_categories, support_sla_config, support_tickets,
    ticket_messages, ticket_attachments, ticket_activity_log, support_canned_responses,
    v_active_tickets_with_sla, v_agent_ticket_stats TO anon, authenticated, service_role;
GRANT USAGE, SELECT ON SEQUENCE support_ticket_number_seq TO anon, authenticated, service_role;
"""
# The minimum patch: the seed's log_ticket_activity() inserts into ticket_activity_log as the caller, and that
# table has RLS with no INSERT policy, so every ticket a customer (or anyone but the owner) opens fails with
# "new row violates row-level security policy for table ticket_activity_log". Running the trigger function as its
# owner (what our schema does) is the smallest change; nothing else of the seed is touched.
SEED_PATCH = "ALTER FUNCTION log_ticket_activity() SECURITY DEFINER;"


@dataclass(frozen=True)
class Sizes:
    tenants: int
    customers: int
    staff: int
    tickets: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(max(2, round(200 * scale)), max(50, round(20_000 * scale)), 60, max(1_000, round(1_000_000 * scale)))


# Staff 1..60 (user numbers customers+1 ...): 2 platform admins, 3 support admins, 5 managers, 6 leads, 44 agents.
STAFF_ROLES = [(2, "platform_admin"), (5, "support_admin"), (10, "support_manager"), (16, "support_lead"),
               (60, "support_agent")]
FIRST_AGENT, AGENTS = 17, 44

HELPERS = """
CREATE FUNCTION pg_temp.bid(kind int, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT (lpad(to_hex(kind), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.num(id uuid) RETURNS bigint LANGUAGE sql IMMUTABLE
AS $$ SELECT ('x' || right(id::text, 12))::bit(48)::bigint $$;
CREATE FUNCTION pg_temp.rnd(i bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE
AS $$ SELECT (hashint8extended(i, salt) & 2147483647)::float8 / 2147483648 $$;
"""

# Ids: kind 1 tenants, 2 users (customers 1..C, then staff), 3 tickets, 4 messages, 5 attachments, 6-9 activity.
LOAD = [
    ("tenants", "INSERT INTO public.tenants (id, name) SELECT pg_temp.bid(1, i), 'Tenant ' || i "
                "FROM generate_series(1, %(tenants)s) i"),
    ("users", "INSERT INTO auth.users (id, email) SELECT pg_temp.bid(2, i), 'user' || i || '@example.com' "
              "FROM generate_series(1, %(customers)s + %(staff)s) i"),
    ("tenant_members", "INSERT INTO public.tenant_members (tenant_id, user_id) "
                       "SELECT pg_temp.bid(1, 1 + floor(%(tenants)s * pg_temp.rnd(i, 1) ^ 2)::int), pg_temp.bid(2, i) "
                       "FROM generate_series(1, %(customers)s) i"),
    ("user_roles", "INSERT INTO public.user_roles (user_id, role_name) SELECT pg_temp.bid(2, %(customers)s + j), "
                   "CASE " + " ".join(f"WHEN j <= {upto} THEN '{role}'" for upto, role in STAFF_ROLES) + " END "
                   "FROM generate_series(1, %(staff)s) j"),
    ("support_tickets", """
WITH cats AS (SELECT array_agg(id ORDER BY sort_order) AS ids FROM public.support_ticket_categories)
INSERT INTO public.support_tickets (id, ticket_number, tenant_id, customer_id, customer_name, customer_email,
    subject, description, category_id, priority, status, assigned_to, assigned_at, team, sla_target_response,
    sla_target_resolution, first_response_at, resolved_at, closed_at, response_time_minutes,
    resolution_time_minutes, reopened_count, satisfaction_rating, source, tags, created_at, updated_at,
    last_activity_at)
SELECT pg_temp.bid(3, i), 'TKT-' || lpad(i::text, 8, '0'),
       pg_temp.bid(1, 1 + floor(%(tenants)s * pg_temp.rnd(customer, 1) ^ 2)::int), pg_temp.bid(2, customer),
       'Customer ' || customer, 'user' || customer || '@example.com',
       'Ticket ' || i || ': ' || (ARRAY['cannot sign in', 'invoice question', 'export fails', 'slow dashboard',
                                        'API error 500', 'feature idea'])[1 + i %% 6],
       repeat('What happened, what was expected, and the steps to reproduce it. ', 4),
       cats.ids[1 + i %% 8], priority, status, agent, agent_at,
       CASE WHEN agent IS NOT NULL THEN (ARRAY['technical', 'billing', 'sales'])[1 + i %% 3] END,
       created_at + make_interval(mins => resp_min), created_at + make_interval(mins => res_min),
       first_resp, resolved, CASE WHEN status = 'closed' THEN least(%(anchor)s, resolved + interval '1 day') END,
       floor(extract(epoch FROM first_resp - created_at) / 60),
       floor(extract(epoch FROM resolved - created_at) / 60), 0,
       CASE WHEN resolved IS NOT NULL AND r6 < 0.4 THEN 1 + floor(5 * r7)::int END,
       (ARRAY['portal', 'email', 'chat', 'phone', 'api', 'widget'])[1 + i %% 6],
       CASE WHEN i %% 4 = 0 THEN ARRAY['vip'] WHEN i %% 4 = 1 THEN ARRAY['billing', 'urgent'] END,
       created_at, last_activity, last_activity
FROM cats, (
    SELECT *, CASE WHEN resolved IS NOT NULL THEN least(%(anchor)s, resolved + interval '1 day')
                   ELSE least(%(anchor)s, created_at + interval '1 hour' * (1 + 48 * r6)) END AS last_activity
    FROM (
        SELECT *, CASE WHEN status <> 'new' AND r8 < 0.97 THEN pg_temp.bid(2, %(customers)s + """
    + str(FIRST_AGENT) + " + floor(" + str(AGENTS) + """ * r8 ^ 1.3)::int) END AS agent,
                  CASE WHEN status <> 'new' AND r8 < 0.97 THEN created_at + interval '10 minutes' END AS agent_at,
                  CASE WHEN status <> 'new' THEN least(%(anchor)s, created_at
                       + make_interval(mins => resp_min) * (0.2 + 1.3 * r6)) END AS first_resp,
                  CASE WHEN status IN ('resolved', 'closed') THEN least(%(anchor)s, created_at
                       + make_interval(mins => res_min) * (0.3 + 1.4 * r7)) END AS resolved
        FROM (
            SELECT *,
                   CASE priority WHEN 'critical' THEN 15 WHEN 'high' THEN 60 WHEN 'medium' THEN 240 ELSE 1440 END
                       AS resp_min,
                   CASE priority WHEN 'critical' THEN 120 WHEN 'high' THEN 480 WHEN 'medium' THEN 1440 ELSE 4320 END
                       AS res_min,
                   CASE WHEN %(anchor)s - created_at > interval '14 days' THEN
                            CASE WHEN rs < 0.80 THEN 'closed' WHEN rs < 0.93 THEN 'resolved'
                                 WHEN rs < 0.98 THEN 'cancelled' ELSE 'waiting_customer' END
                        ELSE CASE WHEN rs < 0.15 THEN 'new' WHEN rs < 0.35 THEN 'open' WHEN rs < 0.55 THEN 'in_progress'
                                  WHEN rs < 0.65 THEN 'waiting_customer' WHEN rs < 0.72 THEN 'waiting_internal'
                                  WHEN rs < 0.92 THEN 'resolved' ELSE 'closed' END END AS status
            FROM (
                SELECT i, 1 + floor(%(customers)s * pg_temp.rnd(i, 2) ^ 1.5)::int AS customer,
                       %(anchor)s - interval '730 days' * (1 - i::float8 / %(tickets)s) ^ 2 AS created_at,
                       CASE WHEN pg_temp.rnd(i, 3) < 0.07 THEN 'critical' WHEN pg_temp.rnd(i, 3) < 0.25 THEN 'high'
                            WHEN pg_temp.rnd(i, 3) < 0.60 THEN 'medium' ELSE 'low' END AS priority,
                       pg_temp.rnd(i, 4) AS rs, pg_temp.rnd(i, 6) AS r6, pg_temp.rnd(i, 7) AS r7,
                       pg_temp.rnd(i, 8) AS r8
                FROM generate_series(1, %(tickets)s) i
            ) g
        ) p
    ) q
) s"""),
    # Messages 1, 3, 5 by the customer, 2 and 4 by the agent (or a staff member); the fourth an internal note.
    ("ticket_messages", """
INSERT INTO public.ticket_messages (id, ticket_id, user_id, message, is_internal, message_type, has_attachments,
    created_at, updated_at)
SELECT pg_temp.bid(4, (n - 1) * 5 + j), t.id,
       CASE WHEN j %% 2 = 1 THEN t.customer_id
            ELSE coalesce(t.assigned_to, pg_temp.bid(2, %(customers)s + """ + str(FIRST_AGENT) + " + n %% "
    + str(AGENTS) + """)) END,
       'Message ' || j || ' on ticket ' || n || '. ' || repeat('Some words of the conversation. ', 6),
       j = 4, CASE WHEN j = 4 THEN 'note' ELSE 'comment' END, j = 1 AND n %% 10 < 3,
       t.created_at + (t.last_activity_at - t.created_at) * (j / 5.0),
       t.created_at + (t.last_activity_at - t.created_at) * (j / 5.0)
FROM (SELECT *, substr(ticket_number, 5)::bigint AS n FROM public.support_tickets) t
CROSS JOIN generate_series(1, 5) j"""),
    ("ticket_attachments", """
INSERT INTO public.ticket_attachments (id, ticket_id, message_id, file_name, file_size, file_type, mime_type,
    storage_path, uploaded_by, uploaded_at)
SELECT pg_temp.bid(5, pg_temp.num(m.id)), m.ticket_id, m.id, 'screenshot-' || pg_temp.num(m.id) || '.png',
       10000 + pg_temp.num(m.id) %% 500000, 'png', 'image/png',
       'tickets/' || m.ticket_id || '/' || pg_temp.num(m.id) || '.png', m.user_id, m.created_at
FROM public.ticket_messages m WHERE m.has_attachments"""),
    ("ticket_activity_log", """
INSERT INTO public.ticket_activity_log (id, ticket_id, user_id, activity_type, description, field_changed,
    old_value, new_value, created_at)
SELECT pg_temp.bid(6, pg_temp.num(t.id)), t.id, t.customer_id, 'created', 'Ticket created', NULL, NULL, NULL,
       t.created_at
FROM public.support_tickets t
UNION ALL
SELECT pg_temp.bid(7, pg_temp.num(t.id)), t.id, t.assigned_to, 'assigned', 'Ticket assigned', 'assigned_to', NULL,
       t.assigned_to::text, t.assigned_at
FROM public.support_tickets t WHERE t.assigned_to IS NOT NULL
UNION ALL
SELECT pg_temp.bid(8, pg_temp.num(t.id)), t.id, t.assigned_to, 'status_changed',
       'Status changed from new to ' || t.status, 'status', 'new', t.status,
       coalesce(t.closed_at, t.resolved_at, t.first_response_at, t.created_at)
FROM public.support_tickets t WHERE t.status <> 'new'
UNION ALL
SELECT pg_temp.bid(9, pg_temp.num(m.id)), m.ticket_id, m.user_id,
       CASE WHEN m.is_internal THEN 'note_added' ELSE 'comment_added' END,
       CASE WHEN m.is_internal THEN 'Internal note added' ELSE 'Comment added' END, NULL, NULL, NULL, m.created_at
FROM public.ticket_messages m"""),
]


def load(dsn: str, sizes: Sizes, anchor: str, log: Callable[[str], None]) -> dict[str, float]:
    """Fill a database (ours or the seed) with the same rows; returns seconds per step."""
    took: dict[str, float] = {}
    params = {"tenants": sizes.tenants, "customers": sizes.customers, "staff": sizes.staff,
              "tickets": sizes.tickets, "anchor": anchor}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # user triggers and FK checks off (owner only)
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET synchronous_commit = off")
        conn.execute(HELPERS)
        # Indexes that back no constraint are dropped during the load and built again after it (a sort per index
        # instead of millions of random inserts); the constraints' own indexes (primary keys, UNIQUE) stay.
        indexes = conn.execute(
            "SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE i.indrelid = ANY (%s::regclass[]) "
            "AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            ([f"public.{name}" for name, _ in LOAD if name.startswith(("support_tickets", "ticket_"))],)).fetchall()
        for index, _ in indexes:
            conn.execute(f"DROP INDEX {index}")
        for name, statement in LOAD:
            started = time.perf_counter()
            conn.execute(statement, params)
            took[name] = time.perf_counter() - started
            log(f"  {name}: {took[name]:.1f} s")
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        took["indexes"] = time.perf_counter() - started
        log(f"  {len(indexes)} indexes: {took['indexes']:.1f} s")
        conn.execute("SELECT setval('public.support_ticket_number_seq', %s)", (sizes.tickets,))
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        took["vacuum analyze"] = time.perf_counter() - started
        log(f"  vacuum analyze: {took['vacuum analyze']:.1f} s")
    return took


@dataclass(frozen=True)
class Query:
    """A read query in its forms: RLS alone (as the app sends it), with the client's filter, and as the owner with
    the access predicate written out. `filtered` None: the query carries its filter by nature (staff)."""

    slug: str
    label: str
    who: str  # customer | agent
    rls: str
    filtered: str | None
    owner: str


QUERIES = [
    Query("customer_open_tickets", "customer: open tickets, page of 20 by last activity", "customer",
          f"SELECT id, ticket_number, subject, status, priority, last_activity_at FROM public.support_tickets "
          f"WHERE status IN {ACTIVE} ORDER BY last_activity_at DESC LIMIT 20",
          f"SELECT id, ticket_number, subject, status, priority, last_activity_at FROM public.support_tickets "
          f"WHERE customer_id = %(customer)s AND status IN {ACTIVE} ORDER BY last_activity_at DESC LIMIT 20",
          f"SELECT id, ticket_number, subject, status, priority, last_activity_at FROM public.support_tickets "
          f"WHERE customer_id = %(customer)s AND status IN {ACTIVE} ORDER BY last_activity_at DESC LIMIT 20"),
    Query("customer_ticket_count", "customer: ticket count", "customer",
          "SELECT count(*) FROM public.support_tickets",
          "SELECT count(*) FROM public.support_tickets WHERE customer_id = %(customer)s",
          "SELECT count(*) FROM public.support_tickets WHERE customer_id = %(customer)s"),
    Query("customer_ticket_messages", "customer: a ticket with its visible messages", "customer",
          "SELECT t.ticket_number, t.subject, t.status, m.id, m.message, m.created_at FROM public.support_tickets t "
          "JOIN public.ticket_messages m ON m.ticket_id = t.id WHERE t.id = %(ticket)s ORDER BY m.created_at",
          "SELECT t.ticket_number, t.subject, t.status, m.id, m.message, m.created_at FROM public.support_tickets t "
          "JOIN public.ticket_messages m ON m.ticket_id = t.id WHERE t.id = %(ticket)s "
          "AND t.customer_id = %(customer)s AND NOT m.is_internal ORDER BY m.created_at",
          "SELECT t.ticket_number, t.subject, t.status, m.id, m.message, m.created_at FROM public.support_tickets t "
          "JOIN public.ticket_messages m ON m.ticket_id = t.id WHERE t.id = %(ticket)s "
          "AND t.customer_id = %(customer)s AND NOT m.is_internal ORDER BY m.created_at"),
    Query("customer_activity_log", "customer: a ticket's activity log", "customer",
          "SELECT activity_type, description, created_at FROM public.ticket_activity_log "
          "WHERE ticket_id = %(ticket)s ORDER BY created_at",
          "SELECT a.activity_type, a.description, a.created_at FROM public.ticket_activity_log a "
          "JOIN public.support_tickets t ON t.id = a.ticket_id WHERE a.ticket_id = %(ticket)s "
          "AND t.customer_id = %(customer)s AND a.activity_type <> 'note_added' ORDER BY a.created_at",
          "SELECT a.activity_type, a.description, a.created_at FROM public.ticket_activity_log a "
          "JOIN public.support_tickets t ON t.id = a.ticket_id WHERE a.ticket_id = %(ticket)s "
          "AND t.customer_id = %(customer)s AND a.activity_type <> 'note_added' ORDER BY a.created_at"),
    Query("agent_queue", "agent: assigned queue, page of 50", "agent",
          f"SELECT id, ticket_number, subject, priority, status, last_activity_at FROM public.support_tickets "
          f"WHERE assigned_to = %(agent)s AND status IN {ACTIVE} ORDER BY last_activity_at DESC LIMIT 50",
          None,
          f"SELECT id, ticket_number, subject, priority, status, last_activity_at FROM public.support_tickets "
          f"WHERE assigned_to = %(agent)s AND status IN {ACTIVE} ORDER BY last_activity_at DESC LIMIT 50"),
    Query("agent_sla_breaches", "agent: SLA-breach list (v_active_tickets_with_sla), first 50", "agent",
          "SELECT id, ticket_number, priority, sla_status, sla_target_response, sla_target_resolution "
          "FROM public.v_active_tickets_with_sla WHERE sla_status IN ('response_breached', 'resolution_breached') "
          "ORDER BY sla_target_resolution, id LIMIT 50",
          None,
          "SELECT id, ticket_number, priority, sla_status, sla_target_response, sla_target_resolution "
          "FROM public.v_active_tickets_with_sla WHERE sla_status IN ('response_breached', 'resolution_breached') "
          "ORDER BY sla_target_resolution, id LIMIT 50"),
    Query("agent_stats", "agent: own stats (v_agent_ticket_stats)", "agent",
          "SELECT * FROM public.v_agent_ticket_stats WHERE agent_id = %(agent)s", None,
          "SELECT * FROM public.v_agent_ticket_stats WHERE agent_id = %(agent)s"),
]


@dataclass(frozen=True)
class Insert:
    """An insert as the real role, through every trigger and with `table`'s user triggers disabled."""

    slug: str
    label: str
    who: str
    table: str
    sql: str
    without_triggers: str  # what the app would send when no trigger fills the columns in


INSERTS = [
    Insert("insert_ticket", "customer opens a ticket", "customer", "public.support_tickets",
           "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description, priority) "
           "VALUES (%(tenant)s, %(customer)s, 'Cannot export', 'The export button does nothing.', 'high') "
           "RETURNING id",
           "INSERT INTO public.support_tickets (ticket_number, tenant_id, customer_id, subject, description, "
           "priority) VALUES ('TKT-BENCH-1', %(tenant)s, %(customer)s, 'Cannot export', "
           "'The export button does nothing.', 'high') RETURNING id"),
    Insert("insert_customer_message", "customer adds a message to their ticket", "customer", "public.ticket_messages",
           "INSERT INTO public.ticket_messages (ticket_id, user_id, message) "
           "VALUES (%(ticket)s, %(customer)s, 'Any news on this?') RETURNING id",
           "INSERT INTO public.ticket_messages (ticket_id, user_id, message) "
           "VALUES (%(ticket)s, %(customer)s, 'Any news on this?') RETURNING id"),
    Insert("insert_agent_reply", "agent replies on an assigned ticket", "agent", "public.ticket_messages",
           "INSERT INTO public.ticket_messages (ticket_id, user_id, message) "
           "VALUES (%(agent_ticket)s, %(agent)s, 'We are looking into it.') RETURNING id",
           "INSERT INTO public.ticket_messages (ticket_id, user_id, message) "
           "VALUES (%(agent_ticket)s, %(agent)s, 'We are looking into it.') RETURNING id"),
]


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)
    rows: int = -1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=20, method="inclusive")[18]


@contextmanager
def as_user(conn: psycopg.Connection[Any], user: str | None, role: str = "authenticated") -> Iterator[None]:
    """A rolled-back transaction, as the API user `user` (SET LOCAL ROLE `role` + JWT claims) or the owner."""
    with live.acting_as(conn, user, role) if user else conn.transaction(force_rollback=True):
        yield


def staff_role(conn: psycopg.Connection[Any]) -> str:
    """The database role staff requests act as in this database: support_staff where the ticket policies are
    written for it (README, "RLS design"), else authenticated (the seed, whose platform prelude alone knows
    support_staff, and designs where staff and customers share a role)."""
    row = conn.execute("SELECT EXISTS (SELECT FROM pg_catalog.pg_policies "
                       "WHERE tablename = 'support_tickets' AND 'support_staff' = ANY (roles))").fetchone()
    return "support_staff" if row and row[0] else "authenticated"


PARAM = re.compile(r"%\((\w+)\)s")
PREPARED: dict[tuple[int, str], tuple[str, list[str]]] = {}  # (connection, statement) -> (name, its parameters)


def prepared(conn: psycopg.Connection[Any], sql: str) -> tuple[str, list[str]]:
    """`sql` as a named prepared statement of the session (SQL PREPARE, once per connection), its parameters in
    order. psycopg's own prepare=True does not fit: it deallocates every statement it prepared at each rollback,
    and every timed run is rolled back."""
    key = (id(conn), sql)
    if key not in PREPARED:
        names = list(dict.fromkeys(PARAM.findall(sql)))
        name = f"bench_{len(PREPARED)}"
        conn.execute(f"PREPARE {name} AS " + PARAM.sub(lambda m: f"${names.index(m[1]) + 1}", sql))
        PREPARED[key] = (name, names)
    return PREPARED[key]


def run_once(conn: psycopg.Connection[Any], user: str | None, sql: str, params: dict[str, Any],
             role: str = "authenticated", prepare: bool = False) -> tuple[float, int]:
    if prepare:  # EXECUTE with the values inlined (a utility statement takes no bind parameters)
        name, names = prepared(conn, sql)
        cursor = psycopg.ClientCursor(conn)
        sql = f"EXECUTE {name}(" + ", ".join(f"%({n})s" for n in names) + ")" if names else f"EXECUTE {name}"
    with as_user(conn, user, role):
        started = time.perf_counter()
        rows = len((cursor if prepare else conn).execute(sql, params).fetchall())
        return (time.perf_counter() - started) * 1000, rows


@dataclass(frozen=True)
class Form:
    name: str  # rls | filtered | owner | seed_rls | seed_filtered | triggers | no_triggers | seed_triggers
    conn: psycopg.Connection[Any]
    user: str | None
    sql: str
    params: dict[str, Any]
    disable: str | None = None  # a table whose user triggers are disabled while this form runs
    role: str = "authenticated"  # the database role `user` acts as
    prepare: bool = False  # a server-side prepared statement, kept per connection (PostgREST's default)


def measure(forms: list[Form], repeat: int, budget: float, warmup: int = 1) -> dict[str, Timing]:
    """Round by round, each form once (interleaved, so that drift in the machine's load hits every form alike);
    at least 5 rounds, then up to `repeat` while within `budget` seconds. Each timed run follows an untimed run of
    the same form: the slow forms read the whole table and push the fast forms' pages out of shared_buffers, and a
    form that disables triggers (ALTER TABLE) makes the next statement on the table reload its catalog entries;
    so every form is timed warm, as an OLTP statement that runs all day is."""
    timings = {f.name: Timing() for f in forms}
    started = time.perf_counter()
    rounds = 0
    while rounds < warmup + repeat and (rounds < warmup + 5 or time.perf_counter() - started < budget):
        for form in forms:
            with triggers_disabled(form):
                run_once(form.conn, form.user, form.sql, form.params, form.role, form.prepare)
                ms, rows = run_once(form.conn, form.user, form.sql, form.params, form.role, form.prepare)
            if rounds >= warmup:
                timings[form.name].samples.append(ms)
            timings[form.name].rows = rows
        rounds += 1
    return timings


@contextmanager
def triggers_disabled(form: Form) -> Iterator[None]:
    """The form's table with its user triggers disabled (foreign-key checks stay), as the owner, for the block."""
    if form.disable is None:
        yield
        return
    form.conn.execute(f"ALTER TABLE {form.disable} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        form.conn.execute(f"ALTER TABLE {form.disable} ENABLE TRIGGER USER")


def explain(form: Form, path: Path | None) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the form into `path`, after an untimed run (warm, as measure times it)."""
    if path is None:
        return
    with triggers_disabled(form):
        run_once(form.conn, form.user, form.sql, form.params, form.role)
        with as_user(form.conn, form.user, form.role):
            cur = psycopg.ClientCursor(form.conn)
            lines = [r[0] for r in cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + form.sql, form.params).fetchall()]
    who = f"as {form.user} ({form.role})" if form.user else "as the owner (no RLS)"
    path.write_text(f"-- {form.name} {who}\n-- {cur.mogrify(form.sql, form.params)}\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")


def pick(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The actors: the customer with the median ticket count, their latest ticket; the agent with the median
    number of open assigned tickets and their latest open ticket."""
    def one(sql: str, params: tuple[Any, ...] = ()) -> Any:
        row = conn.execute(sql, params).fetchone()
        assert row is not None, sql
        return row[0]

    customer = one("SELECT customer_id FROM (SELECT customer_id, count(*) n FROM public.support_tickets GROUP BY 1) c "
                   "ORDER BY n, customer_id "
                   "OFFSET (SELECT count(DISTINCT customer_id) / 2 FROM public.support_tickets) LIMIT 1")
    agent = one(f"SELECT assigned_to FROM (SELECT assigned_to, count(*) n FROM public.support_tickets "
                f"WHERE assigned_to IS NOT NULL AND status IN {ACTIVE} GROUP BY 1) a ORDER BY n, assigned_to "
                f"OFFSET (SELECT count(DISTINCT assigned_to) / 2 FROM public.support_tickets "
                f"WHERE status IN {ACTIVE}) LIMIT 1")
    return {
        "customer": str(customer), "agent": str(agent),
        "tenant": str(one("SELECT tenant_id FROM public.tenant_members WHERE user_id = %s", (customer,))),
        "ticket": str(one("SELECT id FROM public.support_tickets WHERE customer_id = %s "
                          "ORDER BY created_at DESC LIMIT 1", (customer,))),
        "agent_ticket": str(one(f"SELECT id FROM public.support_tickets WHERE assigned_to = %s AND status IN {ACTIVE} "
                                f"ORDER BY created_at DESC LIMIT 1", (agent,))),
    }


def apply_seed(dsn: str) -> None:
    """The seed's SQL after the platform module it assumes, with Supabase's grants (SEED_PATCH comes later, once
    unpatched_error has shown why it is needed)."""
    platform = (ROOT / "output" / "00-platform.sql").read_text(encoding="utf-8")
    live.apply_sql(dsn, platform + "\n" + "\n".join(schema_sql_blocks(SEED_DOC)) + "\n" + SEED_GRANTS)


def unpatched_error(conn: psycopg.Connection[Any], actors: dict[str, Any]) -> str:
    """What a customer's ticket gets from the seed's SQL as written (expected: RLS on ticket_activity_log)."""
    try:
        run_once(conn, actors["customer"], INSERTS[0].sql, actors)
    except psycopg.Error as error:
        return str(error).splitlines()[0]
    return "(none: the insert went through)"


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the embedded server is stopped and deleted
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="1 = 200 tenants, 20,000 customers, 1,000,000 tickets")
    p.add_argument("--repeat", type=int, default=30, help="samples per form at most")
    p.add_argument("--budget", type=float, default=20.0, help="seconds per query (all its forms) after 5 rounds")
    p.add_argument("--smoke", action="store_true", help="scale 0.005, 5 samples, writes nothing (CI)")
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md and bench/plans/")
    p.add_argument("--plans", type=Path, help="save the plans here (default bench/plans/, none with --no-write)")
    p.add_argument("--render", action="store_true", help="rewrite the RESULTS.md section from bench/load.json")
    args = p.parse_args(argv)
    if args.render:
        return report(json.loads(RAW.read_text(encoding="utf-8")), write=True)
    if args.smoke:
        args.scale, args.repeat, args.budget, args.no_write = 0.005, 5, 0.0, True
    sizes = Sizes.at(args.scale)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    run_started, load_before = time.perf_counter(), os.getloadavg()[0]
    server = live.start_server()
    tag = uuid.uuid4().hex[:8]
    ours_dsn = live.create_database(server, f"pgspec_load_ours_{tag}")
    seed_dsn = live.create_database(server, f"pgspec_load_seed_{tag}")
    plans = args.plans or (None if args.no_write else PLANS)
    if plans:
        plans.mkdir(exist_ok=True)
        for old in plans.glob("*.txt"):
            old.unlink()
    try:
        live.apply_sql(ours_dsn, (ROOT / "output" / "schema.sql").read_text(encoding="utf-8"))
        apply_seed(seed_dsn)
        with psycopg.connect(ours_dsn, autocommit=True) as conn:
            anchor = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        loads = {}
        for name, dsn in (("ours", ours_dsn), ("seed", seed_dsn)):
            log(f"loading {name}: {sizes}")
            loads[name] = load(dsn, sizes, anchor, log)
        with psycopg.connect(ours_dsn, autocommit=True, prepare_threshold=None) as ours, \
                psycopg.connect(seed_dsn, autocommit=True, prepare_threshold=None) as seed:
            actors = pick(ours)
            counts = {t: ours.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                      for t in ("public.support_tickets", "public.ticket_messages", "public.ticket_attachments",
                                "public.ticket_activity_log")}
            seed_error = unpatched_error(seed, actors)
            seed.execute(SEED_PATCH)
            reads = run_reads(ours, seed, actors, args, plans, log)
            writes = run_inserts(ours, seed, actors, args, plans, log)
            # The same statements again, prepared once per connection and executed (PostgREST's default, as
            # db-prepared-statements): planning, most of RLS's fixed cost on a sub-millisecond query, is cached.
            prepared = (run_reads(ours, seed, actors, args, None, log, prepare=True),
                        run_inserts(ours, seed, actors, args, None, log, prepare=True))
    finally:
        for dsn in (ours_dsn, seed_dsn):
            live.drop_database(server, live.database_name(dsn))
    raw = {"version": server.version, "date": time.strftime("%Y-%m-%d"), "scale": args.scale, "repeat": args.repeat,
           "sizes": asdict(sizes), "counts": counts, "load_seconds": loads, "actors": actors,
           "seed_error": seed_error, "minutes": (time.perf_counter() - run_started) / 60,
           "loadavg": [load_before, os.getloadavg()[0]],
           **as_raw(reads, writes), "prepared": as_raw(*prepared)}
    return report(raw, write=not args.no_write)


def as_raw(reads: Reads, writes: Writes) -> dict[str, Any]:
    return {"reads": {q.slug: {n: asdict(t) for n, t in timings.items()} for q, timings in reads},
            "writes": {i.slug: {n: asdict(t) for n, t in timings.items()} for i, timings in writes}}


def report(raw: dict[str, Any], write: bool, section: str = "load",
           render: Callable[[dict[str, Any]], str] | None = None, raw_path: Path = RAW) -> int:
    """Print the table; with `write`, put it in bench/RESULTS.md's `section` and the raw numbers in `raw_path`."""
    block = (render or markdown)(raw)
    print(block)
    if write:
        write_section(section, block)
        raw_path.write_text(json.dumps(raw, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


Reads = list[tuple[Query, dict[str, Timing]]]
Writes = list[tuple[Insert, dict[str, Timing]]]


def role_of(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """The database role each kind of actor (customer, agent) acts as in this database."""
    return {"customer": "authenticated", "agent": staff_role(conn)}


def run_reads(ours: psycopg.Connection[Any], seed: psycopg.Connection[Any], actors: dict[str, Any],
              args: argparse.Namespace, plans: Path | None, log: Callable[[str], None],
              prepare: bool = False) -> Reads:
    results: Reads = []
    roles = {"ours": role_of(ours), "seed": role_of(seed)}
    for q in QUERIES:
        user = actors[q.who]
        ours_role, seed_role = roles["ours"][q.who], roles["seed"][q.who]
        forms = [Form("rls", ours, user, q.rls, actors, role=ours_role)]
        if q.filtered:
            forms.append(Form("filtered", ours, user, q.filtered, actors, role=ours_role))
        forms.append(Form("owner", ours, None, q.owner, actors))
        forms.append(Form("seed_rls", seed, user, q.rls, actors, role=seed_role))
        if q.filtered:
            forms.append(Form("seed_filtered", seed, user, q.filtered, actors, role=seed_role))
        forms = [replace(f, prepare=prepare) for f in forms]
        timings = measure(forms, args.repeat, args.budget)
        ours_rows = {timings[f.name].rows for f in forms if not f.name.startswith("seed")}
        if len(ours_rows) != 1:  # RLS must return what the access predicate written out returns
            raise SystemExit(f"{q.slug}: the forms return different row counts: "
                             f"{ {f.name: timings[f.name].rows for f in forms} }")
        for form in forms:
            explain(form, plans / f"{q.slug}.{form.name}.txt" if plans else None)
        log(f"{q.slug}{' (prepared)' if prepare else ''}: "
            + ", ".join(f"{n} {t.median:.2f} ms ({t.rows} rows)" for n, t in timings.items()))
        results.append((q, timings))
    return results


def run_inserts(ours: psycopg.Connection[Any], seed: psycopg.Connection[Any], actors: dict[str, Any],
                args: argparse.Namespace, plans: Path | None, log: Callable[[str], None],
                prepare: bool = False) -> Writes:
    results: Writes = []
    roles = {"ours": role_of(ours), "seed": role_of(seed)}
    for ins in INSERTS:
        user = actors[ins.who]
        ours_role, seed_role = roles["ours"][ins.who], roles["seed"][ins.who]
        forms = [Form("triggers", ours, user, ins.sql, actors, role=ours_role),
                 Form("no_triggers", ours, user, ins.without_triggers, actors, disable=ins.table, role=ours_role),
                 Form("seed_triggers", seed, user, ins.sql, actors, role=seed_role)]
        forms = [replace(f, prepare=prepare) for f in forms]
        timings = measure(forms, args.repeat, args.budget)
        for form in forms:
            explain(form, plans / f"{ins.slug}.{form.name}.txt" if plans else None)
        log(f"{ins.slug}{' (prepared)' if prepare else ''}: "
            + ", ".join(f"{n} {t.median:.2f} ms" for n, t in timings.items()))
        results.append((ins, timings))
    return results


def timings_of(part: dict[str, Any]) -> tuple[dict[str, dict[str, Timing]], dict[str, dict[str, Timing]]]:
    """The reads and writes of one pass of raw numbers (load.json), as Timings."""
    return tuple({slug: {form: Timing(**t) for form, t in forms.items()}  # type: ignore[return-value]
                  for slug, forms in part[kind].items()} for kind in ("reads", "writes"))


def cell(t: Timing | None) -> str:
    return f"{ms(t.median)} (p95 {ms(t.p95)})" if t else "same"


def tables(reads: dict[str, dict[str, Timing]], writes: dict[str, dict[str, Timing]]) -> list[str]:
    """The reads table and the inserts table of one pass."""
    lines = [
        "| query | rows | RLS alone | filtered | no RLS | RLS alone / no RLS | filtered / no RLS | seed RLS alone "
        "| seed filtered | ours / seed, RLS alone | ours / seed, filtered |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for q in QUERIES:
        t = reads[q.slug]
        filtered, seed_filtered = t.get("filtered"), t.get("seed_filtered")
        rows = f"{t['rls'].rows}" + (f" (seed {t['seed_rls'].rows})" if t["seed_rls"].rows != t["rls"].rows else "")
        lines.append(
            f"| {q.label} | {rows} | {cell(t['rls'])} | {cell(filtered)} | {cell(t['owner'])} "
            f"| {ratio(t['rls'].median, t['owner'].median)} "
            f"| {ratio(filtered.median, t['owner'].median) if filtered else 'same'} "
            f"| {cell(t['seed_rls'])} | {cell(seed_filtered)} | {ratio(t['rls'].median, t['seed_rls'].median)} "
            f"| {ratio(filtered.median, seed_filtered.median) if filtered and seed_filtered else 'same'} |")
    lines += ["", "| insert (as the user, rolled back) | all triggers | user triggers disabled | trigger overhead "
                  "| seed, its triggers | ours / seed |", "|---|---|---|---|---|---|"]
    for ins in INSERTS:
        t = writes[ins.slug]
        lines.append(f"| {ins.label} | {cell(t['triggers'])} | {cell(t['no_triggers'])} "
                     f"| {ratio(t['triggers'].median, t['no_triggers'].median)} | {cell(t['seed_triggers'])} "
                     f"| {ratio(t['triggers'].median, t['seed_triggers'].median)} |")
    return lines


def markdown(raw: dict[str, Any]) -> str:
    n = "{:,}".format
    sizes = raw["sizes"]
    passes = [timings_of(raw)] + ([timings_of(raw["prepared"])] if "prepared" in raw else [])
    fewest = min(len(t.samples) for reads, writes in passes
                 for forms in (*reads.values(), *writes.values()) for t in forms.values())
    lines = [
        "<!-- load:start -->",
        "## The generated schema under load (`make bench`)", "",
        f"{raw['date']}, PostgreSQL {raw['version']}, scale {raw['scale']:g}: {n(sizes['tenants'])} tenants, "
        f"{n(sizes['customers'])} customers, {sizes['staff']} staff, "
        + ", ".join(f"{n(c)} {t.split('.')[1]}" for t, c in raw["counts"].items())
        + f" (bench/load.py; whole run {raw['minutes']:.0f} min, load average {raw['loadavg'][0]:.1f} before, "
        f"{raw['loadavg'][1]:.1f} after, on 2 shared cores). Load per database: "
        + "; ".join(f"{name} {sum(s.values()):.0f} s" for name, s in raw["load_seconds"].items())
        + f". Median and p95 of {fewest} to {raw['repeat']} interleaved runs per form, ms of wall time per "
        "statement (planning included). Plans: [bench/plans/](plans/); raw numbers: [load.json](load.json).", "",
        "Forms: **RLS alone** is the query as the app sends it, as the user (SET ROLE authenticated, or support_staff "
        "for staff in ours, + JWT claims); "
        "**filtered** adds the filter a client would add (customer_id, and NOT is_internal / activity_type <> "
        "'note_added' where the policy hides rows); **no RLS** is the owner running the filtered form, the "
        "limit. Staff queries carry their own filter: one RLS form. **Seed** is SPEC-131's own SQL on the same "
        "data (patched: see below), same user, same statement. Below 1 in an ours / seed column: ours is faster.",
        "",
        "**Each statement planned at every run** (a simple query, as psql or a pooler in transaction mode sends it):",
        "",
        *tables(*passes[0]),
    ]
    if len(passes) > 1:
        lines += ["", "**Prepared statements** (the same statements on the same data, each prepared once per "
                      "connection and executed again, as PostgREST does by default: the plan is cached, so "
                      "planning, most of RLS's fixed cost on a sub-millisecond query, leaves both sides):", "",
                  *tables(*passes[1])]
    lines += ["", f"Seed as written: a customer opening a ticket gets `{raw['seed_error']}`; patch: `{SEED_PATCH}` "
                  "(plus Supabase's default grants on its tables and sequence, which the seed relies on).",
              "<!-- load:end -->"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
