"""Captures: which entity of a sentence a signal names as a value (the acting party, the place).

Role "any" (a `kind` capture's default) takes the first candidate named in the signal's part of the sentence, a
headline's lead before ":" included, whatever its role: where or to whom an act happened. Role "actor" (the default
of `entities`) takes the acting one, by the grammar where that is cheap:
1. the agent of a passive: in English a "by" that closely follows a past participle among the signal's
   own words in a clear passive, a form of "be"/"get" before it ("was ratified by Russia", "was
   ratified unanimously by the DPRK", "has been formally agreed by X") or a reduced passive, as headlines
   write it: right after a noun, with no object between it and the "by" ("North Korea pact ratified by
   Russian senators", "the truce brokered by Qatar"), perhaps past one prepositional phrase ("imposed on Niger's
   junta by ECOWAS"), and the mention right after the "by" ("by the DPRK",
   "by President X", "by decree of North Korea's leader"); a possessive is the agent's owner only when its
   head acts for it ("by Russia's parliament", not "by Israel's allies"). Not any "by": not in an active
   sentence ("Hamas accepted the truce by Israel's deadline"), nor another verb's ("prompted by Y",
   "followed by Y"), nor one of place ("by the Russian border"). The reason names the participle. When
   the agent is people or a body that no entity names ("ratified by senators", "by France's allies"), no
   capture: the mention before is what was acted on, not the actor, and the owner did not act. In Russian a
   passive participle among the signal's words with a mention next to it that can be instrumental and
   follows no preposition ("ратифицирован Россией", "Россией ратифицирован"; not "договор с Россией"),
   nor is an abbreviation in the genitive of the noun before it ("из плена ВСУ освобождены"), nor, as for 2, one
   after a preposition's noun of any case ("в тыл ВСУ"). An English passive
   of the signal's own verb with no "by" ("North Korea treaty ratified", "Troops deployed to Kursk") names no
   actor: no capture, but of a place, or the owner of the attack it happened in ("killed in a Russian strike");
2. the subject: the nearest mention before the signal's words (in Russian, one that can be
   nominative and follows no preposition, so "договор с КНДР ратифицировала Госдума" names the Duma;
   else the first such mention after);
3. else the first mention after the signal's words, in their clause (not past ";" or ", and"). In Russian,
   when no mention is nominative, 2 and 3 take any case but only a mention no preposition governs ("из
   украинского плена освобождены 248 российских военных" names Russia, "95 российских военных освобождены из
   плена" too); none such: no capture.
Every capture keeps to the part of the sentence between the ";" around the signal's words (a news rundown lists its
stories so), and the actor is not a headline's lead before ": " (a speaker or a topic). In Russian the accused of a
verb of accusing is the actor, and a genitive right after the signal's noun ("атаку дронов ВСУ") is whose act it is.
In English, when the signal's words hold a verb in the past, a mention that is the object of another
participle's "by" ("the truce brokered by Israel was accepted", "Hamas, pressed by Qatar, accepted") is
neither 2 nor 3: not the party. Nor, in English, is a mention before the words that does not name the subject
(outside trial 28: "The parliament of Armenia, an ally of Moscow, ratified" read as Russia ratifying): the object of
a relational head's "of"/"to" ("an ally of Moscow", "the neighbour of Azerbaijan", "the US envoy to Russia"), whom a
verb of telling addresses ("warned other West African nations that …": the teller acted), the
owner of one ("Russia's closest allies"), one inside an appositive or a relative clause set off by commas after the
subject (", a country bordering Russia,", ", which borders Russia,"), and any before the subject that one
describes. Then 2 takes a mention farther back only from the same clause, and when none is left before the words
there is no capture, not 3: the subject is named and is none of the candidates ("The Nordic country, which joined
NATO, accused Moscow"). The same heads after a passive's "by" are people no entity names ("by an ally of Moscow").
Nor, in English, is what the act was done to the actor (outside trial 61): a name right before the agreement the
signal's words act on ("Ukraine grain deal collapses", "renewal of vital Ukraine crop deal"), the target of an
attack's "on"/"against"/"at" ("strikes on Ukraine"), and for 3 the object of a verb whose subject the signal's words
are ("Missile Attack Leaves Ukrainians Bereft") or a mention in a relative clause after them, and the country of a
place ("Ukraine's Odesa"); a mention among the signal's words is not "after" them. One among
them that a verb follows is its subject and acts ("Grain Deal Collapses as Russia Refuses to Extend It"), and with
none before, so does the owner of an attack noun among them ("after Russian attack").

Two captures of a signal take different entities (outside trial 81, F3: an actor and a partner of `role: any` over the
same countries made "Russia military ties with Russia"): the extractor reads the actor role's first and passes each the
entities the ones before took (`taken`), which role "any" and a fallback skip and role "actor" does not take (its
actor taken, none: not the next mention, which the grammar did not read as acting). `distinct: false` opts out; a
`kind` capture of role "any" (where it happened) is out unless it says `distinct: true`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from .modality import clause_breaks, is_bare_verb_en
from .morphology import (
    is_passive_participle_ru,
    is_preposition_ru,
    may_be_case_ru,
    script_of,
    tags_ru,
    word_forms,
)
from .scan import Sentence, Span
from .text import aligned_word_view, tokens

_EN_BY_GAP = 3  # words between the participle and "by" ("ratified unanimously on Tuesday by")
# Words between the participle and "by" when they are one prepositional phrase ("imposed on Niger's junta by",
# "imposed on the country's military rulers by"): its preposition, then nouns, determiners, possessives, an "of".
_EN_BY_PHRASE_GAP = 7
_EN_AGENT_GAP = 4  # words between "by" and the agent ("by decree of North Korea")
_RU_AGENT_GAP = 3


@dataclass(frozen=True)
class PassedOver:
    """A mention the actor role passed over as what the act was done to, which role "any" takes."""

    eid: str
    word: str  # as the sentence's tokens spell it ("finland's")
    why: str  # where it stands ("inside the signal's words", "the target of 'strikes on'")


def capture(
    sent: Sentence,
    window: Span,
    own: list[Span],
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    role: str = "actor",
    *,
    explain: bool = True,
    taken: Mapping[str, str] | None = None,
) -> tuple[str | None, str]:
    """(entity id or None, why). Role "any": the first of `candidates` (or of `kind` when it is set) named; role
    "actor": the acting one of `candidates`. Russian grammar applies when the signal's words are Cyrillic. Without
    `explain`, the why has no notes (what was passed over, a coordinated subject): the value is the same. `taken`:
    the entities other captures of the signal took (entity -> capture name), which this one does not take."""
    value, why, _passed = capture_detail(sent, window, own, candidates, kind, kinds, role, explain=explain, taken=taken)
    return value, why


def capture_detail(
    sent: Sentence,
    window: Span,
    own: list[Span],
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    role: str = "actor",
    *,
    explain: bool = True,
    taken: Mapping[str, str] | None = None,
) -> tuple[str | None, str, PassedOver | None]:
    """`capture`, and for role "actor" the mention it passed over as what was acted on when that is the one role
    "any" takes and the actor is another or none (outside trial 62: a pack that captured what a vote was about,
    "Hungary ratifies Finland's NATO bid", with the default role lost it, or took "Sweden" named after it). The
    reason then says so: `rules explain` names the mention and `rules check` warns of a capture that only ever
    names such mentions in the packs' examples."""
    if role == "any":
        value, why = _first_named(sent, window, candidates, kind, kinds, taken)
        return value, why, None
    acted: dict[int, str] = {}  # mentions passed over as what was acted on: start -> why
    value, why = _actor(sent, window, own, candidates, kind, kinds, acted)
    if taken and value is not None and value in taken:
        # The actor another capture of the signal took (a second actor capture over the same entities): none, not the
        # next mention, which the grammar did not read as acting ("Mali says French jets struck": not Mali).
        note = _taken_note(sent, (value,), None, kinds, taken, (sent.start, sent.end))
        return None, f"its actor is taken: {note} (a signal's captures take different entities; {_OPT_OUT})", None
    if not explain:
        return value, why, None
    if value is not None and why.startswith(("the subject: nearest", "the nearest mention before")):
        # "Россия и КНДР обменялись ратификационными грамотами" (outside trial 62, L1): a capture holds one entity, the
        # nearest of a coordinated subject; say so, as the title names one side of a joint act.
        joint = _coordinated_subject(sent, window, candidates, kind, kinds, value)
        if joint is not None:
            words, ids = joint
            need = ", ".join(ids)
            why += (
                f" (one of the coordinated subject \u201c{words}\u201d: a capture holds one entity; to need both, "
                f"`mentions: {{all: [{need}]}}`)"
            )
    if not acted:
        return value, why, None
    first, last = _part(sent, *window)
    pick = next(
        (
            m
            for m in sent.mentions
            if first <= m[0] < last
            and (m[2] in candidates if kind is None else kinds.get(m[2]) == kind)
            and not (taken and m[2] in taken)
        ),
        None,
    )
    if pick is None or pick[2] == value or pick[0] not in acted:
        return value, why, None
    s, e, eid = pick
    word = sent.words(s, e) + ("'s" if e + 1 < sent.end and sent.toks[e + 1 - sent.start] == "s" else "")
    passed = PassedOver(eid, word, acted[s])
    # Said once: a reason that says the mentions were acted on gets only what `role: any` takes.
    if not any(said in why for said in ("acted on", "done to", "other party", "is the object of", "(skipped")):
        why += f"; passed over “{word}” ({acted[s]}): what was acted on, not the actor (role: actor)"
        if value is None:
            why += "; `role: any` takes it"
    elif value is None:
        why += f"; `role: any` takes “{word}”"
    return value, why, passed


_COORDINATORS = frozenset({"and", "и", "&"})
_COORDINATED_GAP = 4  # words between a coordinated subject and the signal's words ("Moscow and Pyongyang on Wednesday")


def _coordinated_subject(
    sent: Sentence, window: Span, candidates: tuple[str, ...], kind: str | None, kinds: dict[str, str], value: str
) -> tuple[str, tuple[str, ...]] | None:
    """(Its words, its entities) when the last candidate mention before the signal's words ends a subject of several
    candidates joined by "and"/"и" (or commas before one: "Russia, China and Iran") that holds `value`, at most
    _COORDINATED_GAP words before them; else None."""
    lo = window[0]
    toks, base = sent.toks, sent.start
    ms = [m for m in sent.mentions if m[1] < lo and (m[2] in candidates if kind is None else kinds.get(m[2]) == kind)]
    if len(ms) < 2:
        return None
    chain = [ms[-1]]
    commas = _comma_tokens(sent) if "," in sent.text else []
    for m in reversed(ms[:-1]):
        gap = toks[m[1] + 1 - base : chain[0][0] - base]
        if not (len(gap) == 1 and gap[0] in _COORDINATORS) and not (not gap and chain[0][0] in commas):
            break
        chain.insert(0, m)
    ids = tuple(sorted({m[2] for m in chain}))
    # (a few words may stand between it and the signal's words: "Москва и Пхеньян в среду обменялись")
    if len(ids) < 2 or value not in ids or lo - chain[-1][1] > _COORDINATED_GAP + 1:
        return None
    words = sent.words(chain[0][0], chain[0][1])
    for a, b in pairwise(chain):
        joint = toks[a[1] + 1 - base : b[0] - base]
        words += (f" {joint[0]} " if joint else ", ") + sent.words(b[0], b[1])
    return words, ids


