"""Hostile edits of a spec's YAML text, as hypothesis strategies (used by test_fuzz_specs.py).

Each mutation edits one file of a valid spec the way a hurried or hostile user might: a typo in a key, a value of
the wrong type, a name that refers to nothing, unicode, text meant to break out of SQL (quotes, comments, `$$`,
Jinja), YAML alias bombs, deep nesting, PostgreSQL's limits, reserved words, a line removed or repeated. Edits
work on the text (not on parsed YAML), so they can also break the YAML itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

# `key: value` where value is a plain or quoted scalar on the same line (block or flow style): the slots that
# mutations rewrite. Group `key` is the key, `value` the value's text.
_SLOT = re.compile(r"(?:^\s*-?\s*|[{,]\s*)(?P<key>[A-Za-z_][\w ]*?):[ ]+(?P<value>[^\s{}\[\],#&*|>!][^{}\[\],#\n]*?)"
                   r"\s*(?=[,}]|\s#|$)", re.M)
# A mapping key at the start of a line: names of tables, columns, roles, ... and keys of the format.
_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w]*):(?=\s|$)", re.M)
_SQL_KEYS = ("using", "with_check", "expr", "default_sql", "where", "query", "when")

UNICODE = ["é", "ß", "İ", "ﬁ", "Ω", "😀", "\u200b", "\u202e", "\u00a0", "\t", "\u2028", "\ufeff", "ǅ"]
INJECTIONS = ["x'); DROP TABLE t; --", "*/ DROP TABLE t; /*", "$$; DROP TABLE t; $$", "$function$", "$role$",
              "a\nDROP TABLE t;", "-- comment", "x -- comment", "x;", "'", '"', "\\", "%s", "{{ 7 * 7 }}",
              "{% raw %}", "\r\nDROP TABLE t;", "\x00", "public", "E'\\n'", "U&'\\0041'", "' || pg_sleep(5) || '",
              "line one\nline two", "  padded  ", ""]
SQL_SUFFIXES = [" -- trailing comment", ";", " ;", " /* c */", " -- a; b", ";\n-- after", "\n-- last line"]
WRONG_VALUES = ["[1, 2]", "{a: 1}", "true", "42", "-1", "1.5", "null", "''", "~", "on", "2024-01-01", "!!binary aGk=",
                "[]", "{}", ".nan", "0x1F", "!custom x", "99999999999999999999999"]
LIMIT_TYPES = ["varchar(10485761)", "varchar(10485760)", "numeric(1001)", "numeric(1000)", "numeric(10,)",
               "numeric(1000, 1000)", "char(0)", "varchar(99999999999999)", "integer[][][]", "numeric(,)",
               "varchar(" + "9" * 5000 + ")", "timestamp(3)", "double  precision", "text" + " " * 3000 + "x"]
RESERVED = ["user", "order", "select", "table", "group", "public", "none", "postgres", "pg_x", "information_schema",
            "current_user", "all", "default", "check", "column", "limit", "true", "null", "from", "where", "end",
            "pg_catalog", "authorization", "session_user", "localtime"]


@dataclass(frozen=True)
class Mutation:
    kind: str
    file: str
    text: str  # the mutated file
    # Whether the edit can take away a definition (a renamed or deleted name), so that the mistake may only show
    # where the name is used, in another file.
    removes: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} in {self.file}: {self.detail}"

    @property
    def may_show_elsewhere(self) -> bool:
        """Whether the mistake may be reported only in another file: a definition taken away, or a column's type
        changed (a foreign key in another module then no longer matches it)."""
        return self.removes or self.detail.startswith("type:")


Draw = Callable[[st.SearchStrategy], object]


def _slots(text: str, keys: tuple[str, ...] | None = None) -> list[re.Match[str]]:
    return [m for m in _SLOT.finditer(text) if keys is None or m["key"] in keys]


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def typo_key(draw: Draw, text: str) -> tuple[str, bool, str]:
    keys = list(_KEY.finditer(text))
    m = keys[draw(st.integers(0, len(keys) - 1))]
    key = m["key"]
    i = draw(st.integers(0, len(key) - 1))
    how = draw(st.sampled_from(["drop", "swap", "double", "letter"]))
    if how == "drop" and len(key) > 1:
        new = key[:i] + key[i + 1:]
    elif how == "swap" and i + 1 < len(key):
        new = key[:i] + key[i + 1] + key[i] + key[i + 2:]
    elif how == "double":
        new = key[:i] + key[i] + key[i:]
    else:
        new = key[:i] + draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz_")) + key[i + 1:]
    return _replace(text, m.start("key"), m.end("key"), new), True, f"{key!r} -> {new!r}"


def wrong_type(draw: Draw, text: str) -> tuple[str, bool, str]:
    slots = _slots(text)
    m = slots[draw(st.integers(0, len(slots) - 1))]
    new = draw(st.sampled_from(WRONG_VALUES))
    return _replace(text, m.start("value"), m.end("value"), new), False, f"{m['key']}: {new}"


def dangling_name(draw: Draw, text: str) -> tuple[str, bool, str]:
    slots = [m for m in _slots(text) if re.search(r"[a-z_]{3,}", m["value"])]
    m = slots[draw(st.integers(0, len(slots) - 1))]
    words = list(re.finditer(r"[a-z_][a-z0-9_]{2,}", m["value"]))
    w = words[draw(st.integers(0, len(words) - 1))]
    new = draw(st.sampled_from(["nowhere", w[0] + "_x", w[0][:-1]]))
    start = m.start("value") + w.start()
    return _replace(text, start, start + len(w[0]), new), False, f"{m['key']}: {w[0]} -> {new}"


def unicode_text(draw: Draw, text: str) -> tuple[str, bool, str]:
    char = draw(st.sampled_from(UNICODE))
    if draw(st.booleans()):
        keys = list(_KEY.finditer(text))
        m = keys[draw(st.integers(0, len(keys) - 1))]
        at = m.start("key") + draw(st.integers(0, len(m["key"])))
        return _replace(text, at, at, char), True, f"{char!r} into key {m['key']}"
    slots = _slots(text)
    m = slots[draw(st.integers(0, len(slots) - 1))]
    value = m["value"]
    at = draw(st.integers(0, len(value)))
    new = _quoted(value[:at] + char + value[at:]) if draw(st.booleans()) else value[:at] + char + value[at:]
    return _replace(text, m.start("value"), m.end("value"), new), False, f"{m['key']}: {new!r}"


def injection(draw: Draw, text: str) -> tuple[str, bool, str]:
    slots = _slots(text)
    m = slots[draw(st.integers(0, len(slots) - 1))]
    payload = draw(st.sampled_from(INJECTIONS))
    value = m["value"].strip("'\"") if m["value"][:1] in "'\"" else m["value"]
    new = _quoted(draw(st.sampled_from([payload, value + payload, payload + value])))
    return _replace(text, m.start("value"), m.end("value"), new), False, f"{m['key']}: {new}"


def sql_suffix(draw: Draw, text: str) -> tuple[str, bool, str]:
    """A trailing comment or semicolon on a SQL fragment (a plain value, or the last line of a block scalar)."""
    suffix = draw(st.sampled_from(SQL_SUFFIXES))
    lines = text.split("\n")
    blocks = [i for i, line in enumerate(lines)
              if re.match(rf"\s*({'|'.join(_SQL_KEYS)}):\s*[|>]-?\s*$", line)]
    slots = _slots(text, _SQL_KEYS)
    if blocks and (not slots or draw(st.booleans())):
        i = blocks[draw(st.integers(0, len(blocks) - 1))]
        indent = len(lines[i]) - len(lines[i].lstrip())
        last = i
        while last + 1 < len(lines) and (not lines[last + 1].strip()
                                         or len(lines[last + 1]) - len(lines[last + 1].lstrip()) > indent):
            last += 1
        while last > i and not lines[last].strip():
            last -= 1
        pad = " " * (len(lines[last]) - len(lines[last].lstrip()))
        lines[last] += suffix.replace("\n", "\n" + pad)
        return "\n".join(lines), False, f"block at line {i + 1} + {suffix!r}"
    if not slots:
        return text, False, "no SQL value"
    m = slots[draw(st.integers(0, len(slots) - 1))]
    value = m["value"]
    inner = value[1:-1] if value[:1] in "'\"" and value[-1:] == value[:1] else value
    new = _quoted(inner + suffix)
    return _replace(text, m.start("value"), m.end("value"), new), False, f"{m['key']}: {new}"


def alias_bomb(draw: Draw, text: str) -> tuple[str, bool, str]:
    slots = _slots(text)
    m = slots[draw(st.integers(0, len(slots) - 1))]
    if draw(st.integers(0, 4)) == 0:
        new = "&r [*r]"
    else:
        width, levels = draw(st.integers(2, 9)), draw(st.integers(1, 9))
        parts = ["&a0 [" + ", ".join(["x"] * width) + "]"]
        parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
        new = "[" + ", ".join(parts) + "]"
    return _replace(text, m.start("value"), m.end("value"), new), False, f"{m['key']}: {new[:60]}"


def deep_nesting(draw: Draw, text: str) -> tuple[str, bool, str]:
    slots = _slots(text)
    m = slots[draw(st.integers(0, len(slots) - 1))]
    n = draw(st.sampled_from([5, 50, 99, 100, 101, 300, 700, 3000]))
    if draw(st.booleans()):
        new = "[" * n + "]" * n
    elif draw(st.booleans()):
        new = "{a: " * n + "1" + "}" * n
    else:  # in SQL: chained NOTs or parentheses
        new = _quoted(draw(st.sampled_from(["NOT " * n + "true", "(" * n + "1" + ")" * n + " > 0"])))
    return _replace(text, m.start("value"), m.end("value"), new), False, f"{m['key']}: depth {n}"


def pg_limits(draw: Draw, text: str) -> tuple[str, bool, str]:
    how = draw(st.sampled_from(["type", "columns", "index", "long name", "enum"]))
    type_slots = _slots(text, ("type",))
    if how == "type" and type_slots:
        m = type_slots[draw(st.integers(0, len(type_slots) - 1))]
        new = draw(st.sampled_from(LIMIT_TYPES))
        return _replace(text, m.start("value"), m.end("value"), new), False, f"type: {new[:40]}"
    if how == "columns" and "\n    columns:\n" in text:
        n = draw(st.sampled_from([32, 33, 1599, 1601]))
        at = text.index("\n    columns:\n") + len("\n    columns:\n")
        return text[:at] + "".join(f"      fuzz_c{i}: integer\n" for i in range(n)) + text[at:], False, \
            f"{n} more columns"
    if how == "index" and "\n    indexes:\n" in text:
        n = draw(st.sampled_from([32, 33]))
        at = text.index("\n    indexes:\n") + len("\n    indexes:\n")
        return text[:at] + f"      fuzz_wide: [{', '.join(['id'] * n)}]\n" + text[at:], False, f"index of {n} keys"
    if how == "enum" and "\nenums:\n" in text:
        # One value repeated: reported, in linear time. 10,000, not the 40,000: PyYAML's pure-Python parser
        # alone takes ~10 s for those on a busy machine (test_hostile_specs times the check itself on 40,000).
        n = draw(st.sampled_from([2, 10_000]))
        values = "[" + ", ".join(f"v{i}" for i in range(n)) + ", v0]"
        at = text.index("\nenums:\n") + len("\nenums:\n")
        return text[:at] + f"  fuzz_enum: {values}\n" + text[at:], False, f"enum of {n} values"
    keys = list(_KEY.finditer(text))
    m = keys[draw(st.integers(0, len(keys) - 1))]
    new = m["key"] + draw(st.sampled_from(["x" * (63 - len(m["key"])), "x" * (64 - len(m["key"])), "é" * 32]))
    return _replace(text, m.start("key"), m.end("key"), new), True, f"{m['key']} -> {len(new.encode())} bytes"


def reserved_word(draw: Draw, text: str) -> tuple[str, bool, str]:
    keys = list(_KEY.finditer(text))
    m = keys[draw(st.integers(0, len(keys) - 1))]
    new = draw(st.sampled_from(RESERVED))
    return _replace(text, m.start("key"), m.end("key"), new), True, f"{m['key']} -> {new}"


def line_edit(draw: Draw, text: str) -> tuple[str, bool, str]:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    if draw(st.booleans()):
        return "\n".join(lines[:i] + lines[i + 1:]), True, f"removed line {i + 1}"
    return "\n".join(lines[:i + 1] + lines[i:]), True, f"repeated line {i + 1}"


KINDS: dict[str, Callable[[Draw, str], tuple[str, bool, str]]] = {
    "typo": typo_key, "wrong type": wrong_type, "dangling name": dangling_name, "unicode": unicode_text,
    "injection": injection, "sql suffix": sql_suffix, "alias bomb": alias_bomb, "deep nesting": deep_nesting,
    "postgres limits": pg_limits, "reserved word": reserved_word, "line edit": line_edit,
}


@st.composite
def mutations(draw: Draw, files: dict[str, str]) -> Mutation:
    """One mutation of one of `files` (name -> text)."""
    name = draw(st.sampled_from(sorted(files)))
    kind = draw(st.sampled_from(sorted(KINDS)))
    text, removes, detail = KINDS[kind](draw, files[name])
    return Mutation(kind, name, text, removes, detail)
