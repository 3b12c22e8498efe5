"""The JSON Schema of the YAML format, derived from the model's field declarations (never written by hand).

Editors with yaml-language-server read it through the modeline at the top of each spec file and offer completion,
hover docs and key checking.
"""

from __future__ import annotations

import dataclasses
import json
import types
from typing import Any, Literal, Union, get_args, get_origin

from .decode import hints, key_field, list_hint, model_classes, open_field, shorthand_field, spec_fields
from .model import Json, Module, Sql

SCHEMA_ID = "https://pgspec.dev/spec.schema.json"


def _type_schema(hint: Any) -> dict[str, Any]:
    origin = get_origin(hint)
    if hint is Sql:
        return {"type": ["string", "boolean", "number"], "description": "SQL text"}
    if hint is Json:
        return {}
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if origin in (Union, types.UnionType):
        options = [_type_schema(a) for a in get_args(hint) if a is not type(None)]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(get_args(hint)[0])}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {"$ref": f"#/$defs/{hint.__name__}"}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _field_schema(cls: type, f: dataclasses.Field[Any]) -> dict[str, Any]:
    hint = hints(cls)[f.name]
    if f.metadata.get("keyed"):
        return {"type": "object", "additionalProperties": {"$ref": f"#/$defs/{get_args(hint)[0].__name__}"}}
    if f.metadata.get("one_or_many"):  # a list, or its single item
        return {"anyOf": [_type_schema(hint), _type_schema(get_args(list_hint(hint))[0])]}
    return _type_schema(hint)


def _class_schema(cls: type) -> dict[str, Any]:
    if open_field(cls):
        return {"type": "object", "description": cls.__doc__ or "", "additionalProperties": True}
    props: dict[str, Any] = {}
    required = []
    kf = key_field(cls)
    for f in spec_fields(cls):
        if f.name == kf:
            continue
        schema = {**_field_schema(cls, f), "description": f.metadata.get("doc", "")}
        if f.default is not None and f.default is not dataclasses.MISSING and not isinstance(f.default, tuple):
            schema["default"] = f.default
        props[f.name] = schema
        if f.metadata.get("required"):
            required.append(f.name)
    body: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        body["required"] = required
    sf = shorthand_field(cls)
    if sf is not None:  # the object may be written as its shorthand field's value alone
        shorthand = _field_schema(cls, next(f for f in spec_fields(cls) if f.name == sf))
        return {"anyOf": [body, shorthand], "description": (cls.__doc__ or "").strip()}
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        body["description"] = cls.__doc__.strip()
    return body


def json_schema() -> dict[str, Any]:
    defs = {cls.__name__: _class_schema(cls) for cls in model_classes(Module) if cls is not Module}
    root = _class_schema(Module)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "pgspec module", **root, "$defs": defs}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def _md_type(hint: Any) -> str:
    origin = get_origin(hint)
    if hint is Sql:
        return "SQL"
    if hint is Json:
        return "value"
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(hint))
    if origin in (Union, types.UnionType):
        return " \\| ".join(_md_type(a) for a in get_args(hint) if a is not type(None))
    if origin is tuple:
        return f"list of {_md_type(get_args(hint)[0])}"
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return f"[{_label(hint)}](#{_label(hint).replace(' ', '-')})"
    return getattr(hint, "__name__", str(hint))


def _label(cls: type) -> str:
    return str(getattr(cls, "LABEL", cls.__name__.lower()))


def reference_markdown() -> str:
    """The README's key reference, from the same declarations as the JSON Schema."""
    out: list[str] = []
    for cls in model_classes(Module):
        out.append(f"#### {_label(cls)}")
        doc = (cls.__doc__ or "").strip()
        if doc and not doc.startswith(cls.__name__ + "("):
            out.append(doc)
        if open_field(cls):
            out.append("")
            continue
        kf, sf = key_field(cls), shorthand_field(cls)
        if kf:
            out.append(f"Written as `NAME: {{...}}` under its parent; the key is the {kf}."
                       + (f" Shorthand: `NAME: <{sf}>`." if sf else ""))
        out += ["", "| key | type | default | meaning |", "|---|---|---|---|"]
        for f in spec_fields(cls):
            if f.name == kf:
                continue
            hint = hints(cls)[f.name]
            kind = f"mapping of name to {_md_type(get_args(hint)[0])}" if f.metadata.get("keyed") else _md_type(hint)
            default = "required" if f.metadata.get("required") else (
                "" if f.default in (None, ()) or f.default is dataclasses.MISSING else f"`{json.dumps(f.default)}`")
            out.append(f"| `{f.name}` | {kind} | {default} | {f.metadata.get('doc', '')} |")
        out.append("")
    return "\n".join(out)
