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

# Every command's options are declared here, and only what the parser and the error handling need is imported:
# each command imports its own modules when it runs, so that `--help`, a command's --help and a usage error load
# neither the model (its many classes are a fifth of a small `check`) nor pglast, Jinja or psycopg
# (tests/test_cli.py names the modules they must not load).
from .diagnostics import Mismatch, SpecError
from .migrate import KINDS, Timeouts
from .report import FORMATS, SEVERITIES, Record, add_format_argument, emit, spec_error_records

if TYPE_CHECKING:
    from .output import Staleness
    from .outputdiff import ObjectChanges
    from .pipeline import Build

EXIT_OK, EXIT_FAILED, EXIT_SPEC = 0, 1, 2
TARGETS = ("postgres", "supabase")
ENV_OFFLINE = "PGSPEC_OFFLINE"  # set (1, true, yes, on): `generate` and `check` skip the PostgreSQL judge


def offline_requested() -> bool:
    return os.environ.get(ENV_OFFLINE, "").lower() in ("1", "true", "yes", "on")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", type=Path, default=Path("spec"), help="spec directory (default: spec)")
    p.add_argument("--out", type=Path, default=Path("output"), help="output directory (default: output)")
    p.add_argument("--target", choices=TARGETS, default="postgres",
                   help="postgres: include the platform prelude (default); supabase: leave out modules marked "
                        "`platform: true`, which Supabase already provides")
    p.add_argument("--offline", action="store_true",
                   help="skip the PostgreSQL judge (also PGSPEC_OFFLINE=1): only the offline checks run")
    p.add_argument("--judge-dsn", metavar="DSN",
                   help="the judge's server: a superuser connection to an empty database (also PGSPEC_JUDGE_DSN; "
                        "default: an embedded PostgreSQL 18 started on first use and kept running)")


def _plan_options(p: argparse.ArgumentParser, *, apply: bool) -> None:
    """The options of `plan` and (without --from) `apply`."""
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", metavar="DSN",
                       help="the live database to bring to the spec (libpq connection string or URI)")
    if not apply:
        where.add_argument("--from", dest="source", metavar="DIR|GIT-REV",
                           help="plan from another spec instead of a database: a spec directory, or a git "
                                "revision whose copy of the --spec directory is used (e.g. HEAD, main)")
    p.add_argument("--spec", default="spec", metavar="DIR|GIT-REV",
                   help="the spec to plan towards (default: spec); a git revision takes that revision's copy")
    p.add_argument("--target", choices=TARGETS, default="postgres",
                   help="supabase: leave alone the objects of modules marked `platform: true`")
    p.add_argument("--allow-hazard", action="append", default=[], metavar="KIND",
                   choices=(*KINDS, "all"),
                   help=f"accept a hazard kind ({', '.join(KINDS)}, or all); repeatable. Only data-loss is "
                        "refused unless allowed; the others are named in the plan")
    p.add_argument("--online", action="store_true",
                   help="prefer online operations: CREATE/DROP INDEX CONCURRENTLY, constraints added NOT VALID "
                        "and validated after the transaction, SET NOT NULL through a validated CHECK, "
                        "lock_timeout and statement_timeout set first")
    p.add_argument("--lock-timeout", default=Timeouts.lock, metavar="DURATION",
                   help=f"with --online: lock_timeout (default {Timeouts.lock})")
    p.add_argument("--statement-timeout", default=Timeouts.statement, metavar="DURATION",
                   help=f"with --online: statement_timeout (default {Timeouts.statement})")
    p.add_argument("--format", choices=("sql", "json", "github"), default="sql",
                   help="sql (default: the script), json (changes, SQL and hazards), or github (one workflow "
                        "annotation per hazard, ::warning or ::error for a refused one, for a pull request)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the plan to FILE instead of stdout")


def _module(name: str) -> ModuleType:
    """A command's module, imported when the command runs."""
    return importlib.import_module(f".{name}", __package__)


