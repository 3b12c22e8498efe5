"""Machine-readable findings: `--format json|github` of check, lint and verify, through generator/report.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import OUTPUT, SPEC
from specs import write_spec

from generator import cli, live
from generator.report import Record


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_github_annotation_escapes_what_the_runner_would_misread() -> None:
    record = Record("lint", "100% wrong\nsecond line", severity="warning", rule="r1", file="spec/a,b.yaml", line=3,
                    col=7, hint="fix: this")
    assert record.github() == ("::warning file=spec/a%2Cb.yaml,line=3,col=7,title=r1::100%25 wrong%0Asecond line "
                               "(fix: this)")
    assert Record("drift", "missing in database", object="index public.i").github() == \
        "::error title=drift::index public.i: missing in database"
    assert Record("spec", "bad", severity="info", file="f.yaml").github() == "::notice file=f.yaml,title=spec::bad"


def test_check_formats_stale_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "output"
    shutil.copytree(OUTPUT, out)
    (out / "08-views.sql").write_text("-- edited by hand\n")
    code, stdout, err = _main(capsys, "check", "--out", str(out), "--format", "github")
    assert code == 1
    assert stdout == f"::error file={out}/08-views.sql,title=stale::out of date\n"
    assert "check failed" in err
    code, stdout, _ = _main(capsys, "check", "--out", str(out), "--format", "json")
    assert code == 1
    assert json.loads(stdout) == [{"kind": "stale", "message": "out of date", "severity": "error", "rule": None,
                                   "file": f"{out}/08-views.sql", "line": None, "col": None, "object": None,
                                   "hint": None}]


def test_spec_errors_are_annotations_too(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # spec files are named relative to the working directory
    spec = write_spec(tmp_path, {"01-x.yaml": {"module": "x", "tables": {"t": {"columns": {"a": {"typ": "text"}}}}}})
    for command in ("check", "lint"):
        code, stdout, err = _main(capsys, command, "--spec", str(spec), "--format", "github")
        assert code == 2
        assert stdout.startswith("::error file=spec/01-x.yaml,line=6,col=9,title=spec::column 'a': unknown key "
                                 "'typ' (did you mean 'type'?)"), stdout
        assert "1 error in the spec" in err
    code, stdout, _ = _main(capsys, "check", "--spec", str(spec), "--format", "json")
    (record,) = json.loads(stdout)
    assert (code, record["kind"], record["line"], record["col"]) == (2, "spec", 6, 9)


def test_lint_github_annotations_carry_rule_and_place(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path, {"01-x.yaml": {"module": "x", "schemas": {"app": {}}, "tables": {
        "app.t": {"columns": {"a": "timestamp"}}}}})
    code, stdout, _ = _main(capsys, "lint", "--spec", str(spec), "--format", "github", "--min-severity", "warning")
    assert code == 0
    lines = stdout.splitlines()
    assert any(line.startswith("::warning file=spec/01-x.yaml,line=") and ",title=no_primary_key::" in line
               for line in lines), lines
    assert any(",title=timestamp_without_time_zone::" in line for line in lines), lines


def test_verify_formats_drift(schema_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, err = _main(capsys, "verify", "--db", schema_db, "--spec", str(SPEC), "--format", "json")
    assert (code, json.loads(stdout), err) == (0, [], "no drift\n")
    live.apply_sql(schema_db, "DROP INDEX public.idx_support_tickets_priority")
    code, stdout, _ = _main(capsys, "verify", "--db", schema_db, "--spec", str(SPEC), "--format", "github")
    assert code == 1
    assert stdout == "::error title=drift::index public.idx_support_tickets_priority: missing in database\n"
