"""Expectations of a backtest (`--expect FILE`): alerts that must fire and must not fire (docs/backtest.md).

The file is checked when it is read, before any replay: every entry is a mapping of the keys `rule`,
`group` (a mapping of capture -> value), `event_id` and `severity`, and nothing else; a rule id must be
a loaded detection when the caller gives them, and a group name one the rule's alerts can carry (its
group_by, its signals' captures, `place`: the RuleVocabulary a timeline is checked with). Every problem is a
TruthError whose message starts FILE:LINE:COL (FILE:LINE for JSON), as label maps' do, so the CLI prints it as
it prints theirs. A group matches as a timeline's does: by entity id or display name, case aside, in the alert's
group or its captures. After the replay, an `event_id` that is not among the replayed documents can match no
alert: a must_fire is missing, a must_not_fire fails too ("never a pass": a forbidden alert must not slip by on a
typo).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from watchfloor.schemas.events import Detection, Severity
from watchfloor.stream_processors.vocabulary import Spellings

from .truth import RuleVocabulary, TruthError, alert_carries, yaml_error_text, yaml_error_where

ENTRY_KEYS = ("rule", "group", "event_id", "severity")
TOP_KEYS = ("description", "must_fire", "must_not_fire")
SEVERITIES = tuple(get_args(Severity))


@dataclass(frozen=True)
class Expectation:
    """One entry: an alert matches when it has every property the entry gives."""

    rule: str | None = None
    group: Mapping[str, str] = field(default_factory=dict)
    event_id: str | None = None
    severity: str | None = None
    where: str = ""  # FILE:LINE[:COL] of the entry

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.group:
            out["group"] = dict(self.group)
        if self.event_id is not None:
            out["event_id"] = self.event_id
        if self.severity is not None:
            out["severity"] = self.severity
        return out

    def matches(
        self,
        d: Detection,
        evidence_ids: Iterable[str] | None = None,
        names: Spellings | Mapping[str, str] | None = None,
    ) -> bool:
        """`evidence_ids`: every report the alert rests on, when known (an alert shows ten of them); `names`:
        the packs' entity spellings (a group value may be an entity's id, name or alias)."""
        if self.rule is not None and self.rule != d.rule:
            return False
        if self.group and not alert_carries(self.group, d.group, d.attributes, names):
            return False
        if self.event_id is not None:
            ids = set(evidence_ids) if evidence_ids is not None else {e.event_id for e in d.evidence}
            if self.event_id not in ids:
                return False
        return self.severity is None or d.severity == self.severity


@dataclass(frozen=True)
class Expectations:
    path: str
    must_fire: tuple[Expectation, ...] = ()
    must_not_fire: tuple[Expectation, ...] = ()
    description: str = ""
    names: Spellings = field(default_factory=Spellings)  # the packs' entity spellings, for matching groups


@dataclass(frozen=True)
class ExpectationFailure:
    kind: str  # "missing" or "unexpected"
    expectation: dict[str, Any]
    detail: str


def check_expectations(
    spec: Expectations | Mapping[str, Any],
    detections: list[Detection],
    evidence_ids: Mapping[str, Iterable[str]] | None = None,
    replayed: Collection[str] | None = None,
    doc_ids: Mapping[str, str] | None = None,
) -> list[ExpectationFailure]:
    """`{"must_fire": [{rule, group?, event_id?, severity?}], "must_not_fire": [...]}` (a loaded file, or the
    same as a mapping, checked as a file is). `evidence_ids`: alert id -> all its reports, when known.
    `replayed`: the entries' event ids that are among the replayed documents, when known: an entry whose
    `event_id` is not can match no alert, and fails whichever section it is in. `doc_ids`: an entry's event id ->
    the id of the document it names, where they differ (an input without `id` is named by its `url`, as in
    `--labels`; outside trial 20, H1: a URL matched no alert, so `must_not_fire` passed)."""
    exps = spec if isinstance(spec, Expectations) else expectations_from_data(spec, "<expectations>")
    full = evidence_ids or {}
    aliases = doc_ids or {}

    def hit(e: Expectation, d: Detection) -> bool:
        if e.event_id is not None and e.event_id in aliases:
            e = replace(e, event_id=aliases[e.event_id])  # reported as the file wrote it (to_json of the original)
        return e.matches(d, full.get(d.id), exps.names)

    def silent(e: Expectation) -> str:
        if replayed is None or e.event_id is None or e.event_id in replayed:
            return ""
        return f"event_id {e.event_id!r} is not among the replayed documents, so no alert can rest on it (a typo?)"

    failures: list[ExpectationFailure] = []
    for exp in exps.must_fire:
        if not any(hit(exp, d) for d in detections):
            why = silent(exp)
            failures.append(
                ExpectationFailure("missing", exp.to_json(), f"no alert matched; {why}" if why else "no alert matched")
            )
    for exp in exps.must_not_fire:
        hits = [d for d in detections if hit(exp, d)]
        if hits:
            failures.append(ExpectationFailure("unexpected", exp.to_json(), f"{hits[0].rule}: {hits[0].title}"))
        elif why := silent(exp):
            failures.append(ExpectationFailure("never matches", exp.to_json(), why))
    return failures


# -- reading --------------------------------------------------------------------------------------------


def _where(path: str, node: Any, key: Any = None, index: int | None = None) -> str:
    """FILE:LINE:COL of a key (or list item) of a ruamel node, FILE when there is no position (JSON)."""
    try:
        if isinstance(node, CommentedMap) and key is not None:
            line, col = node.lc.key(key)
            return f"{path}:{line + 1}:{col + 1}"
        if isinstance(node, CommentedSeq) and index is not None:
            line, col = node.lc.item(index)
            return f"{path}:{line + 1}:{col + 1}"
        if isinstance(node, (CommentedMap, CommentedSeq)):
            return f"{path}:{node.lc.line + 1}:{node.lc.col + 1}"
    except (AttributeError, KeyError, IndexError, TypeError):
        pass
    return path


def _value_where(path: str, node: Any, key: Any) -> str:
    try:
        if isinstance(node, CommentedMap):
            line, col = node.lc.value(key)
            return f"{path}:{line + 1}:{col + 1}"
    except (AttributeError, KeyError, IndexError, TypeError):
        pass
    return _where(path, node, key)


def _entry(
    path: str,
    section: str,
    seq: Any,
    i: int,
    item: Any,
    vocab: RuleVocabulary | None,
    where_of: Any,
    problems: list[str],
) -> Expectation | None:
    """The entry, or None with what is wrong with it added to `problems`: every independent problem, not only the
    first (outside trial 17, L4: a misspelt rule, then a severity, then a key, one run each)."""
    known = set(vocab.keys) if vocab is not None else None
    at = where_of(seq, i)
    example = "{rule: treaty-ratified, group: {party: RUS}}"
    if not isinstance(item, Mapping):
        problems.append(f"{at}: {section} entry {item!r}: write a mapping of {', '.join(ENTRY_KEYS)}, e.g. {example}")
        return None
    before = len(problems)
    for k in (k for k in item if k not in ENTRY_KEYS):
        problems.append(
            f"{_where(path, item, k) if isinstance(item, CommentedMap) else at}: unknown key {k!r} in a {section} "
            f"entry (keys: {', '.join(ENTRY_KEYS)})"
        )
    if not item:
        problems.append(f"{at}: empty {section} entry (it would match every alert); give {', '.join(ENTRY_KEYS)}")
        return None
    values: dict[str, Any] = {}
    for k in ("rule", "event_id", "severity"):
        if k in item:
            v = item[k]
            if not isinstance(v, str) or not v:
                problems.append(f"{_value_where(path, item, k)}: {k} must be a string, not {v!r}")
                continue
            values[k] = v
    if "severity" in values and values["severity"] not in SEVERITIES:
        problems.append(
            f"{_value_where(path, item, 'severity')}: unknown severity {values['severity']!r} ({', '.join(SEVERITIES)})"
        )
    rule = values.get("rule")
    if rule is not None and known is not None and rule not in known:
        problems.append(
            f"{_value_where(path, item, 'rule')}: unknown rule {rule!r} "
            f"(loaded rules: {', '.join(sorted(known)) or 'none'})"
        )
        rule_known = False
    else:
        rule_known = True
    group: dict[str, str] = {}
    if "group" in item:
        g = item["group"]
        if not isinstance(g, Mapping) or not all(isinstance(v, str) for v in g.values()):
            problems.append(
                f"{_value_where(path, item, 'group')}: group must be a mapping of capture: value, "
                f"e.g. {{party: RUS}}, not {g!r}"
            )
        else:
            group = {str(k): v for k, v in g.items()}
            # (of an unknown rule nothing is known to check the group against: its own problem is said)
            allowed = _carried(vocab, rule) if rule_known else None
            for k in group:
                if allowed is not None and k not in allowed:
                    whose = (
                        f"{rule}'s alerts carry no {k!r}"
                        if rule is not None
                        else f"no loaded rule's alerts carry {k!r}"
                    )
                    problems.append(
                        f"{_where(path, g, k) if isinstance(g, CommentedMap) else _value_where(path, item, 'group')}: "
                        f"group: {whose} (they can carry: {', '.join(sorted(allowed)) or 'nothing'}); "
                        "an entry that can never match would pass unseen"
                    )
                    continue
                wrong = vocab.value_problem(rule, k, group[k]) if vocab is not None and rule_known else None
                if wrong is not None:
                    where = (
                        _value_where(path, g, k) if isinstance(g, CommentedMap) else _value_where(path, item, "group")
                    )
                    problems.append(f"{where}: group: {wrong}; an entry that can never match would pass unseen")
    if len(problems) > before:
        problems[before:] = sorted(problems[before:], key=_position)  # in the entry's order, as written
        return None
    return Expectation(rule, group, values.get("event_id"), values.get("severity"), at)


def _position(problem: str) -> tuple[int, int]:
    """LINE, COL of a problem said at FILE:LINE:COL (0, 0 when it names none)."""
    m = _AT.match(problem)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


_AT = re.compile(r".*?:(\d+):(\d+): ")


def _carried(vocab: RuleVocabulary | None, rule: str | None) -> frozenset[str] | None:
    """The group and capture names an entry may name: its rule's, or (no rule) any rule's; None: not known."""
    if vocab is None:
        return None
    if rule is not None:
        return vocab.keys.get(rule)
    if any(keys is None for keys in vocab.keys.values()):
        return None  # a detection over other alerts: what its alerts carry is not known here
    return frozenset().union(*(k for k in vocab.keys.values() if k is not None))


def expectations_from_data(
    data: Any, path: str, known_rules: Iterable[str] | RuleVocabulary | None = None
) -> Expectations:
    """Check parsed expectations (a ruamel round-trip tree gives line and column; plain data the file only).
    `known_rules`: the loaded detections' ids (rules checked), or their RuleVocabulary (group names too)."""
    if known_rules is None or isinstance(known_rules, RuleVocabulary):
        vocab = known_rules
    else:
        vocab = RuleVocabulary({r: None for r in known_rules})
    if not isinstance(data, Mapping):
        raise TruthError(f"{_where(path, data)}: expectations are a mapping with must_fire and/or must_not_fire")
    # Every problem of the file in one run, each at its FILE:LINE:COL, in the file's order (one message, a line each)
    problems: list[str] = []
    for k in (k for k in data if k not in TOP_KEYS):
        problems.append(f"{_where(path, data, k)}: unknown key {k!r} in expectations (keys: {', '.join(TOP_KEYS)})")

    def where_of(seq: Any, i: int) -> str:
        return _where(path, seq, index=i)

    sections: dict[str, tuple[Expectation, ...]] = {}
    for section in ("must_fire", "must_not_fire"):
        seq = data.get(section)
        if seq is None:
            sections[section] = ()
            continue
        if not isinstance(seq, list):
            problems.append(
                f"{_value_where(path, data, section)}: {section} is a list of entries, "
                f"e.g. '- {{rule: treaty-ratified}}', not {'a mapping' if isinstance(seq, Mapping) else repr(seq)}"
            )
            sections[section] = ()
            continue
        entries = [_entry(path, section, seq, i, item, vocab, where_of, problems) for i, item in enumerate(seq)]
        sections[section] = tuple(e for e in entries if e is not None)
    description = data.get("description") or ""
    if not isinstance(description, str):
        problems.append(f"{_value_where(path, data, 'description')}: description must be text")
    if problems:
        raise TruthError("\nerror: ".join(problems))  # shown after `error: `, as each line is
    if not sections["must_fire"] and not sections["must_not_fire"]:
        raise TruthError(f"{_where(path, data)}: no must_fire or must_not_fire entry: nothing to check")
    names = vocab.spellings if vocab is not None else Spellings()
    return Expectations(path, sections["must_fire"], sections["must_not_fire"], description, names)


def load_expectations(path: str | Path, known_rules: Iterable[str] | RuleVocabulary | None = None) -> Expectations:
    """Read and check an expectations file (YAML, or JSON for a `.json` name). With `known_rules`, an entry's
    rule must be one of them (and, given a RuleVocabulary, a group name one its alerts can carry). Problems are
    TruthErrors naming FILE:LINE:COL."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TruthError(f"{name}: no such expectations file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TruthError(f"{name}: cannot read the expectations file: {e}") from None
    data: Any
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TruthError(f"{name}:{e.lineno}:{e.colno}: JSON syntax: {e.msg}") from None
    else:  # YAML (JSON is YAML too, for a file named otherwise)
        try:
            data = YAML(typ="rt").load(io.StringIO(text))
        except YAMLError as e:  # a ReaderError (a control character) is no MarkedYAMLError
            raise TruthError(f"{name}:{yaml_error_where(text, e)}: YAML syntax: {yaml_error_text(e)}") from None
    if data is None:
        raise TruthError(f"{name}:1:1: empty expectations file")
    return expectations_from_data(data, name, known_rules)
