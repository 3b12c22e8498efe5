"""YAML nodes -> model objects, guided by the model's type hints and field metadata.

PyYAML's composer gives every node a start mark; we keep it on each object (``pos``) and for each key's value
(``at``), so later checks can point at the exact line. Unknown keys, duplicate keys and wrong value types are
reported here, all at once.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from . import yamlguard
from .diagnostics import Collector, Pos
from .model import SERIAL_TYPES, Column, Identity, Json, Module, Sql

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
# Scalars a literal value (Json) may hold; anything else YAML can express (!!binary, !!set, custom tags) has no SQL
# literal.
_JSON_SCALAR_TAGS = frozenset({_NULL_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG, _STR_TAG})
# How _got names what YAML made of an unquoted scalar, so `not_null: "true"` or a column named `on` explain
# themselves.
_TAG_WORDS = {_BOOL_TAG: "a boolean", _INT_TAG: "an integer", _FLOAT_TAG: "a number", _TIMESTAMP_TAG: "a date",
              _NULL_TAG: "null"}


# What a type hint is made of (origin, arguments, the options of a Union other than None), asked for every YAML
# node decoded: computed once per hint object. Keyed by identity, as hashing a generic alias hashes its arguments
# again on every call; the entry keeps the hint alive, so its id is never reused.
_SHAPES: dict[int, tuple[Any, Any, tuple[Any, ...], tuple[Any, ...]]] = {}


def shape(hint: Any) -> tuple[Any, tuple[Any, ...], tuple[Any, ...]]:
    entry = _SHAPES.get(id(hint))
    if entry is None:
        args = get_args(hint)
        entry = _SHAPES[id(hint)] = (hint, get_origin(hint), args, tuple(a for a in args if a is not type(None)))
    return entry[1], entry[2], entry[3]


@cache
def required_fields(cls: type) -> tuple[str, ...]:
    return tuple(name for name, f in fields_by_name(cls).items() if f.metadata.get("required"))


def pos_of(file: str, node: yaml.Node) -> Pos:
    return Pos(file, node.start_mark.line + 1, node.start_mark.column + 1)


@cache
def hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# The facts about a model class below are asked for every YAML mapping decoded: computed once per class.
@cache
def spec_fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    """The user-visible fields of a model class (those with YAML keys)."""
    return tuple(f for f in dataclasses.fields(cls) if not f.metadata.get("internal"))


@cache
def fields_by_name(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in spec_fields(cls)}


@cache
def key_field(cls: type) -> str | None:
    return next((f.name for f in spec_fields(cls) if f.metadata.get("key")), None)


@cache
def shorthand_field(cls: type) -> str | None:
    return next((f.name for f in spec_fields(cls) if f.metadata.get("shorthand")), None)


def list_hint(hint: Any) -> Any:
    """The tuple type of a list field, also when it is optional (`tuple[str, ...] | None`)."""
    if get_origin(hint) in (Union, types.UnionType):
        return next(a for a in get_args(hint) if get_origin(a) is tuple)
    return hint


def describe(hint: Any) -> str:
    """Human wording of what a type hint accepts, for error messages."""
    origin = get_origin(hint)
    if hint is Sql:
        return "SQL text"
    if hint is Json:
        return "a value"
    if hint is str:
        return "a string"
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in get_args(hint) if a is not type(None))
    if origin is tuple:
        return f"a list of {describe(get_args(hint)[0])}"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return str(hint)


class Decoder:
    def __init__(self, file: str, errors: Collector) -> None:
        self.file = file
        self.errors = errors
        self._constructor = yaml.SafeLoader("")

    def pos(self, node: yaml.Node) -> Pos:
        return pos_of(self.file, node)

    def fail(self, node: yaml.Node, message: str) -> None:
        self.errors.error(self.pos(node), message)

    # -- values -------------------------------------------------------------------------------------------------
    def value(self, hint: Any, node: yaml.Node, what: str) -> Any:
        """Decode one node as `hint`; on a mistake record it and return None."""
        origin, args, options = shape(hint)
        if origin in (Union, types.UnionType):
            if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG:
                return None
            if len(options) == 1:
                return self.value(options[0], node, what)
            for option in options:  # e.g. `int | None`: try each without reporting
                probe = Collector()
                result = Decoder(self.file, probe).value(option, node, what)
                if not probe.items:
                    return result
            self.fail(node, f"{what}: expected {describe(hint)}")
            return None
        if hint is Sql:
            if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL_TAG or not str(node.value).strip():
                self.fail(node, f"{what}: expected SQL text")
                return None
            return Sql(str(node.value).strip()) if self.no_nul(node, what) else None
        if hint is Json:
            return self.literal(node, what, frozenset())
        if hint is str:
            if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
                if not self.no_nul(node, what):
                    return None
                # Block scalars (`>` and `|`) end in a newline nobody means to keep in a name or comment.
                return str(node.value).rstrip("\n") if node.style in (">", "|") else str(node.value)
            self.fail(node, f"{what}: expected a string" + _got(node, quote_hint=True))
            return None
        if hint is bool:
            if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG:
                return self.scalar(node, what)
            self.fail(node, f"{what}: expected true or false" + _got(node))
            return None
        if hint is int:
            if isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG:
                return self.scalar(node, what)
            self.fail(node, f"{what}: expected an integer" + _got(node))
            return None
        if origin is Literal:
            allowed = args
            if isinstance(node, yaml.ScalarNode) and node.value in allowed and node.tag == _STR_TAG:
                return node.value
            if isinstance(node, yaml.ScalarNode):
                close = difflib.get_close_matches(str(node.value), [str(a) for a in allowed], n=1)
                hint_text = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(node, f"{what}: {node.value!r} is not {describe(hint)}{hint_text}")
            else:
                self.fail(node, f"{what}: expected {describe(hint)}" + _got(node))
            return None
        if origin is tuple:
            return self.sequence(args[0], node, what)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.obj(hint, node, what, name=None)
        raise TypeError(f"model type {hint!r} has no decoder")  # a programming error, not a spec mistake

    def no_nul(self, node: yaml.ScalarNode, what: str) -> bool:
        """Whether a string is free of NUL, which no PostgreSQL text, name or query can hold (`"\\0"` in YAML)."""
        if "\x00" in str(node.value):
            self.fail(node, f"{what}: contains a NUL character (\\0), which PostgreSQL text cannot hold")
            return False
        return True

    def scalar(self, node: yaml.ScalarNode, what: str) -> Any:
        """The Python value of a scalar; None after reporting when an explicit tag does not fit (`!!int abc`)."""
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError):
            self.fail(node, f"{what}: {node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}")
            return None

    def literal(self, node: yaml.Node, what: str, enclosing: frozenset[int]) -> Any:
        """A literal value as JSON-like data (dict, list, str, int, float, bool, None); None after reporting
        anything else, so a spec that passes never makes rendering fail."""
        if id(node) in enclosing:  # `&a [*a]`: PyYAML builds it, but it has no finite SQL literal
            self.fail(node, f"{what}: a YAML alias refers to a value that contains it")
            return None
        inner = enclosing | {id(node)}
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
            return [self.literal(child, f"{what}[{i}]", inner) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
            out = {}
            for key_node, value_node in self.pairs(node, what):
                if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag in _JSON_SCALAR_TAGS):
                    self.fail(key_node, f"{what}: keys must be plain scalars" + _got(key_node))
                    continue
                key = self.scalar(key_node, what)
                if isinstance(key, str) and not self.no_nul(key_node, what):
                    continue
                out[key] = self.literal(value_node, f"{what}.{key}", inner)
            return out
        if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP_TAG:
            # An unquoted `2024-01-01` means that text (PostgreSQL parses it), not a Python date with no literal.
            return node.value
        if isinstance(node, yaml.ScalarNode) and node.tag in _JSON_SCALAR_TAGS:
            if node.tag == _STR_TAG and not self.no_nul(node, what):
                return None
            value = self.scalar(node, what)
            if isinstance(value, float) and not math.isfinite(value):
                self.fail(node, f"{what}: {node.value!r} has no SQL literal; use default_sql, e.g. \"'NaN'::numeric\"")
                return None
            return value
        self.fail(node, f"{what}: a YAML {_short_tag(node.tag)} value has no SQL literal")
        return None

    def field_value(self, f: dataclasses.Field[Any], hint: Any, node: yaml.Node, what: str) -> Any:
        """A field's value; a `one_or_many` list field also accepts its single item (`select: own`)."""
        if f.metadata.get("one_or_many") and not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and type(None) in get_args(hint):
                return None
            item = self.value(get_args(list_hint(hint))[0], node, what)
            return None if item is None else (item,)
        return self.value(hint, node, what)

    def sequence(self, item: Any, node: yaml.Node, what: str) -> tuple[Any, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what}: expected a list" + _got(node))
            return ()
        values = []
        for i, child in enumerate(node.value):
            before = len(self.errors.items)
            value = self.value(item, child, f"{what}[{i}]")
            # None is a mistake already reported, except for a literal list item, where it is YAML's null.
            if len(self.errors.items) == before and (value is not None or item is Json):
                values.append(value)
        return tuple(values)

    def keyed(self, item: type, node: yaml.Node, what: str) -> tuple[Any, ...]:
        """A mapping from name to object; the name goes into the object's key field."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what}: expected a mapping from name to definition" + _got(node))
            return ()
        out = []
        for key_node, value_node in self.pairs(node, what):
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
                self.fail(key_node, f"{what}: names must be strings" + _got(key_node, quote_hint=True))
                continue
            label = getattr(item, "LABEL", item.__name__.lower())
            obj = self.obj(item, value_node, f"{label} {key_node.value!r}", name=(key_node.value, self.pos(key_node)))
            if obj is not None:
                out.append(obj)
        return tuple(out)

    def pairs(self, node: yaml.MappingNode, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        """Mapping entries, reporting duplicate keys (PyYAML would silently keep the last one)."""
        try:
            if len({key_node.value for key_node, _ in node.value}) == len(node.value):
                return list(node.value)  # no duplicate (a key that is no scalar holds a list: unhashable)
        except TypeError:
            pass
        seen: dict[Any, yaml.Node] = {}
        out = []
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                first = self.pos(seen[key])
                self.fail(key_node, f"{what}: duplicate key {key!r} (first defined at line {first.line})")
                continue
            seen[key] = key_node
            out.append((key_node, value_node))
        return out

    def obj(self, cls: type, node: yaml.Node, what: str, name: tuple[str, Pos] | None) -> Any:
        fields = fields_by_name(cls)
        kf, sf = key_field(cls), shorthand_field(cls)
        values: dict[str, Any] = {}
        at: dict[str, Pos] = {}
        if name is not None and kf:
            values[kf], at[kf] = name
        if open_field(cls):
            return self.open_mapping(cls, node, what)
        if not isinstance(node, yaml.MappingNode):
            if sf is None:
                self.fail(node, f"{what}: expected a mapping" + _got(node))
                return None
            decoded = self.field_value(fields[sf], hints(cls)[sf], node, what)
            if decoded is None:
                return None
            values[sf], at[sf] = decoded, self.pos(node)
            if cls is Column:
                self.serial_sugar(values, at)  # nothing else declared, so nothing to refuse
            return cls(pos=self.pos(node), at=at, **values)
        ok = True
        suggested: set[str] = set()  # keys offered as "did you mean": not reported again as missing
        present = set(values)  # keys given (even with a wrong value, whose error says it all) and the name
        for key_node, value_node in self.pairs(node, what):
            if not isinstance(key_node, yaml.ScalarNode):  # `[a, b]: x` is valid YAML, but no key name
                self.fail(key_node, f"{what}: expected a key name" + _got(key_node))
                ok = False
                continue
            key = key_node.value
            present.add(key)
            f = fields.get(key)
            if f is None or key == kf:
                known = [k for k in fields if k != kf]
                close = difflib.get_close_matches(str(key), known, n=1)
                suggested.update(close)
                suggestion = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
                self.fail(key_node, f"{what}: unknown key {key!r}{suggestion}")
                ok = False
                continue
            hint = hints(cls)[key]
            if f.metadata.get("keyed"):
                decoded = self.keyed(get_args(hint)[0], value_node, f"{key}")
            else:
                before = len(self.errors.items)
                decoded = self.field_value(f, hint, value_node, f"{what}: {key}")
                if len(self.errors.items) != before:
                    ok = False
                    continue
            values[key] = decoded
            at[key] = self.pos(value_node)
        for fname in required_fields(cls):
            if fname not in present and fname not in suggested:
                self.fail(node, f"{what}: missing required key {fname!r}")
                ok = False
        if cls is Column and ok:
            ok = self.serial_sugar(values, at)
        if not ok:
            return None
        return cls(pos=self.pos(node), at=at, **values)

    def serial_sugar(self, values: dict[str, Any], at: dict[str, Pos]) -> bool:
        """`type: serial` -> `type: integer` + `identity: by default` (model.SERIAL_TYPES says why); False after
        reporting a column that also declares its identity."""
        written = values.get("type")
        base = SERIAL_TYPES.get(" ".join(written.lower().split())) if isinstance(written, str) else None
        if base is None:
            return True
        if values.get("identity") is not None:
            self.errors.error(at["identity"], f"column {values.get('name')!r}: type {written} already makes it "
                                              f"an identity column; write `type: {base}` with `identity:`")
            return False
        values["type"], values["identity"] = base, Identity(pos=at["type"], generated="by default")
        at["identity"] = at["type"]
        return True

    def open_mapping(self, cls: type, node: yaml.Node, what: str) -> Any:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what}: expected a mapping from column to value" + _got(node))
            return None
        values: dict[str, Any] = {}
        at: dict[str, Pos] = {}
        before = len(self.errors.items)
        for key_node, value_node in self.pairs(node, what):
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
                self.fail(key_node, f"{what}: column names must be strings" + _got(key_node, quote_hint=True))
                continue
            values[key_node.value] = self.literal(value_node, f"{what}: {key_node.value}", frozenset())
            at[key_node.value] = self.pos(value_node)
        if len(self.errors.items) != before:
            return None
        return cls(pos=self.pos(node), at=at, values=values)


def _got(node: yaml.Node, *, quote_hint: bool = False) -> str:
    """`, got ...` for an error message; names what YAML read an unquoted scalar as (`on` is a boolean)."""
    if isinstance(node, yaml.MappingNode):
        return ", got a mapping"
    if isinstance(node, yaml.SequenceNode):
        return ", got a list"
    if node.tag == _NULL_TAG:
        return ", got nothing"
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
        quoted = "quoted " if node.style in ("'", '"') else ""
        return f", got {node.value!r} (a {quoted}string)"
    kind = _TAG_WORDS.get(node.tag, f"tagged {_short_tag(node.tag)}")
    return f", got {node.value!r}, which YAML reads as {kind}" + (" (quote it to mean text)" if quote_hint else "")


def _short_tag(tag: str) -> str:
    """A tag as users write it: `!!binary`, `!custom`."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def compose(text: str, file: str, errors: Collector) -> yaml.Node | None:
    try:
        return yamlguard.compose(text)
    except yamlguard.YamlLimitError as exc:
        line, col = (exc.mark.line + 1, exc.mark.column + 1) if exc.mark else (1, 1)
        errors.error(Pos(file, line, col), exc.message)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        context = exc.context_mark
        if exc.problem and exc.context and context and (context.line + 1, context.column + 1) != (line, col):
            # The problem is where the parser gave up; what it was reading (an unclosed `{`) may be lines above.
            message += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        if exc.problem and "<block end>" in exc.problem:
            message += "; check the indentation"
        errors.error(Pos(file, line, col), message)
    except yaml.YAMLError as exc:
        errors.error(Pos(file, 1, 1), f"YAML error: {exc}")
    return None


def decode_module(path: Path, display: str, errors: Collector) -> Module | None:
    """Read one spec file into a Module; mistakes go to `errors`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.error(Pos(display, 1, 1), f"cannot read spec file: {exc}")
        return None
    before = len(errors.items)  # other files' mistakes must not hide that this one is empty
    node = compose(text, display, errors)
    if node is None:
        if len(errors.items) == before:
            errors.error(Pos(display, 1, 1), "spec file is empty")
        return None
    decoded: Module | None = Decoder(display, errors).obj(Module, node, "module", name=None)
    return decoded


def model_classes(root: type = Module) -> list[type]:
    """Every model class reachable from `root`, in declaration-walk order (for the JSON Schema and docs)."""
    seen: list[type] = []

    def walk(hint: Any) -> None:
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            if hint not in seen:
                seen.append(hint)
                for f in spec_fields(hint):
                    walk(hints(hint)[f.name])
            return
        for arg in get_args(hint):
            walk(arg)

    walk(root)
    return seen


@cache
def open_field(cls: type) -> bool:
    return any(f.metadata.get("open") for f in spec_fields(cls))

