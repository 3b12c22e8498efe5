"""Live: SPEC-131 behaviours that the access matrix does not state as row access, each tried as a real user.

(What each actor may read and write is proven by test_access_matrix.py; these are the stories around it.)
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors

from generator.live import acting_as


def _user(conn: psycopg.Connection[Any], *, tenant: str | None = None, roles: tuple[str, ...] = ()) -> str:
    user_id = str(uuid.uuid4())
    conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (user_id, f"{user_id[:8]}@example.com"))
    if tenant:
        conn.execute("INSERT INTO public.tenant_members (tenant_id, user_id) VALUES (%s, %s)", (tenant, user_id))
    for role in roles:
        conn.execute("INSERT INTO public.user_roles (user_id, role_name) VALUES (%s, %s)", (user_id, role))
    return user_id


def _tenant(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("INSERT INTO public.tenants (name) VALUES ('Acme') RETURNING id").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def conn(schema_db: str) -> Any:
    with psycopg.connect(schema_db, autocommit=True) as c:
        yield c


def _one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def test_customer_creates_a_ticket_and_it_is_logged(conn: psycopg.Connection[Any]) -> None:
    """With SPEC-131's SQL this fails: the activity-log trigger runs as the customer, who cannot insert there."""
    tenant = _tenant(conn)
    customer = _user(conn, tenant=tenant)
    with conn.transaction(), acting_as(conn, customer):
        ticket = _one(conn, "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description) "
                            "VALUES (%s, %s, 'Printer', 'It is on fire') RETURNING id", (tenant, customer))
        logged = conn.execute("SELECT activity_type, user_id FROM public.ticket_activity_log "
                              "WHERE ticket_id = %s", (ticket,)).fetchall()
    assert [(t, str(u)) for t, u in logged] == [("created", customer)]


def test_customer_cannot_open_a_ticket_in_a_foreign_tenant(conn: psycopg.Connection[Any]) -> None:
    mine, foreign = _tenant(conn), _tenant(conn)
    customer = _user(conn, tenant=mine)
    with acting_as(conn, customer), pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description) "
                     "VALUES (%s, %s, 's', 'd')", (foreign, customer))


def test_staff_changes_succeed_and_are_logged_with_the_actor(conn: psycopg.Connection[Any]) -> None:
    tenant = _tenant(conn)
    customer = _user(conn, tenant=tenant)
    agent = _user(conn, roles=("support_agent",))
    ticket = _one(conn, "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description) "
                        "VALUES (%s, %s, 's', 'd') RETURNING id", (tenant, customer))
    with conn.transaction(), acting_as(conn, agent, "support_staff"):
        updated = conn.execute("UPDATE public.support_tickets SET status = 'in_progress', priority = 'high', "
                               "assigned_to = %s WHERE id = %s", (agent, ticket)).rowcount
        logged = conn.execute("SELECT activity_type, user_id FROM public.ticket_activity_log "
                              "WHERE ticket_id = %s AND activity_type <> 'created'", (ticket,)).fetchall()
    assert updated == 1
    assert sorted((t, str(u)) for t, u in logged) == sorted(
        [("status_changed", agent), ("priority_changed", agent), ("assigned", agent)])


def test_attachment_message_must_belong_to_the_same_ticket(conn: psycopg.Connection[Any]) -> None:
    tenant = _tenant(conn)
    customer = _user(conn, tenant=tenant)
    tickets = [_one(conn, "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description) "
                          "VALUES (%s, %s, 's', 'd') RETURNING id", (tenant, customer)) for _ in range(2)]
    message = _one(conn, "INSERT INTO public.ticket_messages (ticket_id, user_id, message) VALUES (%s, %s, 'm') "
                         "RETURNING id", (tickets[0], customer))
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("INSERT INTO public.ticket_attachments (ticket_id, message_id, file_name, file_size, "
                     "storage_path) VALUES (%s, %s, 'f', 1, 'p')", (tickets[1], message))


