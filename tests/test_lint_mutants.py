"""lint's command line and explanations, run in this process (the CLI tests of test_lint.py run a subprocess,
which mutmut's mutants never reach), written against mutmut's survivors (bench/RESULTS.md).

What is expected comes from the documentation: README's rule table (what `lint --rules` prints), the options' help
(`--min-severity`: print findings of at least this severity; `--api-schema`: the schemas the API exposes, default
public; exit 1 on an error-severity finding, 0 otherwise, 2 on bad usage), the suppression syntax of the module's
documentation (``lint: {ignore: {RULE-ID: "why"}}``) and each rule's severity in the README table.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from specs import run_in_process, write_spec
from test_lint import CASES, PRELUDE, READ_ALL, spec_catalog, table, with_lint

from generator.diagnostics import NOWHERE
from generator.lint import lint as lint_spec

# one finding of each severity: a table of the API schema without RLS (error), two permissive policies for one
# role and command and a table without a primary key (warnings), a varchar(n) column (info); and a table
# without RLS outside the API schema
MODULE: dict[str, Any] = {"module": "Case", "schemas": {"api": {}}, "tables": {
    "open": {"columns": {"id": {"type": "uuid", "primary_key": True}}},
    "two": table(policies={"read": {"command": "select", "roles": ["authenticated"], "using": "true"},
                           "again": {"command": "select", "roles": ["authenticated"], "using": "true"}}),
    "sized": table({"code": "varchar(10)"}),
    "keyless": {"columns": {"n": "integer"}, "rls": "enabled", "policies": READ_ALL},
    "api.hidden": {"columns": {"id": {"type": "uuid", "primary_key": True}}}}}
SUMMARY = re.compile(r"(?P<what>.+): (?P<error>\d+) error\(s\), (?P<warning>\d+) warning\(s\), (?P<info>\d+) info "
                     r"\(\d+\.\d\d s\)\Z")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_spec(tmp_path, {"00-prelude.yaml": PRELUDE, "01-case.yaml": MODULE})
    return tmp_path


def place(project: Path, key: str) -> str:
    """FILE:LINE:COL of a table's name in the case module (the place a table's finding names)."""
    lines = (project / "spec" / "01-case.yaml").read_text(encoding="utf-8").splitlines()
    return f"spec/01-case.yaml:{lines.index(f'  {key}:') + 1}:3"


def lint(cwd: Path, *args: str) -> tuple[int, list[tuple[str, str, str]], dict[str, str]]:
    """Exit code, the (place, rule, severity) of each printed finding, and the summary line's parts."""
    result = run_in_process(cwd, ["lint", *args])
    found = [(m["where"], m["rule"], m["severity"]) for m in map(
        re.compile(r"(?P<where>\S+): (?P<rule>[a-z_]+) (?P<severity>error|warning|info): ").match,
        result.stdout.splitlines()) if m]
    assert len(found) == len(result.stdout.splitlines()), result.stdout
    last = SUMMARY.match(result.stderr.splitlines()[-1])
    assert last, result.stderr
    return result.returncode, found, last.groupdict()


def test_findings_their_count_and_the_exit_code(project: Path) -> None:
    code, found, summary = lint(project)
    assert code == 1  # an error-severity finding
    assert (place(project, "open"), "rls_disabled_in_public", "error") in found
    assert {(rule, severity) for _, rule, severity in found} == {
        ("rls_disabled_in_public", "error"), ("multiple_permissive_policies", "warning"),
        ("no_primary_key", "warning"), ("varchar_length", "info")}
    assert summary == {"what": "spec", "error": "1", "warning": str(sum(s == "warning" for *_, s in found)),
                       "info": "1"}
    assert int(summary["warning"]) >= 2


@pytest.mark.parametrize(("least", "shown"), [("error", {"error"}), ("warning", {"error", "warning"}),
                                              ("info", {"error", "warning", "info"})])
