"""The README's generated sections (between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers), so the
documentation cannot drift from the code: the YAML key reference, the lint rule table and the spec's access matrix."""

from __future__ import annotations

import re
from collections.abc import Callable

from .access import access_markdown
from .derive import Catalog
from .jsonschema import reference_markdown
from .lint import rules_markdown

SECTIONS: dict[str, Callable[[Catalog], str]] = {
    "reference": lambda _catalog: reference_markdown(),
    "access": access_markdown,
    "rules": lambda _catalog: rules_markdown(),
}


def refresh(text: str, catalog: Catalog) -> str:
    """`text` with every generated section rewritten."""
    for name, produce in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no <!-- {name}:start --> ... <!-- {name}:end --> section")
        content = produce(catalog)

        def replace(m: re.Match[str], content: str = content) -> str:
            return m[1] + content + m[2]

        text = pattern.sub(replace, text)
    return text
