"""`plan` and `apply` on the command line.

    python -m generator plan --db DSN            the script that brings a live database to the spec
    python -m generator plan --from DIR|GIT-REV  the script between two specs, no database needed
    python -m generator apply --db DSN           plan, print, apply, verify

Exit codes: 0 plan printed (or applied and verified); 1 the plan needs a hazard that was not allowed, or apply
failed, or the database does not match the spec afterwards; 2 spec errors, bad usage, or the database cannot
be read.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType

from .. import drift, introspect
from ..check import check
from ..derive import Catalog
from ..diagnostics import Collector, Pos
from ..introspect import DatabaseError
from ..load import load_spec, spec_files
from ..model import Schema
from ..output import write_text_atomically
from ..report import Record, emit
from . import KINDS, REFUSED_BY_DEFAULT, Timeouts
from .planner import Options, Plan, plan
from .script import as_json, script
from .snapshot import declared, inverted, of_spec

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _database() -> ModuleType:
    """The live layer, loaded only by the commands that talk to a database: psycopg, which it loads, takes a third
    of every command's start-up time (`plan --from`, `migration` and the CLI's other commands need none of it)."""
    from . import database

    return database


def _psycopg() -> ModuleType:
    import psycopg

    return psycopg


# -- the two sides ----------------------------------------------------------------------------------------------
def resolve_spec(text: str, spec_dir: Path | None = None) -> tuple[Catalog, str]:
    """A checked spec from a directory, or from a git revision (the copy of `spec_dir` at that revision; a
    revision without it is an empty spec, so a project's first migration creates everything)."""
    schema, label = resolve_schema(text, spec_dir)
    return check(schema), label


def resolve_schema(text: str, spec_dir: Path | None = None) -> tuple[Schema, str]:
    """resolve_spec before check: the spec as loaded."""
    path = Path(text)
    if path.is_dir() and not spec_files(path):  # nothing declared yet: a first plan creates everything
        return Schema(()), str(path)
    if path.is_dir() or spec_dir is None:
        return load_spec(path), str(path)
    return _spec_at_revision(text, spec_dir)


def _spec_at_revision(rev: str, spec_dir: Path) -> tuple[Schema, str]:
    errors = Collector()
    base = spec_dir.resolve()
    top = _git(["rev-parse", "--show-toplevel"], base if base.is_dir() else Path.cwd())
    if top is None:
        errors.error(Pos(rev, 1, 1), "neither a spec directory nor a git revision (not in a git repository)")
        errors.raise_if_any()
    assert top is not None
    root = Path(top.decode().strip())
    relative = base.relative_to(root).as_posix()
    if _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root) is None:
        errors.error(Pos(rev, 1, 1), "neither a spec directory nor a git revision")
        errors.raise_if_any()
    archive = _git(["archive", "--format=tar", rev, "--", relative], root)
    label = f"{rev}:{relative}"
    if archive is None:  # the revision has no spec directory yet
        return Schema(()), label
    with tempfile.TemporaryDirectory(prefix="pgspec-rev-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        extracted = Path(tmp) / relative
        if not extracted.is_dir() or not spec_files(extracted):
            return Schema(()), label
        return load_spec(extracted), label


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


# -- plan -------------------------------------------------------------------------------------------------------
def _options(args: argparse.Namespace) -> Options:
    return Options(online=args.online)


def refused(p: Plan, allowed: list[str]) -> list[str]:
    """`hazard-kind: reason` of each hazard the plan needs and the user did not allow."""
    accepted = set(KINDS) if "all" in allowed else set(allowed)
    return [f"{h.kind}: {h.reason}" for s in p.steps for h in s.hazards
            if h.kind in REFUSED_BY_DEFAULT and h.kind not in accepted]


def _emit(args: argparse.Namespace, p: Plan, title: str, refusals: list[str]) -> None:
    if args.format == "github":
        emit(hazard_records(p, args.allow_hazard), "github")
        return
    if args.format == "json":
        text = json.dumps(as_json(p, refused=refusals), indent=2) + "\n"
    else:
        text = script(p, title=title, timeouts=Timeouts(args.lock_timeout, args.statement_timeout))
    if args.output:
        write_text_atomically(args.output, text)
    else:
        sys.stdout.write(text)


def hazard_records(p: Plan, allowed: list[str]) -> list[Record]:
    """One record per hazard of the plan: an error when refused, a warning otherwise."""
    accepted = set(KINDS) if "all" in allowed else set(allowed)
    return [Record("plan", h.reason, rule=h.kind, object=s.change.describe(),
                   severity="error" if h.kind in REFUSED_BY_DEFAULT and h.kind not in accepted else "warning")
            for s in p.steps for h in s.hazards]


def _report_refusals(refusals: list[str]) -> None:
    for line in refusals:
        print(f"refused: {line}", file=sys.stderr)
    kinds = sorted({r.split(":", 1)[0] for r in refusals})
    print(f"the plan needs {', '.join(kinds)}: review it, then run again with "
          + " ".join(f"--allow-hazard {k}" for k in kinds), file=sys.stderr)


def plan_main(args: argparse.Namespace) -> int:
    # The cycle collector is off here: cli.main turns it off for every command.
    started = time.perf_counter()
    spec_dir = Path(args.spec) if Path(args.spec).is_dir() else Path("spec")
    schema, new_label = resolve_schema(args.spec, spec_dir)
    include_platform = args.target == "postgres"
    if args.source is not None:
        new = check(schema)
        old_catalog, old_label = resolve_spec(args.source, spec_dir)
        skip = drift.scope(new, include_platform=include_platform)[2] | \
            drift.scope(old_catalog, include_platform=include_platform)[2]
        p = plan(new, of_spec(old_catalog), options=_options(args), skip=skip,
                 partial=drift.platform_children(new, include_platform=include_platform))
        title = f"pgspec plan from {old_label} to {new_label}"
    else:
        try:
            p = _database().check_and_plan(args.db, schema, options=_options(args),
                                           include_platform=include_platform)[1]
        except DatabaseError as exc:
            print(f"plan: cannot read the database: {exc}", file=sys.stderr)
            return EXIT_USAGE
        title = f"pgspec plan from the database to {new_label}"
    refusals = refused(p, args.allow_hazard)
    if refusals:
        _report_refusals(refusals)
        if args.format in ("json", "github"):
            _emit(args, p, title, refusals)
        return EXIT_FAILED
    _emit(args, p, title, refusals)
    print(f"plan: {len(p.steps)} change{'s' if len(p.steps) != 1 else ''} "
          f"({time.perf_counter() - started:.2f} s)", file=sys.stderr)
    return EXIT_OK


# -- apply ------------------------------------------------------------------------------------------------------
def apply_main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    args.source = None
    spec_dir = Path(args.spec) if Path(args.spec).is_dir() else Path("spec")
    include_platform = args.target == "postgres"
    try:
        schema, new_label = resolve_schema(args.spec, spec_dir)
        new, p = _database().check_and_plan(args.db, schema, options=_options(args),
                                            include_platform=include_platform)
    except DatabaseError as exc:
        print(f"apply: cannot read the database: {exc}", file=sys.stderr)
        return EXIT_USAGE
    refusals = refused(p, args.allow_hazard)
    if refusals:
        _report_refusals(refusals)
        print("apply: nothing applied.", file=sys.stderr)
        return EXIT_FAILED
    _emit(args, p, f"pgspec apply to the database from {new_label}", refusals)
    if p.empty:
        print("apply: nothing to do", file=sys.stderr)
        return EXIT_OK
    try:
        _database().apply(args.db, p)
    except _database().ApplyError as exc:
        print(f"apply failed, nothing applied: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (DatabaseError, _psycopg().Error) as exc:
        print(f"apply: {introspect.one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    try:
        differences = drift.verify(args.db, new, include_platform=include_platform)
    except DatabaseError as exc:
        print(f"apply: applied, but the database cannot be read back: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for difference in differences:
        print(f"after apply: {difference}", file=sys.stderr)
    if differences:
        print(f"apply: applied {len(p.steps)} changes, but {len(differences)} differences remain", file=sys.stderr)
        return EXIT_FAILED
    print(f"apply: {len(p.steps)} change{'s' if len(p.steps) != 1 else ''} applied and verified "
          f"({time.perf_counter() - started:.2f} s)", file=sys.stderr)
    return EXIT_OK


# -- migration files --------------------------------------------------------------------------------------------
_MIGRATION_NAME = re.compile(r"[a-z0-9][a-z0-9_]*\Z")
_NUMBERED = re.compile(r"(\d{4})_.*\.sql\Z")


def next_number(directory: Path) -> int:
    numbers = [int(m[1]) for p in directory.glob("*.sql") if (m := _NUMBERED.match(p.name))] \
        if directory.is_dir() else []
    return max(numbers, default=0) + 1


def migration_main(args: argparse.Namespace) -> int:
    """`pgspec migration NAME`: the plan from --from to --spec and its reverse, as two numbered files."""
    if not _MIGRATION_NAME.match(args.name):
        print(f"migration: name {args.name!r}: use lower-case letters, digits and _", file=sys.stderr)
        return EXIT_USAGE
    spec_dir = Path(args.spec)
    new, new_label = resolve_spec(args.spec, spec_dir)
    old, old_label = resolve_spec(args.source, spec_dir)
    include_platform = args.target == "postgres"
    skip = drift.scope(new, include_platform=include_platform)[2] | \
        drift.scope(old, include_platform=include_platform)[2]
    options = Options(online=args.online)
    partial = drift.platform_children(new, include_platform=include_platform)
    up = plan(new, of_spec(old), options=options, skip=skip, partial=partial)
    if up.empty:
        print(f"migration: {old_label} and {new_label} declare the same schema; nothing written", file=sys.stderr)
        return EXIT_OK
    refusals = refused(up, args.allow_hazard)
    if refusals:
        _report_refusals(refusals)
        return EXIT_FAILED
    down = plan(old, of_spec(new), options=options, skip=skip, renames=inverted(declared(new)),
                partial=drift.platform_children(old, include_platform=include_platform))
    stem = f"{next_number(args.dir):04d}_{args.name}"
    files = [(args.dir / f"{stem}.sql", script(up, title=f"{stem}: from {old_label} to {new_label}")),
             (args.dir / f"{stem}.down.sql", script(down, title=f"{stem} (down): from {new_label} to {old_label}"))]
    args.dir.mkdir(parents=True, exist_ok=True)
    for path, text in files:
        write_text_atomically(path, text)
        print(f"migration: wrote {path}", file=sys.stderr)
    return EXIT_OK