def _first_named(
    sent: Sentence,
    window: Span,
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    taken: Mapping[str, str] | None = None,
) -> tuple[str | None, str]:
    """Role "any": the first of `candidates` (or of `kind`) named in the signal's part of the sentence that no other
    capture of the signal took (`taken`)."""
    lo, hi = window
    first, last = _part(sent, lo, hi)
    # Where or to whom an act happened is most often no actor ("Niger: general declares himself leader",
    # outside trial 56, M1): the first candidate named, a headline's lead before ':' included.
    what = kind if kind is not None else "of " + ", ".join(candidates)
    elsewhere = False
    passed = False  # a mention in the part whose entity another capture took
    for s, _e, eid in sent.mentions:
        if (kinds.get(eid) == kind) if kind is not None else (eid in candidates):
            if first <= s < last:
                if taken and eid in taken:
                    passed = True
                    continue
                whole = (first, last) == (sent.start, sent.end)
                where = "the sentence" if whole else "the signal's part of the sentence (between ';')"
                took = f"the first {what} named in {where}"
                if passed and taken:
                    note = _taken_note(sent, candidates, kind, kinds, taken, (first, last))
                    took += f" that no other capture took ({note})"
                return eid, took if kind is not None else f"{took} (role: any, whether it acted or not)"
            elsewhere = True
    if passed and taken:
        return None, _all_taken(sent, candidates, kind, kinds, taken, (first, last))
    if elsewhere:
        return None, f"no {what} named in the signal's part of the sentence (the others are past a ';')"
    return None, f"no {what} named in the sentence"


def _taken_note(
    sent: Sentence,
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    taken: Mapping[str, str],
    part: Span,
) -> str:
    """What of the capture's candidates the sentence's `part` names and other captures took: "capture 'actor' took
    “russia” (RUS)"; "" when it names none."""
    said: dict[str, str] = {}
    for s, e, eid in sent.mentions:
        if not part[0] <= s < part[1] or eid not in taken or eid in said:
            continue
        if eid in candidates or (kind is not None and kinds.get(eid) == kind):
            said[eid] = f"capture {taken[eid]!r} took \u201c{sent.words(s, e)}\u201d ({eid})"
    return "; ".join(said.values())


def _all_taken(
    sent: Sentence,
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    taken: Mapping[str, str],
    part: Span,
) -> str:
    """Why a capture found nothing when every candidate named in `part` was taken by another capture of the signal."""
    note = _taken_note(sent, candidates, kind, kinds, taken, part)
    return f"no candidate named is left: {note} (a signal's captures take different entities; {_OPT_OUT})"


_OPT_OUT = "`distinct: false` lets a capture take one another took"


def fallback_capture(
    sent: Sentence,
    sentences: list[Sentence],
    headline: int,
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    fallback: str,
    taken: Mapping[str, str] | None = None,
) -> tuple[str | None, str]:
    """A capture's `fallback` (CaptureDef.fallback): when the signal's sentence `sent` names none of its candidates,
    the first one named in the headline (its first `headline` sentences) or, for "document", in the first of
    `sentences` (the document's, in order) that names one, whatever its role there: the headline is the story's topic,
    not the actor's clause ("Niger capital gripped by uncertainty …" over "Neighbours … have threatened military
    action"). (None, "") when the sentence names one: what the grammar made of it stands. A candidate another capture
    of the signal took (`taken`) counts as not named, here and elsewhere."""
    for _s, _e, eid in sent.mentions:
        if ((kinds.get(eid) == kind) if kind is not None else (eid in candidates)) and not (taken and eid in taken):
            return None, ""
    for other in sentences:
        if other.index == sent.index:
            continue
        if fallback == "headline" and other.index >= headline:
            break
        for _s, _e, eid in other.mentions:
            if taken and eid in taken:
                continue
            if (kinds.get(eid) == kind) if kind is not None else (eid in candidates):
                where = "the headline" if other.index < headline else f"sentence {other.index}"
                said = f"none in the sentence; {where} names it"
                if taken:
                    note = _taken_note(sent, candidates, kind, kinds, taken, (sent.start, sent.end))
                    said = (
                        f"none in the sentence that no other capture took ({note}); {where} names it" if note else said
                    )
                return eid, f"{said} (fallback: {fallback}: the first named there, whatever its role)"
    if fallback == "headline":
        return None, "none in the sentence, nor in the headline (fallback: headline)"
    return None, "none in the sentence, nor in another sentence of the document (fallback: document)"


def _actor(
    sent: Sentence,
    window: Span,
    own: list[Span],
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
    acted: dict[int, str],
) -> tuple[str | None, str]:
    """Role "actor": the acting one of `candidates`; `acted` gets the mentions passed over as what was acted on."""
    lo, hi = window
    # The part of the sentence the signal's words stand in: between the ";" around them (a news rundown lists its
    # stories so: "Смотрите в этом выпуске: …; …; …", outside trial 35), as cues and rule 3 do not reach past one.
    first, last = _part(sent, lo, hi)
    mentions = [m for m in sent.mentions if m[2] in candidates]
    if not mentions:
        named = ", ".join(candidates) if kind is None else f"the {kind} entities"
        return None, f"none of {named} is named in the sentence"
    base = sent.start
    toks = sent.toks
    # Nor is a headline's lead before ": " the actor, a speaker or a topic: "Минобороны: беспилотник ВСУ атаковал
    # Белгород", "Ukraine war: Kharkiv missile strike kills six" (in the 2023 corpus ~7 in 10 of the parties so taken
    # were wrong: a victim, a scene, a speaker).
    speaker = _speaker_end(sent, lo)
    if speaker > first:
        first = speaker
    inside = [m for m in mentions if first <= m[0] and m[1] < last]
    if not inside:
        if speaker > sent.start and all(m[1] < speaker for m in mentions):
            return None, (
                "only the headline's lead before ':' (a speaker or a topic) is named, not the actor "
                "(role: any takes it)"
            )
        return None, "every mention named is in another part of the sentence (past a ';')"
    mentions = inside
    acted_on: dict[int, str] = {}  # English: mentions of what the act was done to (start -> why)
    russian = script_of(toks[lo - base]) == "cyrillic" or bool(own and script_of(toks[own[0][0] - base]) == "cyrillic")
    if russian:
        got = _russian_agent(sent, own, mentions)
        if got is not None:
            return got, "the agent of a passive (instrumental after a passive participle)"
        # "Россия обвинила Украину в атаке дронов": the accused is whom the accusation names as the actor, not the
        # accuser (as "Russia accuses Ukraine of drone attack" reads by rule 2).
        accused = _accused_ru(sent, first, lo, mentions)
        if accused is not None:
            verb, eid = accused
            return eid, f"the accused (after {verb!r}), not the accuser"
        # "ПВО отражает атаку дронов ВСУ": the genitive right after the signal's noun is whose act it is.
        owner = _owner_after_ru(sent, hi, mentions)
        if owner is not None:
            noun, eid = owner
            return eid, f"the genitive after {noun!r}: whose act it is"
        # "Союзник России ратифицировал": the ally acted, not Russia, the genitive after it (outside trial 28), nor
        # "КНДР" in "Союзник КНДР", which has no case to tell it from a subject.
        related = [m for m in mentions if _relational_object_ru(sent, m[0], m[1])]
        if related:
            mentions = [m for m in mentions if m not in related]
            if not mentions:
                head = toks[related[0][0] - 1 - base]
                return None, f"every mention named is the genitive after {head!r} (an ally's, a neighbour's …)"
        governed = _governed_mentions_ru(sent, sent.mentions)
        free = [m for m in mentions if m[0] not in governed]
        subjects = [m for m in free if may_be_case_ru(toks[m[1] - base], "nomn")]
        before = [m for m in subjects if m[1] < lo or m[0] <= lo <= m[1]]
        if before:
            return max(before, key=lambda m: m[1])[2], "the subject: nearest nominative mention before"
        after = [m for m in subjects if hi < m[0] < _clause_end(sent, hi)]
        if after:
            return after[0][2], "the subject: first nominative mention after"
        # Else, as in any language, the nearest mention before, else the first other one, but only among those
        # no preposition governs ("Из украинского плена освобождены 248 российских военных": not Ukraine, out
        # of whose captivity they came); none such: no capture.
        if not free:
            for s, _e, _eid in mentions:
                acted[s] = "after a preposition"
            return (
                None,
                "every mention named follows a preposition (or is a noun's genitive after one, or joined by 'и')",
            )
        mentions = free
    else:
        if "by" in toks:
            for s, e, eid in mentions:
                if s <= lo:
                    continue
                by = _english_by(toks, base, own, s, e)
                if by is not None:
                    return eid, f"the agent of a passive ('by' after {by!r})"
            # A passive of the signal's own verb whose agent is people or a body the sentence does not name ("the
            # North Korea pact ratified by senators"): the mention before is what they acted on, not the actor.
            unnamed = _unnamed_agent_en(toks, base, own, hi, sent.mentions)
            if unnamed is not None:
                verb, head = unnamed
                # "by France's allies": the allies acted, not France (nor the first mention after the words).
                whose = f" ({head!r} of the one it names)" if head else ""
                return None, f"the agent of a passive ('by' after {verb!r}) names no entity{whose}"
        # A passive of the signal's own verb with no "by" ("North Korea treaty ratified", "Troops deployed to Kursk",
        # "the pact was ratified on Tuesday"): the mention before it is what was acted on, one after it where or
        # whence, neither the actor. Places stay places ("to Kursk"): only they remain.
        agentless = _agentless_passive_en(toks, base, own)
        if agentless is not None:
            verb, p = agentless
            for s, e, eid in mentions:
                attack = _attacker_en(toks, base, s, e) if s > hi and kinds.get(eid) != "place" else None
                if attack is not None:
                    return eid, f"the agent of a passive ({verb!r} in its {attack!r})"
            places = [m for m in mentions if kinds.get(m[2]) == "place"]
            for s, _e, eid in mentions:
                if s < p and kinds.get(eid) != "place":
                    acted[s] = f"before the passive {verb!r}"
            if not places:
                # Say "no 'by'" only when there is none after the participle: a farther one is another verb's or
                # out of reach ("imposed on Niger after talks held in Abuja by ...").
                by = "no 'by'" if "by" not in toks[p + 1 - base :] else "no 'by' of its own"
                return None, f"a passive with no agent ({verb!r}, {by}): what it names was acted on"
            mentions = places
        if "by" in toks:
            # When the signal's words hold a verb in the past ("accepted", "ratified"), the agent of another
            # participle ("the truce brokered by Israel was accepted", "Hamas, pressed by Qatar, accepted") is
            # neither its subject nor its party. (Not for a noun: "a strike ... was fired by Ukraine" names the
            # striker, "shaken by the Hamas raid" the raider.)
            others = [m for m in mentions if _other_agent(toks, base, own, m[0]) is None]
            if len(others) < len(mentions) and _own_verb_en(toks, base, own):
                if not others:
                    other = _other_agent(toks, base, own, mentions[0][0])
                    return None, f"only the agent of another verb is named ('by' after {other!r})"
                mentions = others
        # What the act was done to is not its actor (outside trial 61): the target of an attack's "on"/"against"/"at"
        # ("Mass strikes on Ukraine hit Kyiv" named Ukraine the attacker, M3), and a name that qualifies the deal or
        # treaty the signal's words act on ("Ukraine grain deal collapses", "renewal of vital Ukraine crop deal",
        # "extending Ukraine's grain-export deal": H2).
        acted_on |= _targets_en(toks, base, mentions) | _deal_modifiers_en(toks, base, own, lo, hi, mentions)
        # The owner of a place is where, not who ("Ukraine's Odesa is alive despite shelling").
        acted_on |= _place_owners_en(sent, mentions, kinds)
        acted |= {s: why.split(": ", 1)[1] for s, why in acted_on.items()}  # (each why opens with its word)
        if acted_on:
            mentions = [m for m in mentions if m[0] not in acted_on]
            if not mentions:
                return None, f"every mention named is what the act was done to ({'; '.join(acted_on.values())})"
        # A verb among the signal's words whose subject is a mention inside them: that subject acted ("Grain Deal
        # Collapses as Russia Refuses to Extend It" names Russia, not "Ukraine" before the words).
        inner = _inner_subject_en(sent, own, lo, hi, mentions)
        if inner is not None:
            eid, verb = inner
            return eid, f"the subject of {verb!r} within the signal's words"
        # A mention before the words that only describes the subject, or whose ally, neighbour, critic … the
        # subject is ("The parliament of Armenia, an ally of Moscow, ratified", "Allies of Moscow ratified"), is not
        # the actor: neither 2 nor 3.
        # When none is left before the words, the subject is named and is none of the candidates: no capture (the
        # first mention after is most often its object: "The Nordic country, which joined NATO, accused Moscow").
        # A mention farther back is taken only from the same clause ("The US envoy to the EU backed" names the US;
        # "Russia says Ukraine's allies assisted" names none).
        passed = _not_actors_en(sent, mentions, lo)
        if passed:
            mentions = [m for m in mentions if m[0] not in passed]
            before = [m for m in mentions if m[1] < lo or m[0] <= lo <= m[1]]
            near = max(before, key=lambda m: m[1]) if before else None
            nearer = sorted(s for s in passed if near is None or s > near[1])
            if nearer:  # else rule 2 takes the same mention with them or without
                note = "; ".join(passed[s][0] for s in nearer)
                if near is None:
                    return None, f"no mention before the signal's words names the actor ({note})"
                gap = toks[near[1] + 1 - base : min(passed[s][1] for s in nearer) - base]
                word = next((w for w in gap if w in _EN_CLAUSE or w in _EN_BE or _past_en(w)), None)
                if word is not None:
                    far = f"{sent.words(near[0], near[1])!r} is before {word!r}"
                    return None, f"no mention before the signal's words names the actor ({note}; {far})"
                return near[2], f"the nearest mention before the signal's words ({note})"
    got, why = _nearest(sent, mentions, lo, hi, own, acted, english=not russian)
    if got is None and acted_on:
        why += f" (skipped {'; '.join(acted_on.values())})"
    return got, why


