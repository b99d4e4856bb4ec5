"""Compile rule packs into one multi-pattern automaton plus condition trees: the engine's read-only half."""

from __future__ import annotations

import gc
import string
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from watchfloor.schemas.events import SEVERITY_RANK
from watchfloor.schemas.gdelt_codes import CODED_FORMS, UNKNOWN_COUNTRY, coded_can_hold
from watchfloor.schemas.rules import (
    CaptureDef,
    GdeltReq,
    RulePack,
    SignalDef,
    SignalRef,
    country_sets,
    languages_of,
    modality_set,
)
from watchfloor.schemas.spellings import SOURCE_KEY, EntityValues

from . import morphology
from .automata import build_automaton, node_requirements, requirements, screen, viability
from .checks import (
    PackCue,
    alias_cue_warnings,
    alias_plural_warnings,
    alias_tie_warnings,
    all_overlap_warnings,
    bracketed_placeholder_warnings,
    builtin_cue_warnings,
    cue_form_warnings,
    cue_warnings,
    except_cue_warnings,
    goal_to_warnings,
    language_warnings,
    never_match_warnings,
    prefix_form_warnings,
    shared_entity_warnings,
    title_fields,
    title_placeholders,
)
from .compiled import (
    ALERT,
    EXACT,
    FORMS,
    GDELT_ROLE,
    PREFIX,
    AutomatonEntry,
    CompiledDetection,
    CompiledRef,
    CompiledRules,
    CompiledSignal,
    CompileErrors,
    GdeltTest,
    Node,
    RuleError,
    WordTest,
)
from .cues import CLASSES, CUE_PRIORITY, DEFAULT_CUES, NEUTRAL, builtin_cues
from .eventtime import DEFAULT_LATENESS
from .gate import JsonLineGate, raw_gate
from .morphology import FOREIGN, TITLE_CASES, UNKNOWN, base_language, inflect_name_ru, title_form_ru
from .phrases import EntityAliases, Langs, PhraseBuilder, compile_regex, elided_aliases, unknown_entity, word_key
from .text import acronym_twin, alias_capitals, phrase_words, with_acronym_twins

__all__ = [
    "CUE_PRIORITY",
    "DEFAULT_CUES",
    "EXACT",
    "FORMS",
    "PREFIX",
    "AutomatonEntry",
    "CompileErrors",
    "CompiledDetection",
    "CompiledRef",
    "CompiledRules",
    "CompiledSignal",
    "JsonLineGate",
    "Node",
    "RuleError",
    "WordTest",
    "compile_packs",
    "compile_regex",
]


def _has_positive_atom(node: Node) -> bool:
    tag = node[0]
    if tag == "atom":
        return True
    if tag == "any":
        return bool(node[1]) and all(_has_positive_atom(n) for n in node[1])
    if tag == "all":
        return any(_has_positive_atom(n) for n in node[1])
    return False


def _check_entities(ids: list[str], known: dict[str, Any], path: list[str | int], b: PhraseBuilder) -> None:
    for i, eid in enumerate(ids):
        if eid not in known:
            b.error([*path, i], f"unknown entity {eid!r} {unknown_entity(eid, known)}")


def _languages(value: str | list[str] | None, default: Langs = ("en",)) -> Langs:
    return tuple(base_language(x) for x in languages_of(value, default))


def _pack_language(pack: RulePack) -> Langs:
    return _languages(pack.language)


def compile_packs(packs: Sequence[RulePack]) -> CompiledRules:
    """Compile packs together. Raises CompileErrors with every error found (warnings ride along in
    the result's `warnings`)."""
    # A big pack allocates millions of small objects that all live on: the cyclic collector would walk
    # them again and again (a third of compile time with 20,000 signals). Nothing here makes cycles.
    morphology.load()  # the dictionaries any reading may ask for, now: processing then opens no file
    enabled = gc.isenabled()
    gc.disable()
    try:
        # No gc.freeze() after it: it moved every object of the process to the permanent generation at each
        # compile (`serve` compiles again on every rule edit), for no gain measured (BENCHMARKS.md, session 33).
        return _compile(packs)
    finally:
        if enabled:
            gc.enable()


