"""Entity spellings a rule pack's own values are read in: an entity's id, display name or alias (any case) for
its id, and the "did you mean" of a value that names none (the rule compiler, `rules check`, and the vocabulary
that timelines, expectations and subscriptions are checked against share them)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .control import fold

if TYPE_CHECKING:
    from .rules import RulePack

SOURCE_KEY = "source"  # `group_by: [source]`: its values are source names, not entities


def alias_spellings(aliases: Iterable[str]) -> list[str]:
    """Aliases as names: a phrase's `=` (this form only) is dropped, and an alias with a `*` prefix word, a
    pattern rather than a name, is left out."""
    out: list[str] = []
    for alias in aliases:
        words = alias.split()
        if not any(w.endswith("*") for w in words):
            out.append(" ".join(w.removeprefix("=") for w in words))
    return out


def close_hint(value: str, known: Iterable[str]) -> str:
    """The "(did you mean X?)" that follows a message, for the spellings among `known` close to `value` (any case:
    a rule id, a key); "" when none is."""
    spelt: dict[str, str] = {}
    for s in known:
        spelt.setdefault(fold(s), s)  # the first spelling of a folded form is the one shown
    near = difflib.get_close_matches(fold(value), list(spelt), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(sorted(spelt[n] for n in near))}?)" if near else ""


def spelling_hint(
    value: str, among: Iterable[str], names: Mapping[str, str], aliases: Mapping[str, Iterable[str]]
) -> str:
    """The "(did you mean X?)" that follows a message, for a spelling of one of the entities `among` close to
    `value` (`names`: id -> display name, `aliases`: id -> aliases); "" when none is."""
    # Ids and names first; an alias only when none of them is close ("Kursk oblst"), as an entity has many
    # forms of one word (Russian, Russians) that would crowd the hint.
    among = list(among)
    # A Russian word in another case first: its lemma says which entity it is, where letters alone say a shorter
    # name ("Курской" is closer to "Курск" than to "Курская область", which it is a form of).
    inflected = _inflected_hint(value, among, names, aliases)
    if inflected:
        return inflected
    for forms in ([(names.get(e, e), e) for e in among], [tuple(aliases.get(e, ())) for e in among]):
        hint = close_hint(value, [s for group in reversed(forms) for s in group])
        if hint:
            return hint
    return ""


def _inflected_hint(
    value: str, among: Iterable[str], names: Mapping[str, str], aliases: Mapping[str, Iterable[str]]
) -> str:
    """For a Russian word in another case than the entity is written in ("Курской" for "Курская область"): the
    spellings whose words include the value's words' lemmas (pymorphy3), as "(did you mean X?)"; "" when none, more
    than three, or the value is not Cyrillic (outside trial 62, M6: «where place=Курской» was refused with no hint)."""
    words = value.split()
    if not words or not all(any("а" <= c <= "я" or c == "ё" for c in w.lower()) for w in words):
        return ""
    wanted = [_lemmas(w) for w in words]
    found: dict[str, None] = {}
    for e in among:
        for spelling in (names.get(e, e), *aliases.get(e, ())):
            have = [_lemmas(w) for w in spelling.split()]
            if all(any(want & h for h in have) for want in wanted):
                found.setdefault(spelling, None)
                break
    if not found or len(found) > 3:
        return ""
    return f" (did you mean {', '.join(found)}?)"


def _lemmas(word: str) -> frozenset[str]:
    return _lemmas_folded(word.lower().replace("ё", "е"))


@lru_cache(maxsize=4096)
def _lemmas_folded(word: str) -> frozenset[str]:
    return frozenset({word} | {p.normal_form.replace("ё", "е") for p in _analyzer().parse(word)})


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    import pymorphy3  # only for a refusal's hint: ~0.1 s to load

    return pymorphy3.MorphAnalyzer()


class EntityValues:
    """Reads a rule pack's own entity values (a `where` value of a detection's reference, an example's group):
    an entity's id, display name or alias, in any case, stands for its id; anything else is an error with the
    closest spellings, as a timeline or an expectation says it (stream_processors.vocabulary.Spellings compares
    the same spellings). Built on first use: most packs have none."""

    def __init__(self, packs: Iterable[RulePack]) -> None:
        self._packs = list(packs)
        self._names: dict[str, str] = {}  # entity id -> display name (the first pack's)
        self._aliases: dict[str, list[str]] = {}  # entity id -> its aliases' spellings (every pack's)
        self._ids: dict[str, set[str]] | None = None  # a folded spelling -> the entities it names

    def _index(self) -> dict[str, set[str]]:
        ids: dict[str, set[str]] = {}
        for pack in self._packs:
            for eid, ent in pack.entities.items():
                self._names.setdefault(eid, ent.name)
                got = self._aliases.setdefault(eid, [])
                got += [a for a in alias_spellings(ent.aliases) if a not in got]
                for form in (eid, ent.name, *got):
                    if fold(form):
                        ids.setdefault(fold(form), set()).add(eid)
        return ids

    def resolve(self, key: str, value: str) -> tuple[str | None, str]:
        """(the entity id `value` names, "") or (None, why not: "KEY: …")."""
        if self._ids is None:
            self._ids = self._index()
        names = self._names
        if value in names:
            return value, ""
        ids = self._ids.get(fold(value), set())
        if len(ids) == 1:
            return next(iter(ids)), ""
        if ids:
            shown = ", ".join(f"{e} ({names.get(e, e)})" for e in sorted(ids))
            return None, f"{key}: {value!r} names more than one entity ({shown}): write the id of the one meant"
        return None, (
            f"{key}: {value!r} names no entity of the rule packs (write an entity's id, name or alias)"
            + spelling_hint(value, names, names, self._aliases)
        )