def _nearest(
    sent: Sentence,
    mentions: list[tuple[int, int, str]],
    lo: int,
    hi: int,
    own: list[Span],
    acted: dict[int, str],
    *,
    english: bool,
) -> tuple[str | None, str]:
    """Rules 2 and 3 over the mentions left: the nearest before the signal's words, else the first after in their
    clause (in English not the other side of a bilateral act, nor a verb's object); `acted` gets the mentions
    passed over as what was acted on."""
    toks = sent.toks
    base = sent.start
    before = [m for m in mentions if m[1] < lo or (m[0] <= lo <= m[1])]
    if before:
        return max(before, key=lambda m: m[1])[2], "the nearest mention before the signal's words"
    # A mention among the signal's words but not of them (between two of their words) is not "after" them: in
    # English it is a subject (taken before this) or what they act on ("renewal of vital Ukraine crop deal", outside
    # trial 61, H2). One the signal's own words name ("troops from @PRK") is still taken.
    if english:
        # But the owner of an attack noun among them acted ("blaze in Mykolaiv after Russian attack": Russia struck).
        owner = _inner_owner_en(toks, base, own, lo, hi, mentions)
        if owner is not None:
            eid, noun = owner
            return eid, f"the owner of {noun!r} within the signal's words"
        inside = [m for m in mentions if m[0] <= hi and not any(a <= m[0] and m[1] <= z for a, z in own)]
        if inside:
            for s, _e, _eid in inside:
                acted[s] = "inside the signal's words"
            mentions = [m for m in mentions if m not in inside]
            if not mentions:
                word = sent.words(inside[0][0], inside[0][1])
                return None, f"the only mention is inside the signal's words ({word!r}), not their subject"
        # A relative clause after the words describes another noun ("hit in the area of the Danube River, which forms
        # part of the Ukraine-Romania border", outside trial 61): its mentions are not the act's actor.
        relative = _relative_before_en(sent, hi, mentions[0][0])
        if relative is not None:
            word = sent.words(mentions[0][0], mentions[0][1])
            return (
                None,
                f"the first mention after the signal's words ({word!r}) is in a relative clause (', {relative}')",
            )
        # When the signal's words are the subject of a verb after them, the first mention after is its object, what
        # their act did, not its actor, and so is what follows it: "Missile Attack Leaves Ukrainians Bereft",
        # "Putsch bid strikes French partner Burkina Faso" (outside trial 61, M3).
        verb = _object_of_en(sent, mentions[0][0], hi)
        if verb is not None:
            acted[mentions[0][0]] = f"the object of {verb!r}"
            word = sent.words(mentions[0][0], mentions[0][1])
            return None, f"the first mention after the signal's words ({word!r}) is the object of {verb!r}"
    # Not across a clause break (";", ", and", ", but" …), as cues do not reach across one: "… imposed sanctions on
    # Niger on Sunday, and the EU may follow" does not name the EU.
    if mentions[0][0] >= _clause_end(sent, hi):
        return None, "the first mention after the signal's words is in another clause"
    if script_of(toks[lo - base]) != "cyrillic":  # (as before: by the first of the signal's words)
        # The other side of a bilateral act is not its actor: "Deputies ratified the pact with Pyongyang" names the
        # treaty's other party (outside trial 23: read as North Korea ratifying, 18 days early), as does "the
        # treaty between Russia and North Korea".
        counterpart = _counterparts_en(toks, base, mentions)
        for s, word in counterpart.items():
            acted[s] = f"the act's other party ({word!r})"
        if counterpart:
            rest = [m for m in mentions if m[0] not in counterpart]
            if not rest or rest[0][0] >= _clause_end(sent, hi):
                word = counterpart[mentions[0][0]]
                return None, f"the mentions after the signal's words are its other party ({word!r} …), not the actor"
            return rest[0][2], "the first mention after the signal's words (not its other party)"
    return mentions[0][2], "the first mention after the signal's words"


_EN_COUNTERPART = frozenset({"with", "between", "alongside"})  # "a pact with X", "the treaty between X and Y"


def _counterparts_en(toks: list[str], base: int, mentions: list[tuple[int, int, str]]) -> dict[int, str]:
    """The mentions (by start) that a comitative preposition governs, past a determiner ("with the DPRK"), and those
    joined to one by "and" ("between Russia and North Korea"): start -> the preposition."""
    out: dict[int, str] = {}
    prev_end, prev_word = -1, ""
    for s, e, _eid in mentions:
        i = s - base - 1
        while i >= 0 and toks[i] in _EN_DETERMINERS:
            i -= 1
        word = toks[i] if i >= 0 else ""
        if word in _EN_COUNTERPART:
            out[s] = prev_word = word
        elif word in ("and", "or") and prev_word and i == prev_end - base + 1:
            out[s] = prev_word
        else:
            prev_word = ""
        prev_end = e
    return out


# Heads whose "of" or "to" object is not the one they name: the ally, neighbour, critic … acts, not its other side
# ("an ally of Moscow ratified", "Lawmakers in the neighbour of Azerbaijan", "Russia's closest allies"). Not a body of
# its owner ("the parliament of Armenia"), nor "member" ("members of the Duma" are the Duma), nor "counterpart"
# ("his Russian counterpart" is Russia's minister).
_EN_RELATIONAL = frozenset(
    {
        "ally", "allies", "neighbour", "neighbours", "neighbor", "neighbors", "partner", "partners", "friend",
        "friends", "enemy", "enemies", "foe", "foes", "rival", "rivals", "adversary", "adversaries", "opponent",
        "opponents", "critic", "critics", "detractor", "detractors", "supporter", "supporters", "backer", "backers",
        "client", "clients", "proxy", "proxies", "vassal", "vassals", "puppet", "puppets",
    }
)  # fmt: skip
# In an appositive, also a head that is another's only there (", once a Russian satellite,"; "North Korea's spy
# satellite launch" is its own).
_EN_APPOSITIVE_HEADS = _EN_RELATIONAL | {"satellite", "satellites"}
# Heads whose "to" object is where they were sent, not whom they speak for ("the US ambassador to Russia").
_EN_SENT_TO = frozenset({"ambassador", "ambassadors", "envoy", "envoys", "emissary", "emissaries"})
# Words after a noun that end its phrase: a modal or an auxiliary ("Russia's allies will", "… did"), "say", or an
# adverb that does not end in -ly ("Niger's neighbours earlier threatened").
_EN_AUX = frozenset(
    {
        "will", "would", "could", "should", "may", "might", "must", "can", "did", "do", "does", "say", "says", "said",
        "earlier", "later", "again", "too", "together", "themselves", "all", "both",
    }
)  # fmt: skip
# What opens an appositive set off by commas ("a"/"an", perhaps after one of _EN_APPOSITIVE_ADVERBS: ", an ally of
# Moscow,", ", itself a partner of Beijing,") or a relative clause (", which borders Russia,").
_EN_APPOSITIVE = frozenset({"a", "an"})
_EN_APPOSITIVE_ADVERBS = frozenset({"once", "long", "itself", "also", "now", "formerly", "still"})
_EN_RELATIVE = frozenset({"which", "who", "whom", "whose"})
# What opens an aside set off by commas that compares the subject with another party or sets one beside it, so the
# party it names is not the subject (", like Russia,", ", unlike Moscow,", ", as did Turkey,", ", not Baku,", ",
# along with China,"): outside trial 28 ("Armenia, like Russia, ratified" captured Russia).
_EN_ASIDE_OPENERS = frozenset(
    {
        ("like",), ("unlike",), ("much", "like"), ("just", "like"), ("rather", "than"), ("not",), ("and", "not"),
        ("but", "not"), ("as", "did"), ("as", "does"), ("as", "do"), ("as", "has"), ("as", "have"), ("as", "had"),
        ("along", "with"), ("together", "with"), ("alongside",), ("as", "well", "as"),
    }
)  # fmt: skip
# First words of a stretch before a comma that make it an adverbial, not the subject an appositive describes ("On
# Tuesday, a committee of the Russian parliament voted, and"; "Earlier this week, a group ... Hamas, which").
_EN_FRONTED = frozenset(
    {
        "earlier", "later", "last", "meanwhile", "however", "but", "and", "or", "so", "as", "when", "while", "if",
        "although", "though", "because", "since", "then", "yet", "also", "still", "now", "once", "instead", "already",
        "separately", "elsewhere", "here", "there", "this", "that", "unlike", "like", "despite", "following",
        "according", "asked", "speaking", "in", "on", "at", "after", "before", "during", "for", "with", "without",
        "from", "to", "by", "under", "over", "amid", "among", "against", "about", "into", "through", "until",
    }
)  # fmt: skip
# Prepositions in an appositive that say where its head is, or whose it is: not a sign that a mention is another
# party (", a rocket startup in China,", ", a lawmaker from Armenia,", ", a citizen of Armenia,").
_EN_WHERE = frozenset({"in", "from", "of", "at"})
# Words between a mention and a skipped one that put them in different clauses (besides _EN_BE and verbs in the
# past): "Russia says Ukraine's allies …", "The US lets sanctions expire as Tehran's proxies fire".
_EN_CLAUSE = frozenset(
    {
        "says", "said", "say", "told", "tells", "as", "when", "while", "after", "before", "because", "since", "if",
        "that", "which", "who", "whom", "whose", "where", "but", "although", "though", "whereas", "until", "unless",
        "has", "have", "had", "will", "would", "could", "should", "may", "might", "must", "can", "did", "do", "does",
    }
)  # fmt: skip
_EN_CONJUNCTIONS = frozenset({"and", "but", "or", "nor", "while", "whereas", "yet", "so"})
_EN_POSSESSED_GAP = 2  # words between a possessive and its relational head ("Russia's closest ally", "long time")
_WORD_RUN = re.compile(r"\S+")


