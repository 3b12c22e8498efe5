"""SQL text: the one place where identifiers, names, literals and types are spelled.

Templates never concatenate quotes themselves; they call these functions (registered as Jinja filters).
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache

from pglast.parser import ParseError, scan
from pglast.stream import maybe_double_quote_name

DEFAULT_SCHEMA = "public"
MAX_IDENTIFIER_BYTES = 63
# Names SQL writes without double quotes (keywords aside): anything else is quoted wherever it is written.
PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


# One key of an index as the spec writes it, in CREATE INDEX's order: a column (SQL spelling: unquoted names fold
# to lower case) or an expression in parentheses, then COLLATE collation, an operator class, ASC/DESC and NULLS
# FIRST/LAST (`name COLLATE "C" text_pattern_ops DESC`, `(lower(email)) text_pattern_ops`). The one grammar of
# index keys: check, lint, render, verify and plans read keys with it. A trailing `-- comment` is allowed (and left
# out of the output), as in any SQL fragment.
_KEY_NAME = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_KEY_QUALIFIED = rf"{_KEY_NAME}(?:\.{_KEY_NAME})?"
INDEX_KEY = re.compile(rf'(?:(?P<col>{_KEY_NAME})|\((?P<expr>.*)\))'
                       rf"(?:\s+collate\s+(?P<collation>{_KEY_QUALIFIED}))?"
                       rf"(?:\s+(?!(?:asc|desc|nulls|collate)\b)(?P<opclass>{_KEY_QUALIFIED}))?"
                       r"(?:\s+(?P<dir>asc|desc))?"
                       r"(?:\s+nulls\s+(?P<nulls>first|last))?(?:\s*--[^\n]*)?\s*\Z", re.IGNORECASE | re.DOTALL)


def index_key_suffix(m: re.Match[str]) -> str:
    """What follows a key's column or expression, as CREATE INDEX spells it: `COLLATE "C" text_pattern_ops DESC`
    (names quoted where SQL needs it); empty for a plain key."""
    parts = []
    if m["collation"]:
        parts.append("COLLATE " + qualified_sql(m["collation"]))
    if m["opclass"]:
        parts.append(qualified_sql(m["opclass"]))
    if m["dir"]:
        parts.append(m["dir"].upper())
    if m["nulls"]:
        parts.append(f"NULLS {m['nulls'].upper()}")
    return " ".join(parts)


def qualified_parts(text: str) -> tuple[str, ...]:
    """The names of `schema.name` or `name` as written in SQL (each part plain or double-quoted)."""
    return tuple(unquote_ident(part) for part in re.findall(_KEY_NAME, text))


def qualified_sql(text: str) -> str:
    """A name written `schema.name` or `name`, as SQL spells it (quoted where needed)."""
    return ".".join(ident(part) for part in qualified_parts(text))


def unquote_ident(text: str) -> str:
    """The name an identifier as SQL writes it stands for: quotes removed (a doubled quote is one), or an
    unquoted identifier folded to lower case as PostgreSQL folds it."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text.lower()


# ident, fragment and parse_type are pure and asked for the same texts over and over (each table's column names and
# types in check, render and verify; policy expressions repeated from table to table): each text computed once.
@lru_cache(maxsize=65536)
def ident(name: str) -> str:
    """An identifier, double-quoted only when PostgreSQL needs it (pglast's rule: case, characters, keywords)."""
    if not PLAIN_NAME.match(name):
        # pglast's own test anchors with `$`, which matches before a final newline: it left "a\n" unquoted, and
        # PostgreSQL then read a name without the newline (found by tests/test_quoting.py's random names).
        return '"' + name.replace('"', '""') + '"'
    return str(maybe_double_quote_name(name))


@dataclass(frozen=True, order=True)
class QName:
    """A schema-qualified name."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql(self) -> str:
        return f"{ident(self.schema)}.{ident(self.name)}"


@lru_cache(maxsize=65536)  # pure, and asked for every table's name in every stage (~85,000 times at 1,000 tables)
def qname(text: str) -> QName:
    """`schema.name` or `name` (in public)."""
    schema, _, name = text.rpartition(".")
    return QName(schema or DEFAULT_SCHEMA, name)


def routine_name(text: str) -> QName:
    """The function a reference names, without the argument types it may give (`app.touch()` -> app.touch)."""
    return qname(text.partition("(")[0].strip())


def literal(value: object) -> str:
    """A SQL literal for a YAML value: strings, numbers, booleans, null, and mappings/lists as JSON text."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # standard_conforming_strings is on since PostgreSQL 9.1: only the quote needs doubling.
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def array_text(items: list[object]) -> str:
    """PostgreSQL's array input syntax for a YAML list: {"a","b"}, elements double-quoted, NULL for None."""
    def element(item: object) -> str:
        if item is None:
            return "NULL"
        if isinstance(item, list):
            return array_text(item)
        text = literal(item) if isinstance(item, bool) else str(item)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "{" + ",".join(element(i) for i in items) + "}"


