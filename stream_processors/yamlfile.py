"""YAML files as plain data, read fast, with every problem placed as FILE:LINE:COL (rule packs, config).

A file is read to plain data by libyaml without keeping positions; a file with a problem is composed
again (ruamel, with marks) to place it, so only files with errors pay for positions."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode


@dataclass(frozen=True, order=True)
class RuleProblem:
    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # about the file as a whole (missing, unreadable): no place in it to name
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


def yaml_position(tree: Any, loc: Iterable[Any], *, at_key: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the deepest node of `loc` present in the YAML tree (its key if at_key)."""
    node = tree
    line, col = 1, 1
    if isinstance(tree, CommentedMap | CommentedSeq):
        line, col = tree.lc.line + 1, tree.lc.col + 1
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            kl, kc = node.lc.key(key)
            vl, vc = node.lc.value(key)
            child = node[key]
            if isinstance(child, CommentedMap | CommentedSeq) or child is None or at_key:
                line, col = kl + 1, kc + 1
            else:
                line, col = vl + 1, vc + 1
            node = child
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            il, ic = node.lc.item(key)
            line, col = il + 1, ic + 1
            node = node[key]
        # Other loc parts (pydantic's union branch names) have no place in the file: skip them.
    return line, col


MAX_YAML_NODES = 100_000
"""Nodes that YAML aliases may add to a file once expanded (each use of an alias stands for a copy of what it
names): a 1 KB "billion laughs" file of nested aliases loads in milliseconds but expands to millions of
nodes, which took 25 s and 269 MB and more to turn into the config or rule pack. Nodes written in the file
do not count: a pack of 20,000 signals holds 500,000 of its own and is no bomb."""


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, list):
        return list(node)
    return []


def alias_expansion_problem(
    tree: Any,
    name: str,
    limit: int = MAX_YAML_NODES,
    *,
    position: Callable[[list[Any]], tuple[int, int]] | None = None,
) -> RuleProblem | None:
    """A problem if the aliases of `tree` (as loaded: an alias is the very object its anchor names) add more
    than `limit` nodes when expanded, or if one refers to itself; placed at the smallest node that aliases
    make too big by itself. Linear time: each shared node is walked once.

    Expanded, the file has `sizes[tree]` nodes; as written, it has one per distinct mapping or list plus
    their scalars. The difference is what the aliases create, and only that is limited."""
    place = position or (lambda path: yaml_position(tree, path))
    sizes: dict[int, int] = {}  # id -> nodes under it once expanded (itself included)
    uses: dict[int, int] = {id(tree): 1}  # id -> how many places hold it: more than one means aliases
    order: list[Any] = []  # containers, children before parents
    written = 0  # nodes as written: each distinct container once, with its scalar children
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in _children(node))
            order.append(node)
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        children = _children(node)
        written += 1 + sum(1 for c in children if not isinstance(c, dict | list))
        for child in children:
            if isinstance(child, dict | list):
                if id(child) in on_path:
                    return RuleProblem(name, *place(_path_to(tree, child)), "a YAML alias refers to itself")
                uses[id(child)] = uses.get(id(child), 0) + 1
                if id(child) not in sizes:
                    stack.append((child, False))
    if sizes.get(id(tree), 1) - written <= limit:
        return None
    # Where the aliases are: what each node's expansion owes to shared children (a shared child counts whole).
    added: dict[int, int] = {}
    for node in order:
        added[id(node)] = sum(
            sizes[id(c)] if uses[id(c)] > 1 else added[id(c)] for c in _children(node) if isinstance(c, dict | list)
        )
    path: list[Any] = []
    node = tree
    while True:  # walk down to the smallest node that aliases make too big by itself
        heavy = [(k, v) for k, v in _items(node) if isinstance(v, dict | list) and added[id(v)] > limit]
        if not heavy:
            break
        k, node = heavy[0]
        path.append(k)
    line, col = place(path)
    return RuleProblem(
        name, line, col, f"YAML aliases expand to {sizes[id(node)]:,} nodes here, over the limit of {limit:,}"
    )


