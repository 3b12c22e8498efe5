"""What a `generate` run changed, object by object: the output's statements before and after, grouped by object.

`generate` knows the new model but not the old one (the spec may have changed in any way since the last run); what
it does have is the previous output. Both are parsed with pglast, each statement is assigned to the object it
defines (a table with its columns, constraints, comments, grants and RLS switch; an index; a policy; a function; a
table's seed rows; ...), and the objects are compared by their statements' text. Only the files whose bytes changed
are parsed (an object moved to another module file is matched across files, so it is not reported), and
`schema.sql`, which repeats every module, is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .derive import RAW_REGISTRY_TABLE, SEED_REGISTRY_SCHEMA
from .output import OutputFile
from .sqlparse import SqlSyntaxError, split_json
from .sqltext import QName

Json = Any  # a libpg_query JSON parse-tree node

WHOLE_SCHEMA = "schema.sql"  # render_outputs' concatenation of every module


@dataclass(frozen=True)
class ObjectChanges:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unreadable: tuple[str, ...] = ()  # previous output files that do not parse (edited by hand): not compared

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _rv(rv: Json) -> str:
    return str(QName(rv.get("schemaname") or "public", rv["relname"]))


def _names(nodes: Iterable[Json]) -> str:
    return ".".join(n["String"]["sval"] for n in nodes)


def _items(node: Json) -> list[Json]:
    """A List node's items."""
    return list(node["List"].get("items", ()))


def _function(name: Iterable[Json], arg_types: Iterable[Json]) -> str:
    # Argument types as written; the output spells each function's signature the same way everywhere.
    return f"function {_names(name)}({', '.join(_names(t['names']) for t in arg_types)})"


_OBJECT_KIND = {"OBJECT_TABLE": "table", "OBJECT_VIEW": "view", "OBJECT_SEQUENCE": "sequence",
                "OBJECT_SCHEMA": "schema", "OBJECT_TYPE": "type", "OBJECT_MATVIEW": "materialized view"}


def _target(objtype: str, obj: Json) -> str:
    """The subject of a GRANT/REVOKE or COMMENT target (a JSON node `{"Kind": {fields}}`)."""
    ((kind, fields),) = obj.items()
    if objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
        return _function(fields["objname"], (t["TypeName"] for t in fields.get("objargs", ())))
    if objtype == "OBJECT_COLUMN":  # a column belongs to its table
        names = [n["String"]["sval"] for n in _items(obj)]
        return f"table {QName(names[0], names[1]) if len(names) == 3 else QName('public', names[0])}"
    if kind == "RangeVar":
        return f"{_OBJECT_KIND.get(objtype, 'table')} {_rv(fields)}"
    if kind == "String":
        return f"{_OBJECT_KIND.get(objtype, 'object')} {fields['sval']}"
    if kind == "TypeName":
        return f"{_OBJECT_KIND.get(objtype, 'object')} {_names(fields['names'])}"
    return f"{_OBJECT_KIND.get(objtype, 'object')} {_names(_items(obj))}"


def _first_string(row: Json) -> Json:
    """The first value of a VALUES row: `{"A_Const": {"sval": {"sval": ...}}}` for a string."""
    return _items(row)[0]


def _insert(stmt: Json) -> tuple[str, ...]:
    relation = stmt["relation"]
    rows = stmt["selectStmt"]["SelectStmt"]["valuesLists"]
    if relation.get("schemaname") == SEED_REGISTRY_SCHEMA and relation["relname"] == RAW_REGISTRY_TABLE:
        # a raw SQL object's record
        return tuple(f"raw {_first_string(row)['A_Const']['sval']['sval']}" for row in rows)
    if relation.get("schemaname") == SEED_REGISTRY_SCHEMA:  # the registry rows of one table's seeds
        tables = {first["A_Const"]["sval"]["sval"] for first in map(_first_string, rows) if "A_Const" in first}
        return tuple(f"seed rows {t}" for t in sorted(tables))
    return (f"seed rows {_rv(relation)}",)


def _registry_or(kind: str, name: str, schema: str | None) -> tuple[str, ...]:
    return (f"seed registry {SEED_REGISTRY_SCHEMA}",) if schema == SEED_REGISTRY_SCHEMA else (f"{kind} {name}",)


def _default_privileges(stmt: Json) -> str:
    """`default privileges for ROLE in SCHEMA`, `-` and `*` where the statement names none."""
    opts = {o["DefElem"]["defname"]: o["DefElem"].get("arg") for o in stmt.get("options", ())}
    roles = ",".join(r["RoleSpec"]["rolename"] for r in _items(opts["roles"])) if "roles" in opts else "-"
    schemas = ",".join(n["String"]["sval"] for n in _items(opts["schemas"])) if "schemas" in opts else "*"
    return f"default privileges for {roles} in {schemas}"


