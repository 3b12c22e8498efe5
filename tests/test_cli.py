"""The command line as users and CI run it: help, exit codes, staleness, atomic output, determinism, schema."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import OUTPUT, ROOT, SPEC
from specs import run_in_process, write_spec

from generator.cli import parser
from generator.clidocs import cli_markdown
from generator.editorschema import PACKAGED_SCHEMA as SCHEMA_FILE
from generator.jsonschema import json_schema_text
from generator.pipeline import build


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` run in this process: the command's own work, without an interpreter's start-up
    each time. The tests about the process itself (help, usage errors, exit codes, no traceback) use run_process."""
    return run_in_process(cwd, list(args))


def run_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if os.environ.get("MUTANT_UNDER_TEST"):  # under mutmut (bench/mutation.py): in this process, where it mutates
        return run_in_process(cwd, list(args))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("command", [[], ["generate"], ["check"], ["schema"], ["init"], ["lint"], ["verify"],
                                     ["access"], ["docs"]])
def test_help(command: list[str]) -> None:
    result = run_process(*command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    assert run_process().returncode == 2


# What the CLI's start-up must not pay for when it does not use it: the model (creating its many classes takes a
# fifth of a small `check`), the parsers and templates (pglast, Jinja, PyYAML), the database driver, the build,
# drift and the plans.
HEAVY = {"yaml", "pglast", "jinja2", "psycopg", "generator.model", "generator.buildcache", "generator.check",
         "generator.pipeline", "generator.render", "generator.lint", "generator.drift", "generator.migrate.changes",
         "generator.migrate.planner"}
# Runs the command as `python -m generator` does, then prints the names of the modules it loaded, whatever the
# exit (help and usage errors exit through SystemExit).
_LOADED = ("import sys\nfrom generator.cli import main\ntry:\n    main(sys.argv[1:])\n"
           "finally:\n    print('loaded:', *sorted(sys.modules), file=sys.stderr)\n")


def loaded_modules(*args: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running the command (a subprocess even under mutmut: the
    point is what a new process imports)."""
    result = subprocess.run([sys.executable, "-c", _LOADED, *args], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    last = result.stderr.splitlines()[-1]
    assert last.startswith("loaded: "), result.stderr
    return set(last.split()[1:])


COMMANDS = ("generate", "check", "schema", "access", "docs", "lint", "verify", "plan", "apply", "migration", "init",
            "import")


@pytest.mark.parametrize("command", [["--help"], [], ["lint", "--no-such-option"],
                                     *([name, "--help"] for name in COMMANDS)])
def test_help_and_usage_errors_load_no_heavy_module(command: list[str]) -> None:
    assert loaded_modules(*command) & HEAVY == set()


def test_every_command_is_probed() -> None:
    """A command added later joins COMMANDS, so that its --help is probed too."""
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)


def test_lint_of_the_spec_loads_neither_renderer_nor_templates() -> None:
    """Without a kept build (the suite runs with the cache off), lint needs the checked model, not the pipeline."""
    loaded = loaded_modules("lint", "--min-severity", "error")
    assert {"generator.lint", "generator.check", "pglast", "yaml"} <= loaded  # the probe sees what it loads
    assert loaded & {"jinja2", "generator.render", "generator.pipeline", "generator.verify", "psycopg"} == set()


def test_committed_output_is_current() -> None:
    """`make check` in CI: the committed output/ is exactly what the spec generates."""
    result = run_process("check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_check_names_stale_missing_and_extra_files(tmp_path: Path) -> None:
    out = tmp_path / "output"
    shutil.copytree(OUTPUT, out)
    (out / "03-support-tickets.sql").write_text("-- edited by hand\n")
    (out / "08-views.sql").unlink()
    stale = OUTPUT / "01-support-ticket-categories.sql"
    (out / "99-old-module.sql").write_text(stale.read_text())  # a module that no longer exists
    result = run("check", "--out", str(out))
    assert result.returncode == 1
    assert f"{out}/03-support-tickets.sql: out of date" in result.stderr
    assert f"{out}/08-views.sql: missing" in result.stderr
    assert f"{out}/99-old-module.sql: no longer generated" in result.stderr


def test_generate_writes_then_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "output"
    (out).mkdir()
    (out / "keep-me.sql").write_text("-- not generated by us\n")
    first = run("generate", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[1].endswith(" objects, all new")  # not a list of every object
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    assert files == {p.name: p.read_bytes() for p in OUTPUT.iterdir()} | {"keep-me.sql": b"-- not generated by us\n"}
    second = run("generate", "--out", str(out))
    assert ", 0 changed" in second.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_supabase_target_leaves_out_the_platform(tmp_path: Path) -> None:
    out = tmp_path / "output"
    result = run("generate", "--target", "supabase", "--out", str(out))
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert "00-platform.sql" not in names and "03-support-tickets.sql" in names
    schema = (out / "schema.sql").read_text()
    assert "CREATE SCHEMA auth" not in schema and "CREATE TABLE public.support_tickets" in schema


def test_spec_error_exits_2_without_traceback(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"01-x.yaml": {"module": "x", "tables": {"t": {"columns": {"a": {"typ": "text"}}}}}})
    result = run_process("generate", "--spec", str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "spec/01-x.yaml:6:9: column 'a': unknown key 'typ' (did you mean 'type'?)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_same_spec_same_bytes() -> None:
    first, second = build(SPEC), build(SPEC)
    assert [(f.name, f.text) for f in first.files] == [(f.name, f.text) for f in second.files]


def _permuted(module: dict) -> dict:  # type: ignore[type-arg]
    """Reverse the order of every keyed collection whose order carries no meaning."""
    out = dict(module)
    for kind in ("tables", "functions", "views", "sequences", "enums", "roles", "schemas"):
        if kind in out:
            out[kind] = dict(reversed(list(out[kind].items())))
    for table in out.get("tables", {}).values():
        for key in ("indexes", "policies", "triggers", "checks", "grants", "unique", "foreign_keys"):
            if key in table:
                table[key] = dict(reversed(list(table[key].items())))
    return out


def test_declaration_order_does_not_change_output(tmp_path: Path) -> None:
    """Output order comes from dependencies and names, never from where in a file something was written."""
    modules = {p.name: yaml.safe_load(p.read_text()) for p in sorted(SPEC.glob("*.yaml"))}
    plain = build(write_spec(tmp_path / "a", modules))
    permuted = build(write_spec(tmp_path / "b", {n: _permuted(m) for n, m in modules.items()}))
    assert [f.text.replace(str(tmp_path / "b"), "") for f in permuted.files] == \
        [f.text.replace(str(tmp_path / "a"), "") for f in plain.files]


def test_json_schema_is_current_and_accepts_every_spec() -> None:
    assert SCHEMA_FILE.read_text() == json_schema_text()
    schema = json.loads(SCHEMA_FILE.read_text())
    specs = sorted(SPEC.glob("*.yaml")) + sorted(ROOT.glob("examples/*/spec/*.yaml"))
    assert len(specs) > len(list(SPEC.glob("*.yaml"))), "no example specs found"
    for path in specs:
        text = path.read_text()
        assert text.startswith("# yaml-language-server: $schema="), f"{path}: no modeline"
        modeline_target = (path.parent / text.split("$schema=", 1)[1].split()[0]).resolve()
        assert modeline_target == SCHEMA_FILE.resolve(), f"{path}: modeline points at {modeline_target}"
        jsonschema.validate(yaml.safe_load(text), schema)


CLI_REFERENCE = ROOT / "docs" / "cli.md"


def test_cli_reference_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/cli.md is what the parsers say, whatever the terminal's width: a changed usage, help text, metavar or
    choice of any command fails here, in this process (under mutmut, where the parsers are the mutated ones)."""
    assert CLI_REFERENCE.read_text(encoding="utf-8") == cli_markdown(parser()), "docs/cli.md is stale: run `make docs`"
    monkeypatch.setenv("COLUMNS", "40")
    assert cli_markdown(parser()) == CLI_REFERENCE.read_text(encoding="utf-8")


def _sections(markdown: str) -> dict[str, str]:
    """docs/cli.md's sections by heading (`pgspec lint`), in their order."""
    parts = markdown.split("\n## `")[1:]
    return {part.split("`", 1)[0]: part for part in parts}


def test_cli_reference_shows_what_help_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command's section has the usage `pgspec COMMAND --help` prints in a terminal of 102 columns, and every
    help text it prints; the sections follow the command table's order."""
    monkeypatch.setenv("COLUMNS", "102")
    sections = _sections(CLI_REFERENCE.read_text(encoding="utf-8"))
    commands = next(a for a in parser()._actions if a.dest == "command").choices
    assert commands is not None
    assert list(sections) == ["pgspec", *(f"pgspec {name}" for name in commands)]
    for heading, section in sections.items():
        shown = run_in_process(ROOT, [*heading.split()[1:], "--help"])
        assert shown.returncode == 0, shown.stderr
        usage = shown.stdout.split("\n\n", 1)[0]
        assert f"```text\n{usage}\n```" in section, heading
        # help texts as --help wraps them (at spaces, and after hyphens: yaml-language-server), whitespace aside
        rows = ["".join(line.split(" | ", 1)[1].removesuffix(" |").replace("\\|", "|").split())
                for line in section.splitlines() if line.startswith("| `")]
        printed = "".join(shown.stdout.split())
        assert rows and all(row in printed for row in rows), heading


def test_docs_cli_writes_the_reference_without_a_spec(tmp_path: Path) -> None:
    """`pgspec docs --cli FILE` (what `make docs` runs) writes docs/cli.md and needs no spec: tmp_path has none."""
    written = run_in_process(tmp_path, ["docs", "--cli", "cli.md"])
    assert written.returncode == 0 and written.stdout == "cli.md: updated\n", written.stderr
    assert (tmp_path / "cli.md").read_text(encoding="utf-8") == CLI_REFERENCE.read_text(encoding="utf-8")
    assert run_in_process(tmp_path, ["docs", "--cli", "cli.md"]).stdout == "cli.md: up to date\n"
    assert not (tmp_path / "README.md").exists()
    recipe = (ROOT / "Makefile").read_text().split("\ndocs:", 1)[1].split("\n\n", 1)[0]
    assert "--readme README.md --cli docs/cli.md" in recipe


def test_json_schema_rejects_a_typo() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"module": "x", "tables": {"t": {"columns": {"a": {"type": "text", "nullabel": True}}}}},
                            schema)


