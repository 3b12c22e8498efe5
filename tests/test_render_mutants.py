"""render.py's registry of item kinds, tested against mutmut's survivors (bench/RESULTS.md): one renderer per kind,
a second registration refused rather than silently replacing the first."""

from __future__ import annotations

from typing import Any

import pytest

from generator.render import _CONTEXTS, renders


def test_a_kind_has_one_renderer() -> None:
    with pytest.raises(RuntimeError, match="renderer for 'table' registered twice"):
        renders("table")(lambda obj, placed, catalog: {})

    def context(*args: Any) -> dict[str, Any]:
        return {}

    try:
        assert renders("test kind")(context) is context and _CONTEXTS["test kind"] is context
    finally:
        _CONTEXTS.pop("test kind", None)
