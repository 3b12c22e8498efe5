"""YAML composed with bounds, so hostile input is an error with a position, never a crash or a hang.

PyYAML's composer recurses once per nesting level (a few hundred `[` exhaust Python's stack), and an alias is the
anchored node itself, so nine levels of nine aliases (`&a9 [*a8, *a8, ...]`) make a document of 387 million nodes
out of a few lines: every walk over it (decoding, json.dumps of a default) would run for hours. Here the nesting
depth is bounded while composing, and the document as aliases expand it (its size and its depth) is measured
once, in time linear in its distinct nodes, before anything walks it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import yaml

# Deeper than any spec (module > tables > table > columns > column > value: 6) or sensible literal; shallow enough
# that every recursive walk downstream (decode, json.dumps, Jinja) stays far from Python's recursion limit.
MAX_DEPTH = 100
# Nodes that aliases may add to a document beyond those written in it (a few shared anchors add far fewer).
MAX_ALIAS_EXPANSION = 100_000


class YamlLimitError(Exception):
    """A document beyond a bound; `mark` is where (0-based line and column, as PyYAML counts)."""

    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH before its recursive composer reaches it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(f"YAML nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml's composer (C) is ~20x faster than PyYAML's pure-Python one and keeps the same marks (line, column in
# characters) and node types; PyYAML without libyaml falls back to the pure-Python composer. libyaml refuses
# nesting beyond 1,000 levels itself.
_C_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVED: dict[tuple[type, str | None, tuple[bool, bool] | None], str] = {}


class _FastLoader(_C_LOADER):  # type: ignore[misc]
    """The composer calls back into PyYAML's Python resolver for every node, which tries the implicit tags'
    regular expressions on each scalar: a spec repeats the same short scalars (`true`, `uuid`, `select`) thousands
    of times, so the answer for each short text is remembered. SafeLoader has no path resolvers, so the calls that
    track the path through the document do nothing and are skipped."""

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool] | None) -> str:
        key = (kind, value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if value is None or len(value) <= 64:
                _RESOLVED[key] = tag
        return tag

    def descend_resolver(self, current_node: yaml.Node | None, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


assert not _C_LOADER.yaml_path_resolvers  # what skipping descend/ascend_resolver relies on
_FAST_LOADER: type = _FastLoader


def compose(text: str) -> yaml.Node | None:
    """The document's node graph (None when empty); raises yaml.YAMLError or YamlLimitError. Read by libyaml; a
    document it refuses, or one beyond a bound, is read again by the bounded pure-Python composer, whose messages
    (PyYAML's wording, the exact place nesting exceeds MAX_DEPTH) are the ones reported."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        node = _compose_bounded(text)
    if node is not None:
        try:
            # Without an alias (an alias token needs a `*`) the graph is a tree: nothing expands, and only its
            # depth needs a look, which is cheaper than the expansion count (half of reading a large spec).
            if "*" in text:
                check_expansion(node)
            else:
                check_depth(node)
        except YamlLimitError:
            _compose_bounded(text)  # plain nesting too deep: reported where it happens
            raise
    return node


def _compose_bounded(text: str) -> yaml.Node | None:
    loader = _BoundedLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    finally:
        loader.dispose()
    return node


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def check_depth(root: yaml.Node) -> None:
    """Raise YamlLimitError when a tree (a document without aliases) nests deeper than MAX_DEPTH."""
    level: list[yaml.Node] = [root]
    for _ in range(MAX_DEPTH):
        below: list[yaml.Node] = []
        for node in level:  # _children, inlined: this runs over every node of every spec file
            if isinstance(node, yaml.MappingNode):
                for pair in node.value:
                    below.extend(pair)
            elif isinstance(node, yaml.SequenceNode):
                below.extend(node.value)
        level = below
        if not level:
            return
    raise YamlLimitError(f"YAML nested more than {MAX_DEPTH} levels deep", level[0].start_mark)


def check_expansion(root: yaml.Node) -> None:
    """Raise YamlLimitError when aliases expand the document by more than MAX_ALIAS_EXPANSION nodes or deeper
    than MAX_DEPTH; points at the shared (anchored) node that does it. A node that contains itself (`&a [*a]`)
    counts once here: the decoder reports it where a finite value is needed."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    parents: Counter[int] = Counter()
    nodes: dict[int, yaml.Node] = {id(root): root}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    cap = MAX_ALIAS_EXPANSION * 10  # sizes saturate here: a bomb's true size is astronomically large
    while stack:  # iterative: the expanded graph may be far deeper than Python's stack
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = [id(k) for k in _children(node)]
            size[key] = min(cap, 1 + sum(size.get(k, 0) for k in kids))
            height[key] = 1 + max((height.get(k, 0) for k in kids), default=0)
            continue
        parents[key] += 1
        nodes[key] = node
        if key in size or key in on_path:
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(_children(node))))
    shared = [k for k, n in parents.items() if n > 1]
    if size[id(root)] > len(size) + MAX_ALIAS_EXPANSION:
        worst = max(shared, key=lambda k: (parents[k] - 1) * size[k], default=id(root))
        raise YamlLimitError(f"YAML aliases expand this document by more than {MAX_ALIAS_EXPANSION:,} nodes "
                             "(an alias bomb?); write the value out, or share less", nodes[worst].start_mark)
    if height[id(root)] > MAX_DEPTH:
        worst = max(shared, key=lambda k: height[k], default=id(root))
        raise YamlLimitError(f"YAML nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
                             nodes[worst].start_mark)