def test_schema_write_and_check_keep_the_editor_schema_current(tmp_path: Path) -> None:
    """The package never rewrites its schema; a project's copy is written on request and checked by `check`."""
    spec = write_spec(tmp_path, {"01-x.yaml": {"module": "x", "schemas": {"app": {}},
                                               "tables": {"app.t": {"columns": {"a": "text"}}}}})
    spec_file = spec / "01-x.yaml"
    spec_file.write_text("# yaml-language-server: $schema=../spec.schema.json\n" + spec_file.read_text())
    packaged = SCHEMA_FILE.read_bytes()
    assert run("generate", cwd=tmp_path).returncode == 0
    assert SCHEMA_FILE.read_bytes() == packaged and not (tmp_path / "spec.schema.json").exists()
    missing = run("check", cwd=tmp_path)
    assert missing.returncode == 1
    assert "spec.schema.json: missing (editor JSON Schema; run `pgspec schema --write spec.schema.json`)" \
        in missing.stderr
    written = run("schema", "--write", "spec.schema.json", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "spec.schema.json").read_text() == json_schema_text()
    assert run("check", cwd=tmp_path).returncode == 0
    (tmp_path / "spec.schema.json").write_text(json_schema_text().replace('"COMMENT ON TABLE."', '"old"'))
    stale = run("check", cwd=tmp_path)
    assert stale.returncode == 1 and "spec.schema.json: out of date" in stale.stderr


