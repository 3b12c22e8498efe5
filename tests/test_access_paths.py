"""The access matrix's paths and wording (generator/access.py), on SPEC-131's catalog: what the README and the
model's docs say a path is (`ticket_id.customer_id` follows a foreign key), stated here by hand.

Written to kill mutants that survived `make mutation` (bench/RESULTS.md): a path through a view, a path through a
column that references nothing, the tables each step starts from, and how a rule is put in words.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from specs import write_spec

from generator.access import PathError, Step, describe_rule, resolve_path
from generator.check import check
from generator.load import load_spec
from generator.model import AccessRule, Condition
from generator.pipeline import Build
from generator.sqltext import QName

MESSAGES, TICKETS = QName("public", "ticket_messages"), QName("public", "support_tickets")
ACTIVE_VIEW = QName("public", "v_active_tickets_with_sla")


def test_a_path_follows_foreign_keys_step_by_step(spec_build: Build) -> None:
    assert resolve_path(spec_build.catalog, MESSAGES, "ticket_id.customer_id") == [
        Step(MESSAGES, "ticket_id", TICKETS, "id"), Step(TICKETS, "customer_id", QName("auth", "users"), "id")]
    assert resolve_path(spec_build.catalog, TICKETS, "priority") == [Step(TICKETS, "priority", None, None)]


def test_a_path_cannot_follow_a_column_that_references_nothing(spec_build: Build) -> None:
    with pytest.raises(PathError, match="does not reference a unique column"):
        resolve_path(spec_build.catalog, TICKETS, "subject.length")
    with pytest.raises(PathError, match="has no column 'nope'"):
        resolve_path(spec_build.catalog, TICKETS, "nope")


def test_a_view_column_is_opaque_and_cannot_be_followed(spec_build: Build) -> None:
    assert resolve_path(spec_build.catalog, ACTIVE_VIEW, "customer_id") == [Step(ACTIVE_VIEW, "customer_id", None)]
    with pytest.raises(PathError, match="is not a table"):
        resolve_path(spec_build.catalog, ACTIVE_VIEW, "ticket_id.customer_id")


def test_a_rule_in_words() -> None:
    rule = AccessRule(rows=("own", "tenant"), when=(Condition(path="status", values=("Open", None)),),
                      columns=("status", "done"),
                      values=(Condition(path="status", values=("Closed",)), Condition(path="done", values=(True,))))
    assert describe_rule(rule) == ("own+tenant where status in (Open, null); only status, done; "
                                   "to status = Closed, done = true")


def test_a_column_of_a_composite_foreign_key_is_followed_when_its_target_is_unique(spec_build: Build) -> None:
    """ticket_attachments (message_id, ticket_id) -> ticket_messages (id, ticket_id): message_id alone identifies a
    message, so `message_id.user_id` is a path (the foreign key on ticket_id comes first and does not apply)."""
    attachments = QName("public", "ticket_attachments")
    assert resolve_path(spec_build.catalog, attachments, "message_id.user_id") == [
        Step(attachments, "message_id", MESSAGES, "id"), Step(MESSAGES, "user_id", QName("auth", "users"), "id")]


def test_a_foreign_key_to_a_unique_column_is_followed(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"01-m.yaml": {"module": "M", "tables": {
        "teams": {"columns": {"id": {"type": "integer", "primary_key": True},
                              "code": {"type": "text", "unique": True}, "lead": {"type": "uuid"}}},
        "members": {"columns": {"id": {"type": "integer", "primary_key": True},
                                "team_code": {"type": "text", "references": "teams(code)"}}}}}})
    catalog = check(load_spec(spec))
    members, teams = QName("public", "members"), QName("public", "teams")
    assert resolve_path(catalog, members, "team_code.lead") == [
        Step(members, "team_code", teams, "code"), Step(teams, "lead", None, None)]
