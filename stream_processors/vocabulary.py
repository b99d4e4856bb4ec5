"""What the alerts of compiled rules can carry, for checking what people write about them before it is used.

A backtest's timeline and expectations, a subscription's `where` (Slack, the CLI, the config check) all name
alerts by group or capture values; one that no alert of its rules can carry would match nothing and pass unseen
(a timeline event always missed, a must_not_fire always kept, a channel that stays silent like a quiet day). They
are checked here, against one description of the rules (`RuleVocabulary`), so each says the same thing the same
way. Entity spellings (id, display name, the gazetteer's aliases) are here too (`Spellings`), as routing compares
a `where` value in all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from watchfloor.schemas.control import WHERE_ANY_KEY, fold
from watchfloor.schemas.spellings import SOURCE_KEY as SOURCE_KEY
from watchfloor.schemas.spellings import alias_spellings, spelling_hint

if TYPE_CHECKING:
    from watchfloor.stream_processors.engine.compiled import CompiledRules

ANY_RULE = "*"


class Spellings:
    """The ways an entity may be named in a `where`: its id, its display name and its gazetteer aliases (as the
    rule packs write them: the aliases are what the desk calls it, "Kursk Oblast"), folded (schemas.control.fold).
    A detection holds group values as the rule captured them (entity ids: PRK) and attributes as display names
    (North Korea), so a `where` value is compared in every spelling of the entity it names. Empty, a value
    compares only as written (case aside). A spelling two entities share names both."""

    def __init__(
        self, entity_names: Mapping[str, str] | None = None, aliases: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        self._forms: dict[str, frozenset[str]] = {}  # entity id -> its folded spellings
        self._ids: dict[str, set[str]] = {}  # a folded spelling -> the entities it names
        aliases = aliases or {}
        for eid in {*(entity_names or {}), *aliases}:
            forms = frozenset(
                fold(s) for s in (eid, (entity_names or {}).get(eid, eid), *aliases.get(eid, ())) if fold(s)
            )
            self._forms[eid] = forms
            for form in forms:
                self._ids.setdefault(form, set()).add(eid)

    def entities(self, value: str) -> frozenset[str]:
        """The ids of the entities `value` names (by id, name or alias); empty when it names none."""
        return frozenset(self._ids.get(fold(value), ()))

    def of(self, value: str) -> frozenset[str]:
        """The folded spellings of `value`: itself, and every spelling of each entity it names."""
        form = fold(value)
        return frozenset({form}).union(*(self._forms[e] for e in self._ids.get(form, ())))

    def forms_of(self, eid: str) -> frozenset[str]:
        return self._forms.get(eid, frozenset({fold(eid)}))


@dataclass(frozen=True)
class RuleVocabulary:
    """What may be named for each rule: the group and capture names its alerts can carry (None: not known, e.g.
    a detection over other alerts, so not checked), entity names (id -> display name) and aliases, each rule's
    tags, and per rule the values of its closed captures."""

    keys: Mapping[str, frozenset[str] | None]
    names: Mapping[str, str] = field(default_factory=dict)
    # rule -> group/capture name -> the entity ids it can take (a closed set: `entities: [PRK, RUS]`, or every
    # entity of a kind such as `place`); a name not here takes any value
    values: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # entity id -> its gazetteer aliases
    tags: Mapping[str, frozenset[str]] = field(default_factory=dict)  # rule -> its tags

    @cached_property
    def spellings(self) -> Spellings:
        return Spellings(self.names, self.aliases)

    def value_problem(self, rule: str | Collection[str] | None, key: str, value: str) -> str | None:
        """Why `key: value` can never be carried by an alert of `rule` (of any of several rules; of any rule's,
        when None), or None. A value compares in every spelling of the entity it names (Spellings: id, display
        name or alias, folded), as a subscription's `where`, a timeline and an expectation match it."""
        if rule is None:
            rules = [r for r, k in self.keys.items() if k is None or key in k]
        else:
            rules = [rule] if isinstance(rule, str) else list(rule)
        allowed: set[str] = set()
        for r in rules:
            got = self.values.get(r, {}).get(key)
            if got is None:
                return None  # an open value somewhere: not checked
            allowed |= got
        if not allowed:
            return None
        if self.spellings.entities(value) & allowed:
            return None
        if rule is None:
            whose = key
        else:
            whose = f"{rules[0]}'s {key}" if len(rules) == 1 else f"the {key} of {', '.join(sorted(rules))}"
        return f"{whose} is one of {self._shown(allowed)}, not {value!r}{self._hint(value, allowed)}"

    def rules_for(self, rules: Collection[str], tags: Collection[str] = ()) -> list[str]:
        """The rules a subscription to `rules` ('*': all) and `tags` (any of them, when given) takes, as
        alerts.routing.matches picks them."""
        return [
            r
            for r in self.keys
            if (ANY_RULE in rules or r in rules) and (not tags or self.tags.get(r, frozenset()) & set(tags))
        ]

    def where_problem(self, rules: Collection[str], tags: Collection[str], key: str, value: str) -> str | None:
        """Why a subscription to `rules` and `tags` with `where` `key=value` ('*': under any key) can never match
        an alert, or None. Sound, not complete: when a rule's alerts are not known (a detection over other
        alerts), or a key takes any value (`source`), it is allowed."""
        taken = self.rules_for(rules, tags)
        if not taken:
            return None  # no rule of the packs is subscribed (an unknown tag: said apart); nothing to check against
        keys: dict[str, frozenset[str]] = {}
        for r in taken:
            got = self.keys.get(r)
            if got is None:
                return None
            keys[r] = got
        whose = _whose(taken, rules, tags)
        named = self.spellings.entities(value)
        if key == WHERE_ANY_KEY:
            if any(SOURCE_KEY in k for k in keys.values()):
                return None  # a source name, which no pack lists, may be the value
            if not named:
                return self._no_entity(value)
            can: set[str] = set()
            for r, ks in keys.items():
                for k in ks:
                    got = self.values.get(r, {}).get(k)
                    if got is None or named & got:
                        return None
                    can |= got
            return (
                f"no alert of {whose} carries {value!r} under any key; "
                f"{'it carries' if len(taken) == 1 else 'they carry'} {self._carried(taken, keys)}"
                f"{self._hint(value, can)}"
            )
        folded = {fold(k): k for ks in keys.values() for k in ks}
        real = folded.get(fold(key))
        if real is None:
            every = ", ".join(sorted({k for ks in keys.values() for k in ks})) or "none"
            return f"no alert of {whose} carries {key!r}; {'it' if len(taken) == 1 else 'they'} can carry {every}"
        if real == SOURCE_KEY:
            return None
        if not named:
            return self._no_entity(value)
        carrying = [r for r, ks in keys.items() if real in ks]
        return self.value_problem(carrying, real, value)

    def _no_entity(self, value: str) -> str:
        return f"{value!r} names no entity of the rule packs{self._hint(value, self.names)}"

    def _shown(self, allowed: Collection[str]) -> str:
        shown = ", ".join(f"{e} ({self.names[e]})" if e in self.names else e for e in sorted(allowed)[:12])
        return shown + (f", … ({len(allowed)} in all)" if len(allowed) > 12 else "")

    def _carried(self, rules: list[str], keys: Mapping[str, frozenset[str]]) -> str:
        """What the alerts of `rules` carry, each key with the values it takes ("place, one of …")."""
        out: list[str] = []
        for k in sorted({k for ks in keys.values() for k in ks}):
            can: set[str] = set()
            for r in rules:
                if k in keys[r]:
                    can |= self.values.get(r, {}).get(k, set())
            out.append(f"{k} (one of {self._shown(can)})" if can else k)
        return "; ".join(out) or "nothing"

    def _hint(self, value: str, among: Iterable[str]) -> str:
        return spelling_hint(value, among, self.names, self.aliases)