def test_unwritable_path_is_a_clean_usage_error(tmp_path: Path) -> None:
    result = run_process("schema", "--write", str(tmp_path / "no-such-dir" / "spec.schema.json"))
    assert result.returncode == 2
    assert "No such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_output_header_names_the_installed_command() -> None:
    for path in OUTPUT.glob("*.sql"):
        head = path.read_text().splitlines()[:3]
        assert head[2] == "-- Do not edit: change the spec and run `pgspec generate`.", path
        assert "make generate" not in path.read_text()


def test_outside_a_project_points_at_init(tmp_path: Path) -> None:
    result = run_process("generate", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "spec:1:1: spec directory not found (run pgspec in a project's directory, or start one with `pgspec init`)" \
        in result.stderr
    assert not (tmp_path / "output").exists()


def test_only_files_with_our_header_count_as_generated(tmp_path: Path) -> None:
    out = tmp_path / "output"
    shutil.copytree(OUTPUT, out)
    (out / "90-migration.sql").write_text("-- up\n-- Generated by pgspec; apply with: psql -f FILE\n")
    (out / "91-old.sql").write_text("-- 91-old.sql: x\n-- Generated by pgspec (python -m generator generate) from "
                                    "spec/91-old.yaml.\n")
    result = run("check", "--out", str(out))
    assert result.returncode == 1
    assert f"{out}/91-old.sql: no longer generated" in result.stderr and "90-migration.sql" not in result.stderr


def test_generate_lists_the_objects_added_removed_and_changed(tmp_path: Path) -> None:
    """Edits to the YAML, each naming the object it touches; generate reports exactly those objects. A module
    renamed (its objects moved to another file, unchanged) reports none."""
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    assert run("generate", "--spec", "spec", "--out", "out", cwd=tmp_path).returncode == 0
    categories = spec / "01-support-ticket-categories.yaml"
    text = categories.read_text()
    edits = [("      idx_support_ticket_categories_active: [is_active]\n",
              "      idx_support_ticket_categories_active: [is_active]\n"
              "      idx_support_ticket_categories_name: [name]\n"),
             ("      Support categories are viewable by authenticated users:\n"
              "        command: select\n        roles: [authenticated, support_staff]\n        using: \"true\"\n", ""),
             ("description: Billing and payment inquiries", "description: Invoices and payments"),
             ("comment: Icon identifier.", "comment: Icon name.")]
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    categories.write_text(text)
    (spec / "07-support-canned-responses.yaml").rename(spec / "09-canned-responses.yaml")

    result = run("generate", "--spec", "spec", "--out", "out", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    objects = {(r["message"], r["object"]) for r in records if r["kind"] == "object"}
    assert objects == {
        ("added", "index public.idx_support_ticket_categories_name"),
        ("removed", "policy 'Support categories are viewable by authenticated users' "
                    "on public.support_ticket_categories"),
        ("changed", "seed rows public.support_ticket_categories"),
        ("changed", "table public.support_ticket_categories"),
    }
    files = {(r["message"], r["file"]) for r in records if r["kind"] == "file"}
    assert ("removed", "out/07-support-canned-responses.sql") in files
    assert {("written", "out/09-canned-responses.sql"), ("written", "out/01-support-ticket-categories.sql")} <= files

    text_run = run("generate", "--spec", "spec", "--out", "out", cwd=tmp_path)
    assert text_run.stdout.startswith("out: 11 files, 0 changed") and text_run.stdout.count("\n") == 1
    categories.write_text(categories.read_text().replace("comment: Icon name.", "comment: Icon identifier."))
    text_run = run("generate", "--spec", "spec", "--out", "out", cwd=tmp_path)
    assert text_run.stdout.splitlines()[1:] == ["table public.support_ticket_categories: changed"]


def test_generate_warns_when_the_previous_output_does_not_parse(tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(OUTPUT, out)
    (out / "03-support-tickets.sql").write_text("-- Generated by pgspec from spec/03-support-tickets.yaml.\n"
                                                "CREATE TABL x;\n")
    result = run("generate", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{out}/03-support-tickets.sql: does not parse, so its objects were not compared" in result.stdout
    assert (out / "03-support-tickets.sql").read_bytes() == (OUTPUT / "03-support-tickets.sql").read_bytes()