def test_deleting_users_keeps_everyone_elses_tickets(conn: psycopg.Connection[Any]) -> None:
    """Deleting a user neither fails (foreign keys from every table) nor takes other users' data with it."""
    tenant = _tenant(conn)
    leaving, staying = _user(conn, tenant=tenant), _user(conn, tenant=tenant)
    agent = _user(conn, roles=("support_agent",))
    tickets = {}
    for who in (leaving, staying):
        tickets[who] = _one(conn, "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description, "
                                  "assigned_to) VALUES (%s, %s, 's', 'd', %s) RETURNING id", (tenant, who, agent))
        conn.execute("INSERT INTO public.ticket_messages (ticket_id, user_id, message) VALUES (%s, %s, 'm')",
                     (tickets[who], who))
        conn.execute("INSERT INTO public.ticket_attachments (ticket_id, file_name, file_size, storage_path, "
                     "uploaded_by) VALUES (%s, 'f', 1, 'p', %s)", (tickets[who], who))
    conn.execute("INSERT INTO public.support_canned_responses (title, content, created_by) VALUES ('t', 'c', %s)",
                 (agent,))
    before = {t: _one(conn, "SELECT count(*) FROM public." + t)
              for t in ("support_tickets", "ticket_messages", "ticket_attachments", "ticket_activity_log")}

    conn.execute("DELETE FROM auth.users WHERE id = %s", (leaving,))
    conn.execute("DELETE FROM auth.users WHERE id = %s", (agent,))

    after = {t: _one(conn, "SELECT count(*) FROM public." + t) for t in before}
    # No row of any kind disappeared; the agent's removal unassigned both tickets, which the log records.
    assert after == {**before, "ticket_activity_log": before["ticket_activity_log"] + 2}
    assert _one(conn, "SELECT count(*) FROM public.ticket_activity_log WHERE activity_type = 'unassigned'") == 2
    rows = conn.execute("SELECT id, customer_id, assigned_to FROM public.support_tickets").fetchall()
    assert {(str(i), str(c) if c else None, a) for i, c, a in rows} == {
        (str(tickets[leaving]), None, None), (str(tickets[staying]), staying, None)}
    assert _one(conn, "SELECT count(*) FROM public.support_canned_responses WHERE created_by IS NULL") == 1
    assert _one(conn, "SELECT count(*) FROM public.tenant_members WHERE user_id = %s", (leaving,)) == 0


def test_api_roles_have_no_privilege_that_bypasses_row_level_security(schema_db: str) -> None:
    """SPEC-131: "RLS policies ensure data separation". TRUNCATE empties a table without consulting its policies,
    so no API role may hold it on any table, whatever the grants say."""
    with psycopg.connect(schema_db) as c:
        held = c.execute("""
            SELECT r.rolname, n.nspname || '.' || t.relname
            FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
            CROSS JOIN pg_roles r
            WHERE t.relkind = 'r' AND n.nspname IN ('public', 'auth')
              AND r.rolname IN ('anon', 'authenticated', 'support_staff')
              AND has_table_privilege(r.oid, t.oid, 'TRUNCATE')""").fetchall()
        tables = _one(c, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'auth')")
    assert tables >= 10 and held == []


def _visible(conn: psycopg.Connection[Any], user: str, role: str) -> dict[str, int]:
    with acting_as(conn, user, role):
        return {t: _one(conn, f"SELECT count(*) FROM public.{t}")
                for t in ("support_tickets", "ticket_messages", "ticket_activity_log", "support_canned_responses")}


def test_the_staff_role_alone_grants_nothing(conn: psycopg.Connection[Any]) -> None:
    """README, "RLS design": staff act as support_staff, but the staff policies still check user_roles. A customer
    whose request ran as support_staff (a mis-issued token) reads and changes exactly what they could as
    authenticated; a staff member whose request ran as authenticated gets a customer's rights only (fails closed)."""
    tenant = _tenant(conn)
    customer, other = _user(conn, tenant=tenant), _user(conn, tenant=tenant)
    agent = _user(conn, roles=("support_agent",))
    mine, theirs = (_one(conn, "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description) "
                               "VALUES (%s, %s, 's', 'd') RETURNING id", (tenant, who)) for who in (customer, other))
    for ticket, who in ((mine, customer), (theirs, other)):
        conn.execute("INSERT INTO public.ticket_messages (ticket_id, user_id, message) VALUES (%s, %s, 'm')",
                     (ticket, who))
    conn.execute("INSERT INTO public.support_canned_responses (title, content, created_by) VALUES ('t', 'c', %s)",
                 (agent,))
    everything = {t: _one(conn, f"SELECT count(*) FROM public.{t}") for t in _visible(conn, agent, "support_staff")}
    as_customer = _visible(conn, customer, "authenticated")
    assert as_customer["support_tickets"] == 1 and as_customer["support_canned_responses"] == 0
    assert 0 < as_customer["ticket_activity_log"] < everything["ticket_activity_log"]
    assert _visible(conn, customer, "support_staff") == as_customer
    with acting_as(conn, customer, "support_staff"):
        assert conn.execute("UPDATE public.support_tickets SET priority = 'high' WHERE id = %s",
                            (theirs,)).rowcount == 0
    assert _visible(conn, agent, "support_staff") == everything
    assert _visible(conn, agent, "authenticated") == dict.fromkeys(everything, 0)