def _not_actors_en(sent: Sentence, mentions: list[tuple[int, int, str]], lo: int) -> dict[int, tuple[str, int]]:
    """The mentions before the signal's words (by start) that do not name the subject, each with why and where its
    phrase starts: the object of a relational head's "of" or "to" ("an ally of Moscow", "the neighbour of
    Azerbaijan", "the US envoy to Russia"), the owner of one ("Russia's closest allies"), a mention inside an
    appositive or a relative clause set off by commas after the subject (", an ally of Moscow,", ", a country
    bordering Russia,", ", which borders Russia,"), and then any mention before that subject (another phrase:
    "Israel needs a plan, Rep. X, who served in the US Marines, warned"). Not the owner of the signal's own words
    ("a critic of Biden's backing"). Closed word lists and the sentence's commas (read only when a mention is before
    the words)."""
    toks = sent.toks
    base = sent.start
    out: dict[int, tuple[str, int]] = {}
    subject = base  # where the subject an appositive describes starts
    commas: list[int] | None = None
    for s, e, _eid in mentions:
        if e >= lo:
            continue
        why = _relational_owner_en(toks, base, e, lo)
        if why is None and toks[e + 1 - base] == "s" and lo - e - 2 <= _EN_POSSESSED_GAP:
            if "," not in sent.text:
                continue  # it owns the signal's words ("a critic of Biden's staunch backing")
            if commas is None:
                commas = _comma_tokens(sent)
            if not any(e < c <= lo for c in commas):
                continue  # (not across a comma: "Russia, not Armenia's parliament, ratified")
        why = why or _relational_object_en(toks, base, s, mentions)
        start = s
        if why is None:
            told = _addressee_en(toks, base, s, e, lo)
            if told is not None:
                # (its phrase starts at the verb of telling, whose subject is the teller: "Nigeria warned X that")
                why, start = told
        if why is None and "," in sent.text:
            if commas is None:
                commas = _comma_tokens(sent)
            got = _appositive_en(toks, base, s, e, lo, commas)
            if got is not None:
                why, start, host = got
                subject = max(subject, host)
        if why is not None:
            out[s] = f"skipped {sent.words(s, e)!r}: {why}", start
    for s, e, _eid in mentions:
        if e < subject and s not in out:
            out[s] = f"skipped {sent.words(s, e)!r}: before the subject that the appositive describes", s
    return out


def _addressee_en(toks: list[str], base: int, s: int, e: int, lo: int) -> tuple[str, int] | None:
    """Why the mention at s..e is whom a verb of telling addresses ("Mali and Burkina Faso have warned other West
    African nations that military intervention …", "urged Nigeria not to send troops"): the words that follow it, up
    to the signal's, open what was said ("that", "to", "against"), so the teller acted, not it (outside trial 68,
    MED-3: the alert named the warned side as the one threatening), with where the verb is; else None."""
    i = s - 1
    skipped = 0
    while i > base and skipped < _EN_ADDRESSEE_GAP and toks[i - base] in _EN_ADDRESSEE_MODIFIERS:
        i -= 1
        skipped += 1
    if i < base:
        return None
    verb = toks[i - base]
    if verb == "on" and i > base and toks[i - 1 - base] in _EN_CALL:
        i -= 1
        verb = toks[i - base] + " on"
    elif verb not in _EN_TELL:
        return None
    if e + 1 >= lo or toks[e + 1 - base] not in ("that", "to", "not", "against"):
        return None
    while i - 1 > base and toks[i - 1 - base] in _EN_TELL_AUX:  # "Nigeria has also warned X that": from "has"
        i -= 1
    return f"the addressee of {verb!r}, whom the teller addressed", i


def _relational_object_en(toks: list[str], base: int, s: int, mentions: list[tuple[int, int, str]]) -> str | None:
    """Why the mention at s is the object of a relational head's "of"/"to" ("ally of the DPRK", "critic of Russian
    President Putin", "allies of Russia and China", "envoy to Russia"), past determiners, titles, other mentions and
    a conjunction between two; else None."""
    i = s - 1
    while i > base:
        word = toks[i - base]
        if not (word in _EN_DETERMINERS or word in _EN_TITLES or any(a <= i <= z for a, z, _e in mentions)):
            if word not in ("and", "or") or not any(a <= i - 1 <= z for a, z, _e in mentions):
                break
        i -= 1
    if i <= base or toks[i - base] not in ("of", "to"):
        return None
    prep, head = toks[i - base], toks[i - 1 - base]
    if head in _EN_RELATIONAL or (prep == "to" and head in _EN_SENT_TO):
        return f"the object of {head + ' ' + prep!r}"
    return None


def _relational_owner_en(toks: list[str], base: int, e: int, lo: int) -> str | None:
    """Why the mention ending at e owns a relational head before the signal's words ("Russia's allies", "Moscow's
    closest ally", at most _EN_POSSESSED_GAP words between, none a determiner or conjunction nor one that ends the
    phrase: "North Korea's Kim says …"), so the head acted, not it; else None. The word must head its phrase
    ("Sudan's rival factions" are Sudan's)."""
    if e + 2 >= lo or toks[e + 1 - base] != "s":
        return None
    for i in range(e + 2, min(lo, e + 3 + _EN_POSSESSED_GAP)):
        word = toks[i - base]
        if word in _EN_RELATIONAL and _heads_en(toks, base, i, lo):
            return f"the owner of {word!r}, who acted"
        if _heads_en(toks, base, i, lo) or word in _EN_DETERMINERS or word in _EN_CONJUNCTIONS or word == "s":
            return None
    return None


def _heads_en(toks: list[str], base: int, i: int, stop: int) -> bool:
    """Whether the noun at i ends its phrase: `stop` (the signal's words, a comma) or a word no noun is follows it (a
    preposition, an auxiliary, a pronoun, an adverb, a verb in the past), not another noun it qualifies."""
    if i + 1 >= stop:
        return True
    word = toks[i + 1 - base]
    return (
        word in _EN_PREPOSITIONS
        or word in _EN_BE
        or word in _EN_NOT_NOUN
        or word in _EN_AUX
        or word in _EN_RELATIVE
        or (_adverb_en(word) and word not in _EN_RELATIONAL)  # "ally" ends in -ly
        or _past_en(word)
    )


def _appositive_en(
    toks: list[str], base: int, s: int, e: int, lo: int, commas: list[int]
) -> tuple[str, int, int] | None:
    """(Why, where the stretch starts, where the subject it describes starts) when the mention at s..e is inside a
    stretch set off by commas that close before the signal's words and describes the subject before it: a relative
    clause (", which borders Russia,"), or an appositive opening with "a"/"an" (perhaps after "once", "itself" …) in
    which the mention follows a preposition (not one of _EN_WHERE), a verb form or a relative ("a close partner of
    Beijing", "a country bordering Russia", "a state that borders Russia") or precedes a relational head ("a Russian
    ally"). A mention that heads an appositive or qualifies its head (", an Armenian lawmaker,", ", Armenia,") names
    the subject and stays. Not when what comes before is an adverbial ("On Tuesday, a committee of the Russian
    parliament voted, and …") or what follows opens another clause (", and", ", which"), or is a participle (",
    which Kyiv denied, accusing Russia"), which may be the stretch's own. Else None."""
    k = bisect_right(commas, s)  # commas[k - 1] <= s < commas[k]: the comma before the mention, the one after it
    if k == 0 or k >= len(commas):
        return None
    start, end = commas[k - 1], commas[k]
    if start <= base or end <= e or end > lo:
        return None
    after = toks[end - base : lo - base]
    if (after and after[0] in _EN_CONJUNCTIONS) or any(w in _EN_RELATIVE for w in after):
        return None
    if toks[end - base].endswith("ing"):
        return None  # ", which Kyiv denied, accusing Russia": a participle after it may be its own
    words = toks[start - base : end - base]
    text = ", " + " ".join(words) + ","
    if words[0] in _EN_RELATIVE:
        why = f"inside the relative clause {text!r}"
    elif any(tuple(words[: len(o)]) == o and start + len(o) <= s for o in _EN_ASIDE_OPENERS):
        why = f"inside the aside {text!r}"
    else:
        j = start + (1 if words[0] in _EN_APPOSITIVE_ADVERBS else 0)
        if j >= s or toks[j - base] not in _EN_APPOSITIVE:
            return None
        if not (
            any(_dependent_en(w) for w in toks[j + 1 - base : s - base])
            or any(toks[i - base] in _EN_APPOSITIVE_HEADS and _heads_en(toks, base, i, end) for i in range(e + 1, end))
        ):
            return None
        why = f"inside the appositive {text!r}"
    # Its subject: the stretch before it, past other appositives (", a small country, which borders Russia,"),
    # which must not be an adverbial.
    n = k - 1
    while n > 0 and _describes_en(toks[commas[n - 1] - base : commas[n] - base]):
        n -= 1
    subject = commas[n - 1] if n > 0 else base
    first = toks[subject - base]
    if subject >= commas[n] or first in _EN_FRONTED or first in _EN_TIMES or _adverb_en(first):
        return None
    return why, start, subject


def _dependent_en(word: str) -> bool:
    """Whether a word before a mention in an appositive makes the mention depend on it, not qualify the appositive's
    head: a preposition, a relative, a verb form ("bordering", "backed"). Not a preposition of where or whose (", a
    rocket startup in China,", ", a lawmaker from Armenia,", ", a member of NATO,"): the subject is often of there."""
    if word in _EN_PREPOSITIONS:
        return word not in _EN_WHERE
    return word in _EN_RELATIVE or word == "that" or word.endswith("ing") or _past_en(word)


def _describes_en(words: list[str]) -> bool:
    """Whether a stretch between commas opens as an appositive or a relative clause does (_appositive_en)."""
    if not words:
        return False
    j = 1 if words[0] in _EN_APPOSITIVE_ADVERBS and len(words) > 1 else 0
    return words[0] in _EN_RELATIVE or words[j] in _EN_APPOSITIVE


def _comma_tokens(sent: Sentence) -> list[int]:
    """The sentence's commas, each as the index (document-wide) of the token after it, in order."""
    return _mark_tokens(sent, ",")


def _mark_tokens(sent: Sentence, mark: str) -> list[int]:
    """Each `mark` of the sentence as the index (document-wide) of the token after it, in order."""
    text = sent.text
    marks: list[int] = []
    at = text.find(mark)
    while at >= 0:
        marks.append(at)
        at = text.find(mark, at + 1)
    if not marks:
        return []
    view, aligned = aligned_word_view(text)
    if not aligned:  # a clitic or a lower-cased letter changed the length: the prefixes themselves
        return [sent.start + len(tokens(text[:at])) for at in marks]
    # Character i of the text is character i + 1 of the view: the words before a comma start before view position i.
    starts = [m.start() for m in _WORD_RUN.finditer(view)]
    return [sent.start + bisect_left(starts, at + 1) for at in marks]


def rundown(sent: Sentence) -> tuple[int, list[tuple[int, int]]] | None:
    """(lead end, parts) of a sentence that is a rundown, which `mentions` reads part by part, else None: the parts
    [first, last) between its ";", each a story of its own, and the token after a lead's ": " before the first ";"
    (the sentence's start when there is none), whose names are the topic of every part ("Israel-Gaza war live: …;
    …"). A rundown has a lead ("Смотрите в этом выпуске: A; B", "Today's report: A; B") or three parts or more; one
    ";" with no lead joins two clauses of one story, as English prose uses it ("Fighting intensifies in Ukraine;
    missile kills 11 in Kryvyi Rih"), and is read whole, as before."""
    text = sent.text
    semi = text.find(";")
    if semi < 0:
        return None
    colon = text.find(": ")
    led = 0 <= colon < semi
    if not led and text.count(";") < 2:
        return None
    marks = [m for m in _mark_tokens(sent, ";") if sent.start < m < sent.end]
    if not marks:
        return None
    lead = next(iter(_mark_tokens(sent, ": ")), sent.start) if led else sent.start
    bounds = [sent.start, *marks, sent.end]
    return lead, [(a, b) for a, b in pairwise(bounds) if a < b]