def value_literal(value: object, column_type: SqlType) -> str:
    """A YAML value as a literal for a column of `column_type` (defaults and seed rows).

    json/jsonb columns take any YAML value as JSON (a string becomes a JSON string); array columns take lists in
    PostgreSQL's array syntax; everything else is a plain literal.
    """
    if value is None:
        return "NULL"
    if column_type.base in ("json", "jsonb") and not column_type.array_dims:
        return literal(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
    if column_type.array_dims and isinstance(value, list):
        return literal(array_text(value))
    return literal(value)


def dollar_quote(body: str, tag: str = "function") -> str:
    """Wrap a function body in dollar quotes whose tag does not occur in the body."""
    candidate, n = tag, 0
    while f"${candidate}$" in body:
        n += 1
        candidate = f"{tag}{n}"
    return f"${candidate}${body}${candidate}$"


def comment_lines(text: str, width: int | None = None) -> list[str]:
    """Free text (a module's title or description, a reviewer note, a file name) as `-- ` SQL comment lines: the
    one way such text reaches the output. Every line break starts a new comment line, so no part of the text can
    become live SQL; NUL (which no PostgreSQL query may hold) shows as U+FFFD. Inside a `--` comment `*/` and `$$`
    are inert, and no free text is rendered inside a block comment or a dollar-quoted body. `width` wraps long
    paragraphs for reading."""
    lines: list[str] = []
    for paragraph in text.replace("\x00", "\ufffd").strip().splitlines():
        lines += (textwrap.wrap(paragraph, width) if width else [paragraph.strip()]) or [""]
    return [f"-- {line}".rstrip() for line in lines]


# Tokens whose text is a value: a line break inside one is part of the value, so it is never re-indented.
_VALUE_TOKENS = frozenset({"SCONST", "USCONST", "BCONST", "XCONST", "IDENT", "UIDENT"})


@lru_cache(maxsize=16384)
def fragment(text: str, indent: int = 0) -> str:
    """A SQL fragment of the spec (expression, predicate, default, query) as it goes into a statement.

    Continuation lines are indented by `indent` for reading, except a line break inside a string literal or quoted
    identifier, where it is part of the value; a trailing `;` (a statement's end, not the fragment's) is dropped;
    and a trailing `-- comment` gets a line break after it, so it cannot swallow what the template writes next
    (a closing parenthesis, NOT NULL). Blank lines stay blank, as Jinja's `indent` filter left them.
    """
    try:
        tokens = scan(text)
    except ParseError:  # not SQL a spec can pass `check` with; left as written
        tokens = []
    significant = [t for t in tokens if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    while significant and significant[-1].name == "ASCII_59":  # `;`
        semicolon = significant.pop()
        rest = text[semicolon.end + 1:]
        text = text[:semicolon.start] + rest if rest.strip() else text[:semicolon.start].rstrip()
        tokens = [t if t.start < semicolon.start else t._replace(start=t.start - 1, end=t.end - 1)
                  for t in tokens if t is not semicolon]
    kept = {t.start + i for t in tokens if t.name in _VALUE_TOKENS
            for i, char in enumerate(text[t.start:t.end + 1]) if char == "\n"}
    out, pos = [], 0
    for i, char in enumerate(text):
        if char != "\n" or i in kept:
            continue
        following = text[i + 1:i + 2]
        out += [text[pos:i + 1], " " * indent if following not in ("", "\n") else ""]
        pos = i + 1
    out.append(text[pos:])
    if tokens and tokens[-1].name == "SQL_COMMENT" and "\n" not in text[tokens[-1].end + 1:]:
        out.append("\n")
    return "".join(out)


# -- types ------------------------------------------------------------------------------------------------------
# Canonical spelling of each accepted type; aliases map onto it. Sized types take their arguments in parentheses.
_TYPE_ALIASES = {
    "text": "text", "varchar": "varchar", "character varying": "varchar", "char": "char", "character": "char",
    "integer": "integer", "int": "integer", "int4": "integer", "bigint": "bigint", "int8": "bigint",
    "smallint": "smallint", "int2": "smallint", "boolean": "boolean", "bool": "boolean", "uuid": "uuid",
    "jsonb": "jsonb", "json": "json", "inet": "inet", "cidr": "cidr", "bytea": "bytea", "date": "date",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "time": "time", "interval": "interval", "numeric": "numeric", "decimal": "numeric", "real": "real",
    "double precision": "double precision", "float8": "double precision", "citext": "citext",
    "trigger": "trigger", "void": "void", "record": "record", "name": "name", "oid": "oid",
    # the built-in range types (an exclusion constraint's usual keys)
    "int4range": "int4range", "int8range": "int8range", "numrange": "numrange", "tsrange": "tsrange",
    "tstzrange": "tstzrange", "daterange": "daterange",
    # PostgreSQL's internal names, as they appear in parse trees and catalogs
    "bpchar": "char", "float4": "real",
    # the rest of chapter 8 of PostgreSQL's documentation, "Data Types": time with a zone, bit strings, money,
    # full-text search, network, geometric and object-identifier types, multiranges, xml, pg_lsn
    "timetz": "timetz", "time with time zone": "timetz", "time without time zone": "time", "float": "double precision",
    "bit": "bit", "varbit": "varbit", "bit varying": "varbit", "money": "money",
    "tsvector": "tsvector", "tsquery": "tsquery", "regconfig": "regconfig", "regdictionary": "regdictionary",
    "macaddr": "macaddr", "macaddr8": "macaddr8",
    "point": "point", "line": "line", "lseg": "lseg", "box": "box", "path": "path", "polygon": "polygon",
    "circle": "circle", "xml": "xml", "pg_lsn": "pg_lsn",
    "regclass": "regclass", "regtype": "regtype", "regproc": "regproc", "regprocedure": "regprocedure",
    "regrole": "regrole", "regnamespace": "regnamespace", "regoper": "regoper", "regoperator": "regoperator",
    "regcollation": "regcollation",
    "int4multirange": "int4multirange", "int8multirange": "int8multirange", "nummultirange": "nummultirange",
    "tsmultirange": "tsmultirange", "tstzmultirange": "tstzmultirange", "datemultirange": "datemultirange",
    # an interval restricted to fields (`interval day to second(3)`: only SECOND takes a precision)
    **{f"interval {f}": f"interval {f}" for f in ("year", "month", "day", "hour", "minute", "second",
                                                   "year to month", "day to hour", "day to minute", "day to second",
                                                   "hour to minute", "hour to second", "minute to second")},
    # polymorphic pseudo-types: a function's arguments and result only
    **{t: t for t in ("anyelement", "anyarray", "anynonarray", "anyenum", "anyrange", "anymultirange",
                      "anycompatible", "anycompatiblearray", "anycompatiblenonarray", "anycompatiblerange",
                      "anycompatiblemultirange")},
}
# How many modifiers a type takes (at least, at most); the time types take a precision (seconds' digits).
_SIZED = {"varchar": (1, 1), "char": (1, 1), "numeric": (1, 2), "bit": (1, 1), "varbit": (1, 1),
          "timestamp": (1, 1), "timestamptz": (1, 1), "time": (1, 1), "timetz": (1, 1), "interval": (1, 1),
          **{t: (1, 1) for t in _TYPE_ALIASES if t.startswith("interval") and t.endswith("second")}}
_TIME_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", *(t for t in _SIZED if "interval" in t)})
# SQL's character and bit without a length are one long (gram.y gives them the modifier 1); varying ones unlimited.
_IMPLICIT_LENGTH = frozenset({"char", "bit"})
# Matched against the text with its white space folded to single spaces: words separated by one space leave the
# regex nothing to backtrack over (`[a-z0-9 ]*?\s*` took minutes on a long run of spaces).
# SQL puts a time type's precision before its zone: `timestamp(3) with time zone`.
_TYPE_RE = re.compile(r"(?P<base>[a-z][a-z0-9_]*(?: [a-z][a-z0-9_]*)*) ?(?:\( ?(?P<args>[0-9 ,]*)\))? ?"
                      r"(?P<zone>with(?:out)? time zone)? ?(?P<array>(?:\[\])*)\Z")
_MAX_TYPE_TEXT = 200
# Schemas whose functions and relations PostgreSQL itself provides; references into them are not checked.
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
BUILTIN_TYPES = tuple(sorted(set(_TYPE_ALIASES.values())))
# A type the schema declares (`types:`), by plain name, `name` or `schema.name`; its existence is `check`'s
# question (the parse only spells it, schema-qualified like every other name).
# A part that needs quoting is written quoted, as SQL writes it (`"My Schema"."Mood"`).
_TYPE_PART = r'(?:[a-z_][a-z0-9_]*|"(?:[^"]|"")+")'
_USER_TYPE_RE = re.compile(rf"(?:(?P<schema>{_TYPE_PART})\.)?(?P<name>{_TYPE_PART}) ?(?P<array>(?:\[\] ?)*)\Z")
# Types a column may hold; `trigger`, `void` and `record` (several OUT arguments) are only return types.
PSEUDO_TYPES = frozenset({"trigger", "void", "record"})
# A function's arguments and result may be polymorphic (the type is the call's); no value is stored as one. A
# polymorphic result is resolved from an argument of the same family (`anycompatible...` or the other `any...`).
POLYMORPHIC_TYPES = frozenset(t for t in _TYPE_ALIASES if t.startswith("any"))


@dataclass(frozen=True)
class SqlType:
    base: str
    args: tuple[int, ...] = ()
    array_dims: int = 0

    def __str__(self) -> str:
        args = f"({', '.join(map(str, self.args))})" if self.args else ""
        base = qname(self.base).sql if "." in self.base else self.base  # a declared type, schema-qualified
        return f"{base}{args}{'[]' * self.array_dims}"

    @property
    def element(self) -> SqlType:
        return SqlType(self.base, self.args, 0)

    @property
    def max_length(self) -> int | None:
        return self.args[0] if self.base in ("varchar", "char") and self.args and not self.array_dims else None


class TypeSyntaxError(ValueError):
    pass


@lru_cache(maxsize=16384)
def parse_type(text: str) -> SqlType:
    """Parse and canonicalise a type name; raises TypeSyntaxError with a readable reason, and nothing else."""
    m = _TYPE_RE.match(" ".join(text.lower().split())) if len(text) <= _MAX_TYPE_TEXT else None
    user = _USER_TYPE_RE.match(" ".join(text.split())) if len(text) <= _MAX_TYPE_TEXT else None
    if not m and not user:
        raise TypeSyntaxError(f"{text[:_MAX_TYPE_TEXT]!r} is not a type name")
    base = _TYPE_ALIASES.get(m["base"] if not m["zone"] else f"{m['base']} {m['zone']}") if m else None
    if m and m["zone"] and base not in ("timestamp", "timestamptz", "time", "timetz"):
        raise TypeSyntaxError(f"{text!r} is not a type name (only time and timestamp take `{m['zone']}`)")
    if base is None or m is None:
        if user is None:
            raise TypeSyntaxError(unknown_type(text))
        schema = unquote_ident(user["schema"]) if user["schema"] else DEFAULT_SCHEMA
        return SqlType(str(QName(schema, unquote_ident(user["name"]))), (), user["array"].count("[]"))
    args = _type_args(text, base, m["args"]) or ((1,) if base in _IMPLICIT_LENGTH else ())
    if m["array"] and base.startswith("any"):
        raise TypeSyntaxError(f"{text!r}: a polymorphic type has no array type (anyarray, anycompatiblearray)")
    return SqlType(base, args, len(m["array"]) // 2)


def unknown_type(text: str) -> str:
    """The message for a type that is neither built in nor declared, with the built-in names it may mistype."""
    near = difflib.get_close_matches(" ".join(text.lower().split()), list(_TYPE_ALIASES), n=3, cutoff=0.75)
    hint = f"; did you mean {' or '.join(dict.fromkeys(_TYPE_ALIASES[n] for n in near))}?" if near else ""
    return f"unknown type {text!r} (not a built-in type of PostgreSQL, nor declared under `types:`{hint})"


def is_user_type(base: str) -> bool:
    """Whether a parsed type's base names a type of the schema (`public.ticket_status`), not a built-in one."""
    return "." in base


@dataclass(frozen=True)
class Returns:
    """What a function returns: one value of a type, a set of them (`setof TYPE`), or a set of rows with named
    columns (`table(name type, ...)`)."""

    type: SqlType | None  # None for a table
    setof: bool = False
    columns: tuple[tuple[str, SqlType], ...] = ()

    def __str__(self) -> str:
        """As PostgreSQL prints it (pg_get_function_result), types in the spec's spelling."""
        if self.columns:
            return "TABLE(" + ", ".join(f"{ident(n)} {t}" for n, t in self.columns) + ")"
        return ("SETOF " if self.setof else "") + str(self.type)


_SETOF = re.compile(r"\s*setof\s+(?P<type>.+?)\s*\Z", re.IGNORECASE | re.DOTALL)
_TABLE = re.compile(r"\s*table\s*\((?P<columns>.*)\)\s*\Z", re.IGNORECASE | re.DOTALL)
_COLUMN = re.compile(r'\s*(?P<name>"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s+(?P<type>.+?)\s*\Z', re.DOTALL)


def parse_returns(text: str) -> Returns:
    """Parse a return type (`integer`, `setof integer`, `table(id integer, label text)`, or the same as
    PostgreSQL prints them); raises TypeSyntaxError."""
    m = _TABLE.match(text)
    if m:
        columns = []
        for part in _split_top_level(m["columns"]):
            c = _COLUMN.match(part)
            if c is None:
                raise TypeSyntaxError(f"{text!r}: expected `table(name type, ...)`, not {part.strip()!r}")
            name = c["name"][1:-1].replace('""', '"') if c["name"].startswith('"') else c["name"].lower()
            columns.append((name, parse_type(c["type"])))
        if not columns:
            raise TypeSyntaxError(f"{text!r}: a table needs at least one column")
        return Returns(None, True, tuple(columns))
    m = _SETOF.match(text)
    if m:
        return Returns(parse_type(m["type"]), True)
    return Returns(parse_type(text))


def _split_top_level(text: str) -> list[str]:
    """Split on the commas outside parentheses (`numeric(10, 2)` is one type)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()] if any(p.strip() for p in parts) else []


# PostgreSQL's limits on type modifiers: VARCHAR(n) and CHAR(n) up to 10,485,760 characters (MaxAttrSize),
# NUMERIC(p, s) with precision 1..1000 and scale up to 1000 (NUMERIC_MAX_PRECISION; a scale above the precision is
# accepted since PostgreSQL 15).
MAX_CHAR_LENGTH = 10_485_760
MAX_NUMERIC_PRECISION = 1000
MAX_BIT_LENGTH = 83_886_080  # MaxAttrSize bits (varbit.c)
MAX_TIME_PRECISION = 6  # MAX_TIMESTAMP_PRECISION, MAX_TIME_PRECISION, MAX_INTERVAL_PRECISION


def _type_args(text: str, base: str, raw: str | None) -> tuple[int, ...]:
    """The modifiers in `(...)`, checked against what `base` takes and PostgreSQL's limits."""
    if raw is None:
        return ()
    parts = [a.strip() for a in raw.split(",")]
    if not any(parts):
        raise TypeSyntaxError(f"{text!r}: empty type arguments")
    if not all(parts):
        raise TypeSyntaxError(f"{text!r}: a type argument is missing (between or after the commas)")
    for a in parts:
        if not a.isdigit():
            raise TypeSyntaxError(f"{text!r}: type argument {a!r} is not a number")
        if len(a) > 9:  # int() of thousands of digits raises; no limit is that high
            raise TypeSyntaxError(f"{text!r}: type argument out of range")
    args = tuple(int(a) for a in parts)
    lo, hi = _SIZED.get(base, (0, 0))
    if not lo <= len(args) <= hi:
        raise TypeSyntaxError(f"{text!r}: {base} takes {hi or 'no'} argument(s)")
    if base in ("varchar", "char") and not 1 <= args[0] <= MAX_CHAR_LENGTH:
        raise TypeSyntaxError(f"{text!r}: length must be between 1 and {MAX_CHAR_LENGTH:,}")
    if base in ("bit", "varbit") and not 1 <= args[0] <= MAX_BIT_LENGTH:
        raise TypeSyntaxError(f"{text!r}: length must be between 1 and {MAX_BIT_LENGTH:,}")
    if base in _TIME_TYPES and args[0] > MAX_TIME_PRECISION:  # PostgreSQL would store 6, and warn
        raise TypeSyntaxError(f"{text!r}: precision must be between 0 and {MAX_TIME_PRECISION}")
    if base == "numeric" and not 1 <= args[0] <= MAX_NUMERIC_PRECISION:
        raise TypeSyntaxError(f"{text!r}: precision must be between 1 and {MAX_NUMERIC_PRECISION}")
    if base == "numeric" and len(args) == 2 and args[1] > MAX_NUMERIC_PRECISION:
        raise TypeSyntaxError(f"{text!r}: scale must be between 0 and {MAX_NUMERIC_PRECISION}")
    return args