def _whose(taken: list[str], rules: Collection[str], tags: Collection[str]) -> str:
    """How a message names the subscribed rules (`taken`, of `rules` and `tags`): as Slack's and the CLI's
    refusals always have ("the rule"), with the rules a tag stands for named, since that is what is not obvious."""
    if tags:
        return f"the rules tagged {', '.join(sorted(tags))} ({', '.join(sorted(taken))})"
    if ANY_RULE in rules and len(taken) > 1:
        return "any rule"
    return "the rule" if len(taken) == 1 else f"the rules ({', '.join(sorted(taken))})"


def entity_aliases(rules: CompiledRules) -> dict[str, tuple[str, ...]]:
    """Entity id -> its aliases as the rule packs write them (every pack's, first seen first), as spellings
    (schemas.spellings.alias_spellings: no `=`, no `*` pattern)."""
    out: dict[str, dict[str, None]] = {}
    for pack in rules.packs:
        for eid, ent in pack.entities.items():
            got = out.setdefault(eid, {})
            for alias in alias_spellings(ent.aliases):
                got.setdefault(alias, None)
    return {eid: tuple(a) for eid, a in out.items()}


def rule_vocabulary(*rule_sets: Any) -> RuleVocabulary:
    """The vocabulary of compiled rule sets (CompiledRules; None entries skipped): per detection its
    group_by, the captures of the signals it takes and `place` (any report's places), its tags, and the
    packs' entity names and aliases. A rule in two sets is described by the first."""
    keys: dict[str, frozenset[str] | None] = {}
    names: dict[str, str] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    values: dict[str, dict[str, frozenset[str]]] = {}
    tags: dict[str, frozenset[str]] = {}
    for rules in rule_sets:
        if rules is None:
            continue
        names.update({k: v for k, v in rules.entity_names.items() if k not in names})
        for eid, more in entity_aliases(rules).items():
            aliases[eid] = tuple(dict.fromkeys((*aliases.get(eid, ()), *more)))
        of_kind: dict[str, set[str]] = {}
        for e, kind in rules.entity_kinds.items():
            of_kind.setdefault(kind, set()).add(e)
        for det in rules.detections:
            if det.id in keys:
                continue
            tags[det.id] = frozenset(det.definition.tags)
            got: set[str] | None = {*det.group_by, "place"}
            closed: dict[str, set[str] | None] = {"place": of_kind.get("place", set()) or None}
            for ref in det.refs:
                sig = rules.signals.get(ref.signal)
                if sig is None or got is None:
                    got = None  # an alert reference: its captures are another detection's
                    continue
                got.update(c[0] for c in sig.captures)
                for name, candidates, kind, _role in sig.captures:
                    can = set(candidates) if candidates else (of_kind.get(kind, set()) if kind else set())
                    before = closed.get(name, set())
                    closed[name] = None if not can or before is None else before | can
            keys[det.id] = frozenset(got) if got is not None else None
            if got is not None:
                values[det.id] = {k: frozenset(v) for k, v in closed.items() if v and k in got and k != SOURCE_KEY}
    return RuleVocabulary(keys, names, values, aliases, tags)