def _part(sent: Sentence, lo: int, hi: int) -> tuple[int, int]:
    """The tokens [first, last) of the part of the sentence between the ";" around the signal's words lo..hi."""
    if ";" not in sent.text:
        return sent.start, sent.end
    marks = _mark_tokens(sent, ";")
    first = max((m for m in marks if m <= lo), default=sent.start)
    last = min((m for m in marks if m > hi), default=sent.end)
    return first, last


_SPEAKER_WORDS = 6  # a headline's source before ": " stands in its first words ("Минобороны РФ: …", "Kremlin: …")


_EN_MODALS = frozenset("will would could can may might must should shall".split())


def _speaker_end(sent: Sentence, lo: int) -> int:
    """The token after a speaker's ": " among the sentence's first words before the signal's words (from lo), else
    the sentence's start. Not a time's colon ("19:50"); nor a lead of names alone whose words after the
    colon have no subject of their own, a verb first: then the lead is their subject ("North Korea: Fight with
    artillery …", as a GDELT event's title reads; "Минобороны: атаковали …" reads the same way)."""
    text = sent.text
    at = text.find(": ")
    if at < 0 or (at > 0 and text[at - 1].isdigit()):
        return sent.start
    after = _mark_tokens(sent, ": ")
    if not after or after[0] > lo or after[0] - sent.start > _SPEAKER_WORDS:
        return sent.start
    named = {i for s, e, _eid in sent.mentions if e < after[0] for i in range(s, e + 1)}
    # GDELT's "Actor (Country):" (docs/gdelt.md: an adjective or a role, then the CAMEO country the producer adds,
    # "South African (South Africa): Fight with …", "Police (Russia): …"): the country in parentheses right before
    # the colon names the actor, so the lead counts as names (outside trial 59, HIGH-1: the alert was lost).
    country_named = text[:at].rstrip().endswith(")") and "(" in text[:at] and after[0] - 1 in named
    if not country_named and any(i not in named for i in range(sent.start, after[0])):
        # a lead of other words ("Ukraine war:", "BBC India:") is a topic, never the subject; one of names alone
        # may be ("Russia:", GDELT's "Vladimir Putin (Russia):")
        return after[0]
    first = sent.toks[after[0] - sent.start] if after[0] < sent.end else ""
    if script_of(first) == "cyrillic":
        tags = tags_ru(first)
        if tags and tags[0].startswith(("VERB", "INFN", "PRTS")):
            return sent.start
    elif first in _EN_MODALS or (is_bare_verb_en(first) and not _finite_after_en(sent, after[0] + 1)):
        return sent.start
    return after[0]


def _finite_after_en(sent: Sentence, i: int) -> bool:
    """Whether token i is an English verb in the past or the third person ("attacked", "kills"): then the bare form
    before it was a noun, their subject ("Ukraine: Drone attacked …", "Strike kills six")."""
    if i >= sent.end:
        return False
    word = sent.toks[i - sent.start]
    return word.endswith("ed") or (word.endswith("s") and is_bare_verb_en(word[:-1]))


def _clause_end(sent: Sentence, hi: int) -> int:
    """The first token after `hi` that opens another clause of the sentence (modality.clause_breaks), else its
    end."""
    return min((b for b in clause_breaks(sent) if b > hi), default=sent.end)


# English passives, by closed word lists (no regex on the per-hit path).
_EN_BE = frozenset({"be", "is", "are", "am", "was", "were", "been", "being", "get", "gets", "got", "gotten", "getting"})
_EN_ADVERBS = frozenset(
    {"also", "not", "now", "already", "just", "finally", "since", "then", "never", "still", "yet", "soon"}
)
_EN_IRREGULAR = frozenset(
    {
        "made", "held", "sent", "built", "paid", "laid", "struck", "hit", "shot", "set", "put", "cut", "caught",
        "fought", "bought", "brought", "sought", "won", "led", "met", "kept", "left", "lost", "bound", "found",
        "sold", "told", "dealt", "meant", "spent", "lent", "split", "quit", "read", "heard", "upheld", "withheld",
    }
)  # fmt: skip
# Past forms that a preposition (or nothing) follows in the active voice, so no reduced passive without "be":
# verbs that take no object or take it after a preposition ("Hamas agreed to a truce", "troops arrived in Kursk",
# "Israel responded with strikes", "Russia fired on the city", "Turkey signed off").
_EN_INTRANSITIVE = frozenset(
    {
        "agreed", "responded", "reacted", "returned", "turned", "switched", "travelled", "traveled", "fled", "pointed",
        "referred", "admitted", "confessed", "contributed", "replied", "appealed", "objected", "consented", "committed",
        "pledged", "vowed", "promised", "voted", "moved", "failed", "refused", "decided", "tried", "planned",
        "threatened", "managed", "wanted", "needed", "used", "appeared", "seemed", "continued", "started", "opted",
        "offered", "asked", "rushed", "rallied", "retreated", "withdrawn", "arrived", "died", "crashed", "landed",
        "exploded", "collapsed", "happened", "occurred", "resigned", "protested", "marched", "gathered", "retaliated",
        "fired", "struck", "hit", "called", "warned", "worked", "lived", "stayed", "remained", "waited",
        "fought", "battled", "clashed", "advanced", "pushed", "pulled", "stepped", "backed", "cracked", "weighed",
        "spoke", "talked", "met", "joined", "sided", "teamed", "partnered", "cooperated", "intervened", "invested",
        "campaigned", "competed", "surged", "jumped", "soared", "plunged", "dropped", "slipped", "climbed", "declined",
        "escaped", "emerged", "expanded", "grown", "gone", "come", "sailed", "flown", "driven",
    }
)  # fmt: skip
# Verbs of telling someone something ("warned X that", "urged X to"): their object is the addressee, not the actor.
_EN_TELL = frozenset(
    {
        "warn", "warns", "warned", "warning", "tell", "tells", "told", "telling", "urge", "urges", "urged", "urging",
        "caution", "cautions", "cautioned", "remind", "reminds", "reminded", "assure", "assures", "assured",
        "inform", "informs", "informed", "ask", "asks", "asked", "advise", "advises", "advised", "press", "presses",
        "pressed", "implore", "implored", "beg", "begged", "notify", "notified",
    }
)  # fmt: skip
_EN_CALL = frozenset({"call", "calls", "called", "calling"})  # "called on X to"
# Words between such a verb and its addressee ("warned other West African nations", "told its neighbours").
_EN_ADDRESSEE_MODIFIERS = frozenset(
    {"the", "a", "an", "other", "its", "their", "his", "her", "fellow", "neighbouring", "neighboring", "all", "both"}
)
_EN_ADDRESSEE_GAP = 3
_EN_TELL_AUX = frozenset(
    {
        "has", "have", "had", "is", "are", "was", "were", "will", "would", "also", "again", "already", "publicly",
        "reportedly",
    }
)  # fmt: skip
_EN_DETERMINERS = frozenset({"the", "a", "an"})
# Words before a past form that make it no reduced passive: its subject or auxiliary ("Russia has ratified by decree",
# "which they ratified by", "it agreed by Friday").
_EN_NOT_NOUN = frozenset(
    {"has", "have", "had", "having", "i", "you", "he", "she", "it", "we", "they", "who", "which", "that", "to"}
)
_EN_PARTICLES = frozenset({"down", "up", "off", "out", "back", "away"})  # "shot down by", "signed off by"
# Words that open a title before a name in a "by" phrase ("by President Joe Biden", "by former Prime Minister X").
_EN_TITLES = frozenset(
    {
        "president", "prime", "premier", "chancellor", "king", "queen", "leader", "secretary", "general", "gen",
        "foreign", "defence", "defense", "chairman", "speaker", "ambassador", "envoy", "spokesman", "spokeswoman",
        "senator", "sen", "rep", "mr", "mrs", "ms", "dr", "former", "vice", "deputy", "supreme", "minister",
    }
)  # fmt: skip
_EN_TIMES = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday", "overnight"}
)
# The head after a mention in a "by" phrase that makes it a place or a time, not the agent ("deployed by the Russian
# border", "accepted by the Israeli deadline").
_EN_NOT_AGENT = frozenset(
    {"border", "borders", "frontier", "side", "coast", "shore", "shores", "deadline", "timetable", "time", "based"}
)
# People who act in a passive's "by" phrase without being named ("ratified by senators"), beside _EN_ORGANS.
_EN_PEOPLE = frozenset(
    {
        "senators", "senator", "parliamentarians", "members", "voters", "troops", "soldiers", "bloc", "coalition",
        "commission", "committee", "group", "police", "agents", "militants", "fighters", "rebels", "gunmen", "judge",
        "judges", "prosecutors",
    }
)  # fmt: skip
_EN_PREPOSITIONS = frozenset(
    {
        "with", "of", "to", "for", "in", "on", "at", "from", "between", "against", "about", "over", "under", "into",
        "by", "among", "amid", "toward", "towards", "across", "through", "after", "before", "near", "including",
    }
)  # fmt: skip
# Heads of a possessive agent that act for their owner ("by Russia's parliament", "by decree of North Korea's
# leader"); any other head is the agent itself, not its owner ("by Israel's allies", "by Israel's deadline").
_EN_ORGANS = frozenset(
    {
        "parliament", "assembly", "government", "leader", "leadership", "president", "prime", "premier", "cabinet",
        "ministry", "minister", "council", "congress", "senate", "legislature", "duma", "house", "army", "military",
        "forces", "navy", "officials", "authorities", "delegation", "negotiators", "envoy", "foreign", "state",
        "regime", "court", "king", "chancellor", "junta", "lawmakers", "legislators", "supreme", "national",
        "federal", "upper", "lower", "top", "head", "spokesman", "spokeswoman", "spokesperson", "representative",
        "representatives", "ambassador", "embassy", "administration", "security", "defence", "defense", "interior",
        "rulers", "ruling", "mps", "deputies", "diet", "knesset", "politburo", "central", "presidential",
    }
)  # fmt: skip


def _participle_en(word: str) -> bool:
    """Whether an English word has the shape of a past participle ("ratified", "taken", "sent")."""
    return word.endswith(("ed", "en", "wn", "ne")) or word in _EN_IRREGULAR


def _adverb_en(word: str) -> bool:
    """Whether an English word reads as an adverb ("unanimously", "already")."""
    return word.endswith("ly") or word in _EN_ADVERBS


def _passive_en(toks: list[str], base: int, p: int, b: int) -> bool:
    """Whether the participle at p, with the "by" at b after it, is clearly passive: after a form of "be"/"get"
    (at most two adverbs between: "was unanimously ratified"), or a reduced passive, as headlines write it
    ("North Korea pact ratified by Russian senators", "Niger suspended by African Union", "the truce brokered by
    Qatar held"): right after a noun (not a determiner, preposition, pronoun or "has": "Russia has ratified") or
    opening the sentence, and with no object between it and the "by", only adverbs, a particle or an adverbial
    ("ratified unanimously by", "shot down by", "ratified on Tuesday by"). An active verb takes its object first
    ("Hamas accepted the truce by Israel's deadline", "Finland joined NATO by Sweden's side"), so the "by" is not
    its agent."""
    before = _before_participle_en(toks, base, p)
    if before is not None:
        return before
    if b == p + 1:
        return True
    first = toks[p + 1 - base]
    return _adverb_en(first) or first in _EN_PREPOSITIONS or first in _EN_TIMES or first in _EN_PARTICLES


def _before_participle_en(toks: list[str], base: int, p: int) -> bool | None:
    """What the words before the participle at p say of its voice (at most two adverbs skipped): True after a form
    of "be"/"get" (passive), False after a word no noun is (a determiner, preposition, pronoun or "has": "Russia has
    ratified", active or not a reduced passive), None when it follows a noun or opens the sentence (undecided)."""
    q = p - 1
    while q >= base and p - q <= 2 and _adverb_en(toks[q - base]):
        q -= 1
    if q < base:
        return None
    before = toks[q - base]
    if before in _EN_BE:
        return True
    if before in _EN_DETERMINERS or before in _EN_PREPOSITIONS or before in _EN_NOT_NOUN or before == "s":
        return False
    return None


