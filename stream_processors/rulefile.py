"""Load rule packs from YAML with positions, so every error reads FILE:LINE:COL: message."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from watchfloor.schemas.rules import RulePack

from .engine.compiler import CompiledRules, CompileErrors, compile_packs

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
    tree: Any  # the ruamel tree, for positions

    def position(self, loc: Iterable[Any]) -> tuple[int, int]:
        return yaml_position(self.tree, loc)


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


def load_pack_text(text: str, name: str = "<rules>") -> LoadedPack:
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(io.StringIO(text))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise RuleLoadError([RuleProblem(name, line, col, f"YAML syntax: {e.problem or e.context}")]) from None
    if not isinstance(tree, CommentedMap):
        raise RuleLoadError(
            [RuleProblem(name, 1, 1, "a rule file is a mapping with name, entities, signals, detections")]
        )
    data = plain(tree)
    problems: list[tuple[list[Any], str]] = []
    signals = data.get("signals")
    if isinstance(signals, dict):
        for sname, sdef in signals.items():
            if isinstance(sdef, dict) and "match" in sdef:
                _check_conditions(sdef["match"], ["signals", sname, "match"], problems)
    out: list[RuleProblem] = []
    for loc, msg in problems:
        line, col = yaml_position(tree, loc)
        out.append(RuleProblem(name, line, col, msg))
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as e:
        seen: set[tuple[int, int]] = set()
        for err in e.errors():
            loc = list(err["loc"])
            if len(loc) >= 3 and loc[0] == "signals" and loc[2] == "match" and problems:
                continue  # already explained above, without union noise
            line, col = yaml_position(tree, loc, at_key=err.get("type") == "extra_forbidden")
            if (line, col) in seen:
                continue  # one message per place: the first branch of a union is the clearest
            seen.add((line, col))
            out.append(RuleProblem(name, line, col, _pydantic_message(err)))
        raise RuleLoadError(out) from None
    if out:
        raise RuleLoadError(out)
    loaded = LoadedPack(name, pack, tree)
    try:
        compile_packs([pack])
    except CompileErrors as ce:
        raise RuleLoadError([RuleProblem(name, *loaded.position(err.path), err.message) for err in ce.errors]) from None
    return loaded


def load_rules(specs: Iterable[str]) -> tuple[list[LoadedPack], CompiledRules]:
    """Load and compile every pack the specs name. Collects problems from all files before raising."""
    paths = resolve_rule_paths(specs)
    loaded: list[LoadedPack] = []
    problems: list[RuleProblem] = []
    for p in paths:
        try:
            loaded.append(load_pack_file(p))
        except RuleLoadError as e:
            problems.extend(e.problems)
    if problems:
        raise RuleLoadError(problems)
    if not loaded:
        raise RuleLoadError([RuleProblem(",".join(specs), 0, 0, "no rule files found")])
    try:
        compiled = compile_packs([lp.pack for lp in loaded])
    except CompileErrors as ce:
        last = loaded[-1]
        raise RuleLoadError(
            [RuleProblem(last.path, *last.position(err.path), err.message) for err in ce.errors]
        ) from None
    return loaded, compiled