def _compile(packs: Sequence[RulePack]) -> CompiledRules:
    entities: EntityAliases = {}
    names: dict[str, str] = {}
    for pack in packs:
        lang, morph = _pack_language(pack), pack.default_morphology
        for eid, ent in pack.entities.items():
            if eid in entities:
                kind, aliases = entities[eid]
                known = {a for a, _l, _m in aliases}
                entities[eid] = (
                    kind,
                    aliases + [(a, lang, morph) for a in with_acronym_twins(ent.aliases) if a not in known],
                )
            else:
                entities[eid] = (ent.kind, [(a, lang, morph) for a in with_acronym_twins(ent.aliases)])
                names[eid] = ent.name
    b = PhraseBuilder(entities)
    for pi, pack in enumerate(packs):
        b.pack = pi
        lang, morph = _pack_language(pack), pack.default_morphology
        for eid, ent in pack.entities.items():
            for ai, written in enumerate(ent.aliases):
                twin = acronym_twin(written)  # "US" also reads "U.S.", and "U.S." "US" (docs/rules.md, Aliases)
                for alias in (written,) if twin is None else (written, twin):
                    b.add(
                        alias,
                        "entity",
                        ["entities", eid, "aliases", ai],
                        language=lang,
                        morphology=morph,
                        key="@" + eid,
                        capitals=alias_capitals(alias),
                    )

    languages = {x for p in packs for x in _pack_language(p)} | {
        x for p in packs for s in p.signals.values() if s.language for x in _languages(s.language)
    }
    scope = max((p.modality.scope for p in packs), default=8)
    scope_after = max((p.modality.scope_after for p in packs), default=8)
    cue_keys: dict[str, list[tuple[int, list[str | int], str, str]]] = {}  # key -> [(pack, path, class, phrase)]
    pack_cues: list[PackCue] = []
    for code in sorted(languages or {"en"}):
        for direction, table in builtin_cues(code).items():
            for cls, phrases in table.items():
                for phrase in phrases:
                    b.add(phrase, "cue", ["modality"], key="~" + cls, cue_class=cls, direction=direction)
    for pi, pack in enumerate(packs):
        b.pack = pi
        # A pack's cue words match as written unless its `modality: {morphology: forms}` asks for their forms.
        lang, morph = _pack_language(pack), pack.modality.morphology
        lists: list[tuple[str, str, list[str] | None, list[str | int]]] = [
            ("before", cls, getattr(pack.modality, cls), ["modality", cls]) for cls in CLASSES
        ]
        after = pack.modality.after
        if after is not None:
            lists += [("after", cls, getattr(after, cls), ["modality", "after", cls]) for cls in CLASSES]
        lists.append(("neutral", NEUTRAL, pack.modality.neutral, ["modality", "neutral"]))
        for direction, cls, given, path in lists:
            for i, phrase in enumerate(given or ()):
                b.add(
                    phrase,
                    "cue",
                    [*path, i],
                    language=lang,
                    morphology=morph,
                    key="~" + cls,
                    cue_class=cls,
                    direction=direction,
                )
                words = phrase_words(phrase)
                if words:
                    # (keyed as the pack's phrases and aliases are, to compare with them: a cue as written is one
                    # of those forms)
                    own = " ".join(word_key(b._word(w, lang, pack.default_morphology)) for w in words)
                    cue_keys.setdefault(own, []).append((pi, [*path, i], cls, phrase))
                    pack_cues.append((pi, [*path, i], cls, direction, phrase, tuple(words)))

    signals: dict[str, CompiledSignal] = {}
    by_atom: dict[str, list[str]] = {}
    always: list[str] = []
    signal_pack: dict[str, int] = {}
    overlaps: list[RuleError] = []  # phrases in two items of one `all` (warnings)
    for pi, pack in enumerate(packs):
        b.pack = pi
        for sname, sdef in pack.signals.items():
            spath: list[str | int] = ["signals", sname]
            if sname in signals:
                b.error(spath, f"signal {sname!r} is defined in more than one pack")
                continue
            signals[sname] = _compile_signal(b, pack, sname, sdef, spath, by_atom, always, overlaps)
            signal_pack[sname] = pi

    detections, by_signal = _compile_detections(b, packs, signals)
    names = _with_coded_names(names, signals)
    warnings = cue_warnings(cue_keys, signals) if cue_keys else []
    if pack_cues:
        warnings += builtin_cue_warnings(pack_cues, sorted(languages or {"en"}))
        warnings += alias_cue_warnings(cue_keys, _alias_keys(b, packs))
        warnings += cue_form_warnings(pack_cues, packs, sorted(languages or {"en"}))
    warnings += except_cue_warnings(packs, pack_cues, sorted(languages or {"en"}))
    warnings += overlaps
    warnings += language_warnings(packs)
    warnings += alias_tie_warnings(packs)
    warnings += alias_plural_warnings(packs)
    warnings += bracketed_placeholder_warnings(packs)
    warnings += shared_entity_warnings(packs)
    warnings += _title_case_warnings(detections, packs, signals, entities, names)

    if b.errors:
        raise CompileErrors(b.errors, warnings)

    trigger_entries: dict[str, list[AutomatonEntry]] = {}
    cue_entries: dict[str, list[AutomatonEntry]] = {}
    for p, bucket in b.entries.items():
        for e in bucket:
            (cue_entries if e.kind == "cue" else trigger_entries).setdefault(p, []).append(e)
    trigger = build_automaton(trigger_entries)
    elided = elided_aliases(trigger_entries)
    required = {name: requirements(sig) for name, sig in signals.items()}
    if elided:
        required = _elided_requirements(required, elided)
    index = viability(required, b.atom_text)
    first_pass, probes = screen(trigger_entries, index)
    cue_automaton = build_automaton(cue_entries)
    gate = raw_gate(required, b.gate_words, always)
    return CompiledRules(
        trigger=trigger,
        cue_automaton=cue_automaton,
        requirements=required,
        raw_gate=gate,
        signals=signals,
        signals_by_atom={k: tuple(v) for k, v in by_atom.items()},
        viability=index,
        screen=first_pass,
        probes=probes,
        elided=elided,
        derived=any(r.detection is not None for d in detections for r in d.refs),
        story_signals=frozenset(
            r.signal
            for d in detections
            if (d.definition.corroborate is not None and d.definition.corroborate.distinct == "source")
            or (d.definition.pattern.count is not None and d.definition.pattern.count.distinct == "source")
            for r in d.refs
            if r.detection is None
        ),
        always_signals=tuple(always),
        detections=tuple(detections),
        detections_by_signal={k: tuple(v) for k, v in by_signal.items()},
        entity_names=names,
        title_names=_title_names(packs, names),
        title_cases=_title_cases(detections, packs, names),
        entity_kinds={eid: kind for eid, (kind, _a) in entities.items()},
        cue_scope=scope,
        cue_scope_after=scope_after,
        # The longest any pack asks for; a pack that does not say asks for the default (news: a week).
        lateness=max((p.settings.lateness or DEFAULT_LATENESS for p in packs), default=DEFAULT_LATENESS),
        packs=tuple(packs),
        languages=frozenset(languages),
        atom_text=b.atom_text,
        warnings=tuple(warnings),
    )