def _alter_table(stmt: Json) -> tuple[str, ...]:
    """ENABLE / DISABLE TRIGGER belongs to the trigger; the output's other ALTER TABLE is row-level security."""
    cmds = [c["AlterTableCmd"] for c in stmt.get("cmds", ()) if "AlterTableCmd" in c]
    triggers = [c.get("name") for c in cmds if c.get("subtype") in _TRIGGER_MODES]
    if triggers:
        return tuple(f"trigger {name} on {_rv(stmt['relation'])}" for name in triggers)
    return (f"row-level security on {_rv(stmt['relation'])}",)


_TRIGGER_MODES = frozenset({"AT_EnableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig", "AT_DisableTrig"})


# One entry per statement type the output holds: the objects a statement belongs to. A DO block (the guard that
# creates a role only where the cluster lacks it) returns () and belongs to the statement after it. Statements are
# libpg_query's JSON parse trees (built in C: many times faster than pglast's Python nodes for a whole output).
_SUBJECTS: dict[str, Callable[[Json], tuple[str, ...]]] = {
    "CreateStmt": lambda s: _registry_or("table", _rv(s["relation"]), s["relation"].get("schemaname")),
    "AlterTableStmt": _alter_table,
    "CreateTableAsStmt": lambda s: (f"materialized view {_rv(s['into']['rel'])}",),
    "CreatePolicyStmt": lambda s: (f"policy {s['policy_name']!r} on {_rv(s['table'])}",),
    "IndexStmt": lambda s: (f"index {QName(s['relation'].get('schemaname') or 'public', s['idxname'])}",),
    "CreateTrigStmt": lambda s: (f"trigger {s['trigname']} on {_rv(s['relation'])}",),
    "CreateFunctionStmt": lambda s: (_function(s["funcname"], (p["FunctionParameter"]["argType"]
                                                               for p in s.get("parameters", ()))),),
    "ViewStmt": lambda s: (f"view {_rv(s['view'])}",),
    "CreateSeqStmt": lambda s: (f"sequence {_rv(s['sequence'])}",),
    "CreateEnumStmt": lambda s: (f"type {_names(s['typeName'])}",),
    "CompositeTypeStmt": lambda s: (f"type {_rv(s['typevar'])}",),
    "CreateDomainStmt": lambda s: (f"type {_names(s['domainname'])}",),
    "CreateExtensionStmt": lambda s: (f"extension {s['extname']}",),
    "AlterDefaultPrivilegesStmt": lambda s: (_default_privileges(s),),
    "CreateSchemaStmt": lambda s: _registry_or("schema", s["schemaname"], s["schemaname"]),
    "AlterRoleStmt": lambda s: (f"role {s['role']['rolename']}",),
    "DoStmt": lambda s: (),
    "GrantStmt": lambda s: tuple(_target(s["objtype"], o) for o in s.get("objects", ())),
    "CommentStmt": lambda s: (_target(s["objtype"], s["object"]),),
    "InsertStmt": _insert,
}


def objects(sql: str) -> dict[str, list[str]]:
    """Each object's statements (whitespace-normalised) in one script, in order."""
    out: dict[str, list[str]] = {}
    pending: list[str] = []
    for stmt, text in split_json(sql):
        ((kind, fields),) = stmt.items()
        handler = _SUBJECTS.get(kind)
        subjects = handler(fields) if handler else (f"statement {kind}",)
        pending.append(" ".join(text.split()))
        if not subjects:
            continue
        for subject in subjects:
            out.setdefault(subject, []).extend(pending)
        pending = []
    return out


def object_changes(out_dir: Path, files: list[OutputFile]) -> ObjectChanges:
    """Compare the output files about to be written with what `out_dir` holds now. Call it before writing."""
    new_text = {f.name: f.text for f in files if f.name != WHOLE_SCHEMA}
    old_paths = {p.name: p for p in out_dir.glob("*.sql") if p.name != WHOLE_SCHEMA} if out_dir.is_dir() else {}
    old: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for name in sorted(set(new_text) | set(old_paths)):
        before = old_paths[name].read_text(encoding="utf-8") if name in old_paths else None
        after = new_text.get(name)
        if before == after:
            continue
        if before is not None:
            try:
                _merge(old, objects(before))
            except SqlSyntaxError:
                unreadable.append(name)
        if after is not None:
            _merge(new, objects(after))
    return ObjectChanges(added=tuple(sorted(set(new) - set(old))),
                         removed=tuple(sorted(set(old) - set(new))),
                         changed=tuple(sorted(k for k in set(new) & set(old) if new[k] != old[k])),
                         unreadable=tuple(unreadable))


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for subject, statements in more.items():
        into.setdefault(subject, []).extend(statements)
