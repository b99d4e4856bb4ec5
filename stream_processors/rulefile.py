"""Load rule packs from YAML with positions, so every error reads FILE:LINE:COL: message."""

from __future__ import annotations

import functools
import gc
import io
import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from watchfloor.schemas.inputs import InputError, parse_document
from watchfloor.schemas.rules import (
    COUNTRY_SET,
    SLUG,
    ContextReq,
    Corroboration,
    CountPattern,
    DetectionDef,
    Example,
    MentionReq,
    Pattern,
    RulePack,
    SignalDef,
    SignalRef,
)
from watchfloor.schemas.spellings import SOURCE_KEY, EntityValues

from . import forms_cache
from .engine.checks import alias_tie_warnings, shared_entity_warnings
from .engine.compiler import CompiledRules, CompileErrors, RuleError, compile_packs
from .yamlfile import MAX_YAML_NODES as MAX_YAML_NODES
from .yamlfile import RuleProblem as RuleProblem
from .yamlfile import alias_expansion_problem as alias_expansion_problem
from .yamlfile import compose, load_data, node_position
from .yamlfile import plain as plain
from .yamlfile import yaml_position as yaml_position

log = logging.getLogger(__name__)
# The merge warnings this process has logged: a command that loads its packs twice (the runner, the notifier's
# catalog) says each once.
_SAID: set[str] = set()

CONDITION_KEYS = ("any", "all", "none", "regex")

forms_cache.install()  # English word forms from the user's cache, not lemminflect's slow tables