def test_min_severity_prints_less_and_counts_everything(project: Path, least: str, shown: set[str]) -> None:
    code, found, summary = lint(project, "--min-severity", least)
    assert code == 1 and {severity for *_, severity in found} == shown
    assert (summary["error"], summary["info"]) == ("1", "1")


def test_the_api_schemas_are_those_named(project: Path) -> None:
    code, found, summary = lint(project, "--api-schema", "api")
    assert [(where, rule) for where, rule, _ in found if rule == "rls_disabled_in_public"] == [
        (place(project, "api.hidden"), "rls_disabled_in_public")]  # no longer public.open
    assert code == 1 and summary["error"] == "1"
    code, found, summary = lint(project, "--api-schema", "nothing", "--min-severity", "error")
    assert (code, found, summary["error"]) == (0, [], "0")  # warnings and info alone exit 0


def test_the_api_schemas_count_after_generate_remembered_the_findings(project: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`generate` keeps its findings (for the default API schemas) in the build cache so that `lint` need not run
    again; asked about other API schemas, lint judges those."""
    monkeypatch.setenv("PGSPEC_CACHE", "1")  # the suite turns the cache off (tests/conftest.py)
    monkeypatch.setenv("PGSPEC_CACHE_DIR", str(project / "cache"))
    assert run_in_process(project, ["generate", "--offline", "--quiet"]).returncode in (0, 1)
    _, found, _ = lint(project, "--api-schema", "api")
    assert [where for where, rule, _ in found if rule == "rls_disabled_in_public"] == [place(project, "api.hidden")]
    _, found, _ = lint(project)
    assert [where for where, rule, _ in found if rule == "rls_disabled_in_public"] == [place(project, "open")]


def test_the_time_reported_is_the_commands(project: Path) -> None:
    started = time.perf_counter()
    result = run_in_process(project, ["lint"])
    took = time.perf_counter() - started
    seconds = float(result.stderr.splitlines()[-1].rsplit("(", 1)[1].split(" s)")[0])
    assert 0 <= seconds <= took + 0.01


def test_a_policy_finding_is_suppressed_on_its_table(tmp_path: Path) -> None:
    """README: a policy rule's finding is suppressed on the policy or its table."""
    initplan = next(c for c in CASES if c.rule == "auth_rls_initplan")
    module = with_lint(initplan, {"auth_rls_initplan": "measured: the table holds ten rows"})
    assert "auth_rls_initplan" not in {f.rule for f in lint_spec(spec_catalog(tmp_path / "ignored", module))}
    assert "auth_rls_initplan" in {f.rule for f in lint_spec(spec_catalog(tmp_path / "kept", initplan.bad))}


def test_rules_prints_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = readme.index("| rule | severity | finds | suppress on |")
    end = next(i for i in range(start, len(readme)) if not readme[i].startswith("|"))
    result = run_in_process(ROOT, ["lint", "--rules"])
    assert (result.returncode, result.stdout) == (0, "\n".join(readme[start:end]) + "\n")


def test_an_unknown_rule_far_from_any_is_bad_usage() -> None:
    result = run_in_process(ROOT, ["lint", "--explain", "zzzz"])
    assert (result.returncode, result.stdout, result.stderr) == (2, "", "unknown rule 'zzzz'\n")


@pytest.mark.parametrize(("rule", "severity"), [
    ("auth_rls_initplan", "warning"),
    ("function_search_path_mutable", "warning; error when SECURITY DEFINER"),  # README: warning (error when ...)
])
def test_explain_names_the_severity_and_how_to_suppress(rule: str, severity: str) -> None:
    result = run_in_process(ROOT, ["lint", "--explain", rule])
    assert result.returncode == 0 and result.stdout.startswith(f"{rule} ({severity}): ")
    assert f'`lint: {{ignore: {{{rule}: "' in result.stdout and "Fix: " in result.stdout


def test_explain_says_when_only_a_spec_shows_a_rule() -> None:
    """A spec-only rule (a type modifier PostgreSQL discards leaves no trace in the catalog) is explained as one;
    a rule lint --db also finds is not."""
    spec_only = run_in_process(ROOT, ["lint", "--explain", "function_type_modifier_discarded"])
    both = run_in_process(ROOT, ["lint", "--explain", "auth_rls_initplan"])
    assert "in a spec only" in spec_only.stdout and "in a spec only" not in both.stdout


def test_an_unknown_severity_is_bad_usage() -> None:
    """--min-severity takes info, warning or error (its help); anything else is refused before any work."""
    result = run_in_process(ROOT, ["lint", "--min-severity", "fatal"])
    assert result.returncode == 2 and "invalid choice: 'fatal'" in result.stderr and result.stdout == ""


def test_bad_suppression_cannot_be_suppressed() -> None:
    result = run_in_process(ROOT, ["lint", "--explain", "bad_suppression"])
    assert result.returncode == 0 and result.stdout.endswith(" It cannot be suppressed.\n")
    assert "ignore:" not in result.stdout


def test_a_database_that_cannot_be_reached_is_reported_in_one_line(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, ["lint", "--db", f"host={tmp_path} port=1 dbname=none connect_timeout=2"])
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("lint --db: cannot read the database: ") and result.stderr.count("\n") == 1



def test_json_records_say_what_found_them_and_the_object(project: Path) -> None:
    result = run_in_process(project, ["lint", "--format", "json"])
    records = json.loads(result.stdout)
    assert records and all(r["kind"] == "lint" and r["hint"] and r["object"] for r in records)
    assert {"kind": "lint", "rule": "rls_disabled_in_public", "severity": "error", "object": "public.open",
            "file": "spec/01-case.yaml"}.items() <= next(r for r in records if r["object"] == "public.open").items()


def test_a_finding_reads_as_the_line_the_cli_prints(tmp_path: Path) -> None:
    """Finding.text (what the tests print) is the CLI's line: FILE:LINE:COL for a spec, the object for a database."""
    case = next(c for c in CASES if c.rule == "duplicate_index")
    finding = next(f for f in lint_spec(spec_catalog(tmp_path, case.bad)) if f.rule == "duplicate_index")
    assert finding.text() == finding.record().text()
    from_database = dataclasses.replace(finding, pos=NOWHERE)
    assert from_database.text() == from_database.record().text()
    assert from_database.text().startswith(f"{finding.where}: duplicate_index warning: ")


@pytest.mark.parametrize(("case_id", "names"), [
    ("duplicates-unique", ["index idx_t_code (code)", "UNIQUE constraint t_code_key (code)"]),
    ("prefix", ["index idx_a (a)", "index idx_a_b (a, b)"]),
])
def test_a_duplicate_index_finding_names_both_indexes_and_their_keys(case_id: str, names: list[str],
                                                                     tmp_path: Path) -> None:
    case = next(c for c in CASES if c.rule == "duplicate_index" and c.id == case_id)
    [finding] = [f for f in lint_spec(spec_catalog(tmp_path, case.bad)) if f.rule == "duplicate_index"]
    assert all(name in finding.message for name in names), finding.message


def test_a_call_key_read_from_a_database_is_the_parenthesised_one(tmp_path: Path) -> None:
    """pg_get_indexdef writes an expression key that is a function call without its own parentheses, as CREATE INDEX
    allows (`(lower(code))` in a spec): the two spell one key."""
    indexes = {"i_l": ["lower(code)"], "i_li": ["(lower(code))", "id"]}
    module = {"tables": {"t": table({"code": "text"}, indexes=indexes)}}
    found = [f for f in lint_spec(spec_catalog(tmp_path, module, checked=False)) if f.rule == "duplicate_index"]
    assert [f.where for f in found] == ["public.i_l"]
