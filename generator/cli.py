"""Command line: `python -m generator {generate,check,lint,schema,...} ...` (also installed as `pgspec`).

Exit codes: 0 success; 1 the check found a problem (stale output, verification mismatch); 2 the spec has
mistakes (the PostgreSQL judge's included), the command line is wrong, or the environment is (a judge server that
cannot be started or reached). Spec mistakes are printed as FILE:LINE:COL: message, never as a traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .buildcache import Cache
from .diagnostics import Mismatch, SpecError
from .editorschema import stale_schemas
from .jsonschema import json_schema_text, reference_markdown
from .load import load_spec
from .output import Staleness, staleness, write_atomically, write_text_atomically
from .report import FORMATS, Record, add_format_argument, emit, spec_error_records

if TYPE_CHECKING:
    from .outputdiff import ObjectChanges
    from .pipeline import Build

EXIT_OK, EXIT_FAILED, EXIT_SPEC = 0, 1, 2
ENV_OFFLINE = "PGSPEC_OFFLINE"  # set (1, true, yes, on): `generate` and `check` skip the PostgreSQL judge


def offline_requested() -> bool:
    return os.environ.get(ENV_OFFLINE, "").lower() in ("1", "true", "yes", "on")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", type=Path, default=Path("spec"), help="spec directory (default: spec)")
    p.add_argument("--out", type=Path, default=Path("output"), help="output directory (default: output)")
    p.add_argument("--target", choices=("postgres", "supabase"), default="postgres",
                   help="postgres: include the platform prelude (default); supabase: leave out modules marked "
                        "`platform: true`, which Supabase already provides")
    p.add_argument("--offline", action="store_true",
                   help="skip the PostgreSQL judge (also PGSPEC_OFFLINE=1): only the offline checks run")
    p.add_argument("--judge-dsn", metavar="DSN",
                   help="the judge's server: a superuser connection to an empty database (also PGSPEC_JUDGE_DSN; "
                        "default: an embedded PostgreSQL 18 started on first use and kept running)")


# The modules of the commands other than generate and check (lint, the database, plans, import, docs): imported by
# the command that needs them, as loading them all would add a fifth to a small `check` (the model of plans and
# drift builds many classes at import). The build itself (pipeline, check, render, verify, lint) is imported only
# when a build runs: `check` after `generate` reads the remembered outputs instead (buildcache.py).
_COMMAND_MODULES = {"lint": "lint", "verify": "drift", "plan": "migrate.command", "apply": "migrate.command",
                    "migration": "migrate.command", "init": "scaffold", "import": "importer"}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f".{name}", __package__)


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command`, the options of the other commands whose modules are not loaded yet are
    left out (they are not parsed), so that a command loads only what it uses."""

    def options(name: str) -> ModuleType | None:
        """The module adding `name`'s options, unless another command is being parsed."""
        return None if command is not None and command != name else _module(_COMMAND_MODULES[name])

    p = argparse.ArgumentParser(
        prog="pgspec",
        description="Schema-as-data for PostgreSQL: validate YAML specs and generate verified DDL.",
        epilog="Exit codes: 0 ok, 1 check failed (stale or mismatching output), 2 spec errors (PostgreSQL's "
               "included), bad usage, or the judge's server not available.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    g = sub.add_parser("generate", help="validate the spec, render SQL into the output directory, verify it",
                       description="Validate the spec, render one SQL file per module plus schema.sql, verify the "
                                   "SQL with pglast, have PostgreSQL judge it (one rolled-back transaction; --offline "
                                   "skips it), and write it atomically. Nothing is written on any error.")
    _common(g)
    g.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    add_format_argument(g)
    c = sub.add_parser("check", help="validate the spec and fail if the output directory is stale",
                       description="Validate the spec, verify the rendered SQL against the model with pglast, have "
                                   "PostgreSQL judge it (--offline skips it), and fail (exit 1) naming each output "
                                   "file that differs from what generate writes.")
    _common(c)
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    add_format_argument(c)
    c.add_argument("--docs", type=Path, metavar="DIR",
                   help="also fail when the schema docs in DIR (written by `docs --out DIR`) are stale")
    s = sub.add_parser("schema", help="print the JSON Schema of the YAML format",
                       description="Print the JSON Schema derived from the model (editors use it for completion).")
    s.add_argument("--write", type=Path, metavar="PATH",
                   help="write it to PATH (e.g. spec.schema.json beside spec/, named by the spec files' "
                        "yaml-language-server modeline) instead of printing it")
    s.add_argument("--markdown", action="store_true", help="print the key reference (as in the README) instead")
    a = sub.add_parser("access", help="print the spec's access matrix as Markdown tables",
                       description="Print the access matrix (who may select, insert, update, delete what) of the "
                                   "spec, one table per table or view.")
    a.add_argument("--spec", type=Path, default=Path("spec"), help="spec directory (default: spec)")
    d = sub.add_parser("docs", help="write schema docs (Markdown + ER diagrams), or refresh the README's sections",
                       description="--out DIR: write one Markdown page per module (Mermaid ER diagram, columns, "
                                   "constraints, indexes, triggers, policies, access matrix) and index.md with the "
                                   "whole diagram; `check --docs DIR` fails when they are stale. --readme FILE "
                                   "(the default when neither --out nor --cli is given: README.md): rewrite the "
                                   "README's generated sections (YAML key reference, access matrix). --cli FILE: "
                                   "write the command line reference (every command's usage and options).")
    d.add_argument("--spec", type=Path, default=Path("spec"), help="spec directory (default: spec)")
    d.add_argument("--out", type=Path, metavar="DIR", help="write the schema docs into DIR")
    d.add_argument("--images", action="store_true",
                   help="with --out: also draw the whole diagram as schema.svg and schema.png with Graphviz "
                        "(needs pip graphviz and the `dot` program; skipped with a note when missing)")
    d.add_argument("--readme", type=Path, metavar="FILE", help="rewrite the generated sections of FILE")
    d.add_argument("--cli", type=Path, metavar="FILE",
                   help="write the command line reference (Markdown, from these parsers) to FILE")
    li = sub.add_parser("lint", help="report likely mistakes (unindexed foreign keys, per-row auth.uid(), ...)",
                        description="Run the lint rules over the spec, or over a live database with --db. Findings "
                                    "print as FILE:LINE:COL (spec) or schema.object (database): RULE-ID severity: "
                                    "message (hint). Exit 1 on an error-severity finding.")
    if (m := options("lint")) is not None:
        m.add_arguments(li)
    ve = sub.add_parser("verify", help="compare a live database with the spec (drift detection)",
                        description="Read a live database's catalog back into the model and compare it with the "
                                    "spec: one line per difference, naming the object (`index public.x: missing "
                                    "in database`). SQL fragments are compared by parse tree, not by spelling.",
                        epilog="Exit codes: 0 no drift (prints `no drift`), 1 drift, 2 spec errors or the database "
                               "cannot be read.")
    if (m := options("verify")) is not None:
        m.add_arguments(ve)
    pl = sub.add_parser("plan", help="print the SQL that brings a database (or an older spec) to the spec",
                        description="Compare a live database (--db) or another spec (--from DIR|GIT-REV) with the "
                                    "spec and print the migration script: ordered by dependencies, each statement "
                                    "commented with its change and hazards. Apply it with "
                                    "`psql -X -v ON_ERROR_STOP=1 -f FILE`.",
                        epilog="Exit codes: 0 plan printed, 1 the plan needs a hazard that was not allowed "
                               "(--allow-hazard), 2 spec errors, bad usage or the database cannot be read.")
    if (m := options("plan")) is not None:
        m.add_arguments(pl, apply=False)
    ap = sub.add_parser("apply", help="plan, print, apply to a live database, then verify",
                        description="Plan against the database, print the plan, apply it (its transactional part "
                                    "in one transaction: on failure nothing is applied and the failing statement "
                                    "is named), then verify that the database matches the spec.",
                        epilog="Exit codes: 0 applied and verified (or nothing to do), 1 refused hazard, failed "
                               "statement or remaining drift, 2 spec errors, bad usage or unreadable database.")
    if (m := options("apply")) is not None:
        m.add_arguments(ap, apply=True)
    mi = sub.add_parser("migration", help="write migrations/NNNN_NAME.sql and its .down.sql from a YAML change",
                        description="Plan from an earlier spec (--from, default HEAD: the last commit) to the "
                                    "spec, and back, without a database; write both scripts, numbered after the "
                                    "last migration in --dir.",
                        epilog="Exit codes: 0 written (or nothing to migrate), 1 the migration needs a hazard "
                               "that was not allowed, 2 spec errors or bad usage.")
    if (m := options("migration")) is not None:
        m.add_migration_arguments(mi)
    ini = sub.add_parser("init", help="start a new project: spec/ with a platform and an example module, ...",
                         description="Write a starter project into DIR: spec/ with the platform module for plain "
                                     "PostgreSQL and one example module, spec.schema.json for editors (named by "
                                     "each spec file's modeline), a Makefile, a README and a .gitignore. Refuses "
                                     "to overwrite anything.",
                         epilog="Exit codes: 0 written, 2 DIR already holds a project (nothing written).")
    if (m := options("init")) is not None:
        m.add_arguments(ini)
    im = sub.add_parser("import", help="write a spec from a live database (adopt an existing schema)",
                        description="Read a live database's catalog and write a readable spec: one YAML file per "
                                    "schema (or per group of tables joined by foreign keys with --split), a "
                                    "platform module with the roles the schemas grant to, and the editor schema. "
                                    "Every kind the spec language has is imported (schemas, roles, extensions, "
                                    "types, sequences, functions, procedures, tables with columns, constraints, "
                                    "indexes, partitions, triggers, RLS, policies, grants, default privileges "
                                    "and comments, views, materialized views). Seed rows (data) are not imported. "
                                    "No access matrix is written (it states intent, to be proven against the "
                                    "policies): the spec declares no actors until you add them. Whatever the "
                                    "spec language cannot say (storage parameters, range types, "
                                    "rules, event triggers, ...) is named on stderr, one line each.",
                        epilog="Exit codes: 0 written and complete; 1 written, but objects were left out (each "
                               "named) or the written spec does not pass check; 2 bad usage, a DIR that already "
                               "holds spec files, or a database that cannot be read (nothing written).")
    if (m := options("import")) is not None:
        m.add_arguments(im)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # A large spec allocates millions of objects (YAML nodes, model, parse trees, inventories), and the cycle
    # collector walks the young ones every 700 allocations by default (~10 % of `generate` at 1,000 tables), still
    # ~6 % with rarer collections. What a command builds is freed by reference counting: it leaves almost no
    # cycles, so the collector is off while a command runs, with the same peak memory (bench/scale.py measures
    # it; 168 MB at 1,000 tables either way).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The command is the first word that is no option (the top level has none but --help).
    args = parser(next((a for a in argv if not a.startswith("-")), None)).parse_args(argv)
    try:
        if args.command == "generate":
            return cmd_generate(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "schema":
            return cmd_schema(args)
        if args.command == "lint":
            return int(_module("lint").main(args))
        if args.command == "verify":
            return int(_module("drift").main(args))
        if args.command == "plan":
            return int(_module("migrate.command").plan_main(args))
        if args.command == "apply":
            return int(_module("migrate.command").apply_main(args))
        if args.command == "migration":
            return int(_module("migrate.command").migration_main(args))
        if args.command == "init":
            return int(_module("scaffold").main(args))
        if args.command == "import":
            return int(_module("importer").main(args))
        if args.command == "access":
            from .access import access_markdown
            from .check import check

            sys.stdout.write(access_markdown(check(load_spec(args.spec))))
            return EXIT_OK
        if args.command == "docs":
            return cmd_docs(args)
    except OSError as exc:  # a file or directory named on the command line that cannot be read or written
        print(f"pgspec {args.command}: {exc}", file=sys.stderr)
        return EXIT_SPEC
    except SpecError as exc:
        # A command's own formats (plan's `sql`: the script) say nothing of how errors are shown: as text.
        fmt = getattr(args, "format", "text")
        emit(spec_error_records(exc.diagnostics), fmt if fmt in FORMATS else "text", text_stream=sys.stderr)
        n = len(exc.diagnostics)
        print(f"{n} error{'s' if n != 1 else ''} in the spec; nothing written.", file=sys.stderr)
        return EXIT_SPEC
    raise AssertionError(args.command)


def _print_mismatches(mismatches: list[Mismatch]) -> None:
    for mismatch in mismatches:
        for line in mismatch.lines():
            print(line, file=sys.stderr)


def cmd_generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    cache = Cache(args.spec, include_platform=args.target == "postgres")
    result = cache.build(keep=not offline(args))
    if result.mismatches:
        _print_mismatches(result.mismatches)
        print("generated SQL does not match the spec (a generator bug); nothing written.", file=sys.stderr)
        return EXIT_FAILED
    warnings = judged(args, result)
    if warnings is None:
        return EXIT_SPEC
    if args.quiet:  # the object-by-object summary is all that reads the previous output
        write_atomically(args.out, result.files)
        cache.findings(result)  # for the `check` that usually follows
        return EXIT_OK
    from .outputdiff import object_changes

    objects = object_changes(args.out, result.files)
    changes = write_atomically(args.out, result.files)
    cache.findings(result)
    touched = len(changes.changed) + len(changes.missing) + len(changes.extra)
    summary = (f"{args.out}: {len(result.files)} files, {touched} changed"
               + (f", removed {', '.join(changes.extra)}" if changes.extra else "")
               + f" ({time.perf_counter() - started:.2f} s)")
    print(summary, file=sys.stdout if args.format == "text" else sys.stderr)
    records = [*warnings, *_change_records(args.out, changes, objects)]
    if args.format == "text":  # the summary line already counts the files
        records = [r for r in records if r.kind != "file" or r.severity != "info"]
        if len(changes.missing) == len(result.files):  # a first run: every object is new, a list would say nothing
            records = [*warnings, Record("object", f"{len(objects.added)} objects, all new", severity="info")]
    emit(records, args.format)
    return EXIT_OK


def _change_records(out_dir: Path, files: Staleness, objects: ObjectChanges) -> list[Record]:
    """What generate changed: objects first (what a reviewer reads), then the files written or removed."""
    records = [Record("object", what, severity="info", object=name)
               for what, names in (("added", objects.added), ("removed", objects.removed),
                                   ("changed", objects.changed)) for name in names]
    records += [Record("file", what, severity="info", file=str(out_dir / name))
                for what, names in (("written", files.missing), ("written", files.changed),
                                    ("removed", files.extra)) for name in names]
    records += [Record("file", "does not parse, so its objects were not compared", severity="warning",
                       file=str(out_dir / name)) for name in objects.unreadable]
    return records


def cmd_check(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    cache = Cache(args.spec, include_platform=args.target == "postgres")
    # Without the judge and the docs, nothing needs the model: the remembered outputs do, when there are some.
    known = cache.outputs() if offline(args) and args.docs is None else None
    result = None
    if known is None:
        result = cache.build(keep=not offline(args))
        judge_warnings = judged(args, result)
        if judge_warnings is None:
            return EXIT_SPEC
        warnings, files, mismatches = judge_warnings, result.files, result.mismatches
    else:
        warnings, files, mismatches = [], known.files, known.mismatches
    records = [Record("mismatch", line, file=m.file) for m in mismatches
               for line in [*(f"missing from SQL: {x}" for x in m.missing),
                            *(f"not in spec: {x}" for x in m.unexpected)]]
    records += _stale_records(staleness(args.out, files), args.out)
    records += [stale.record() for stale in stale_schemas(args.spec)]
    if args.docs is not None and result is not None:
        from .schemadocs import DOCS_PATTERN, docs_files

        records += _stale_records(staleness(args.docs, docs_files(result.catalog), DOCS_PATTERN), args.docs,
                                  fix=f"run `pgspec docs --out {args.docs}`")
    if records:
        emit([*warnings, *records], args.format, text_stream=sys.stderr)
        print("check failed: run `pgspec generate` and commit the result.", file=sys.stderr)
        return EXIT_FAILED
    all_findings = cache.findings(result) if result is not None else known.findings if known else []
    findings = [f for f in all_findings if f.severity != "info"]
    emit([*warnings, *(f.record() for f in findings)], args.format, text_stream=sys.stderr)
    if any(f.severity == "error" for f in findings):
        print("check failed: lint errors (`pgspec lint --explain RULE-ID` explains each rule).",
              file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print(f"{args.spec}: spec valid; {len(files)} output files verified and up to date "
              f"({time.perf_counter() - started:.2f} s)", file=sys.stderr if args.format != "text" else sys.stdout)
    return EXIT_OK


def offline(args: argparse.Namespace) -> bool:
    """Whether the PostgreSQL judge is skipped (--offline, PGSPEC_OFFLINE)."""
    return bool(args.offline) or offline_requested()


def judged(args: argparse.Namespace, result: Build) -> list[Record] | None:
    """Run the PostgreSQL judge unless offline: its warnings, or None when its server is not available (said on
    stderr). Its errors raise SpecError (exit 2, nothing written)."""
    if offline(args):
        return []
    from . import judge  # psycopg is loaded only when a database is used

    try:
        verdict = judge.judge(result.catalog, result.placed, args.judge_dsn, result.pieces)
    except judge.JudgeUnavailable as exc:
        print(f"pgspec {args.command}: the PostgreSQL judge is not available: {exc}\n"
              f"Point --judge-dsn (or {judge.ENV_DSN}) at a server, or run with --offline (or "
              f"{ENV_OFFLINE}=1) to skip it; nothing written.", file=sys.stderr)
        return None
    return list(judge.verdict_or_raise(verdict))


def _stale_records(stale: Staleness, out_dir: Path, fix: str | None = None) -> list[Record]:
    return [Record("stale", what, file=str(out_dir / name), hint=fix)
            for what, names in (("out of date", stale.changed), ("missing", stale.missing),
                                ("no longer generated", stale.extra))
            for name in names]


def cmd_schema(args: argparse.Namespace) -> int:
    if args.markdown:
        sys.stdout.write(reference_markdown())
    elif args.write:
        changed = write_text_atomically(args.write, json_schema_text())
        print(f"{args.write}: {'written' if changed else 'up to date'}")
    else:
        sys.stdout.write(json_schema_text())
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    readme = args.readme if args.readme is not None or args.out is not None or args.cli is not None \
        else Path("README.md")
    if args.out is not None or readme is not None:  # the command line reference needs no spec
        from .check import check
        from .readme import refresh
        from .schemadocs import write_docs

        catalog = check(load_spec(args.spec))
        if args.out is not None:
            for line in write_docs(catalog, args.out, images=args.images):
                print(line)
        if readme is not None:
            changed = write_text_atomically(readme, refresh(readme.read_text(encoding="utf-8"), catalog))
            print(f"{readme}: {'updated' if changed else 'up to date'}")
    if args.cli is not None:
        from .clidocs import cli_markdown

        changed = write_text_atomically(args.cli, cli_markdown(parser()))
        print(f"{args.cli}: {'updated' if changed else 'up to date'}")
    return EXIT_OK