class RuleLoadError(ValueError):
    """One or more problems in rule files; str() lists them one per line as FILE:LINE:COL: message."""

    def __init__(
        self,
        problems: Sequence[RuleProblem],
        *,
        loaded: Sequence[LoadedPack] = (),
        warnings: Sequence[RuleProblem] = (),
    ) -> None:
        self.problems = sorted(problems)
        # When the packs parsed but did not compile: the packs, and the warnings of the same pass, so that
        # `rules check` can say everything it found at once (its examples' problems too), not in rounds.
        self.loaded = list(loaded)
        self.warnings = sorted(warnings)
        # Set by _parse when a pack does not fit the schema: the pack without what did not fit, for the checks
        # of the rest (load_rules(every_problem=True)), and the names of the signals and detections left out.
        self.partial: LoadedPack | None = None
        self.left_out: set[str] = set()
        # And the pack with the parts the schema refused mended where that is sound (Mended), for their own checks.
        self.mended: Mended | None = None
        # Set by _load_rules(every_problem=True): every file's Mended and the examples of the refused detections it
        # could not mend, so that `rules check` says those examples' problems in the same run (example_problems).
        self.mended_all: list[Mended] = []
        self.refused_examples: list[RefusedExamples] = []
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class LoadedPack:
    path: str
    pack: RulePack
    text: str  # the file's text, read again (composed, not constructed) only to place problems
    _nodes: Any = None
    # A pack that did not fit the schema, checked further without what did not fit (`partial_pack`): per detection
    # of `pack`, its index in the file and those of its examples, so that problems are placed in the file.
    kept: tuple[tuple[int, tuple[int, ...]], ...] | None = None

    def position(self, loc: Iterable[Any], *, at_key: bool = False) -> tuple[int, int]:
        loc = list(loc)
        if self.kept is not None and len(loc) >= 2 and loc[0] == "detections" and isinstance(loc[1], int):
            det, examples = self.kept[loc[1]]
            loc[1] = det
            if len(loc) >= 4 and loc[2] == "examples" and isinstance(loc[3], int):
                loc[3] = examples[loc[3]]
        if self._nodes is None:
            try:
                self._nodes = compose(self.text)
            except MarkedYAMLError as e:
                # The file loaded, but the composer that places problems reads it otherwise (`[a:b]`: a mapping in
                # a flow sequence for one, an unexpected ':' for the other). Such YAML means different things to
                # different readers: say where, as a syntax error, rather than fail with a traceback.
                mark = e.problem_mark or e.context_mark
                line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                what = f"YAML syntax: {e.problem or e.context}"
                if ":" in (e.problem or ""):
                    what += " (a ':' in a plain value: write 'key: value' with a space, or quote the value)"
                raise RuleLoadError([RuleProblem(self.path, line, col, what)]) from None
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
            hint = misplaced_key(unknown[0], "match") if loc[2:3] == ["match"] else None
            problems.append(
                (
                    [*loc, unknown[0]],
                    f"unknown key {unknown[0]!r} in a condition (use any, all, none or regex"
                    + (f"; {hint})" if hint else ")"),
                )
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


def _fields(loc: Sequence[Any]) -> tuple[Any, ...]:
    """A pydantic error's place without its union branch tags ("list[...]", "literal[...]", "function-...")."""
    return tuple(p for p in loc if not isinstance(p, str) or p.isidentifier())


def _union_errors_merged(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic reports a value that fits no branch of a union once per branch. Keep what an author can act on:
    a branch that failed deeper (a `modality` inside `{signal, modality}`) over one that failed at the value
    itself ("any: Input should be a valid list"); and the choices of all branches at one place in one message
    ("'asserted', …, 'negated', 'any' or a list of them"), not the first branch's alone."""
    branched = {id(e) for e in errors if _fields(e["loc"]) != tuple(e["loc"])}
    deeper = {_fields(e["loc"]) for e in errors if id(e) in branched}
    out: list[dict[str, Any]] = []
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for err in errors:
        fields = _fields(err["loc"])
        if id(err) in branched and any(len(d) > len(fields) and d[: len(fields)] == fields for d in deeper):
            continue  # another branch got further into the value: its error says more
        if id(err) in branched and err.get("type") in ("literal_error", "list_type"):
            first = merged.get(fields)
            if first is None:
                merged[fields] = first = {**err, "choices": [], "list": False}
                out.append(first)
            if err.get("type") == "list_type":
                first["list"] = True
            else:
                first["choices"].append(str((err.get("ctx") or {}).get("expected", "")))
            continue
        out.append(dict(err))
    for m in merged.values():
        if m["choices"] and (len(m["choices"]) > 1 or m["list"]):
            options = ", ".join(c.replace(" or ", ", ") for c in m["choices"] if c)
            m["type"], m["msg"] = (
                "union_choices",
                f"Input should be one of {options}" + (", or a list of them" if m["list"] else ""),
            )
    return out


@functools.cache
def known_keys(root: type[BaseModel]) -> frozenset[str]:
    """Every key a schema (`root` and every model under it) knows, anywhere (for "did you mean")."""
    keys: set[str] = set()
    stack: list[Any] = [root]
    seen: set[Any] = set()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for fname, field in model.model_fields.items():
            keys.add(field.alias or fname)
            for arg in _type_args(field.annotation):
                if isinstance(arg, type) and hasattr(arg, "model_fields"):
                    stack.append(arg)
    return frozenset(keys)


def unknown_key(key: object, root: type[BaseModel]) -> str:
    """`unknown key 'rule' (did you mean 'rules'?)`: the closest key `root`'s schema knows anywhere, if one is close."""
    from difflib import get_close_matches

    # Not the key itself: one known elsewhere ('detection' in a reference) is unknown here (the top level).
    close = get_close_matches(str(key), sorted(known_keys(root) - {str(key)}), n=1, cutoff=0.75)
    return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _keys(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(f.alias or name for name, f in model.model_fields.items())


_SIGNAL, _DETECTION, _REFERENCE = _keys(SignalDef), _keys(DetectionDef), _keys(SignalRef)
_MENTIONS, _COUNT = _keys(MentionReq), _keys(CountPattern) - _REFERENCE
# Where a key of one level belongs when it is written at a level beside it (outside trial 51, L5: `none:` beside a
# signal's `match:`): per level, the places to name, each with the keys it takes (not those the level takes itself).
_NEARBY: dict[str, tuple[tuple[frozenset[str], str], ...]] = {
    "signal": (
        (frozenset(CONDITION_KEYS), "under `match:` (match.{k})"),
        (_MENTIONS, "for entities, under `mentions:` (mentions.{k})"),
        (_keys(ContextReq) - _MENTIONS, "under `context:` (context.{k})"),
    ),
    "match": ((_SIGNAL, "to the signal itself, beside `match:`"),),
    "mentions": ((_SIGNAL, "to the signal itself, beside `mentions:`"),),
    "context": ((_SIGNAL, "to the signal itself, beside `context:`"),),
    "detection": (
        (_keys(Corroboration), "under `corroborate:` (corroborate.{k})"),
        (_keys(Pattern), "under `pattern:` (pattern.{k})"),
        (_COUNT, "for a count, under `pattern: {{count: …}}` (pattern.count.{k})"),
        (_REFERENCE, "in a reference of `pattern:` (e.g. any: {{signal: …, {k}: …}})"),
        (_SIGNAL, "to a signal, under `signals:`"),
    ),
    "corroborate": ((_DETECTION, "to the detection itself, beside `corroborate:`"),),
    "pattern": (
        (_DETECTION, "to the detection itself, beside `pattern:`"),
        (_COUNT, "under `count:` (pattern.count.{k})"),
        (_REFERENCE, "in a reference of `pattern:` (e.g. any: {{signal: …, {k}: …}})"),
    ),
    "count": (
        (_REFERENCE, "in the counted reference (count: {{signal: {{signal: …, {k}: …}}}})"),
        (_DETECTION, "to the detection itself, beside `pattern:`"),
    ),
    "reference": (
        (_DETECTION, "to the detection itself, beside `pattern:`"),
        (_COUNT, "under `count:` (pattern.count.{k})"),
    ),
}


def _level(where: Sequence[Any]) -> str | None:
    """The level of the mapping at `where` (a place in a pack, without union branch tags) that `_NEARBY` knows."""
    head, rest = (where[0], tuple(where[2:])) if len(where) >= 2 else (None, ())
    if head == "signals":
        return {(): "signal", ("mentions",): "mentions", ("context",): "context"}.get(rest)
    if head != "detections":
        return None
    if rest in ((), ("corroborate",), ("pattern",), ("pattern", "count")):
        return {(): "detection", ("corroborate",): "corroborate", ("pattern",): "pattern"}.get(rest, "count")
    if rest[:1] == ("pattern",) and (rest[-1] in ("any", "signal", "first", "then_not") or isinstance(rest[-1], int)):
        return "reference"
    return None


def misplaced_key(key: object, level: str) -> str | None:
    """Where a key unknown at `level` belongs, when a level beside it takes it ("`none` belongs under `match:`
    (match.none)"); None for a key no level near takes ("did you mean" says the rest)."""
    places = [how.format(k=key) for keys, how in _NEARBY.get(level, ()) if str(key) in keys]
    if not places:
        return None
    said = places[0]
    for place in places[1:]:
        said += (" or, " if place.startswith("for ") else " or ") + place
    return f"`{key}` belongs {said}"


def _type_args(tp: Any) -> list[Any]:
    from typing import get_args

    out, stack = [], [tp]
    while stack:
        t = stack.pop()
        out.append(t)
        stack.extend(get_args(t))
    return out


# A required key whose place alone does not say what it is: (the mapping it is missing from, the key) -> what it is.
_REQUIRED = {
    ("corroborate", "severity"): (
        "of corroborate: the severity of the corroborated alert (raised to it, confirmed, once enough distinct "
        "sources report the group; e.g. severity: high)"
    ),
    ("corroborate", "within"): (
        "of corroborate: how close in time the corroborating reports must be (e.g. within: 72h)"
    ),
}


def slug_like(text: str) -> str:
    """`text` as a lower-case slug ('Karabakh Pack' -> 'karabakh-pack'), "" when nothing of it fits."""
    out = re.sub(r"[^a-z0-9_-]+", "-", text.strip().lower())
    return re.sub(r"^[-_]+", "", out).rstrip("-")


# What an {any, none} condition other than a country one says for an unknown key in it.
_LEFT_OUT_EXAMPLE = {
    "event_codes": 'event_codes takes any and none: {none: ["19"]}',
    "quad_classes": "quad_classes takes any and none: {none: [4]}",
}


def _pydantic_message(err: Mapping[str, Any]) -> str:
    typ = err.get("type")
    loc = err.get("loc", ())
    if typ == "extra_forbidden":
        if len(loc) >= 2 and loc[-2] == COUNTRY_SET:
            # (outside trial 70, M4: "any actor but the USA" is `none:`, as a signal's mentions write it)
            example = _LEFT_OUT_EXAMPLE.get(
                str(loc[-3]) if len(loc) >= 3 else "", "a country condition takes any and none: {none: [USA]}"
            )
            return f"unknown key {loc[-1]!r} ({example} leaves them out)"
        level = _level(_fields(loc[:-1]))
        hint = misplaced_key(loc[-1], level) if level else None
        return f"unknown key {loc[-1]!r} ({hint})" if hint else unknown_key(loc[-1], RulePack)
    if typ == "missing":
        fields = [p for p in loc[:-1] if isinstance(p, str) and p.isidentifier()]
        what = _REQUIRED.get((fields[-1] if fields else "", str(loc[-1])))
        return f"missing required key {loc[-1]!r}" + (f" {what}" if what else "")
    if typ == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == SLUG:
        # Not the regular expression (outside trial 28, F9): what a slug is, and the name made one.
        field = next((p for p in reversed(loc) if isinstance(p, str)), "name")
        given = err.get("input")
        example = slug_like(given) if isinstance(given, str) else ""
        return (
            f"{field}: {given!r} is not a lower-case slug (letters a-z, digits, '-' and '_', starting with a letter "
            "or digit" + (f"; e.g. {example!r})" if example and example != given else ")")
        )
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]  # our own validators' messages name their field already
    # pydantic's own ("Input should be a valid integer"): say which field, and what was given.
    names = [p for p in loc if isinstance(p, str) and p.isidentifier()]  # not union branches ("literal[...]")
    given = err.get("input")
    if isinstance(given, str | int | float) and not isinstance(given, bool):
        shown = repr(given)
        msg += f" (got {shown[:77] + '...' if len(shown) > 80 else shown})"
    return f"{names[-1]}: {msg}" if names else msg


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


def _parse(text: str, name: str) -> LoadedPack:
    """Parse and validate one rule file (no compiling). Raises RuleLoadError with every problem."""
    try:
        data = load_data(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax: {e.problem or e.context}"
        if e.problem and e.problem.startswith("found duplicate key"):
            # ruamel shows both values as it holds them ("{}" for any mapping, whatever it holds): the key says more.
            key = e.problem.split(" with value ", 1)[0].removeprefix("found ")
            where = f" (the mapping from line {e.context_mark.line + 1})" if e.context_mark is not None else ""
            message = f"{key}: a key may appear once in a mapping{where}"
        raise RuleLoadError([RuleProblem(name, line, col, message)]) from None
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
        seen: set[tuple[int, int, str]] = set()
        errors = _union_errors_merged(e.errors())
        for err in errors:
            loc = list(err["loc"])
            if len(loc) >= 3 and loc[0] == "signals" and loc[2] in ("match", "context") and problems:
                continue  # already explained above, without union noise
            line, col = loaded.position(loc, at_key=err.get("type") == "extra_forbidden")
            # One message per place: the first branch of a union is the clearest. But each key missing from one
            # mapping is said, all placed at the mapping (a corroborate without `within` and `severity`: trial 51, M5).
            missing = str(loc[-1]) if err.get("type") == "missing" and loc else ""
            if (line, col, missing) in seen:
                continue
            seen.add((line, col, missing))
            out.append(RuleProblem(name, line, col, _pydantic_message(err)))
        # (a match or context the condition walk explained: its union noise is no place to mend, as it is no message)
        said = [
            e["loc"]
            for e in errors
            if not (
                len(e["loc"]) >= 3 and e["loc"][0] == "signals" and e["loc"][2] in ("match", "context") and problems
            )
        ]
        raise _with_partial(
            RuleLoadError(out),
            data,
            [loc for loc, _m in problems] + [e["loc"] for e in errors],
            loaded,
            [loc for loc, _m in problems] + said,
        ) from None
    if out:
        locs = [loc for loc, _m in problems]
        raise _with_partial(RuleLoadError(out), data, locs, loaded, locs)
    loaded.pack = pack
    return loaded


def _with_partial(
    err: RuleLoadError,
    data: dict[str, Any],
    locs: Sequence[Sequence[Any]],
    at: LoadedPack,
    mend_locs: Sequence[Sequence[Any]] = (),
) -> RuleLoadError:
    try:
        got = partial_pack(data, locs)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        got = None  # a shape too odd to take apart: its schema errors alone, as before
    if got is not None:
        pack, kept, left_out = got
        err.partial = LoadedPack(at.path, pack, at.text, at._nodes, kept)
        err.left_out = left_out
        try:
            err.mended = _mended(data, locs, mend_locs, at)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            err.mended = None  # (the parts refused stay left out, as before)
        err.refused_examples = _refused_examples(data, locs, err.mended, at)
    return err


@dataclass
class RefusedExamples:
    """The examples of a detection the schema refused and Mended could not stand in for (its pattern refused as a
    whole, say): they are checked without it (example_problems: their documents and the entities they name; not their
    keys, which would need the detection, unless its own group_by fit the schema)."""

    at: LoadedPack  # the file (its positions are the file's own)
    index: int  # the detection's index in the file
    id: str
    group_by: list[str] | None  # None: refused or not known
    examples: list[tuple[int, Example]]  # those that fit the schema, each with its index in the file


def _refused_examples(
    data: dict[str, Any], locs: Sequence[Sequence[Any]], mended: Mended | None, at: LoadedPack
) -> list[RefusedExamples]:
    """The examples of each detection the schema refused that could not be mended (see RefusedExamples)."""
    detections = data.get("detections")
    if not isinstance(detections, list):
        return []
    refused: set[int] = set()
    bad_examples: set[tuple[int, int]] = set()
    for raw in locs:
        loc = _fields(raw)
        if len(loc) >= 2 and loc[0] == "detections" and isinstance(loc[1], int):
            if len(loc) >= 4 and loc[2] == "examples" and isinstance(loc[3], int):
                bad_examples.add((loc[1], loc[3]))  # (its own errors are said)
            else:
                refused.add(loc[1])
    out = []
    for i in sorted(refused):
        det = detections[i] if 0 <= i < len(detections) else None
        if not isinstance(det, dict) or not isinstance(det.get("examples"), list) or not det["examples"]:
            continue
        if mended is not None and ("detections", i) in mended.parts:
            continue  # (its examples are checked in the mended pack)
        examples = []
        for j, ex in enumerate(det["examples"]):
            if (i, j) in bad_examples:
                continue
            try:
                examples.append((j, Example.model_validate(ex)))
            except ValidationError:
                continue
        group_by = det.get("group_by", [])
        good_group_by = isinstance(group_by, list) and all(isinstance(k, str) for k in group_by)
        did = det["id"] if isinstance(det.get("id"), str) else f"#{i + 1}"
        out.append(RefusedExamples(at, i, did, list(group_by) if good_group_by else None, examples))
    return out


# A stand-in for a condition the schema refused: a regex (no phrase to compare, no "needs a phrase" to say) that
# stands where the refused condition was, so that the rest of the match and of the signal is checked.
_STAND_IN_REGEX = r"\x00"


@dataclass
class Mended:
    """A pack the schema refused in part, with the signals and detections it refused mended where that is sound: the
    refused field dropped (its default), or a neutral stand-in for a required one (a title without placeholders, a
    regex for a condition, a window of 1d), so that the rest of each such part gets its semantic checks in the same
    run as its schema error (outside trial 29, F4). Only problems inside a mended part are taken from it (the others
    are the partial pack's, where the part is left out), and not those at a refused field or that follow from one
    (`unjudged`: a detection whose group_by was refused has no title check; one taking a signal whose captures were
    refused, or a detection whose group_by was, no check of its keys)."""

    loaded: LoadedPack
    parts: set[tuple[str, Any]]  # ("signals", name) / ("detections", index in the file) of each mended part
    unjudged: list[tuple[Any, ...]]  # paths (in the file) under which nothing is said
    left_out: set[str]  # what is still left out (as RuleLoadError.left_out)
    opaque: set[str]  # the mended signals (detections) whose captures (group keys) are not known


def _mended(
    data: dict[str, Any], locs: Sequence[Sequence[Any]], mend_locs: Sequence[Sequence[Any]], at: LoadedPack
) -> Mended | None:
    """The pack with its refused signals and detections mended (see Mended); None when none can be."""
    import copy

    per_part: dict[tuple[str, Any], list[tuple[Any, ...]]] = {}
    for raw in mend_locs:
        loc = _fields(raw)
        if len(loc) >= 2 and loc[0] in ("signals", "detections"):
            if loc[0] == "detections" and len(loc) >= 4 and loc[2] == "examples":
                continue  # an example: left out alone already
            per_part.setdefault((loc[0], loc[1]), []).append(tuple(loc[2:]))
    signals, detections = data.get("signals"), data.get("detections")
    fixed: dict[tuple[str, Any], dict[str, Any]] = {}
    unjudged: list[tuple[Any, ...]] = []
    opaque: set[str] = set()  # signals whose captures, detections whose group keys, are not known
    ids: dict[int, str] = {}  # detection (index in the file) -> its id as written, for a stand-in that fit the schema
    for (head, key), rels in per_part.items():
        raw = (signals if head == "signals" else detections)[key]  # type: ignore[index]
        if not isinstance(raw, dict):
            continue
        part = copy.deepcopy(raw)
        ok = True
        for rel in rels:
            unjudged.append((head, key, *rel))
            if _dropped(raw, part, rel):
                continue  # what holds it went with an earlier field refused there (a block missing two keys)
            how = _mend(part, list(rel), head)
            if how is None:
                ok = False
                break
            if how == "opaque":
                opaque.add(str(raw.get("id") if head == "detections" else key))
                if head == "detections":
                    unjudged.append((head, key, "title"))
        if not ok:
            continue
        if head == "detections" and part.get("id") != raw.get("id"):
            ids[key] = raw["id"]
        try:
            (SignalDef if head == "signals" else DetectionDef).model_validate(part)
        except ValidationError:
            continue  # (what is left does not fit either: the part stays left out)
        fixed[(head, key)] = part
    if not fixed:
        return None
    rest = dict(data)
    if isinstance(signals, dict):
        rest["signals"] = {k: fixed.get(("signals", k), v) for k, v in signals.items()}
    if isinstance(detections, list):
        rest["detections"] = [fixed.get(("detections", i), d) for i, d in enumerate(detections)]
    others = [loc for loc in locs if tuple(_fields(loc)[:2]) not in fixed]
    got = partial_pack(rest, others)
    if got is None:
        return None
    pack, kept, left_out = got
    for j, (i, _examples) in enumerate(kept):
        if i in ids:  # its own id, as written, in its messages and references (the schema said what is wrong with it)
            pack.detections[j] = pack.detections[j].model_copy(update={"id": ids[i]})
        d = pack.detections[j]
        if ("detections", i) in fixed and any(
            (r.signal if r.signal is not None else r.detection) in opaque for r in d.pattern.refs()
        ):
            # Its inputs' keys are not known: its group_by, title and `where` keys are not judged.
            unjudged += [("detections", i, "group_by"), ("detections", i, "title")]
            unjudged += [
                ("detections", i, "pattern", d.pattern.kind, ri, "where") for ri in range(len(d.pattern.refs()))
            ]
    return Mended(LoadedPack(at.path, pack, at.text, at._nodes, kept), set(fixed), unjudged, left_out, opaque)


def _dropped(raw: Any, part: Any, rel: Sequence[Any]) -> bool:
    """Whether a key on the path `rel`, there in the part as written (`raw`), is gone from the part being mended
    (`part`): an earlier mend dropped or replaced what holds the field refused at `rel`, which needs no mending then.
    A path that is not in `raw` either (a required key missing) is not dropped: its own mend says what stands in."""
    for k in rel:
        if isinstance(raw, dict) and k in raw:
            if not isinstance(part, dict) or k not in part:
                return True
        elif isinstance(raw, list) and isinstance(k, int) and 0 <= k < len(raw):
            if not isinstance(part, list) or not 0 <= k < len(part):
                return True
        else:
            return False
        raw, part = raw[k], part[k]
    return False


def _mend(part: dict[str, Any], rel: list[Any], head: str) -> str | None:
    """Mend a signal's or detection's field the schema refused at `rel` (its place in the part), in place: "ok",
    "opaque" when what the part brings others is no longer known (a signal's captures, a detection's group keys), or
    None when it cannot be mended soundly."""
    from difflib import get_close_matches

    if not rel:
        if head == "detections" and part.get("within") is None:
            part["within"] = "1d"  # (the window a pattern needs: none was given, that error is said)
            return "ok"
        return None
    field = rel[0]
    model = SignalDef if head == "signals" else DetectionDef
    if field not in model.model_fields:
        # An unknown key: dropped. It may have been meant for the key others depend on (a signal's capture, a
        # detection's group_by): when it is close to that key's name or has that key's shape, that key is not known.
        value = part.pop(field, None)
        feeds = "capture" if head == "signals" else "group_by"
        shaped = isinstance(value, dict) if head == "signals" else isinstance(value, list)
        close = get_close_matches(str(field), [feeds], n=1, cutoff=0.6)
        return "opaque" if close or (shaped and feeds not in part) else "ok"
    if head == "signals":
        if field == "match" or rel[:2] == ["context", "words"]:
            base = 1 if field == "match" else 2
            return "ok" if _mend_condition(part, rel[:base], rel[base:]) else None
        if field == "capture":
            caps = part.get("capture")
            if len(rel) >= 2 and isinstance(caps, dict):
                caps.pop(rel[1], None)
            else:
                part.pop("capture", None)
            return "opaque"
        if field in ("language", "morphology"):
            part.pop(field, None)
            part["morphology"] = "exact"  # (words as written: no forms read in a language not meant)
            return "ok"
    else:
        if field == "id":
            if not isinstance(part.get("id"), str):
                return None
            part["id"] = "mended"  # (its own id is put back once the detection fits the schema)
            return "ok"
        if field == "title":
            part["title"] = ""
            return "ok"
        if field == "within":
            part["within"] = "1d"
            return "ok"
        if field == "group_by":
            part.pop("group_by", None)
            return "opaque"
        if field == "corroborate":
            # The whole block: a key of it refused may be a required one (no default to fall back on), and nothing
            # else of the detection is judged by what it holds.
            part.pop("corroborate", None)
            return "ok"
        if field == "pattern":
            if rel[-2:] == ["count", "at_least"] and isinstance(part.get("pattern"), dict):
                part["pattern"]["count"]["at_least"] = 1
                return "ok"
            return "ok" if _drop_at(part, rel) else None
        if field in ("examples", "id"):
            return None
    return "ok" if _drop_at(part, rel) else None


def _drop_at(part: dict[str, Any], rel: list[Any]) -> bool:
    """Drop the deepest key on the path `rel` (a field the schema refused, or the key holding it): its default."""
    node: Any = part
    holders: list[tuple[dict[str, Any], str]] = []
    for k in rel:
        if isinstance(node, dict) and isinstance(k, str) and k in node:
            holders.append((node, k))
            node = node[k]
        elif isinstance(node, list) and isinstance(k, int) and 0 <= k < len(node):
            node = node[k]
        else:
            break
    if not holders:
        return False
    holder, key = holders[-1]
    if key in ("signal", "detection", "first", "then_not", "any", "count", "all_of", "sequence", "absence"):
        return False  # what names the input, or the pattern itself: nothing sound stands in for it
    del holder[key]
    return True


def _mend_condition(part: dict[str, Any], base: list[Any], suffix: list[Any]) -> bool:
    """A condition the schema refused: the refused one (an empty phrase, a mapping with an unknown key, a regex
    that is no string) replaced by the stand-in regex, an unknown or empty key dropped."""
    holder: Any = part
    for k in base[:-1]:
        holder = holder[k]
    key: Any = base[-1]
    path = list(suffix)
    if path and len(path) % 2 == 1:  # a key of a mapping: "regex" that is no string, an unknown key, an empty list
        last = path.pop()
        node = holder[key]
        for k in path:
            node = node[k]
        if last == "regex":
            node["regex"] = _STAND_IN_REGEX
            return True
        node.pop(last, None)
        if node:
            return True
    for k in path:
        holder, key = holder[key], k
    holder[key] = {"regex": _STAND_IN_REGEX}
    return True


def _bare_entity(eid: Any, raw: Any) -> dict[str, Any]:
    """An entity the schema refused, as what of it is usable, so that what names it (`@ID`, a capture, a `where` by
    its name or alias) reads as it would."""
    raw = raw if isinstance(raw, dict) else {}
    name = raw.get("name") if isinstance(raw.get("name"), str) else str(eid)
    aliases = raw.get("aliases") if isinstance(raw.get("aliases"), list) else []
    kind = raw.get("kind") if raw.get("kind") in ("country", "place", "organization", "person", "other") else "other"
    return {
        "name": name,
        "kind": kind,
        "aliases": [a for a in aliases if isinstance(a, str) and a.strip()] or [str(eid)],
    }


def partial_pack(
    data: dict[str, Any], locs: Sequence[Sequence[Any]]
) -> tuple[RulePack, tuple[tuple[int, tuple[int, ...]], ...], set[str]] | None:
    """The pack without the parts the schema refused (at `locs`), so that `rules check` can say what else is wrong
    in one run: a signal or detection that does not fit is left out (an example that does not fit: only it), an
    entity stays as a bare id (other parts name it), a top-level setting takes its default. Returns the pack, per
    detection kept its index in the file and those of its examples, and the names of the signals and detections
    left out, "" for all entities (references to them are no news); None when the rest does not fit either."""
    entities, signals, detections, examples, top = set(), set(), set(), {}, set()  # type: ignore[var-annotated]
    for raw in locs:
        loc = _fields(raw)
        if not loc:
            return None
        head = loc[0]
        if head in ("entities", "signals") and len(loc) >= 2 and isinstance(data.get(head), dict):
            (entities if head == "entities" else signals).add(loc[1])
        elif head == "detections" and len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data.get(head), list):
            if len(loc) >= 4 and loc[2] == "examples" and isinstance(loc[3], int):
                examples.setdefault(loc[1], set()).add(loc[3])
            else:
                detections.add(loc[1])
        else:
            top.add(head)
    rest = {k: v for k, v in data.items() if k not in top}
    if "name" in top:
        rest["name"] = "pack"  # its own error is said; the rest needs a name
    if "version" in top:
        rest["version"] = 2
    left_out: set[str] = set()
    if isinstance(rest.get("entities"), dict):
        rest["entities"] = {k: (_bare_entity(k, v) if k in entities else v) for k, v in rest["entities"].items()}
    elif "entities" in top:
        left_out.add("")  # every entity: its references are no news either
    if isinstance(rest.get("signals"), dict):
        left_out |= {str(k) for k in signals}
        rest["signals"] = {k: v for k, v in rest["signals"].items() if k not in signals}
    elif "signals" in top and isinstance(data.get("signals"), dict):
        left_out |= {str(k) for k in data["signals"]}
    kept: list[tuple[int, tuple[int, ...]]] = []
    if isinstance(rest.get("detections"), list):
        dets = []
        for i, d in enumerate(rest["detections"]):
            if i in detections or not isinstance(d, dict):
                if isinstance(d, dict) and isinstance(d.get("id"), str):
                    left_out.add(d["id"])
                continue
            bad = examples.get(i, set())
            exs = d.get("examples")
            if bad and isinstance(exs, list):
                d = {**d, "examples": [e for j, e in enumerate(exs) if j not in bad]}
                kept.append((i, tuple(j for j in range(len(exs)) if j not in bad)))
            else:
                kept.append((i, tuple(range(len(exs))) if isinstance(exs, list) else ()))
            dets.append(d)
        rest["detections"] = dets
    try:
        pack = RulePack.model_validate(rest)
    except ValidationError:
        return None
    return pack, tuple(kept), left_out


def example_problems(
    loaded: Sequence[LoadedPack], mended: Sequence[Mended] = (), refused: Sequence[RefusedExamples] = ()
) -> list[RuleProblem]:
    """Inline examples that could never pass, for `rules check` (errors there) rather than only `rules test`: a
    document that is not valid input, a group key the detection does not group by, a group value that names no
    entity. Not part of loading: examples change no detection, so a pack with a bad one still runs (`run`,
    `backtest`, `worker`). With `mended` and `refused` (RuleLoadError.mended_all, .refused_examples), the examples
    of the detections the schema refused too (trial 35, M1: a bad `within` hid them): in the part Mended stood in
    for, without the checks that depend on a refused field (Mended.unjudged: a refused group_by leaves the examples'
    group and captures keys unjudged); of a part it could not mend, what needs no detection, and a note that its
    examples' keys are not checked."""
    out: list[RuleProblem] = []
    values = EntityValues(lp.pack for lp in loaded)
    captured = _captured_keys([lp.pack for lp in loaded])
    for lp in loaded:
        for loc, msg in _example_problems(lp.pack, values, captured):
            line, col = lp.position(loc)
            out.append(RuleProblem(lp.path, line, col, msg))
    if mended:
        # The mended packs stand in for their partial ones: the mended detections' signals and keys are in them.
        by_path = {m.loaded.path: m.loaded for m in mended}
        packs = [by_path.get(lp.path, lp) for lp in loaded]
        captured = _captured_keys([lp.pack for lp in packs])
        for m in mended:
            kept = m.loaded.kept or ()
            only = {j for j, (i, _e) in enumerate(kept) if ("detections", i) in m.parts}
            # Its group keys are not known (its group_by refused: opaque), or its inputs' captures (group_by unjudged):
            # whether an example's captures keys are its own is not judged then, its group keys only in the first case.
            groupless = {d.id for j in only if (d := m.loaded.pack.detections[j]).id in m.opaque}
            keyless = groupless | {
                m.loaded.pack.detections[j].id for j in only if ("detections", kept[j][0], "group_by") in m.unjudged
            }
            for loc, msg in _example_problems(
                m.loaded.pack, values, captured, only=only, keyless=keyless, groupless=groupless
            ):
                line, col = m.loaded.position(loc)
                out.append(RuleProblem(m.loaded.path, line, col, msg))
    for r in refused:
        for loc, msg in _detection_example_problems(
            ["detections", r.index], r.id, r.examples, values, None, r.group_by
        ):
            line, col = r.at.position(loc)
            out.append(RuleProblem(r.at.path, line, col, msg))
        if any(ex.captures or (ex.group and r.group_by is None) for _j, ex in r.examples):
            line, col = r.at.position(["detections", r.index, "examples"], at_key=True)
            what = "captures keys" if r.group_by is not None else "group and captures keys"
            out.append(
                RuleProblem(
                    r.at.path,
                    line,
                    col,
                    f"note: detection {r.id!r} does not fit the schema: whether its examples' {what} are its own is "
                    "not checked",
                )
            )
    return out


def _captured_keys(packs: Sequence[RulePack]) -> dict[str, set[str]]:
    """Per detection id, the capture names an example may ask about: its signals' captures (over detections, its
    input detections' group_by keys: what their alerts carry), `place` (the places its reports name) and its own
    group_by keys (as checks.title_placeholders reads them)."""
    signals: dict[str, set[str]] = {}
    for p in packs:
        for sname, sdef in p.signals.items():
            signals.setdefault(sname, set()).update(sdef.capture)
    defined = {d.id: d for p in packs for d in p.detections}
    out: dict[str, set[str]] = {}
    for did, det in defined.items():
        keys = {"place", *det.group_by} - {SOURCE_KEY}
        for ref in det.pattern.refs():
            if ref.signal is not None:
                keys |= signals.get(ref.signal, set())
            elif ref.detection in defined:
                keys |= set(defined[ref.detection].group_by) - {SOURCE_KEY}
        out[did] = keys
    return out


def _example_problems(
    pack: RulePack,
    values: EntityValues,
    captured: dict[str, set[str]],
    *,
    only: set[int] | None = None,
    keyless: Collection[str] = (),
    groupless: Collection[str] = (),
) -> list[tuple[list[Any], str]]:
    """The problems of the examples of `pack`'s detections (those at the indices `only`, when given); for the
    detections in `keyless` (`groupless`), whose captures (group) keys are not known, not whether an example's
    captures (group) key is one of them."""
    problems: list[tuple[list[Any], str]] = []
    for i, det in enumerate(pack.detections):
        if only is not None and i not in only:
            continue
        problems += _detection_example_problems(
            ["detections", i],
            det.id,
            list(enumerate(det.examples)),
            values,
            captured.get(det.id, set()) if det.id not in keyless else None,
            det.group_by if det.id not in groupless else None,
        )
    return problems


def _detection_example_problems(
    where: list[Any],
    did: str,
    examples: Sequence[tuple[int, Example]],
    values: EntityValues,
    keys: set[str] | None,
    group_by: Sequence[str] | None,
) -> list[tuple[list[Any], str]]:
    """One detection's examples' problems (`where`: the detection's place; each example with its index there). With
    `keys` (`group_by`) None, not known, whether a captures (group) key is the detection's is not judged: only the
    entities the values name and the documents are."""
    from difflib import get_close_matches

    problems: list[tuple[list[Any], str]] = []
    for j, ex in examples:
        at = [*where, "examples", j]
        for key, value in (ex.captures or {}).items():
            if keys is not None and key not in keys:
                close = get_close_matches(key, sorted(keys), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    (
                        [*at, "captures", key],
                        f"captures key {key!r}: detection {did!r} captures no {key!r}{hint}; it has "
                        + ", ".join(sorted(keys)),
                    )
                )
                continue
            given = [] if value is None else [value] if isinstance(value, str) else value
            for k, v in enumerate(given):
                eid, problem = values.resolve(f"captures {key}", v)
                if eid is None:
                    place = [*at, "captures", key] if isinstance(value, str) else [*at, "captures", key, k]
                    problems.append((place, problem))
        for k, doc in enumerate(ex.documents):
            try:
                parse_document(dict(doc))
            except InputError as e:
                problems.append(([*at, "documents", k], f"example document: {e}"))
        for key, value in (ex.group or {}).items():
            if group_by is not None and key not in group_by:
                grouped = f"groups by {', '.join(group_by)}" if group_by else "has no group_by"
                problems.append(([*at, "group", key], f"group key {key!r}: detection {did!r} {grouped}"))
            elif key != SOURCE_KEY:
                eid, problem = values.resolve(f"group {key}", value)
                if eid is None:
                    problems.append(([*at, "group", key], problem))
    return problems


def load_pack_text(text: str, name: str = "<rules>") -> LoadedPack:
    """Parse, validate and compile one rule pack on its own."""
    loaded = _parse(text, name)
    try:
        compile_packs([loaded.pack])
    except CompileErrors as ce:
        raise RuleLoadError([loaded.problem(err) for err in ce.errors]) from None
    return loaded


def load_rules(specs: Iterable[str], *, every_problem: bool = False) -> tuple[list[LoadedPack], CompiledRules]:
    """Load every pack the specs name and compile them together, once. Collects problems from all
    files before raising; warnings are in the result's `warnings` (see `warning_problems`). With `every_problem`
    (`rules check`, `rules test`), packs that do not fit the schema are compiled too, without the parts that do
    not fit, so their compile errors and warnings (and in `loaded` their examples) come with the schema errors."""
    # Parsing and validating a big pack makes millions of objects that all live on: pause the cyclic
    # collector, which would walk them again and again (compile_packs does the same).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_rules(specs, every_problem)
    finally:
        if enabled:
            gc.enable()


def _load_rules(specs: Iterable[str], every_problem: bool = False) -> tuple[list[LoadedPack], CompiledRules]:
    specs = list(specs)
    paths = resolve_rule_paths(specs)
    loaded: list[LoadedPack] = []
    problems: list[RuleProblem] = []
    left_out: set[str] = set()
    mended: dict[int, Mended] = {}  # per index in `loaded`
    refused_examples: list[RefusedExamples] = []
    unread = False
    for p in paths:
        name = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            problems.append(RuleProblem(name, 1, 1, f"not valid UTF-8 at byte {e.start}"))
            unread = True
            continue
        except OSError as e:
            problems.append(RuleProblem(name, 0, 0, f"cannot read: {e.strerror}"))
            unread = True
            continue
        try:
            loaded.append(_parse(text, name))
        except RuleLoadError as e:
            problems.extend(e.problems)
            refused_examples.extend(e.refused_examples)
            if e.partial is not None:
                if e.mended is not None:
                    mended[len(loaded)] = e.mended
                loaded.append(e.partial)
                left_out |= e.left_out
            else:
                unread = True
    if problems:
        # A file not read at all (not YAML, no mapping) may define what the others name: their references cannot
        # be checked, so only what was found so far is said, as before.
        if not every_problem or not loaded or unread:
            raise RuleLoadError(problems)
        err = _the_rest(problems, loaded, left_out, mended)
        err.mended_all = list(mended.values())
        err.refused_examples = refused_examples
        raise err
    if not loaded:
        raise RuleLoadError([RuleProblem(",".join(specs), 0, 0, "no rule files found")])
    try:
        compiled = compile_packs([lp.pack for lp in loaded])
    except CompileErrors as ce:
        raise RuleLoadError(
            [loaded[err.pack].problem(err) for err in ce.errors],
            loaded=loaded,
            warnings=[loaded[w.pack].problem(w) for w in ce.warnings],
        ) from None
    if not every_problem:  # (`rules check` and `rules test` print every warning themselves)
        _log_merge_warnings(loaded)
    return loaded, compiled


def _log_merge_warnings(loaded: Sequence[LoadedPack]) -> None:
    """Say, where packs are loaded to run (run, backtest, workers, explain), what loading them together changed
    that each pack alone would not show: an alias two entities share, which only one of them takes, and an entity
    id two packs define with another name or other aliases, which merge."""
    packs = [lp.pack for lp in loaded]
    for w in [*alias_tie_warnings(packs), *shared_entity_warnings(packs)]:
        text = str(loaded[w.pack].problem(w))
        if text not in _SAID:
            _SAID.add(text)
            log.warning("rules: %s", text)


def _the_rest(
    problems: list[RuleProblem], loaded: list[LoadedPack], left_out: set[str], mended: Mapping[int, Mended] = {}
) -> RuleLoadError:
    """The schema errors with what compiling the rest finds: its errors (not those that only say a part left out
    is missing: "unknown signal 'x'" for a signal whose own error is said), the warnings and the packs. With
    `mended` packs, the problems inside the parts they mend too (Mended), from compiling them in their place."""
    errors, warnings = _compiled_problems(loaded, left_out)
    if mended:
        packs = [mended[i].loaded if i in mended else lp for i, lp in enumerate(loaded)]
        back: set[str] = set()  # the names of the parts mended: no longer left out
        for m in mended.values():
            back |= {str(k) for h, k in m.parts if h == "signals"}
            kept = m.loaded.kept or ()
            back |= {
                d.id
                for (fi, _e), d in zip(kept, m.loaded.pack.detections, strict=True)
                if ("detections", fi) in m.parts
            }
        # (what a part whose captures or group keys are not known brings is not known either, as for a part left out:
        # nothing is judged by what the rules could bring)
        still = (left_out - back) | {n for m in mended.values() for n in m.opaque}
        more_errors, more_warnings = _compiled_problems(packs, still, inside=mended)
        errors += [p for p in more_errors if p not in errors]
        warnings += [p for p in more_warnings if p not in warnings]
    return RuleLoadError([*problems, *errors], loaded=loaded, warnings=warnings)


def _compiled_problems(
    loaded: Sequence[LoadedPack], left_out: set[str], inside: Mapping[int, Mended] | None = None
) -> tuple[list[RuleProblem], list[RuleProblem]]:
    """The errors and warnings of compiling `loaded` without the parts `left_out`; with `inside`, only those inside
    the mended parts (and not where nothing is judged)."""
    gone = tuple(f"unknown {what} {name!r}" for name in left_out - {""} for what in ("signal", "detection"))
    if "" in left_out:  # a file's `entities` refused whole
        gone += ("unknown entity ",)

    def taken(err: RuleError) -> bool:
        if inside is None:
            return True
        m = inside.get(err.pack)
        if m is None or len(err.path) < 2 or err.path[0] not in ("signals", "detections"):
            return False
        path: tuple[Any, ...] = err.path
        if path[0] == "detections" and isinstance(path[1], int):
            path = ("detections", m.loaded.kept[path[1]][0] if m.loaded.kept else path[1], *path[2:])  # (in the file)
        return (path[0], path[1]) in m.parts and not any(path[: len(u)] == u for u in m.unjudged)

    try:
        compiled = compile_packs([lp.pack for lp in loaded])
    except CompileErrors as ce:
        # Nor a judgement made without an input that is not defined (what any signal or detection of the rules could
        # bring, RuleError.assumes) while a signal or detection is left out: what that one brings is not known.
        parts_left_out = bool(left_out - {""})
        errors = [
            loaded[err.pack].problem(err)
            for err in ce.errors
            if not err.message.startswith(gone or ("\0",)) and not (err.assumes and parts_left_out) and taken(err)
        ]
        warnings = [loaded[w.pack].problem(w) for w in ce.warnings if taken(w)]
    else:
        errors, warnings = [], [loaded[w.pack].problem(w) for w in compiled.warnings if taken(w)]
    return errors, warnings


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
    edited = _migrated_in_place(text, tree)
    if edited is not None:
        return edited
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


_VERSION_ONE = re.compile(r"^(version[ \t]*:[ \t]*)(1|'1'|\"1\")([ \t]*(#.*)?)$")


def _migrated_in_place(text: str, tree: CommentedMap) -> str | None:
    """`migrate_text`'s edit made on the lines themselves, so that the rest of the file is byte for byte as it was
    (outside trial 28, F8: dumped again, every block sequence was re-indented and the review diff was the whole file);
    None when the file's top level is not a plain block mapping at column 0, which the dump then handles."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.endswith("\r\n") or "\r\n" in text[:200] else "\n"
    try:
        first = min(tree.lc.key(k)[0] for k in tree)
        if any(tree.lc.key(k)[1] != 0 for k in tree):
            return None
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    add = [] if "morphology" in tree else [f"morphology: exact{newline}"]
    if "version" in tree:
        at = tree.lc.key("version")[0]
        line = lines[at].rstrip("\r\n")
        m = _VERSION_ONE.match(line)
        if m is None:
            return None
        ending = lines[at][len(line) :] or newline
        lines[at : at + 1] = [f"{m.group(1)}2{m.group(3)}{ending}", *add]
    else:
        lines[first:first] = [f"version: 2{newline}", *add]
    out = "".join(lines)
    try:  # the edit must mean what the dump would: the same data with version 2 and morphology exact
        want = {**YAML(typ="safe").load(text), "version": 2}
        want.setdefault("morphology", "exact")
        if YAML(typ="safe").load(out) != want:
            return None
    except Exception:  # (a file the safe loader reads otherwise: the dump decides)
        return None
    return out