# Nouns of an attack whose owner, named before them, is the agent of a passive they caused ("killed in the Israeli
# bombardment", "injured in a Russian missile strike", "wounded in Israeli air attacks").
_EN_ATTACKS = frozenset(
    {
        "strike", "strikes", "airstrike", "airstrikes", "attack", "attacks", "bombardment", "bombardments", "raid",
        "raids", "shelling", "offensive", "operation", "operations", "assault", "bombing", "bombings", "fire",
        "barrage", "onslaught", "crackdown", "invasion",
    }
)  # fmt: skip


def _attacker_en(toks: list[str], base: int, s: int, e: int) -> str | None:
    """The attack noun whose owner the mention at s..e is, in a passive's "in"/"during"/"amid" phrase: the
    preposition before the mention (past a determiner) and the noun among the three words after it ("in the Israeli
    bombardment", "in a Russian missile strike", "during a U.S. military raid"); else None."""
    q = s - 1
    if q >= base and toks[q - base] in _EN_DETERMINERS:
        q -= 1
    if q < base or toks[q - base] not in ("in", "during", "amid"):
        return None
    return next((w for w in toks[e + 1 - base : e + 4 - base] if w in _EN_ATTACKS), None)


# Heads whose "on"/"against"/"at"/"upon" names the target, not the attacker ("strikes on Ukraine", "war against
# Ukraine", "missiles at Kyiv", "fired on the city").
_EN_ATTACK_HEADS = _EN_ATTACKS | {
    "missile", "missiles", "rocket", "rockets", "drone", "drones", "shells", "fired", "firing", "fires", "war",
    "aggression", "assaults", "offensives", "invasions", "crackdowns", "airstrike", "retaliation",
}  # fmt: skip
_EN_TARGET_PREPOSITIONS = frozenset({"on", "against", "at", "upon", "onto"})


def _targets_en(toks: list[str], base: int, mentions: list[tuple[int, int, str]]) -> dict[int, str]:
    """The mentions (by start) that an attack's "on"/"against"/"at" governs, past a determiner ("strikes on
    Ukraine", "attacks against the US"), and those joined to one by "and"/"or" ("strikes on Kyiv and Odesa"):
    start -> why. What was struck, not who struck (outside trial 61, M3)."""
    out: dict[int, str] = {}
    prev_end, prev_why = -1, ""
    for s, e, _eid in mentions:
        i = s - base - 1
        while i >= 0 and toks[i] in _EN_DETERMINERS:
            i -= 1
        word = toks[i] if i >= 0 else ""
        if word in _EN_TARGET_PREPOSITIONS and i > 0 and toks[i - 1] in _EN_ATTACK_HEADS:
            out[s] = prev_why = f"{toks[s - base]!r}: the target of {toks[i - 1] + ' ' + word!r}"
        elif word in ("and", "or") and prev_why and i == prev_end - base + 1:
            out[s] = f"{toks[s - base]!r}: joined to {prev_why}"
        else:
            prev_why = ""
        prev_end = e
    return out


# Nouns of an agreement, a text acted on ("the Ukraine grain deal", "the North Korea treaty"): a name right before
# one names what the act was done to or is about, not its actor.
_EN_AGREEMENTS = frozenset(
    {
        "deal", "deals", "pact", "pacts", "accord", "accords", "agreement", "agreements", "treaty", "treaties",
        "initiative", "corridor", "truce", "truces", "ceasefire", "armistice", "charter", "protocol", "convention",
    }
)  # fmt: skip


def _deal_modifiers_en(
    toks: list[str], base: int, own: list[Span], lo: int, hi: int, mentions: list[tuple[int, int, str]]
) -> dict[int, str]:
    """The mentions (by start) right before, or a possessive "'s" before, words of the signal that end in a noun of
    an agreement, when the signal has other words, its act, beside them: "Ukraine grain deal collapses", "renewal of
    vital Ukraine crop deal", "extending Ukraine's grain-export deal" (outside trial 61, H2). Such a name qualifies
    the deal acted on; start -> why. Not a name the signal's own words hold, nor a signal of the deal's words
    alone."""
    if len(own) < 2:
        return {}
    out: dict[int, str] = {}
    for s, e, _eid in mentions:
        if e >= hi or any(a <= s and e <= z for a, z in own):
            continue
        j = e + 1
        if toks[j - base] == "s":
            j += 1
        for a, z in own:
            if a == j and lo <= a and toks[z - base] in _EN_AGREEMENTS and any(sp != (a, z) for sp in own):
                words = " ".join(toks[a - base : z + 1 - base])
                out[s] = f"{toks[s - base]!r}: names the {words!r} acted on"
                break
    return out


_EN_VERB_OPENERS = frozenset(
    {
        "will", "would", "could", "should", "may", "might", "must", "can", "shall", "has", "have", "had", "is", "are",
        "was", "were", "did", "does", "to",
    }
)  # fmt: skip
_EN_SAY = frozenset(
    {
        "says", "said", "say", "tells", "told", "claims", "claimed", "reports", "reported", "adds", "added", "insists",
        "insisted", "warns", "warned", "according", "announces", "announced",
    }
)  # fmt: skip


def _finite_en(word: str) -> bool:
    """Whether an English word reads as a finite verb: in the past ("refused", "struck") or the third person
    ("refuses", "kills"), by its shape and the dictionary ("strikes" of "strike"; not "talks", "ports")."""
    if _past_en(word):
        return True
    if not word.endswith("s") or word.endswith("ss"):
        return False
    return is_bare_verb_en(word[:-1]) or (word.endswith("es") and is_bare_verb_en(word[:-2]))


def _inner_subject_en(
    sent: Sentence, own: list[Span], lo: int, hi: int, mentions: list[tuple[int, int, str]]
) -> tuple[str, str] | None:
    """(entity, verb) of a mention inside the signal's words, not of them, that a verb follows right after it (past
    "not"/an adverb), not across a comma: the verb's subject, on the way to the signal's act ("grain deal collapses
    as Russia refuses to extend it"). The last such; None when there is none. Not a speaker ("Russia says")."""
    toks, base = sent.toks, sent.start
    commas = set(_comma_tokens(sent)) if "," in sent.text else set()
    found: tuple[str, str] | None = None
    for s, e, eid in mentions:
        if s <= lo or e >= hi or any(a <= s and e <= z for a, z in own):
            continue
        v = e + 1
        if v in commas:
            continue
        while v < hi and _adverb_en(toks[v - base]):
            v += 1
        word = toks[v - base]
        if word in _EN_SAY or not (word in _EN_VERB_OPENERS or _finite_en(word)):
            continue
        # a past form before a noun qualifies it ("the Turkey and United Nations-brokered grain deal")
        after = toks[v + 1 - base] if v < hi else ""
        if _past_en(word) and after and not _verb_goes_on_en(after):
            continue
        found = (eid, word)
    return found


def _verb_goes_on_en(word: str) -> bool:
    """Whether `word` may follow a past form that is a verb ("refused to", "pulled out of", "halted the deal"),
    not an adjective of it ("brokered grain deal")."""
    return word in _EN_AFTER_VERB or word in _EN_PARTICLES or word in _EN_PREPOSITIONS or _adverb_en(word)


_EN_OWNER_GAP = 2  # words between the owner and its attack noun ("Russia Black Sea attack", "Russian missile strike")


def _inner_owner_en(
    toks: list[str], base: int, own: list[Span], lo: int, hi: int, mentions: list[tuple[int, int, str]]
) -> tuple[str, str] | None:
    """(entity, noun) of a mention inside the signal's words, not of them, that owns an attack noun among them, right
    before it or past a possessive and at most _EN_OWNER_GAP other nouns: "Mykolaiv after Russian attack", "Odesa
    amid Russia Black Sea attack fears". The attacker; None when there is none."""
    heads = {a: toks[a - base] for a, _z in own if toks[a - base] in _EN_ATTACK_HEADS}
    if not heads:
        return None
    for s, e, eid in mentions:
        if s <= lo or e >= hi or any(a <= s and e <= z for a, z in own):
            continue
        j = e + 1
        if toks[j - base] == "s":
            j += 1
        for k in range(j, min(j + _EN_OWNER_GAP, hi) + 1):
            if k in heads:
                return eid, heads[k]
            word = toks[k - base]
            if (
                word in _EN_PREPOSITIONS
                or word in _EN_DETERMINERS
                or word in _EN_CONJUNCTIONS
                or _finite_en(word)
                or any(a <= k <= z for a, z in own)
                or any(a <= k <= z for a, z, _ in mentions)
            ):
                break
    return None


def _place_owners_en(sent: Sentence, mentions: list[tuple[int, int, str]], kinds: dict[str, str]) -> dict[int, str]:
    """The mentions (by start) that own, by a possessive "'s", a place named right after them ("Ukraine's Odesa",
    "Russia's Belgorod region"): where the act happened, not who did it; start -> why."""
    places = {s: (e, eid) for s, e, eid in sent.mentions if kinds.get(eid) == "place"}
    if not places:
        return {}
    toks, base = sent.toks, sent.start
    out: dict[int, str] = {}
    for s, e, eid in mentions:
        if kinds.get(eid) == "place" or e + 2 - base >= len(toks) or toks[e + 1 - base] != "s":
            continue
        place = places.get(e + 2)
        if place is not None:
            out[s] = f"{toks[s - base]!r}: the country of the place {sent.words(e + 2, place[0])!r}"
    return out


def _relative_before_en(sent: Sentence, hi: int, s: int) -> str | None:
    """The relative pronoun after a comma between the signal's words (ending at hi) and the mention at s (", which
    forms part of …"), else None."""
    if "," not in sent.text:
        return None
    toks, base = sent.toks, sent.start
    for c in _comma_tokens(sent):
        if hi < c <= s and toks[c - base] in _EN_RELATIVE | {"where"}:
            return toks[c - base]
    return None


_EN_QUANTITY = frozenset(
    {
        "of", "dozens", "hundreds", "thousands", "scores", "several", "many", "some", "two", "three", "four", "five",
        "six", "seven", "eight", "nine", "ten", "least", "more", "than",
    }
)  # fmt: skip


def _object_of_en(sent: Sentence, s: int, hi: int) -> str | None:
    """The verb whose object the mention at s (after the signal's words, which end at hi) is: a finite verb after
    the signal's words, right before the mention past determiners and a quantity, whose subject they are ("Missile
    Attack Leaves Ukrainians Bereft", "drone strike kills 5 Russian soldiers"); not across a comma, nor a verb of
    saying (", says Russia"). Else None. The object of the signal's own verb is left to rule 3 ("African Union
    suspends Niger" names Niger for a capture of NER and MLI: the way to capture what was acted on)."""
    toks, base = sent.toks, sent.start
    if s <= hi or (("," in sent.text) and s in _comma_tokens(sent)):
        return None
    q = s - 1
    while q > hi and (toks[q - base] in _EN_DETERMINERS or toks[q - base] in _EN_QUANTITY or toks[q - base].isdigit()):
        q -= 1
    if q <= hi or (q + 1 < s and "," in sent.text and q + 1 in _comma_tokens(sent)):
        return None
    word = toks[q - base]
    if word in _EN_SAY or word in _EN_INTRANSITIVE or not _finite_en(word):
        return None
    # after a preposition or a determiner a past form qualifies a noun ("raids unions over suspected North Korea link")
    before = toks[q - 1 - base]
    if before in _EN_PREPOSITIONS or before in _EN_DETERMINERS:
        return None
    return word


