"""Benchmark: what row-level security costs on the SPEC-131 schema, measured as ratios within one run.

For each query the same rows are fetched twice: once through RLS as the API user (SET ROLE authenticated, or
support_staff for the agent: README, "RLS design"; + JWT claims), once as the table owner with the equivalent WHERE
clause written out. A third variant replaces the policy's `(SELECT auth.uid())` with a bare `auth.uid()` to show
why the lint rule exists. Prints a table and writes bench/RESULTS.md. Run with `make bench-rls` (about a minute).
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import write_section  # noqa: E402

from generator import live  # noqa: E402

TENANTS, CUSTOMERS, TICKETS, REPEAT = 50, 500, 50_000, 30


def populate(conn: psycopg.Connection[Any]) -> tuple[str, str]:
    """Tenants, customers, one agent, and TICKETS tickets spread over the customers; returns (customer, agent)."""
    conn.execute("INSERT INTO public.tenants (id, name) SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))"
                 "::uuid, 'tenant ' || i FROM generate_series(1, %s) i", (TENANTS,))
    conn.execute("INSERT INTO auth.users (id) SELECT ('00000000-0000-0001-0000-' || lpad(i::text, 12, '0'))::uuid "
                 "FROM generate_series(1, %s) i", (CUSTOMERS + 1,))
    conn.execute("INSERT INTO public.tenant_members (tenant_id, user_id) SELECT ('00000000-0000-0000-0000-' || "
                 "lpad((1 + i %% %s)::text, 12, '0'))::uuid, ('00000000-0000-0001-0000-' || lpad(i::text, 12, '0'))"
                 "::uuid FROM generate_series(1, %s) i", (TENANTS, CUSTOMERS))
    agent = f"00000000-0000-0001-0000-{CUSTOMERS + 1:012d}"
    conn.execute("INSERT INTO public.user_roles (user_id, role_name) VALUES (%s, 'support_agent')", (agent,))
    conn.execute("""
        INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description, priority, status)
        SELECT m.tenant_id, m.user_id, 'ticket ' || g, 'd',
               (ARRAY['critical', 'high', 'medium', 'low'])[1 + g %% 4],
               (ARRAY['new', 'open', 'in_progress', 'resolved', 'closed'])[1 + g %% 5]
        FROM generate_series(1, %s) g
        JOIN public.tenant_members m ON m.user_id = ('00000000-0000-0001-0000-' ||
             lpad((1 + g %% %s)::text, 12, '0'))::uuid""", (TICKETS, CUSTOMERS))
    conn.execute("ANALYZE")
    return "00000000-0000-0001-0000-000000000007", agent


def timed(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...], user: str | None,
          role: str = "authenticated") -> tuple[float, int]:
    """Median wall time of REPEAT runs (ms) and the row count, as `user` (acting as `role`) through RLS or as the
    owner."""
    samples, rows = [], 0
    for _ in range(REPEAT):
        with conn.transaction(force_rollback=True):
            if user is not None:
                conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{user}"}}',))
                conn.execute(f"SET LOCAL ROLE {role}")
            started = time.perf_counter()
            rows = len(conn.execute(query, params).fetchall())
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), rows


def main() -> None:
    server = live.start_server()
    dsn = live.create_database(server, f"pgspec_bench_{uuid.uuid4().hex[:8]}")
    live.apply_sql(dsn, (ROOT / "output" / "schema.sql").read_text())
    results: list[tuple[str, float, float, int]] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        customer, agent = populate(conn)
        open_statuses = "status IN ('new', 'open', 'in_progress')"
        cases = [
            ("customer: own open tickets", f"SELECT id FROM public.support_tickets WHERE {open_statuses}",
             f"SELECT id FROM public.support_tickets WHERE {open_statuses} AND customer_id = %s",
             customer, (customer,)),
            ("customer: own open tickets, client also filters customer_id",
             f"SELECT id FROM public.support_tickets WHERE {open_statuses} AND customer_id = '{customer}'",
             f"SELECT id FROM public.support_tickets WHERE {open_statuses} AND customer_id = %s",
             customer, (customer,)),
            ("agent: all open tickets", f"SELECT id FROM public.support_tickets WHERE {open_statuses}",
             f"SELECT id FROM public.support_tickets WHERE {open_statuses}", agent, ()),
            ("customer: active view", "SELECT id FROM public.v_active_tickets_with_sla",
             "SELECT id FROM public.v_active_tickets_with_sla WHERE customer_id = %s", customer, (customer,)),
        ]
        for label, rls_query, plain_query, user, params in cases:
            role = "support_staff" if user == agent else "authenticated"
            with_rls, n_rls = timed(conn, rls_query, (), user, role)
            without, n_plain = timed(conn, plain_query, params, None)
            assert n_rls == n_plain, f"{label}: RLS returned {n_rls} rows, the explicit filter {n_plain}"
            results.append((label, with_rls, without, n_rls))
        # The same customer query with the policy's auth.uid() unwrapped (what lint rule auth-rls-initplan flags).
        conn.execute('ALTER POLICY "Customers can view their own tickets" ON public.support_tickets '
                     "USING (customer_id = auth.uid())")
        unwrapped, n = timed(conn, cases[0][1], (), customer)
        results.append(("customer: own open tickets, auth.uid() unwrapped", unwrapped, results[0][2], n))
    live.drop_database(server, live.database_name(dsn))

    lines = [f"## RLS overhead (`make bench-rls`, {time.strftime('%Y-%m-%d')}, PostgreSQL {server.version}, "
             f"{TICKETS} tickets, median of {REPEAT} runs)", "",
             "RLS overhead: the same rows fetched through the policies as the API user, and as the owner with the "
             "equivalent filter written out. Ratios compare within this run only.", "",
             "Reading: staff act as support_staff and the staff policies are TO support_staff (README, \"RLS "
             "design\"), so a customer's query is planned with the customer policy alone and uses the customer_id "
             "index (before, `staff OR escalated priority OR own` OR-ed together filtered every open ticket: 29.5x "
             "on 2026-11-25). The unwrapped `auth.uid()` row: with the customer policy alone, a bare STABLE "
             "`auth.uid()` is an index condition too; `(SELECT auth.uid())` still saves a call per row wherever "
             "the policy filters rows instead (lint rule auth_rls_initplan).", "",
             "| query | rows | with RLS (ms) | explicit filter (ms) | ratio |", "|---|---|---|---|---|"]
    for label, with_rls, without, rows in results:
        lines.append(f"| {label} | {rows} | {with_rls:.2f} | {without:.2f} | {with_rls / without:.1f}x |")
    text = "\n".join(["<!-- rls:start -->", *lines, "<!-- rls:end -->"])
    print(text)
    write_section("rls", text)  # the other benchmarks' sections stay as they are


if __name__ == "__main__":
    main()