def _items(node: Any) -> list[tuple[Any, Any]]:
    if isinstance(node, dict):
        return list(node.items())
    return list(enumerate(node)) if isinstance(node, list) else []


def _path_to(tree: Any, target: Any) -> list[Any]:
    """The keys to where `target` first appears under `tree` (breadth first, each node once)."""
    queue: list[tuple[Any, list[Any]]] = [(tree, [])]
    seen: set[int] = set()
    while queue:
        node, path = queue.pop(0)
        items = (
            list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        )
        for k, v in items:
            if v is target:
                return [*path, k]
            if isinstance(v, dict | list) and id(v) not in seen:
                seen.add(id(v))
                queue.append((v, [*path, k]))
    return []


def plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [plain(v) for v in node]
    return node


def _fast_yaml() -> YAML:
    # ruamel's C parser (ruamel.yaml.clib) when installed: ~30x faster than the round-trip loader on big
    # packs. Positions are not kept: a file with a problem is composed again to place it.
    return YAML(typ="safe", pure=False)


def load_data(text: str) -> Any:
    """The file's data. A pack written as JSON (valid YAML 1.2, e.g. generated) is read by orjson; YAML by
    libyaml (PyYAML's C parser) with YAML 1.2's core schema, as ruamel reads it (`yes` and `no` stay
    words: a cue list may hold "no"), about twice as fast as ruamel's C loader on a big pack, and the
    node tree made into data by `_construct`."""
    if text.lstrip()[:1] == "{":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # YAML that starts with a flow mapping: the YAML parser reads it
    if _Core12Loader is None:
        return _fast_yaml().load(io.StringIO(text))
    loader = _Core12Loader(text)
    try:
        root = loader.get_single_node()
        return None if root is None else _construct(loader, root)
    except pyyaml.YAMLError:
        return _fast_yaml().load(io.StringIO(text))  # its error message and place, as everywhere else
    finally:
        loader.dispose()


