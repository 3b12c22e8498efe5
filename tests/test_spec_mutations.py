"""Spec mutations: realistic edits to the SPEC-131 spec, each of which must make a live test of this suite fail.

`check` accepts every one of these edits (they are valid specs); only the live proofs can notice that the schema
stopped doing what SPEC-131 says. For each edit the mutated spec is built, applied to an empty database, and the
test that should notice it runs against that database: the live schema comparison with SPEC-131's CREATE TABLEs
(columns, types, nullability, foreign key actions, CHECKs by name), the access-matrix proof on a fixed world, the
trigger behaviour tests, and the privilege test. The expectations of those tests come from SPEC-131's text
(docs/seed) and the access matrix, never from the mutated spec: so each must fail. Each catching check is itself
a test of the suite, which passes on the unmutated schema (so it is the edit that makes it fail).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import test_access_matrix
import test_live_schema
import test_rls_behaviour
import test_triggers
from conftest import SPEC

from generator import live
from generator.pipeline import Build, build

Check = Callable[[str, Build], None]  # (database, the unmutated spec's build) -> raises AssertionError on a failure


def live_columns(dsn: str, pristine: Build) -> None:
    test_live_schema.test_columns_and_constraints_are_spec_131s(dsn)


def access_proof(dsn: str, pristine: Build) -> None:
    test_access_matrix.check_world(dsn, pristine.catalog, test_access_matrix.FIXED_WORLD)


def trigger_metrics(dsn: str, pristine: Build) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        test_triggers.test_resolution_timestamps_follow_the_status_and_every_reopen_counts(conn)


def privileges(dsn: str, pristine: Build) -> None:
    test_rls_behaviour.test_api_roles_have_no_privilege_that_bypasses_row_level_security(dsn)


def live_rls(dsn: str, pristine: Build) -> None:
    test_live_schema.test_policies(dsn)


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    old: str  # text of the spec file, replaced once by `new`
    new: str
    caught_by: Check


MUTATIONS = [
    Mutation("drop a CHECK", "03-support-tickets.yaml",
             "    checks:\n      support_tickets_satisfaction_rating_check: satisfaction_rating >= 1 AND "
             "satisfaction_rating <= 5\n", "", live_columns),
    Mutation("widen a policy", "03-support-tickets.yaml",
             "      Customers can view their own tickets:\n        command: select\n"
             "        roles: [authenticated, support_staff]\n"
             "        using: customer_id = (SELECT auth.uid())",
             "      Customers can view their own tickets:\n        command: select\n"
             "        roles: [authenticated, support_staff]\n"
             "        using: customer_id = (SELECT auth.uid()) OR tenant_id IS NOT NULL", access_proof),
    # SPEC-131's tables have RLS enabled, none FORCEd: dropping row-level security is the edit that matters here.
    Mutation("drop row-level security", "04-ticket-messages.yaml", "    rls: enabled\n", "    rls: 'off'\n",
             live_rls),
    Mutation("loosen a column type", "03-support-tickets.yaml", "      subject: {type: varchar(500), not_null: true}",
             "      subject: {type: text, not_null: true}", live_columns),
    Mutation("remove a trigger", "03-support-tickets.yaml",
             "      update_support_ticket_metrics:\n        timing: before\n        events: [update]\n"
             "        function: update_ticket_metrics\n", "", trigger_metrics),
    Mutation("widen a grant", "03-support-tickets.yaml",
             "      authenticated: [select, insert, update]\n      support_staff: [select, insert, update]",
             "      authenticated: [select, insert, update, truncate]\n      support_staff: [select, insert, update]",
             privileges),
    Mutation("change an FK action", "04-ticket-messages.yaml",
             "ticket_id: {type: uuid, not_null: true, references: support_tickets(id), on_delete: cascade}",
             "ticket_id: {type: uuid, not_null: true, references: support_tickets(id), on_delete: restrict}",
             live_columns),
]


def mutated_build(tmp_path: Path, mutation: Mutation) -> Build:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    path = spec / mutation.file
    text = path.read_text(encoding="utf-8")
    assert text.count(mutation.old) == 1, f"{mutation.id}: the text to edit is not in {mutation.file} once"
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    return build(spec)  # a valid spec: `check` has no objection


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_a_live_test_notices_the_mutation(mutation: Mutation, tmp_path: Path, empty_db: str,
                                          spec_build: Build) -> None:
    mutated = mutated_build(tmp_path, mutation)
    assert mutated.mismatches == []  # and the generated SQL verifies: only the live proofs can object
    live.apply_sql(empty_db, next(f.text for f in mutated.files if f.name == "schema.sql"))
    with pytest.raises(AssertionError):
        mutation.caught_by(empty_db, spec_build)


def test_every_kind_of_edit_the_issue_names_is_covered() -> None:
    assert {m.id for m in MUTATIONS} == {"drop a CHECK", "widen a policy", "drop row-level security",
                                         "loosen a column type", "remove a trigger", "widen a grant",
                                         "change an FK action"}
