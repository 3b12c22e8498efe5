"""squawk (the migration linter) over every plan of the evolution corpus: each finding must be named by one of
our own hazards on the change it points at, or be avoided by the --online plan of the same step, or be a rule
listed below with the reason it does not apply to plans. The lists are the test's statement of which is which.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from evolution import CASES, Case
from specs import write_spec

from generator.check import check
from generator.load import load_spec
from generator.migrate import changes as ch
from generator.migrate.planner import Options, plan
from generator.migrate.script import script
from generator.migrate.snapshot import of_spec

SQUAWK = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
# squawk rule -> the hazard kinds of ours that name the same risk.
NAMED_BY = {
    "adding-field-with-default": {"rewrite", "lock"},
    "adding-not-nullable-field": {"lock"},
    "adding-required-field": {"lock"},
    "ban-drop-column": {"data-loss"},
    "ban-drop-table": {"data-loss"},
    "ban-drop-sequence": {"data-loss"},
    "ban-drop-extension": {"data-loss"},
    "changing-column-type": {"rewrite", "data-loss", "lock"},
    "constraint-missing-not-valid": {"lock"},
    "disallowed-unique-constraint": {"index-build", "lock"},
    "require-concurrent-index-creation": {"index-build"},
    "require-concurrent-index-deletion": {"lock"},
    "setting-not-nullable-field": {"lock"},
    "adding-primary-key-constraint": {"index-build", "lock"},
    "adding-serial-primary-key-field": {"index-build", "lock"},  # a key added again (its options changed)
    "adding-foreign-key-constraint": {"lock"},
    "renaming-column": {"lock"},
    "renaming-table": {"lock"},
    # DETACH PARTITION CONCURRENTLY cannot run in a transaction (nor beside a default partition): the ACCESS
    # EXCLUSIVE lock a plain DETACH takes on the parent is named instead
    "require-concurrent-partition-detach": {"lock"},
}
# squawk rules that --online answers for the whole script.
ONLINE = {"require-lock-timeout", "require-statement-timeout", "require-concurrent-index-creation",
          "require-concurrent-index-deletion", "constraint-missing-not-valid", "setting-not-nullable-field"}
# squawk rules about the schema's style rather than the migration's safety: the lint rules' business (a spec is
# allowed to hold an existing schema as it is), or about statements plans write on purpose.
NOT_PLAN_SAFETY = {
    "prefer-bigint-over-int": "type choice of the spec (lint's business), not a migration risk",
    "prefer-bigint-over-smallint": "type choice of the spec",
    "prefer-identity": "type choice of the spec",
    "prefer-text-field": "type choice of the spec",
    "prefer-timestamptz": "type choice of the spec",
    "ban-char-field": "type choice of the spec",
    "prefer-robust-stmts": "plans run in one transaction and are re-planned, never re-run halfway",
    "ban-drop-not-null": "the spec made the column nullable; nothing is lost",
    "transaction-nesting": "the plan carries its own BEGIN/COMMIT, as psql -f needs",
    "ban-drop-view": "an API change the YAML states (reviewed there); a view rebuilt around a change is dropped and "
                     "created in one transaction, so no client ever sees it missing",
    "ban-drop-function": "as ban-drop-view: removed by the spec, or replaced in the same transaction",
    "renaming-object": "a declared rename (renamed_from): an API change the YAML states",
    "ban-drop-constraint": "the spec stops asking for the constraint: no row is lost",
    "ban-drop-default": "the spec drops the default: no row is lost",
    "ban-alter-identity": "the spec changes how the column is numbered: an API change the YAML states (reviewed "
                          "there); the lock it takes is named",
    "ban-create-domain-with-constraint": "a domain with CHECKs is the spec's choice of type (lint's business); "
                                         "plans add and drop its constraints with ALTER DOMAIN",
    "ban-alter-domain-with-add-constraint": "the spec adds a CHECK to its domain (reviewed there); PostgreSQL "
                                            "checks the stored values, and the plan fails rather than lose any",
    "ban-set-schema": "an extension's schema the YAML states (reviewed there); columns and indexes follow its types "
                      "and operator classes, which they reference by oid",
}
# squawk rules one kind of change answers by what it is: a generated column dropped to be added again with another
# expression, in the same transaction (its values are computed again; no client sees it missing).
ANSWERED_BY_CHANGE: dict[str, Callable[[Any], bool]] = {
    "ban-drop-column": lambda change: isinstance(change, ch.DropColumn) and change.computed,
}
_FINDING = re.compile(r"^[^:]+:(?P<line>\d+):\d+: \w+: (?P<rule>[a-z-]+) ")


def findings(text: str, tmp_path: Path) -> list[tuple[int, str]]:
    """(0-based line, rule) of each squawk finding."""
    path = tmp_path / "plan.sql"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([SQUAWK, "--reporter", "gcc", "--pg-version", "15.0", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return [(int(m["line"]), m["rule"]) for line in done.stdout.splitlines() if (m := _FINDING.match(line))]


def change_at(text: str, line: int) -> int | None:
    """The number of the change whose block holds `line` (its `-- N. ` comment comes first)."""
    for candidate in reversed(text.splitlines()[:line + 1]):
        m = re.match(r"-- (\d+)\. ", candidate)
        if m:
            return int(m[1])
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_squawk_findings_are_named_or_avoided(case: Case, tmp_path: Path) -> None:
    old = check(load_spec(write_spec(tmp_path / "old", {"01-base.yaml": case.old()})))
    new = check(load_spec(write_spec(tmp_path / "new", {"01-base.yaml": case.after()})))
    plain = plan(new, of_spec(old))
    online = plan(new, of_spec(old), options=Options(online=True))
    plain_text, online_text = script(plain, title="plain"), script(online, title="online")
    online_rules = {rule for _, rule in findings(online_text, tmp_path)}
    unexplained = []
    for line, rule in findings(plain_text, tmp_path):
        if rule in NOT_PLAN_SAFETY:
            continue
        if rule in ONLINE and rule not in online_rules:
            continue
        number = change_at(plain_text, line)
        hazards = {h.kind for h in plain.steps[number - 1].hazards} if number else set()
        if hazards & NAMED_BY.get(rule, set()):
            continue
        if number and rule in ANSWERED_BY_CHANGE and ANSWERED_BY_CHANGE[rule](plain.steps[number - 1].change):
            continue
        unexplained.append(f"{rule} at line {line + 1} (change {number}: "
                           f"{plain.steps[number - 1].change.describe() if number else '-'}; hazards {hazards})")
    assert unexplained == [], plain_text


def test_squawk_runs() -> None:
    """The check above means something only if squawk finds what it should."""
    text = "BEGIN;\nCREATE INDEX i ON public.t (c);\nALTER TABLE public.t DROP COLUMN d;\nCOMMIT;\n"
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        rules = {rule for _, rule in findings(text, Path(tmp))}
    assert {"require-concurrent-index-creation", "ban-drop-column"} <= rules