def _agentless_passive_en(toks: list[str], base: int, own: list[Span]) -> tuple[str, int] | None:
    """The participle among the signal's own words (and its index) in a clear passive that no "by" follows within
    _EN_BY_GAP + 1 words, nor one its agent rules reach (past a prepositional phrase: "imposed on Niger's junta
    by"), or None: after a form of "be"/"get" ("the pact was ratified on Tuesday"), or a headline's reduced
    passive, after a noun or opening the sentence and followed by nothing, an adverb, a preposition, a time or a
    particle ("North Korea treaty ratified", "Troops deployed to Kursk"), not by its object ("Russia ratified
    the treaty"). A "by" after it is read by the agent rules instead."""
    end = base + len(toks)
    for a, z in own:
        for p in range(a, z + 1):
            word = toks[p - base]
            if not _participle_en(word) or "by" in toks[p + 1 - base : p + 2 + _EN_BY_GAP - base]:
                continue
            if any(
                toks[b - base] == "by" and _own_passive_by(toks, base, own, b) is not None
                for b in range(p + 2 + _EN_BY_GAP, min(end, p + 2 + _EN_BY_PHRASE_GAP))
            ):
                continue
            before = _before_participle_en(toks, base, p)
            if before is True:
                return word, p
            if before is False:
                continue
            if word in _EN_INTRANSITIVE:
                continue  # "Hamas agreed to a truce", "troops arrived in Kursk": active, whatever follows
            n = p + 1
            if n < end and toks[n - base] in _EN_PARTICLES:
                n += 1  # "drones shot down over the sea", not "air defence shot down 36 drones", "Turkey signed off is"
            if n >= end:
                return word, p
            after = toks[n - base]
            if _adverb_en(after) or after in _EN_PREPOSITIONS or after in _EN_TIMES:
                return word, p
    return None


def _english_by(toks: list[str], base: int, own: list[Span], mention_start: int, mention_end: int) -> str | None:
    """The participle among the signal's own words that a "by" closely follows in a passive, with the
    mention as that "by"'s object ("by Russia", "by the DPRK", "by decree of North Korea's leader"); None
    when there is no such passive (an active sentence names its subject, not the object of any "by")."""
    end = base + len(toks)
    # The mention is the by-phrase's object: a possessive ("Israel's deadline") is the agent only when
    # its head acts for it ("Russia's parliament"); a "by" of place or time is no agent ("by the Russian border").
    if mention_end + 2 < end and toks[mention_end + 1 - base] == "s":
        if toks[mention_end + 2 - base] not in _EN_ORGANS:
            return None
    elif mention_end + 1 < end and toks[mention_end + 1 - base] in _EN_NOT_AGENT:
        return None
    b = _by_of(toks, base, mention_start)
    if b < 0:
        return None
    return _own_passive_by(toks, base, own, b)


def _own_passive_by(toks: list[str], base: int, own: list[Span], b: int) -> str | None:
    """The participle among the signal's own words whose agent the "by" at b introduces in a clear passive, or
    None: the nearest own word before it, at most _EN_BY_GAP words and nothing verb-like between, or at most
    _EN_BY_PHRASE_GAP words that are one prepositional phrase ("imposed on Niger's junta by ECOWAS")."""
    for q in range(b - 1, max(base, b - 1 - _EN_BY_PHRASE_GAP) - 1, -1):
        word = toks[q - base]
        if any(a <= q <= z for a, z in own):
            if b - 1 - q > _EN_BY_GAP and not _prepositional_phrase_en(toks[q + 1 - base : b - base]):
                return None
            if _participle_en(word) and _passive_en(toks, base, q, b):
                return word
            return None
        if word.endswith("ed") or word in _EN_BE:
            return None  # "accepted on Friday, followed by Israel": the "by" is another verb's
    return None


def _prepositional_phrase_en(words: list[str]) -> bool:
    """Whether the words between a participle and its "by" are adverbs or a particle, then one prepositional phrase
    of nouns ("on Niger's junta", "on the country's military rulers", "on members of the junta"): a preposition,
    then no verb-like word, pronoun or other preposition but "of"."""
    i = 0
    while i < len(words) and (_adverb_en(words[i]) or words[i] in _EN_PARTICLES):
        i += 1
    if i >= len(words) or words[i] not in _EN_PREPOSITIONS or words[i] == "by":
        return False
    for word in words[i + 1 :]:
        if word in _EN_PREPOSITIONS and word != "of":
            return False
        if word in _EN_BE or word in _EN_NOT_NOUN or _past_en(word) or word in ("and", "or", "but"):
            return False
    return True


def _unnamed_agent_en(
    toks: list[str], base: int, own: list[Span], hi: int, mentions: list[tuple[int, int, str]]
) -> tuple[str, str] | None:
    """(The participle, "" or the head the entity is named by) of a passive of the signal's own words whose agent
    is people or a body the sentence names by no entity ("ratified by senators", "by the upper house", "by a vote of
    lawmakers"), or an entity's people that do not act for it ("by France's allies", "by Nigeria's neighbours": a
    possessive whose head is no organ of its owner, nor a place, time or means; "by an ally of Moscow": a relational
    head's object, _EN_RELATIONAL), or None. A "by" whose object is an entity of the packs, even one the capture does
    not take ("suspended by the African Union" for a capture of countries), or a means ("by decree", "by a vote of
    400 to 12"), is not such an agent."""
    end = min(base + len(toks), hi + _EN_BY_PHRASE_GAP + 2)
    for b in range(min((a for a, _z in own), default=hi), end):
        if toks[b - base] != "by":
            continue
        verb = _own_passive_by(toks, base, own, b)
        if verb is None:
            continue
        objects = [(s, e) for s, e, _eid in mentions if s > b and _by_of(toks, base, s) == b]
        if objects:
            head = _possessed_en(toks, base, objects[0][1])
            if head is not None:
                return verb, head
            return None  # an entity is the agent: the capture's own rules decide
        word = _agent_words_en(toks, base, b)
        if word is not None:
            return verb, word  # "by senators": ""; "by an ally of Moscow": "ally" (_by_of takes no such object)
    return None


# Heads of a possessive in a "by" phrase that are a means, not an agent: the capture is left to the subject
# ("ratified by Russia's decree" names no agent of its own, as "by decree" does not).
_EN_MEANS = frozenset(
    {"decree", "decrees", "order", "orders", "decision", "law", "laws", "request", "consent", "invitation", "vote"}
)


def _possessed_en(toks: list[str], base: int, mention_end: int) -> str | None:
    """The head of a possessive of the mention ending at mention_end that is an agent of its own, not its owner
    ("France's allies" -> "allies"), or None: no possessive, or one whose head acts for its owner ("Russia's
    parliament", _EN_ORGANS), is a place or time ("Israel's deadline", _EN_NOT_AGENT) or a means ("Russia's
    decree")."""
    end = base + len(toks)
    if mention_end + 2 >= end or toks[mention_end + 1 - base] != "s":
        return None
    head = toks[mention_end + 2 - base]
    if head in _EN_ORGANS or head in _EN_NOT_AGENT or head in _EN_MEANS or head in _EN_PREPOSITIONS:
        return None
    return head


def _agent_words_en(toks: list[str], base: int, b: int) -> str | None:
    """Whether the "by" at b introduces people or a body ("by senators", "by the upper house", "by a vote of
    lawmakers", "by allies"): such a word among its first two words past determiners, or two more past an "of",
    before any other preposition ("backed by £77mn in state funding", "hit by homeworking, says a government
    adviser": no). "" when it does, or the relational head whose "of"/"to" follows ("by an ally of Moscow":
    "ally"); None when it does not."""
    end = base + len(toks)
    i, left = b + 1, 2
    while i < end and left > 0:
        word = toks[i - base]
        i += 1
        if word in _EN_DETERMINERS:
            continue
        if word == "of":
            left = 2
            continue
        if word in _EN_PREPOSITIONS:
            return None
        if word in _EN_RELATIONAL:
            return word if i < end and toks[i - base] in ("of", "to") else ""
        if word in _EN_ORGANS or word in _EN_PEOPLE:
            return ""
        left -= 1
    return None


def _by_of(toks: list[str], base: int, mention_start: int) -> int:
    """The "by" (its token index) whose object the mention at mention_start is, or -1: the nearest "by" a few
    words before it, only determiners, an "of" or a title between ("by the DPRK", "by decree of North Korea",
    "by President Joe Biden")."""
    for b in range(mention_start - 1, max(base, mention_start - 1 - _EN_AGENT_GAP) - 1, -1):
        if toks[b - base] != "by":
            continue
        mid = toks[b + 1 - base : mention_start - base]
        while mid and mid[-1] in _EN_DETERMINERS:
            mid.pop()
        if mid and mid[-1] != "of" and not _titled_en(mid):
            return -1  # "by the deadline Israel set": the mention is not the by-phrase's object
        if len(mid) > 1 and mid[-2] in _EN_RELATIONAL:
            return -1  # "by an ally of Moscow": the object of "ally of", not the agent
        return b
    return -1


def _titled_en(mid: list[str]) -> bool:
    """Whether the words between a "by" and a name are a title and first names ("by President Joe Biden", "by
    former Prime Minister Boris Johnson"), so the name is the by-phrase's object."""
    words = [w for w in mid if w not in _EN_DETERMINERS]
    return bool(words) and words[0] in _EN_TITLES and not any(w in _EN_PREPOSITIONS for w in words)


def _other_agent(toks: list[str], base: int, own: list[Span], mention_start: int) -> str | None:
    """The participle, not among the signal's own words, whose "by" the mention is the object of, perhaps
    after an adverb ("brokered by Israel", "pressed repeatedly by Qatar"); None when the mention is no such agent."""
    b = _by_of(toks, base, mention_start)
    if b < 0:
        return None
    q = b - 1
    if q > base and (toks[q - base].endswith("ly") or toks[q - base] in _EN_ADVERBS):
        q -= 1
    if q < base or any(a <= q <= z for a, z in own):
        return None
    word = toks[q - base]
    return word if _participle_en(word) else None


def _past_en(word: str) -> bool:
    """Whether an English word is a verb in the past, by its shape ("accepted", "ratified", "sent"): stricter
    than _participle_en, whose "-en"/"-ne" also end nouns ("drone", "citizen")."""
    return word.endswith("ed") or word in _EN_IRREGULAR


# Words that may follow a verb in the past within a signal's own words ("ratified the treaty", "agreed to"); any
# other word after an -ed word makes it an adjective of that word ("armed attack", "suspected spy").
_EN_AFTER_VERB = frozenset(
    {"the", "a", "an", "to", "by", "with", "on", "in", "into", "at", "for", "its", "their", "his", "her", "it"}
)


def _own_verb_en(toks: list[str], base: int, own: list[Span]) -> bool:
    """Whether the signal's own words hold an English verb in the past: a past form (_past_en) that ends its
    span or is followed by a word a verb takes, not one that qualifies the next word."""
    for a, z in own:
        for i in range(a, z + 1):
            if _past_en(toks[i - base]) and (i == z or toks[i + 1 - base] in _EN_AFTER_VERB):
                return True
    return False


def _russian_agent(sent: Sentence, own: list[Span], mentions: list[tuple[int, int, str]]) -> str | None:
    toks = sent.toks
    base = sent.start
    participles = [i for a, z in own for i in range(a, z + 1) if is_passive_participle_ru(toks[i - base])]
    if not participles:
        return None
    best: tuple[int, str] | None = None
    for s, e, eid in mentions:
        if _governed_ru(sent, s) or _genitive_abbr_ru(toks, base, s) or _attribute_of_governed_ru(sent, s):
            # "с Россией": with Russia, not by it; "плена ВСУ": the captivity's owner, not its agent; "из районов,
            # контролируемых Киевом, …": the agent of the attribute's participle, not of the signal's
            continue
        if not may_be_case_ru(toks[e - base], "ablt"):
            continue
        for p in participles:
            gap = s - p - 1 if s > p else p - e - 1
            if 0 <= gap <= _RU_AGENT_GAP and (best is None or gap < best[0]):
                best = (gap, eid)
    return best[1] if best else None


