"""Captures: which entity of a sentence a signal names as a value (the acting party, the place).

The acting party follows the grammar where that is cheap:
1. the agent of a passive: in English "by" right after the signal's own words ("ratified by Russia",
   "ratified unanimously by the DPRK", "ratified by decree of North Korea's leader"), not any "by"
   ("joins the alliance in a move prompted by Y" names no agent); in Russian a passive participle
   among the signal's words with a mention next to it that can be instrumental and follows no
   preposition ("ратифицирован Россией", "Россией ратифицирован"; not "договор с Россией");
2. the subject: the nearest mention before the signal's words (in Russian, one that can be
   nominative and follows no preposition, so "договор с КНДР ратифицировала Госдума" names the Duma);
3. else the first mention after the signal's words.
"""

from __future__ import annotations

from .morphology import is_passive_participle_ru, is_preposition_ru, may_be_case_ru, script_of
from .scan import Sentence, Span

_EN_BY_GAP = 3  # words between the signal's own words and "by" ("ratified unanimously on Tuesday by")
_EN_AGENT_GAP = 4  # words between "by" and the agent ("by decree of North Korea")
_RU_AGENT_GAP = 3


def capture(
    sent: Sentence,
    window: Span,
    own: list[Span],
    candidates: tuple[str, ...],
    kind: str | None,
    kinds: dict[str, str],
) -> tuple[str | None, str]:
    """(entity id or None, why). Russian grammar applies when the signal's words are Cyrillic."""
    if kind is not None:
        for _s, _e, eid in sent.mentions:
            if kinds.get(eid) == kind:
                return eid, f"the first {kind} named in the sentence"
        return None, f"no {kind} named in the sentence"
    mentions = [m for m in sent.mentions if m[2] in candidates]
    if not mentions:
        return None, "none of " + ", ".join(candidates) + " is named in the sentence"
    base = sent.start
    toks = sent.toks
    lo, hi = window
    if script_of(toks[lo - base]) == "cyrillic" or (own and script_of(toks[own[0][0] - base]) == "cyrillic"):
        got = _russian_agent(sent, own, mentions)
        if got is not None:
            return got, "the agent of a passive (instrumental after a passive participle)"
        subjects = [
            m
            for m in mentions
            if not (m[0] - 1 >= base and is_preposition_ru(toks[m[0] - 1 - base]))
            and may_be_case_ru(toks[m[1] - base], "nomn")
        ]
        before = [m for m in subjects if m[1] < lo or m[0] <= lo <= m[1]]
        if before:
            return max(before, key=lambda m: m[1])[2], "the subject: nearest nominative mention before"
        after = [m for m in subjects if m[0] > hi]
        if after:
            return after[0][2], "the subject: first nominative mention after"
    else:
        for s, _e, eid in mentions:
            if s <= lo:
                continue
            by = _english_by(toks, base, own, s)
            if by is not None:
                return eid, f"the agent of a passive ('by' after {by!r})"
    before = [m for m in mentions if m[1] < lo or (m[0] <= lo <= m[1])]
    if before:
        return max(before, key=lambda m: m[1])[2], "the nearest mention before the signal's words"
    return mentions[0][2], "the first mention after the signal's words"


def _english_by(toks: list[str], base: int, own: list[Span], mention_start: int) -> str | None:
    """The own word a "by" follows closely, with the mention closely after that "by"."""
    for b in range(mention_start - 1, max(base, mention_start - 1 - _EN_AGENT_GAP) - 1, -1):
        if toks[b - base] != "by":
            continue
        for a, z in own:
            if z < b and b - z - 1 <= _EN_BY_GAP:
                return " ".join(toks[a - base : z - base + 1])
    return None


def _russian_agent(sent: Sentence, own: list[Span], mentions: list[tuple[int, int, str]]) -> str | None:
    toks = sent.toks
    base = sent.start
    participles = [i for a, z in own for i in range(a, z + 1) if is_passive_participle_ru(toks[i - base])]
    if not participles:
        return None
    best: tuple[int, str] | None = None
    for s, e, eid in mentions:
        if s - 1 >= base and is_preposition_ru(toks[s - 1 - base]):
            continue  # "с Россией": with Russia, not by it
        if not may_be_case_ru(toks[e - base], "ablt"):
            continue
        for p in participles:
            gap = s - p - 1 if s > p else p - e - 1
            if 0 <= gap <= _RU_AGENT_GAP and (best is None or gap < best[0]):
                best = (gap, eid)
    return best[1] if best else None