def parser() -> argparse.ArgumentParser:
    """The command line: every command with its options (docs/cli.md is written from it)."""
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
    li.add_argument("--spec", type=Path, default=None,
                    help="spec directory (default: spec); with --db, the spec whose suppressions apply")
    li.add_argument("--db", metavar="DSN", help="lint this live database instead of the spec")
    li.add_argument("--schema", action="append", metavar="NAME",
                    help="with --db: lint only this schema (repeatable; default: every non-system schema)")
    li.add_argument("--api-schema", action="append", metavar="NAME",
                    help="schema the API exposes (repeatable; default: public)")
    add_format_argument(li)
    li.add_argument("--min-severity", choices=SEVERITIES, default="info",
                    help="print findings of at least this severity (default: info, everything)")
    li.add_argument("--explain", metavar="RULE-ID", help="explain one rule and its fix, then exit")
    li.add_argument("--rules", action="store_true", help="print the rule table (Markdown), then exit")
    ve = sub.add_parser("verify", help="compare a live database with the spec (drift detection)",
                        description="Read a live database's catalog back into the model and compare it with the "
                                    "spec: one line per difference, naming the object (`index public.x: missing "
                                    "in database`). SQL fragments are compared by parse tree, not by spelling.",
                        epilog="Exit codes: 0 no drift (prints `no drift`), 1 drift, 2 spec errors or the database "
                               "cannot be read.")
    ve.add_argument("--db", metavar="DSN", required=True,
                    help="the database to verify: a libpq connection string or URI, e.g. "
                         "'host=localhost dbname=app user=postgres' or postgresql://user@host/app")
    ve.add_argument("--spec", type=Path, default=Path("spec"), help="spec directory (default: spec)")
    ve.add_argument("--target", choices=TARGETS, default="postgres",
                    help="supabase: leave out the objects of modules marked `platform: true`, which Supabase "
                         "provides (default: postgres, everything)")
    add_format_argument(ve)
    pl = sub.add_parser("plan", help="print the SQL that brings a database (or an older spec) to the spec",
                        description="Compare a live database (--db) or another spec (--from DIR|GIT-REV) with the "
                                    "spec and print the migration script: ordered by dependencies, each statement "
                                    "commented with its change and hazards. Apply it with "
                                    "`psql -X -v ON_ERROR_STOP=1 -f FILE`.",
                        epilog="Exit codes: 0 plan printed, 1 the plan needs a hazard that was not allowed "
                               "(--allow-hazard), 2 spec errors, bad usage or the database cannot be read.")
    _plan_options(pl, apply=False)
    ap = sub.add_parser("apply", help="plan, print, apply to a live database, then verify",
                        description="Plan against the database, print the plan, apply it (its transactional part "
                                    "in one transaction: on failure nothing is applied and the failing statement "
                                    "is named), then verify that the database matches the spec.",
                        epilog="Exit codes: 0 applied and verified (or nothing to do), 1 refused hazard, failed "
                               "statement or remaining drift, 2 spec errors, bad usage or unreadable database.")
    _plan_options(ap, apply=True)
    mi = sub.add_parser("migration", help="write migrations/NNNN_NAME.sql and its .down.sql from a YAML change",
                        description="Plan from an earlier spec (--from, default HEAD: the last commit) to the "
                                    "spec, and back, without a database; write both scripts, numbered after the "
                                    "last migration in --dir.",
                        epilog="Exit codes: 0 written (or nothing to migrate), 1 the migration needs a hazard "
                               "that was not allowed, 2 spec errors or bad usage.")
    mi.add_argument("name", help="what the migration does, in lower-case words joined by _ (add_ticket_tags)")
    mi.add_argument("--from", dest="source", default="HEAD", metavar="DIR|GIT-REV",
                    help="the spec the migration starts from (default: HEAD, the last commit)")
    mi.add_argument("--spec", default="spec", metavar="DIR", help="the spec it migrates to (default: spec)")
    mi.add_argument("--dir", type=Path, default=Path("migrations"), help="where to write (default: migrations)")
    mi.add_argument("--target", choices=TARGETS, default="postgres",
                    help="supabase: leave alone the objects of modules marked `platform: true`")
    mi.add_argument("--allow-hazard", action="append", default=[], metavar="KIND", choices=(*KINDS, "all"),
                    help="accept a hazard kind of the up migration (the down migration undoes it and may lose "
                         "what the up migration added: that is named in its comments, never refused)")
    mi.add_argument("--online", action="store_true", help="prefer online operations (see `plan --help`)")
    ini = sub.add_parser("init", help="start a new project: spec/ with a platform and an example module, ...",
                         description="Write a starter project into DIR: spec/ with the platform module for plain "
                                     "PostgreSQL and one example module, spec.schema.json for editors (named by "
                                     "each spec file's modeline), a Makefile, a README and a .gitignore. Refuses "
                                     "to overwrite anything.",
                         epilog="Exit codes: 0 written, 2 DIR already holds a project (nothing written).")
    ini.add_argument("directory", nargs="?", type=Path, default=Path("."),
                     help="project directory, created if missing (default: the current directory)")
    ini.add_argument("--target", choices=TARGETS, default="postgres",
                     help="postgres: the generated schema includes the platform module (default); supabase: the "
                          "project's Makefile generates with --target supabase, leaving it out")
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
    im.add_argument("--db", metavar="DSN", required=True,
                    help="the database to read: a libpq connection string or URI")
    im.add_argument("--out", type=Path, required=True, metavar="DIR",
                    help="spec directory to write (created if missing; refused when it already holds *.yaml); "
                         "the editor schema goes beside it, DIR/../spec.schema.json, as `pgspec init` lays it out")
    im.add_argument("--schema", action="append", metavar="S", dest="schemas",
                    help="a schema to import (repeatable; default: every schema but PostgreSQL's own and "
                         "extensions')")
    im.add_argument("--split", action="store_true",
                    help="one file per group of tables joined by foreign keys (and one per schema for its "
                         "sequences, functions and views), instead of one file per schema")
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
    args = parser().parse_args(argv)
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
            from .load import load_spec

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
    from .buildcache import Cache
    from .output import write_atomically

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
    from .buildcache import Cache
    from .editorschema import stale_schemas
    from .output import staleness

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
    from .jsonschema import json_schema_text, reference_markdown
    from .output import write_text_atomically

    if args.markdown:
        sys.stdout.write(reference_markdown())
    elif args.write:
        changed = write_text_atomically(args.write, json_schema_text())
        print(f"{args.write}: {'written' if changed else 'up to date'}")
    else:
        sys.stdout.write(json_schema_text())
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from .output import write_text_atomically

    readme = args.readme if args.readme is not None or args.out is not None or args.cli is not None \
        else Path("README.md")
    if args.out is not None or readme is not None:  # the command line reference needs no spec
        from .check import check
        from .load import load_spec
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
