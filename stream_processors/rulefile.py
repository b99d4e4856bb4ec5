"""Load rule packs from YAML with positions, so every error reads FILE:LINE:COL: message."""

from __future__ import annotations

import gc
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml as pyyaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from watchfloor.schemas.rules import RulePack

from .engine.compiler import CompiledRules, CompileErrors, RuleError, compile_packs

CONDITION_KEYS = ("any", "all", "none", "regex")


@dataclass(frozen=True, order=True)
class RuleProblem:
    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class RuleLoadError(ValueError):
    """One or more problems in rule files; str() lists them one per line as FILE:LINE:COL: message."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class LoadedPack:
    path: str
    pack: RulePack
    text: str  # the file's text, read again (composed, not constructed) only to place problems
    _nodes: Any = None

    def position(self, loc: Iterable[Any], *, at_key: bool = False) -> tuple[int, int]:
        if self._nodes is None:
            self._nodes = _compose(self.text)
        return node_position(self._nodes, loc, at_key=at_key)

    def problem(self, err: RuleError) -> RuleProblem:
        line, col = self.position(err.path)
        return RuleProblem(self.path, line, col, ("warning: " if err.warning else "") + err.message)


def builtin_dir() -> Path:
    return Path(str(resources.files("watchfloor.rules")))


def resolve_rule_paths(specs: Iterable[str]) -> list[Path]:
    """`builtin:NAME` (a bundled pack), a YAML file, or a directory of *.yaml / *.yml files."""
    out: list[Path] = []
    for spec in specs:
        if spec.startswith("builtin:"):
            name = spec.split(":", 1)[1]
            p = builtin_dir() / f"{name}.yaml"
            if not p.is_file():
                known = ", ".join(sorted(f"builtin:{q.stem}" for q in builtin_dir().glob("*.yaml")))
                raise RuleLoadError([RuleProblem(spec, 0, 0, f"no bundled rule pack {name!r} (bundled: {known})")])
            out.append(p)
            continue
        p = Path(spec)
        if p.is_dir():
            out.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        elif p.is_file():
            out.append(p)
        else:
            raise RuleLoadError([RuleProblem(spec, 0, 0, "no such rule file or directory")])
    return out


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


def _check_conditions(node: Any, loc: list[Any], problems: list[tuple[list[Any], str]]) -> None:
    """Friendlier errors for match trees than pydantic's union messages."""
    if isinstance(node, str):
        if not node.strip():
            problems.append((loc, "empty phrase"))
        return
    if isinstance(node, dict):
        keys = list(node)
        unknown = [k for k in keys if k not in CONDITION_KEYS]
        if unknown:
            problems.append(
                ([*loc, unknown[0]], f"unknown key {unknown[0]!r} in a condition (use any, all, none or regex)")
            )
            return
        if not keys:
            problems.append((loc, "an empty condition: use any, all, none or regex"))
            return
        for k in keys:
            if k == "regex":
                if not isinstance(node[k], str):
                    problems.append(([*loc, k], "regex must be a string"))
                continue
            items = node[k]
            if not isinstance(items, list) or not items:
                problems.append(([*loc, k], f"'{k}' takes a non-empty list of conditions"))
                continue
            for i, item in enumerate(items):
                _check_conditions(item, [*loc, k, i], problems)
        return
    problems.append((loc, f"a condition is a phrase or a mapping, not {type(node).__name__}"))


def _pydantic_message(err: Mapping[str, Any]) -> str:
    typ = err.get("type")
    loc = err.get("loc", ())
    if typ == "extra_forbidden":
        return f"unknown key {loc[-1]!r}"
    if typ == "missing":
        return f"missing required key {loc[-1]!r}"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