_RU_ACCUSE = frozenset(
    "обвинил обвинила обвинили обвинило обвиняет обвиняют обвинял обвиняла обвиняли обвинив обвиняя обвинить "
    "обвинять".split()
)


def _accused_ru(sent: Sentence, first: int, lo: int, mentions: list[tuple[int, int, str]]) -> tuple[str, str] | None:
    """(verb, entity) when a verb of accusing before the signal's words names whom it accuses before its "в" ("Россия
    обвинила Украину в атаке", "обвиняют ВСУ в ударе"): the first mention between the verb and that "в"."""
    toks, base = sent.toks, sent.start
    for i in range(first, lo):
        if toks[i - base] not in _RU_ACCUSE:
            continue
        into = next((j for j in range(i + 1, lo) if toks[j - base] in ("в", "во")), None)
        if into is None:
            return None
        named = [m for m in mentions if i < m[0] and m[1] < into]
        return (toks[i - base], named[0][2]) if named else None
    return None


def _owner_after_ru(sent: Sentence, hi: int, mentions: list[tuple[int, int, str]]) -> tuple[str, str] | None:
    """(noun, entity) when a mention right after the signal's words, which end with a noun, can be its genitive
    ("атаку дронов ВСУ", "удар беспилотников Украины"): the one whose act it is."""
    toks, base = sent.toks, sent.start
    noun = toks[hi - base]
    if script_of(noun) != "cyrillic":
        return None
    tags = tags_ru(noun)
    if not tags or not tags[0].startswith("NOUN"):
        return None
    for s, e, eid in mentions:
        # "из плена ВСУ": out of its captivity, not its act; but "в ответ на атаку ВСУ" is the AFU's attack
        if s != hi + 1 or _governed_ru(sent, s, any_head=False):
            continue
        if _caseless_ru(toks[s - base]) or may_be_case_ru(toks[e - base], "gent"):
            return noun, eid
    return None


# Russian nouns of a relation to another party: what follows them in the genitive is that party, not the actor
# ("союзник России", "соседи Украины"). Their forms are read from the dictionary. Not an envoy's: "посол России" is
# Russia's own ambassador (English "the envoy to Russia" is the other way round); nor "критик", whose forms are also
# "критика" (criticism: "критика России" is most often Russia's).
_RU_RELATIONAL = (
    "союзник", "союзница", "партнер", "сосед", "противник", "соперник", "враг", "сторонник", "покровитель",
    "сателлит", "марионетка",
)  # fmt: skip


@cache
def _ru_relational_forms() -> frozenset[str]:
    return frozenset().union(*(word_forms("ru", w) for w in _RU_RELATIONAL))


def _relational_object_ru(sent: Sentence, s: int, e: int) -> bool:
    """Whether the mention s..e is the genitive after a noun of relation right before it ("союзник России", "соседи
    Украины"), so names the other party of that relation, not the one that acted: the mention can be a genitive (a
    word without cases, "КНДР", only after a relation noun that can be the subject or object itself: "Союзник КНДР",
    not "с союзником КНДР"), and no comma stands between (review 25, M1: "Вместе с союзником Россия ратифицировала",
    "Как и её союзники, Россия …" named Russia)."""
    toks, base = sent.toks, sent.start
    if s - 1 < base:
        return False
    rel = toks[s - 1 - base]
    if rel not in _ru_relational_forms():
        return False
    last = toks[e - base]
    if _caseless_ru(last):
        if not (may_be_case_ru(rel, "nomn") or may_be_case_ru(rel, "accs")):
            return False
    elif not may_be_case_ru(last, "gent"):
        return False
    return "," not in sent.text or s not in _comma_tokens(sent)


def _genitive_abbr_ru(toks: list[str], base: int, s: int) -> bool:
    """Whether the mention starting at s is a word without cases (an abbreviation: "ВСУ", "КНДР", "РФ"; a
    foreign name) right after a noun read first as a genitive ("плена ВСУ", "военных КНДР"): that noun's
    genitive, its owner, so not an instrumental agent. (After a noun of another case it may stand for its
    head: "ратифицирован парламентом КНДР", "Бойцы ВСУ освободили".)"""
    if s - 1 < base or not _caseless_ru(toks[s - base]):
        return False
    head = tags_ru(toks[s - 1 - base]) if script_of(toks[s - 1 - base]) == "cyrillic" else ()
    return bool(head) and head[0].startswith("NOUN") and "gent" in head[0] and "Abbr" not in head[0]


# Conjunctions that join a second object to a preposition's first ("между Россией и Украиной").
_RU_JOINING = frozenset({"и", "или", "либо"})


def _governed_mentions_ru(sent: Sentence, mentions: list[tuple[int, int, str]]) -> set[int]:
    """The starts of the mentions a preposition governs (_governed_ru), and of those joined to one by "и" / "или"
    right after it: "между Россией и Украиной" names neither as the actor (outside trial 51, M3, where Ukraine
    was taken for the side whose soldiers came home)."""
    toks, base = sent.toks, sent.start
    out: set[int] = set()
    governed_end = -2  # the last token of the latest governed mention
    for s, e, _eid in sorted(mentions):
        joined = s - 2 == governed_end and s - 1 >= base and toks[s - 1 - base].lower() in _RU_JOINING
        if joined or _governed_ru(sent, s) or _attribute_of_governed_ru(sent, s):
            out.add(s)
            governed_end = e
    return out


def _governed_ru(sent: Sentence, s: int, *, any_head: bool = True) -> bool:
    """Whether a preposition governs the mention starting at s: right after it ("с Россией", "из
    украинского плена"), or the genitive of a noun right after it ("из плена ВСУ"). With `any_head`, an
    abbreviation after a preposition's noun of any case too ("в тыл ВСУ", "на позиции ВСУ", "по дальним тылам ВСУ":
    outside trial 41, read as the AFU breaking through), for a word without cases right after a common noun is its
    genitive (_object_abbr_ru)."""
    toks, base = sent.toks, sent.start
    if s - 1 >= base and is_preposition_ru(toks[s - 1 - base]):
        return True
    if s - 2 >= base and is_preposition_ru(toks[s - 2 - base]) and _genitive_abbr_ru(toks, base, s):
        return True
    return any_head and _object_abbr_ru(sent, s)


# At most this many words from a preposition to its noun before the comma of an attribute ("с территории", "из
# временно оккупированных районов").
_RU_ATTRIBUTE_HEAD_GAP = 3


def _attribute_of_governed_ru(sent: Sentence, s: int) -> bool:
    """Whether the mention starting at s is the complement of a participle or an adjective right before it that
    opens, after a comma, an attribute of a noun a preposition governs: "С территории, подконтрольной киевскому
    режиму, возвращены 90 военнослужащих" (outside trial 51, M3) says where from, as the preposition's phrase does:
    the mention is in that phrase, and names no actor."""
    toks, base = sent.toks, sent.start
    p = s - 1 - base  # the participle or adjective
    if p < 2 or script_of(toks[p]) != "cyrillic":
        return False
    tags = tags_ru(toks[p])
    if not tags or not tags[0].startswith(("PRTF", "ADJF")):
        return False
    commas = _comma_tokens(sent)
    if s - 1 not in commas:  # a comma right before the participle (its token index: the word after the comma)
        return False
    # The noun before the comma, and a preposition at most _RU_ATTRIBUTE_HEAD_GAP words before it, with only
    # adjectives between ("из временно оккупированных районов" past an adverb too).
    noun = p - 1
    head = tags_ru(toks[noun]) if script_of(toks[noun]) == "cyrillic" else ()
    if not head or not head[0].startswith("NOUN"):
        return False
    for q in range(noun - 1, max(-1, noun - 1 - _RU_ATTRIBUTE_HEAD_GAP), -1):
        if is_preposition_ru(toks[q]):
            return not any(base + q < t < s - 1 for t in commas)
        word_tags = tags_ru(toks[q]) if script_of(toks[q]) == "cyrillic" else ()
        if not word_tags or not word_tags[0].startswith(("ADJF", "PRTF", "ADVB", "NUMR")):
            return False
    return False


# Nouns after a preposition that make an adverbial of time or of reason, after which a word without cases opens
# the clause rather than being their genitive ("в понедельник ВСУ атаковали", "в ответ ВСУ обстреляли").
_RU_ADVERBIAL_HEADS = (
    "понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье", "январь", "февраль", "март",
    "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь", "утро", "вечер", "ночь",
    "день", "сутки", "время", "неделя", "месяц", "год", "ответ", "итог", "результат", "конец", "начало", "момент",
)  # fmt: skip
_RU_MODIFIERS_BEFORE_HEAD = 2  # adjectives between the preposition and its noun ("по дальним тылам ВСУ")
# Marks that end a preposition's phrase: "несмотря на блокаду; ВС РФ уничтожили" opens a new clause with "ВС РФ".
_PHRASE_MARKS = (",", ";", ":", "—", "–", "(", ")")


@cache
def _ru_adverbial_head_forms() -> frozenset[str]:
    return frozenset().union(*(word_forms("ru", w) for w in _RU_ADVERBIAL_HEADS))


def _object_abbr_ru(sent: Sentence, s: int) -> bool:
    """Whether the mention starting at s is a word without cases right after a common noun of any case that a
    preposition governs, perhaps past adjectives, with no mark between: that noun's genitive ("тыл ВСУ", "позиции
    ВСУ"). Not when a finite verb follows it, whose subject it is ("на Курском направлении ВСУ потеряли"), nor
    after a noun of time or reason, nor a name, after which it opens the clause ("в августе ВСУ вторглись"); nor
    after "при", "с": the owner of a circumstance or a companion helps or acts with the subject
    ("при посредничестве ОАЭ", "вместе с погранслужбой ФСБ")."""
    toks, base = sent.toks, sent.start
    if s - 2 < base or not _caseless_ru(toks[s - base]):
        return False
    word = toks[s - 1 - base]
    head = tags_ru(word) if script_of(word) == "cyrillic" else ()
    if not head or not head[0].startswith("NOUN") or word.lower() in _ru_adverbial_head_forms():
        return False
    if any(x in head[0] for x in ("Abbr", "Geox", "Name", "Surn", "Patr", "Orgn", "Trad")):
        return False
    p = s - 2
    while p >= base and p > s - 2 - _RU_MODIFIERS_BEFORE_HEAD and not is_preposition_ru(toks[p - base]):
        tags = tags_ru(toks[p - base]) if script_of(toks[p - base]) == "cyrillic" else ()
        if not tags or not tags[0].startswith(("ADJF", "PRTF", "NUMR")):
            return False
        p -= 1
    if p < base or not is_preposition_ru(toks[p - base]) or toks[p - base].lower() in ("при", "с", "со"):
        return False
    text = sent.text
    if any(m in text and any(p < t <= s for t in _mark_tokens(sent, m)) for m in _PHRASE_MARKS):
        return False
    # A finite verb right after it: the abbreviation is its subject, the phrase before an adverbial of place ("на
    # Курском направлении ВСУ потеряли", "в Запорожской области ФСБ задержала", "в генштабе ВСУ заявили").
    e = next((m[1] for m in sent.mentions if m[0] == s), s)
    after = toks[e + 1 - base] if e + 1 < sent.end else ""
    tags = tags_ru(after) if script_of(after) == "cyrillic" else ()
    return not (tags and tags[0].startswith("VERB"))


def _caseless_ru(word: str) -> bool:
    """A word whose case the analyser cannot read (may_be_case_ru takes it for any case)."""
    if script_of(word) != "cyrillic":
        return True
    tags = tags_ru(word)
    return not tags or any(x in tags[0] for x in ("UNKN", "Abbr", "Fixd"))