def _title_names(packs: Sequence[RulePack], names: dict[str, str]) -> dict[str, dict[str, str]]:
    """Pack name -> the entity names its detections' titles show, for each pack that names a shared entity
    otherwise than the pack that defined it first: its own names over the others (a Russian pack loaded beside
    the bundled one keeps «Украина» in its titles, outside trial 41)."""
    out: dict[str, dict[str, str]] = {}
    for pack in packs:
        own = {eid: ent.name for eid, ent in pack.entities.items() if names.get(eid) != ent.name}
        if own:
            out[pack.name] = {**names, **own}
    return out


def _title_cases(
    detections: Sequence[CompiledDetection], packs: Sequence[RulePack], names: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Each case a title asks for ("{place:dative}") -> every entity name (of any pack) that takes another form in it
    (morphology.inflect_name_ru); {} when no title asks for one (nearly every pack: no dictionary read)."""
    used = {
        spec
        for d in detections
        if ":" in d.definition.title
        for _lit, name, spec, _conv in string.Formatter().parse(d.definition.title)
        if name and spec
    }
    if not used:
        return {}
    every = set(names.values()) | {ent.name for pack in packs for ent in pack.entities.values()}
    persons = {ent.name for pack in packs for ent in pack.entities.values() if ent.kind == "person"}
    places = {ent.name for pack in packs for ent in pack.entities.values() if ent.kind == "place"}
    return {
        case: {n: form for n in sorted(every) if (form := inflect_name_ru(n, case, n in persons, n in places)) != n}
        for case in sorted(used)
    }


_SHOWN_NAMES = 6  # of a title case warning's list


def _title_case_warnings(
    detections: Sequence[CompiledDetection],
    packs: Sequence[RulePack],
    signals: dict[str, CompiledSignal],
    entities: EntityAliases,
    names: dict[str, str],
) -> list[RuleError]:
    """A title placeholder with a case (`{party:instrumental}`) that can hold a name which stays as written in it, a
    word of it unknown to the dictionary («Чхве Сон Хи»), or whose form is a foreign man's name's («Ким Чен Ыном»:
    a woman's would not decline): said at the title, naming them, so the author sees it before a reader does
    (outside trial 62, H2). The names a placeholder can hold: those its captures may take (their entities, or the
    entities of their kind), the entities of kind place for `{place}`; a detection over detections is not judged."""
    pack_at = {p.name: i for i, p in enumerate(packs)}
    title_names = _title_names(packs, names)
    out: list[RuleError] = []
    for d in detections:
        if ":" not in d.definition.title or any(r.detection is not None for r in d.refs):
            continue
        shown = title_names.get(d.pack, names)
        cases: dict[str, list[str]] = {}
        for _lit, field, spec, _conv in string.Formatter().parse(d.definition.title):
            if field and spec in TITLE_CASES and spec != "nominative":
                cases.setdefault(field.removesuffix("_suffix"), []).append(spec)
        for field, field_cases in cases.items():
            held: set[str] = set()
            for r in d.refs:
                for cname, candidates, kind, _role in signals[r.signal].captures:
                    if cname == field:
                        held |= set(candidates) or {e for e, (k, _a) in entities.items() if kind in (None, k)}
            if field == "place" and not held:
                held = {e for e, (k, _a) in entities.items() if k == "place"}
            unknown: list[str] = []
            foreign: list[str] = []
            for name in sorted({shown.get(e, e) for e in held}):
                person = any(entities[e][0] == "person" for e in held if shown.get(e, e) == name)
                place = any(entities[e][0] == "place" for e in held if shown.get(e, e) == name)
                form, how = title_form_ru(name, field_cases[0], person, place)
                if how == UNKNOWN:
                    unknown.append(f"«{name}»")
                elif how == FOREIGN:
                    foreign.append(f"«{name}» → «{form}»")
            said: list[str] = []
            if unknown:
                said.append("names that stay as written, a word of each unknown to the dictionary: " + _listed(unknown))
            if foreign:
                said.append(
                    "names declined as a man's foreign name (a woman's does not decline in Russian): "
                    + _listed(foreign)
                )
            if said:
                placeholder = "{" + field + ":" + field_cases[0] + "}"
                di = next(i for i, x in enumerate(packs[pack_at[d.pack]].detections) if x.id == d.id)
                out.append(
                    RuleError(
                        ["detections", di, "title"],
                        f"title {d.definition.title!r}: {placeholder} can hold " + "; and ".join(said),
                        pack=pack_at[d.pack],
                        warning=True,
                    )
                )
    return out


def _listed(items: list[str]) -> str:
    more = len(items) - _SHOWN_NAMES
    return ", ".join(items[:_SHOWN_NAMES]) + (f" and {more} more" if more > 0 else "")


def _elided_requirements(
    required: dict[str, tuple[frozenset[str], ...]], elided: dict[str, dict[str, str]]
) -> dict[str, tuple[frozenset[str], ...]]:
    """The signals' requirements where an entity that can be named by an elided adjective (phrases.elided_aliases)
    is also met by the entities whose aliases it can stand before: «над Брянской и Курской областями» finds only
    @KUR's alias, and a signal that needs @BRY must still be read (extract._place_matches names @BRY there)."""
    partners: dict[str, set[str]] = {}
    for table in elided.values():
        keys = set(table.values())
        for key in keys:
            partners.setdefault(key, set()).update(keys)
    return {
        name: tuple(frozenset().union(clause, *(partners[a] for a in clause if a in partners)) for clause in clauses)
        for name, clauses in required.items()
    }


def _alias_keys(b: PhraseBuilder, packs: Sequence[RulePack]) -> dict[str, str]:
    """Each entity alias as a cue's words are keyed (its pack's language and word forms) -> the entity's id."""
    out: dict[str, str] = {}
    for pack in packs:
        lang, morph = _pack_language(pack), pack.default_morphology
        for eid, ent in pack.entities.items():
            for alias in ent.aliases:
                words = phrase_words(alias)
                if words and not any(w.startswith("@") for w in words):
                    out.setdefault(" ".join(word_key(b._word(w, lang, morph)) for w in words), eid)
    return out


def _compile_signal(
    b: PhraseBuilder,
    pack: RulePack,
    sname: str,
    sdef: SignalDef,
    spath: list[str | int],
    by_atom: dict[str, list[str]],
    always: list[str],
    warnings: list[RuleError],
) -> CompiledSignal:
    language = _languages(sdef.language) if sdef.language else _pack_language(pack)
    morphology = sdef.morphology or pack.default_morphology
    atoms: set[str] = set()
    errors_before = len(b.errors)
    node = b.condition(sdef.match, [*spath, "match"], atoms, language, morphology)

    def key_of(phrase: str) -> str | None:
        """A phrase's atom key, as the builder keys it (one key for the same words in any of their forms)."""
        text = phrase.strip()
        if text.startswith("@") and " " not in text:
            return text
        if "@" in text:
            return "phrase:" + " ".join(text.split()).lower()
        words = phrase_words(text)
        return " ".join(b._word_info(w, language, morphology)[1] for w in words) if words else None

    def tests_of(phrase: str) -> tuple[WordTest, ...] | None:
        """Each word of a phrase as the builder tests it (its forms, or its '*' prefix)."""
        words = phrase_words(phrase.strip())
        if not words or any(w.endswith("*") and len(w.lstrip("=")) < 4 for w in words):
            return None  # (no words, or a prefix too short: its error is said)
        return tuple(b._word_info(w, language, morphology)[0] for w in words)

    if not isinstance(sdef.match, str):
        warnings += all_overlap_warnings(sdef.match, [*spath, "match"], key_of, b.pack, tests_of)
    warnings += never_match_warnings(sdef.match, [*spath, "match"], sdef.near, b.pack, key_of, tests_of)
    if "en" in language:
        warnings += prefix_form_warnings(sdef.match, [*spath, "match"], b.pack)
        warnings += goal_to_warnings(sdef.match, [*spath, "match"], b.pack, sname)
    bad_phrase = len(b.errors) > errors_before  # said already: an unusable phrase leaves the match without one
    m = sdef.mentions
    c = sdef.context
    for label, req in (("mentions", m), ("context", c)):
        if req is not None:
            for part in ("any", "all", "none"):
                _check_entities(getattr(req, part), b.entities, [*spath, label, part], b)
    context_words: Node | None = None
    if c is not None and c.words is not None:
        context_words = b.condition(c.words, [*spath, "context", "words"], set(), language, morphology)
        if not isinstance(c.words, str):
            warnings += all_overlap_warnings(c.words, [*spath, "context", "words"], key_of, b.pack, tests_of)
    captures: list[tuple[str, tuple[str, ...], str | None, str]] = []
    for cname, cdef in sdef.capture.items():
        if cdef.gdelt is not None:  # a coded field of the document, not an entity of the sentence (extract.signals)
            captures.append((cname, (), None, GDELT_ROLE + cdef.gdelt))
            continue
        _check_entities(cdef.entities, b.entities, [*spath, "capture", cname, "entities"], b)
        role = cdef.role or ("any" if cdef.kind else "actor")
        candidates = tuple(cdef.entities)
        if cdef.kind and role == "actor":  # the actor among the entities of that kind
            candidates = tuple(eid for eid, (kind, _aliases) in b.entities.items() if kind == cdef.kind)
        captures.append((cname, candidates, cdef.kind, role))
    simple = _simple_atoms(node)
    # "Any of these phrases" (most of a big pack) needs no walk of its tree: no regex, one clause.
    uses_regex = False if simple is not None else _uses_regex(node)
    if simple is not None or _has_positive_atom(node):
        for a in atoms:
            by_atom.setdefault(a, []).append(sname)
    elif uses_regex:
        always.append(sname)
    elif not bad_phrase:
        b.error([*spath, "match"], "a signal needs at least one phrase, entity or regex to match")
    return CompiledSignal(
        name=sname,
        node=node,
        near=sdef.near,
        mention_any=frozenset(m.any) if m else frozenset(),
        mention_all=frozenset(m.all) if m else frozenset(),
        mention_none=frozenset(m.none) if m else frozenset(),
        context_any=frozenset(c.any) if c else frozenset(),
        context_all=frozenset(c.all) if c else frozenset(),
        context_none=frozenset(c.none) if c else frozenset(),
        captures=tuple(captures),
        uses_regex=uses_regex,
        needs=(frozenset(simple),) if simple is not None else tuple(dict.fromkeys(node_requirements(node))),
        simple=simple if not (sdef.near or m or c or captures or sdef.gdelt) else None,
        context_words=context_words,
        languages=language,
        pack=pack.name,
        gdelt=_gdelt_test(sdef.gdelt),
        gdelt_captures=tuple((cname, cdef.gdelt) for cname, cdef in sdef.capture.items() if cdef.gdelt is not None),
        capture_fallbacks=tuple(
            (cname, cdef.fallback) for cname, cdef in sdef.capture.items() if cdef.fallback is not None
        ),
        distinct_captures=_distinct_captures(captures, [_distinct(cdef) for cdef in sdef.capture.values()]),
    )


def _distinct(cdef: CaptureDef) -> bool:
    """Whether a capture takes an entity no other capture of its signal took: as it says, else all but a `kind`
    capture of role any, the first of that kind named: where it happened, which is most often the actor's or the
    target's own country (over 20,000 items of 2023, `{kind: country}` beside an actor capture of 12 countries lost its
    value on 881 of 3,046 signals if distinct, most of them domestic acts: "US tornadoes", "UK tax agency failing")."""
    if cdef.distinct is not None:
        return cdef.distinct
    return not (cdef.kind and (cdef.role or "any") == "any")


def _distinct_captures(
    captures: list[tuple[str, tuple[str, ...], str | None, str]], distinct: list[bool]
) -> tuple[int, ...]:
    """CompiledSignal.distinct_captures: the captures that take different entities, the actor role's first."""
    read = [i for i, (_n, _c, _k, role) in enumerate(captures) if distinct[i] and not role.startswith(GDELT_ROLE)]
    if len(read) < 2:
        return ()
    return tuple(sorted(read, key=lambda i: captures[i][3] != "actor"))


def _gdelt_test(req: GdeltReq | None) -> GdeltTest | None:
    if req is None:
        return None
    bounds, tone = req.goldstein, req.avg_tone
    countries, not_countries = _codes(req.countries)
    actor1, not_actor1 = _codes(req.actor1_countries)
    actor2, not_actor2 = _codes(req.actor2_countries)
    action, not_action = _codes(req.action_countries)
    event_codes, not_event_codes = country_sets(req.event_codes)
    quad_classes, not_quad_classes = country_sets(req.quad_classes)
    return GdeltTest(
        event_codes=tuple(event_codes),
        quad_classes=tuple(quad_classes),
        goldstein_at_least=bounds.at_least if bounds is not None else None,
        goldstein_at_most=bounds.at_most if bounds is not None else None,
        min_mentions=req.min_mentions,
        countries=countries,
        actor1_countries=actor1,
        actor2_countries=actor2,
        action_countries=action,
        # (a part of a day asks for the day: an event of yesterday is 1 day old whatever its hour)
        max_event_age_days=-(-req.max_event_age // timedelta(days=1)) if req.max_event_age is not None else None,
        min_sources=req.min_sources,
        min_articles=req.min_articles,
        tone_at_least=tone.at_least if tone is not None else None,
        tone_at_most=tone.at_most if tone is not None else None,
        not_countries=not_countries,
        not_actor1_countries=not_actor1,
        not_actor2_countries=not_actor2,
        not_action_countries=not_action,
        not_event_codes=tuple(not_event_codes),
        not_quad_classes=tuple(not_quad_classes),
    )


def _codes(condition: list[str] | Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(any, none) of a country condition as the engine compares them with a row's field: `unknown` is the empty
    field."""
    wanted, left_out = country_sets(condition)
    return tuple(_field(c) for c in wanted), tuple(_field(c) for c in left_out)


def _field(code: str) -> str:
    return "" if code == UNKNOWN_COUNTRY else code


def _compile_detections(
    b: PhraseBuilder, packs: Sequence[RulePack], signals: dict[str, CompiledSignal]
) -> tuple[list[CompiledDetection], dict[str, list[CompiledDetection]]]:
    detections: list[CompiledDetection] = []
    by_signal: dict[str, list[CompiledDetection]] = {}
    seen_ids: set[str] = set()
    defined = {d.id: d for p in packs for d in p.detections}
    values = EntityValues(packs)
    for pi, pack in enumerate(packs):
        b.pack = pi
        for di, d in enumerate(pack.detections):
            dpath: list[str | int] = ["detections", di]
            if d.id in seen_ids:
                b.error([*dpath, "id"], f"detection id {d.id!r} is used twice")
                continue
            seen_ids.add(d.id)
            refs: list[CompiledRef] = []
            ok = True
            for ri, ref in enumerate(d.pattern.refs()):
                rpath: list[str | int] = [*dpath, "pattern", d.pattern.kind, ri]
                if ref.detection is not None:
                    cref = _compile_alert_ref(ref, rpath, d.id, defined, signals, b, values)
                else:
                    cref = _compile_ref(ref, rpath, signals, b, values)
                if cref is None:
                    ok = False
                else:
                    refs.append(cref)
            # What each input carries, from the definition: a reference with an error of its own (a `where` value
            # that names no entity) still has its signal or detection, so the group_by and title checks run too and
            # a second, independent error of the detection is said in the same run (outside trial 17, L4). An input
            # that is not defined (its own error is said) is judged by what any signal (detection) of the rules
            # could bring: a group key or placeholder none of them has is wrong whichever one it was meant to name,
            # and is said in the same run too (outside trial 28, F4); one some of them have cannot be judged.
            inputs: list[tuple[str | None, str | None]] = []  # (signal, detection) of each known input
            unknown: list[tuple[str, str]] = []  # ("signal" | "detection", name) of each input not defined
            for ref in d.pattern.refs():
                if ref.detection is not None and ref.detection in defined:
                    inputs.append((None, ref.detection))  # (its own alerts, an error said: they carry its group)
                elif ref.detection is None and ref.signal in signals:
                    inputs.append((ref.signal, None))
                elif ref.detection is not None:
                    unknown.append(("detection", ref.detection))
                elif ref.signal is not None:
                    unknown.append(("signal", ref.signal))
            captured: set[str] = set()
            for sname, target in inputs:
                if target is not None:
                    captured |= set(defined[target].group_by)
                elif sname is not None:
                    captured |= {c[0] for c in signals[sname].captures}
            could = _could_carry(unknown, defined, signals)  # what an input not defined could carry, at most
            carried: list[str] = []  # the group keys some input carries (or may): a title may name them
            for gi, g in enumerate(d.group_by):
                if g == "source":
                    carried.append(g)
                    continue
                problem, assumes = None, frozenset[str]()
                for sname, target in inputs:
                    if target is not None:
                        has = set(defined[target].group_by)
                        what = _uncarried_key(g, target, defined, signals)
                    else:
                        assert sname is not None
                        has = {c[0] for c in signals[sname].captures}
                        what = (
                            f"signal {sname!r} captures no {g!r}{_did_you_mean(g, has | {'source'})} (add it under "
                            "the signal's 'capture', or group by 'source')"
                        )
                    if g not in has:
                        problem = f"group_by {g!r}: {what}"
                        break
                if problem is None and unknown and g not in could:
                    problem = f"group_by {g!r}: " + _never_carried(g, unknown, could)
                    assumes = frozenset(n for _k, n in unknown)
                if problem is not None:
                    b.error([*dpath, "group_by", gi], problem, assumes=assumes)
                    ok = False
                if g in captured or g in could:
                    carried.append(g)
            # thread_by names group_by keys: a thread is told by fewer of the group's values, never by others.
            seen_thread: set[str] = set()
            for ti, k in enumerate(d.thread_by or ()):
                if k not in d.group_by:
                    grouped = f"it groups by {', '.join(d.group_by)}" if d.group_by else "it has no group_by"
                    b.error(
                        [*dpath, "thread_by", ti],
                        f"thread_by {k!r} is not a group_by key of this detection{_did_you_mean(k, d.group_by)}: "
                        f"{grouped} (thread_by names the group_by keys whose values alone decide a thread)",
                    )
                    ok = False
                elif k in seen_thread:
                    b.error([*dpath, "thread_by", ti], f"thread_by {k!r} is named twice")
                    ok = False
                seen_thread.add(k)
            # A title is judged with what its inputs carry (a group key no input carries fills no placeholder);
            # with an input not defined, only a placeholder nothing in the rules could fill is said.
            certain = [g for g in carried if g == "source" or g in captured]
            maybe = title_placeholders([g for g in carried if g not in certain], could) if unknown else set()
            problem = title_fields(
                d.title,
                certain,
                captured,
                maybe=maybe,
                pending=(_none_has(unknown), str(_undefined(unknown))) if unknown else None,
            )
            if problem:
                # (what a placeholder may name is judged without the inputs not defined: a brace out of place is not)
                judged = "unknown placeholder" in problem
                b.error(
                    [*dpath, "title"], problem, assumes=frozenset(n for _k, n in unknown) if judged else frozenset()
                )
                continue
            if not ok:
                continue
            cd = CompiledDetection(
                id=d.id,
                pack=pack.name,
                definition=d,
                kind=d.pattern.kind,
                refs=tuple(refs),
                group_by=tuple(d.group_by),
                within=d.within,
                realert=d.realert,
                corroborating=modality_set(d.corroborate.modality) if d.corroborate is not None else frozenset(),
                own_place=any(sn is not None and "place" in {c[0] for c in signals[sn].captures} for sn, _t in inputs),
            )
            detections.append(cd)
            for sname in {r.signal for r in refs}:
                by_signal.setdefault(sname, []).append(cd)
    _check_cycles(b, packs)
    return detections, by_signal


def _with_coded_names(names: dict[str, str], signals: dict[str, CompiledSignal]) -> dict[str, str]:
    """`names` with the names of the codes a GDELT capture takes (`{gdelt: actor1_country}` -> "Yemen" for YEM, the
    FIPS table's for action_country, the codebook's for event_code and root_code), so a title and a group label read
    "Material conflict by Yemen", not "by YEM" (outside trial 70, M2: the same alert's actors line said "Yemen"). An
    entity of the packs with that id keeps its own name."""
    fields = {c[3][len(GDELT_ROLE) :] for sig in signals.values() for c in sig.captures if c[3].startswith(GDELT_ROLE)}
    if not fields:
        return names
    from watchfloor.schemas.gdelt_codes import cameo_countries, cameo_events, event_text, fips_countries

    coded: dict[str, str] = {}
    if fields & {"actor1_country", "actor2_country"}:
        coded.update(cameo_countries())
    if "action_country" in fields:
        coded.update(fips_countries())
    if fields & {"event_code", "root_code"}:
        coded.update({k: event_text(v) for k, v in cameo_events().items()})
    return {**coded, **names}


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """The closest of `known`, as an unknown key is told (rulefile.unknown_key): " (did you mean 'offensive'?)",
    or "" when none is close."""
    from difflib import get_close_matches

    close = get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _could_carry(
    unknown: Sequence[tuple[str, str]], defined: dict[str, Any], signals: dict[str, CompiledSignal]
) -> set[str]:
    """What inputs that are not defined could carry at most, whichever signal (detection) they were meant to name:
    any capture of a signal of the rules (any group key of a detection)."""
    out: set[str] = set()
    kinds = {k for k, _n in unknown}
    if "signal" in kinds:
        out |= {c[0] for sig in signals.values() for c in sig.captures}
    if "detection" in kinds:
        out |= {g for det in defined.values() for g in det.group_by}
    return out


def _undefined(unknown: Sequence[tuple[str, str]]) -> str | None:
    """Which inputs of a detection are not defined ("signal 'ofensive' is not defined"); None when all are."""
    if not unknown:
        return None
    names = ", ".join(f"{kind} {name!r}" for kind, name in dict.fromkeys(unknown))
    return f"{names} {'is' if len(dict.fromkeys(unknown)) == 1 else 'are'} not defined"


def _none_has(unknown: Sequence[tuple[str, str]]) -> str:
    """What is true of a name that no input not defined could carry (_could_carry): "no signal captures"."""
    kinds = {k for k, _n in unknown}
    if kinds == {"signal"}:
        return "no signal captures"
    if kinds == {"detection"}:
        return "no detection groups by"
    return "no signal captures and no detection groups by"


def _never_carried(key: str, unknown: Sequence[tuple[str, str]], could: set[str]) -> str:
    """Why a group key no input can carry is wrong when an input is not defined: nothing in the rules has it, so
    whichever signal (detection) the input was meant to name, its reports do not carry it."""
    from difflib import get_close_matches

    kinds = {k for k, _n in unknown}
    if kinds == {"signal"}:
        fix = f"add {key!r} under the 'capture' of the signal meant"
    elif kinds == {"detection"}:
        fix = f"group the detection meant by {key!r}"
    else:
        fix = "make the input meant carry it"
    close = get_close_matches(key, sorted(could), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{_none_has(unknown)} {key!r}{hint}, and {_undefined(unknown)} ({fix}, or group by 'source')"


def _uncarried_key(key: str, target: str, defined: dict[str, Any], signals: dict[str, CompiledSignal]) -> str:
    """Why a detection over `target`'s alerts cannot group by `key`, and what would: an alert carries its own
    group (compose._group reads it) and nothing else of its signals, so `target` must group by the key — which
    it can where its inputs carry it (its signals capture it, or its input detections group by it)."""
    carried = list(defined[target].group_by)
    if carried:
        has = f"the alerts of detection {target!r} carry its group keys only, {', '.join(map(repr, carried))}"
    else:
        has = f"the alerts of detection {target!r} carry no group keys (it has no group_by)"
    inputs: set[str] = set()
    for ref in defined[target].pattern.refs():
        if ref.detection is not None and ref.detection in defined:
            inputs |= set(defined[ref.detection].group_by)
        elif ref.signal is not None and ref.signal in signals:
            inputs |= {c[0] for c in signals[ref.signal].captures}
    over_alerts = any(ref.detection is not None for ref in defined[target].pattern.refs())
    if key in inputs:
        carry = "its inputs carry" if over_alerts else "its signals capture"
        fix = f"add {key!r} to the group_by of {target!r} ({carry} it)"
    elif over_alerts:
        fix = f"group {target!r} by {key!r} (its input detections must group by it too)"
    else:
        fix = f"group {target!r} by {key!r} (its signals must capture it too)"
    others = " or ".join(repr(k) for k in [*carried, "source"])
    return f"{has}: {fix}, or group this detection by {others}"


def _where(
    ref: SignalRef, path: list[str | int], b: PhraseBuilder, values: EntityValues, skip: set[str]
) -> tuple[tuple[tuple[str, str], ...], bool]:
    """A reference's `where` with each value as the entity id it names (by id, display name or alias, any case:
    "Niger", "niger" and "NER" are NER), as its alerts and captures hold it, and whether every value names one (an
    error is said for a value that names no entity, which could never match; `source` names a source, not an
    entity: kept as written). The keys in `skip` (wrong keys, said already) are left out: every other value is
    checked, in the same run."""
    out: list[tuple[str, str]] = []
    ok = True
    for k, v in ref.where.items():
        if k in skip:
            continue
        if k == SOURCE_KEY:
            out.append((k, v))
            continue
        eid, problem = values.resolve(f"where {k}", v)
        if eid is None:
            b.error([*path, "where", k], problem)
            ok = False
        else:
            out.append((k, eid))
    return tuple(sorted(out)), ok


def _compile_alert_ref(
    ref: SignalRef,
    path: list[str | int],
    own: str,
    defined: dict[str, Any],
    signals: dict[str, CompiledSignal],
    b: PhraseBuilder,
    values: EntityValues,
) -> CompiledRef | None:
    """A reference to another detection's alerts."""
    target = ref.detection
    assert target is not None
    if target not in defined:
        b.error([*path, "detection"], f"unknown detection {target!r}{_did_you_mean(target, defined)}")
        return None
    if target == own:
        b.error([*path, "detection"], f"detection {own!r} cannot take its own alerts as input")
        return None
    keys = set(defined[target].group_by)
    wrong = {k for k in ref.where if k not in keys}
    for k in ref.where:
        if k in wrong:
            b.error([*path, "where", k], f"detection {target!r} groups by no {k!r}{_did_you_mean(k, keys)}")
    # (each key of a `where` is its own check: a wrong key hides no wrong value of another, outside trial 28, F4)
    where, ok = _where(ref, path, b, values, wrong)
    for k, eid in where:
        got = _group_values(target, k, defined, signals, b, frozenset()) if k != SOURCE_KEY else None
        if got is None:
            continue
        can, coded = got
        if eid in can or any(coded_can_hold(f, eid) for f in coded):
            continue
        shown = ", ".join(sorted(can)[:12]) + (f", … ({len(can)} in all)" if len(can) > 12 else "")
        # A GDELT-coded capture holds the code GDELT wrote: an entity whose id is such a code (outside trial 85, F6).
        held = [f"one of {shown}"] if shown else []
        held += [f"the GDELT event's {f} ({CODED_FORMS[f][1]})" for f in sorted(coded) if f in CODED_FORMS]
        b.error(
            [*path, "where", k],
            f"where {k}: the alerts of detection {target!r} carry {k!r} as "
            + (" or ".join(held) if held else "no entity")
            + f"{'' if coded else ' (what its inputs capture)'}, never {eid}: this reference never matches",
        )
        ok = False
    if ref.confidence is not None and defined[target].corroborate is None:
        # Only a detection with `corroborate` gives its alerts a confidence; without it this reference never matches,
        # and the detection built on it never fires (outside trial 68, MED-5: `rules check` said ok).
        b.error(
            [*path, "confidence"],
            f"detection {target!r} has no `corroborate`, so its alerts carry no confidence: "
            f"`confidence: {ref.confidence}` never matches; add `corroborate` to {target!r} or drop the filter",
        )
        return None
    if wrong or not ok:
        return None
    return CompiledRef(
        signal=ALERT + target,
        modalities=frozenset({"asserted"}),
        where=where,
        detection=target,
        min_rank=SEVERITY_RANK[ref.severity] if ref.severity is not None else -1,
        confidence=ref.confidence,
    )


def _group_values(
    target: str,
    key: str,
    defined: dict[str, Any],
    signals: dict[str, CompiledSignal],
    b: PhraseBuilder,
    seen: frozenset[str],
) -> tuple[set[str], set[str]] | None:
    """What a group key of `target`'s alerts can hold: the entities its signals capture under it (their candidates,
    or the entities of their kind), and the GDELT fields it captures (`{gdelt: actor1_country}`: a code, CODED_FORMS),
    through detections over detections; None when any value may come (a source, a reference not compiled, a circle:
    said apart)."""
    if target in seen or target not in defined:
        return None
    out: set[str] = set()
    coded: set[str] = set()
    for ref in defined[target].pattern.refs():
        if ref.detection is not None:
            got = _group_values(ref.detection, key, defined, signals, b, seen | {target})
            if got is None:
                return None
            out |= got[0]
            coded |= got[1]
            continue
        cap = next((c for c in signals[ref.signal].captures if c[0] == key), None) if ref.signal in signals else None
        if cap is None:
            return None
        _name, candidates, kind, role = cap
        if role.startswith(GDELT_ROLE):
            coded.add(role.removeprefix(GDELT_ROLE))
            continue
        out |= set(candidates) if candidates else {e for e, (k, _a) in b.entities.items() if k == kind}
    return out, coded


def _check_cycles(b: PhraseBuilder, packs: Sequence[RulePack]) -> None:
    """Detections over detections must not feed each other in a circle: looked for among every detection defined,
    also those with other errors (a circle is an error of its own, said in the same run: outside trial 17, L4)."""
    defined = [d for p in packs for d in p.detections]
    # (a detection taking its own alerts has that error of its own)
    inputs = {d.id: [r.detection for r in d.pattern.refs() if r.detection not in (None, d.id)] for d in defined}
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if state.get(node) == 2:
            return None
        if state.get(node) == 1:
            return [*trail[trail.index(node) :], node]
        state[node] = 1
        for nxt in inputs.get(node, ()):
            cycle = visit(nxt, [*trail, node])
            if cycle is not None:
                return cycle
        state[node] = 2
        return None

    for d in defined:
        cycle = visit(d.id, [])
        if cycle is not None:
            for pi, pack in enumerate(packs):
                for di, dd in enumerate(pack.detections):
                    if dd.id == d.id:
                        b.pack = pi
                        b.error(["detections", di, "pattern"], "detections feed each other: " + " -> ".join(cycle))
            return


def _simple_atoms(node: Node) -> tuple[str, ...] | None:
    """The atoms of a condition that is one phrase or any of several phrases, else None."""
    if node[0] == "atom":
        return (node[1],)
    if node[0] == "any" and node[1] and all(n[0] == "atom" for n in node[1]):
        return tuple(n[1] for n in node[1])
    return None


def _uses_regex(node: Node) -> bool:
    if node[0] == "re":
        return True
    if node[0] in ("any", "all", "none"):
        return any(_uses_regex(n) for n in node[1])
    return False


def _compile_ref(
    ref: SignalRef,
    path: list[str | int],
    signals: dict[str, CompiledSignal],
    b: PhraseBuilder,
    values: EntityValues,
) -> CompiledRef | None:
    assert ref.signal is not None
    if ref.signal not in signals:
        hint = _did_you_mean(ref.signal, signals)
        b.error([*path, "signal"], f"unknown signal {ref.signal!r}" + (hint or " (define it under 'signals')"))
        return None
    modalities = modality_set(ref.modality)
    sig = signals[ref.signal]
    capture_names = {c[0] for c in sig.captures}
    wrong = {k for k in ref.where if k not in capture_names}
    for k in ref.where:
        if k in wrong:
            b.error([*path, "where", k], f"signal {ref.signal!r} captures no {k!r}{_did_you_mean(k, capture_names)}")
    # (each key of a `where` is its own check: a wrong key hides no wrong value of another, outside trial 28, F4)
    where, ok = _where(ref, path, b, values, wrong)
    for k, eid in where:
        if k == SOURCE_KEY:
            continue
        # A capture takes one of its candidates, or an entity of its kind: another entity never comes.
        _name, candidates, kind, role = next(c for c in sig.captures if c[0] == k)
        field = role.removeprefix(GDELT_ROLE)
        if role.startswith(GDELT_ROLE) and not coded_can_hold(field, eid):
            # The code GDELT wrote, as its detection's alerts carry it (_compile_alert_ref; outside trial 85, F6).
            b.error(
                [*path, "where", k],
                f"where {k}: signal {ref.signal!r} captures the GDELT event's {field} ({CODED_FORMS[field][1]}) as "
                f"{k!r}, never {eid}: this reference never matches",
            )
            ok = False
        elif (candidates and eid not in candidates) or (kind and b.entities[eid][0] != kind):
            can = f"one of {', '.join(candidates)}" if candidates else f"an entity of kind {kind!r}"
            b.error(
                [*path, "where", k],
                f"where {k}: signal {ref.signal!r} captures {can} as {k!r}, never {eid}: this reference never matches",
            )
            ok = False
    if wrong or not ok:
        return None
    except_cues = tuple(tuple(phrase_words(c)) for c in ref.except_cues)
    for ci, words in enumerate(except_cues):
        if not words:
            b.error([*path, "except_cues", ci], f"except_cues {ref.except_cues[ci]!r}: no words")
            return None
    return CompiledRef(signal=ref.signal, modalities=modalities, where=where, except_cues=except_cues)