def load_pack_file(path: Path) -> LoadedPack:
    """Parse and validate one rule file. Raises RuleLoadError with every problem found."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise RuleLoadError([RuleProblem(name, 1, 1, f"not valid UTF-8 at byte {e.start}")]) from None
    except OSError as e:
        raise RuleLoadError([RuleProblem(name, 0, 0, f"cannot read: {e.strerror}")]) from None
    return load_pack_text(text, name)


def _fast_yaml() -> YAML:
    # ruamel's C parser (ruamel.yaml.clib) when installed: ~30x faster than the round-trip loader on big
    # packs. Positions are not kept: a file with a problem is composed again to place it.
    return YAML(typ="safe", pure=False)


def _load_data(text: str) -> Any:
    """The file's data. A pack written as JSON (valid YAML 1.2, e.g. generated) is read by orjson; YAML by
    libyaml (PyYAML's C parser) with YAML 1.2's core schema, as ruamel reads it (`yes` and `no` stay
    words: a cue list may hold "no"), about twice as fast as ruamel's C loader on a big pack."""
    if text.lstrip()[:1] == "{":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # YAML that starts with a flow mapping: the YAML parser reads it
    if _Core12Loader is None:
        return _fast_yaml().load(io.StringIO(text))
    try:
        return pyyaml.load(text, Loader=_Core12Loader)
    except pyyaml.YAMLError:
        return _fast_yaml().load(io.StringIO(text))  # its error message and place, as everywhere else


def _core12_loader() -> Any:
    """A libyaml loader that resolves plain scalars by YAML 1.2's core schema (as ruamel does), or None
    without libyaml."""
    if not getattr(pyyaml, "__with_libyaml__", False):
        return None

    class Loader(pyyaml.CSafeLoader):  # type: ignore[misc]
        pass

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
        # libyaml keeps the last of duplicate keys; YAML forbids them (ruamel says where): refuse, so the
        # file is read again by ruamel for its message.
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = (key_node.tag, key_node.value) if isinstance(key_node.value, str) else None
            if key is not None:
                if key in seen:
                    raise pyyaml.constructor.ConstructorError(None, None, "duplicate key", key_node.start_mark)
                seen.add(key)
        return loader.construct_yaml_map(node)

    Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
    Loader.add_constructor("tag:yaml.org,2002:int", _int)
    Loader.add_constructor("tag:yaml.org,2002:float", _float)
    return Loader


_Core12Loader = _core12_loader()


def _compose(text: str) -> Any:
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


def _parse(text: str, name: str) -> LoadedPack:
    """Parse and validate one rule file (no compiling). Raises RuleLoadError with every problem."""
    try:
        data = _load_data(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise RuleLoadError([RuleProblem(name, line, col, f"YAML syntax: {e.problem or e.context}")]) from None
    except Exception as e:  # the C parser's own errors (e.g. duplicate keys) carry no mark
        raise RuleLoadError([RuleProblem(name, 1, 1, f"YAML: {e}")]) from None
    if not isinstance(data, dict):
        raise RuleLoadError(
            [RuleProblem(name, 1, 1, "a rule file is a mapping with name, entities, signals, detections")]
        )
    loaded = LoadedPack(name, None, text)  # type: ignore[arg-type]
    # Only a file with anchors and aliases can stand for more than it holds: the walk is for those.
    bomb = alias_expansion_problem(data, name, position=loaded.position) if "&" in text and "*" in text else None
    if bomb is not None:
        raise RuleLoadError([bomb])
    problems: list[tuple[list[Any], str]] = []
    signals = data.get("signals")
    if isinstance(signals, dict):
        for sname, sdef in signals.items():
            if isinstance(sdef, dict) and "match" in sdef:
                _check_conditions(sdef["match"], ["signals", sname, "match"], problems)
            if isinstance(sdef, dict) and isinstance(sdef.get("context"), dict) and "words" in sdef["context"]:
                _check_conditions(sdef["context"]["words"], ["signals", sname, "context", "words"], problems)
    out: list[RuleProblem] = []
    for loc, msg in problems:
        line, col = loaded.position(loc)
        out.append(RuleProblem(name, line, col, msg))
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as e:
        seen: set[tuple[int, int]] = set()
        for err in e.errors():
            loc = list(err["loc"])
            if len(loc) >= 3 and loc[0] == "signals" and loc[2] in ("match", "context") and problems:
                continue  # already explained above, without union noise
            line, col = loaded.position(loc, at_key=err.get("type") == "extra_forbidden")
            if (line, col) in seen:
                continue  # one message per place: the first branch of a union is the clearest
            seen.add((line, col))
            out.append(RuleProblem(name, line, col, _pydantic_message(err)))
        raise RuleLoadError(out) from None
    if out:
        raise RuleLoadError(out)
    loaded.pack = pack
    return loaded


def load_pack_text(text: str, name: str = "<rules>") -> LoadedPack:
    """Parse, validate and compile one rule pack on its own."""
    loaded = _parse(text, name)
    try:
        compile_packs([loaded.pack])
    except CompileErrors as ce:
        raise RuleLoadError([loaded.problem(err) for err in ce.errors]) from None
    return loaded


def load_rules(specs: Iterable[str]) -> tuple[list[LoadedPack], CompiledRules]:
    """Load every pack the specs name and compile them together, once. Collects problems from all
    files before raising; warnings are in the result's `warnings` (see `warning_problems`)."""
    # Parsing and validating a big pack makes millions of objects that all live on: pause the cyclic
    # collector, which would walk them again and again (compile_packs does the same).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_rules(specs)
    finally:
        if enabled:
            gc.enable()


def _load_rules(specs: Iterable[str]) -> tuple[list[LoadedPack], CompiledRules]:
    specs = list(specs)
    paths = resolve_rule_paths(specs)
    loaded: list[LoadedPack] = []
    problems: list[RuleProblem] = []
    for p in paths:
        name = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            problems.append(RuleProblem(name, 1, 1, f"not valid UTF-8 at byte {e.start}"))
            continue
        except OSError as e:
            problems.append(RuleProblem(name, 0, 0, f"cannot read: {e.strerror}"))
            continue
        try:
            loaded.append(_parse(text, name))
        except RuleLoadError as e:
            problems.extend(e.problems)
    if problems:
        raise RuleLoadError(problems)
    if not loaded:
        raise RuleLoadError([RuleProblem(",".join(specs), 0, 0, "no rule files found")])
    try:
        compiled = compile_packs([lp.pack for lp in loaded])
    except CompileErrors as ce:
        raise RuleLoadError([loaded[err.pack].problem(err) for err in ce.errors]) from None
    return loaded, compiled


def warning_problems(loaded: Sequence[LoadedPack], compiled: CompiledRules) -> list[RuleProblem]:
    """The compiled rules' warnings, placed in their files."""
    return sorted(loaded[w.pack].problem(w) for w in compiled.warnings)


def migrate_text(text: str) -> str:
    """A version 1 pack rewritten as version 2 with `morphology: exact`, which keeps its behaviour
    (phrases match words as written); comments and layout are kept. A version 2 pack is returned as is."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the user's lines
    tree = yaml.load(io.StringIO(text))
    if not isinstance(tree, CommentedMap):
        raise RuleLoadError([RuleProblem("<rules>", 1, 1, "a rule file is a mapping")])
    if tree.get("version", 1) != 1:
        return text
    if "version" in tree:
        tree["version"] = 2
    else:
        tree.insert(0, "version", 2)
    if "morphology" not in tree:
        keys = list(tree.keys())
        after = max((keys.index(k) for k in ("version", "name", "description", "language") if k in keys), default=0)
        tree.insert(after + 1, "morphology", "exact")
    buf = io.StringIO()
    yaml.dump(tree, buf)
    return buf.getvalue()