class _Unusual(Exception):
    """A node `_construct` leaves to PyYAML's own constructor (merge keys, tags such as !!set)."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _construct(loader: Any, root: Any) -> Any:
    """The data of a composed node tree, as PyYAML's SafeConstructor makes it, about 6x faster: its
    generic path costs several Python calls per node (740,000 nodes in a pack of 20,000 signals: 1.3 s),
    here a mapping, a list or a string costs one. Other scalars go to the loader's constructors; a file
    with anything else (merge keys, !!set, !!omap...) is constructed by PyYAML whole.

    An alias is the very object its anchor names, as with PyYAML (alias_expansion_problem relies on it),
    and a mapping is in the memo before its children are built, so a self-reference is the mapping itself."""
    scalar, sequence, mapping = pyyaml.ScalarNode, pyyaml.SequenceNode, pyyaml.MappingNode
    memo: dict[int, Any] = {}
    construct_scalar = loader.construct_object

    def build(node: Any) -> Any:
        cls = node.__class__
        if cls is scalar:
            return node.value if node.tag == _STR else construct_scalar(node)
        got = memo.get(id(node), memo)
        if got is not memo:
            return got
        if cls is sequence and node.tag == _SEQ:
            items: list[Any] = []
            memo[id(node)] = items
            for child in node.value:
                items.append(build(child))
            return items
        if cls is mapping and node.tag == _MAP:
            out: dict[Any, Any] = {}
            memo[id(node)] = out
            for key_node, value_node in node.value:
                if key_node.__class__ is not scalar or key_node.tag == _MERGE:
                    raise _Unusual
                key = key_node.value if key_node.tag == _STR else construct_scalar(key_node)
                out[key] = build(value_node)
            if len(out) < len(node.value):
                _refuse_duplicate_keys(node)
            return out
        raise _Unusual

    try:
        return build(root)
    except (_Unusual, RecursionError):  # RecursionError: nesting deeper than Python's stack; PyYAML's is flat
        return loader.construct_document(root)


_MERGE = "tag:yaml.org,2002:merge"


def _refuse_duplicate_keys(node: Any) -> None:
    """libyaml keeps the last of duplicate keys; YAML forbids them (ruamel says where): refuse, so the
    file is read again by ruamel for its message."""
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = (key_node.tag, key_node.value) if isinstance(key_node.value, str) else None
        if key is not None:
            if key in seen:
                raise pyyaml.constructor.ConstructorError(None, None, "duplicate key", key_node.start_mark)
            seen.add(key)


def _core12_loader() -> Any:
    """A libyaml loader that resolves plain scalars by YAML 1.2's core schema (as ruamel does), or None
    without libyaml."""
    if not getattr(pyyaml, "__with_libyaml__", False):
        return None

    class Loader(pyyaml.CSafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._plain_tags: dict[str, str] = {}  # a plain scalar -> its tag: keys repeat thousands of times

        # libyaml calls these three for every node. This loader has no path resolvers, so nothing is
        # tracked per node, a quoted scalar is a string, and a plain one resolves as it did before.
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

        def resolve(self, kind: Any, value: Any, implicit: tuple[bool, bool]) -> str:
            if kind is not pyyaml.ScalarNode:
                return str(super().resolve(kind, value, implicit))
            if not implicit[0]:
                return _STR
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = str(super().resolve(kind, value, implicit))
            return tag

    Loader.yaml_implicit_resolvers = {}
    # ruamel.yaml's YAML 1.2 resolvers (ruamel/yaml/resolver.py), so both loaders read a pack alike (tested).
    resolvers = [
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        (
            "float",
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
            r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            "-+0123456789.",
        ),
        ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
        ("merge", r"^(?:<<)$", "<"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        (
            "timestamp",
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
            r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
            r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            "0123456789",
        ),
    ]
    for name, regexp, first in resolvers:
        Loader.add_implicit_resolver(f"tag:yaml.org,2002:{name}", re.compile(regexp), list(first))

    def _int(loader: Any, node: Any) -> int:
        value = str(loader.construct_scalar(node)).replace("_", "")
        sign = -1 if value.startswith("-") else 1
        value = value.lstrip("+-")
        for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
            if value.startswith(prefix):
                return sign * int(value[2:], base)
        return sign * int(value, 10)

    def _float(loader: Any, node: Any) -> float:
        value = str(loader.construct_scalar(node)).replace("_", "").lower()
        if value.endswith(".inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        return float("nan") if value == ".nan" else float(value)

    def _mapping(loader: Any, node: Any) -> Any:
        _refuse_duplicate_keys(node)
        return loader.construct_yaml_map(node)

    Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
    Loader.add_constructor("tag:yaml.org,2002:int", _int)
    Loader.add_constructor("tag:yaml.org,2002:float", _float)
    return Loader


_Core12Loader = _core12_loader()


def compose(text: str) -> Any:
    return _fast_yaml().compose(io.StringIO(text))


def node_position(root: Any, loc: Iterable[Any], *, at_key: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the deepest node of `loc` present in a composed YAML node tree (its key
    if at_key, or when the value is a mapping, a sequence or empty)."""
    if root is None:
        return 1, 1
    node = root
    line, col = root.start_mark.line + 1, root.start_mark.column + 1
    for key in loc:
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    empty = isinstance(v, ScalarNode) and str(v.tag).endswith(":null")
                    if isinstance(v, MappingNode | SequenceNode) or empty or at_key:
                        line, col = k.start_mark.line + 1, k.start_mark.column + 1
                    else:
                        line, col = v.start_mark.line + 1, v.start_mark.column + 1
                    node = v
                    break
        elif isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
        # Other loc parts (pydantic's union branch names) have no place in the file: skip them.
    return line, col
