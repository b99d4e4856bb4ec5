"""Modality: how a reader hears a signal's sentence: asserted, or negated, conditional, future, hedged.

A cue governs the signal's words when it overlaps them, or stands up to `scope` words before them
(a `before` cue: "will", "denied"; conditionals reach twice as far) or up to `scope_after` words after
them (an `after` cue: "in the coming weeks", "calling them fake"). A cue that lies wholly inside one of
the signal's own phrases or inside a name is part of those words, not a cue ("no evidence" as a phrase).
Where cues overlap, the longest wins, and a `neutral` phrase cancels what it overlaps ("soon after"); but a
cue hidden only by longer ones of the other direction applies on the side they do not govern ("назвали
фейком" governs the words before it, its "фейком" those after it). "agreed to" (cues.VERB_ONLY_TO) is a cue
only before a verb ("agreed to send troops", not "agreed to a truce"), and not before extend, renew, prolong
(cues.AGREED_DONE_VERBS: "agreed to extend the truce" is an extension made); "proposed", "considering"
(cues.ING_ONLY) and the appeals "the importance of", "called for" (cues' `appeal` table) only before an -ing verb;
a walk-back ("walks back", "withdrew": cues.WALK_BACK_SAID) only before a word for what was said ("walks back
report that …", not "walks back to her crease"), which it then spans; a walk-back's reach ends at "after", "amid",
"responsibility", … (cues.WALK_BACK_STOPS: "retracts order after failed launch" takes back no launch); a noun
walk-back before a verb is a subject ("Retraction of statement helped …": no cue); a walk-back a cue governs takes
its class ("will backtrack on": future) or, a negation, cancels with it ("refused to retract"); so does a denial
("will deny": future; a negation keeps it negated) and a Russian walk-back ("может отозвать"). A walk-back or
denial after the claim whose object points back ("…, but later retracted its report", "…; Kyiv
denies it") governs what a verb of saying before the words introduced, across clauses (_reported). A verb of
naming, its object and a word of denial ("calls coup reports fake") negate that object only (_called_false).
"May" the month or a name is not the modal ("In May North Korea …": _is_month_may).
A verification disclaimer next to an anaphor that points back ("..., but this could not be independently
verified", "..., which Reuters could not verify", "однако эту информацию не удалось проверить") hedges every
word before it in its sentence, across clause breaks; one that opens the next sentence ("This could not be
verified.") hedges the whole sentence (next_disclaimer).
A verb of persuasion, request or directive ("urged", "called on", "ordered", "told", "призвал"; Russian agreements,
"договорились") is a future cue only before "X to VERB" (Russian: X and an infinitive), and then governs the goal's
own words after the "to". An accusation ("accused X of", "allegations that", "обвинил X в") hedges its object, and a
warning against ("warns X against", "предостерег X от") makes its object future, and nothing beyond it (_object_frame,
_object_end).
A predicate after the signal's words (cues.PREDICATE: "не состоялся", "was postponed", "may take place", "will take
place") governs them when they are its subject (_predicate_subject). A verb of calling off ("postponed the exchange",
"сорвал обмен"; cues.CALL_OFF) negates the word it leads to, unless a cue governs it ("did not postpone", "will
postpone"). After a past verb of saying, "would" is the future in the past (_reported_would), unless a condition
follows it (_conditions_after).
Of the cues that govern, the strongest class wins (negated > conditional > future > hedged), then
the nearest. Beyond cue words:
- Russian writes the future in the verb: a perfective non-past form in the signal's words ("направит",
  "обменяются") makes it future (morphology.is_future_verb_ru);
- an English headline writes it as "X to VERB": a title whose matched words start right after "to"
  is future ("Moscow and Pyongyang to exchange instruments"), unless the word before "to" says it
  happened ("votes to ratify", "law to ratify"); so is the object of "to" + a causing verb ("Export Ban to
  Trigger Grain Deal Exit": cues.HEADLINE_TO_CAUSES).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Any

from .compiler import CompiledRules
from .cues import (
    ADVERBIAL_EXPECTATION_GAP,
    ADVERBIAL_EXPECTATION_NOUNS,
    ADVERBIAL_OPENERS,
    ADVERBIAL_OPENERS_BARE,
    AGREE_FORMS,
    AGREED_ACTS_RU,
    AGREED_DONE_VERBS,
    AGREED_ON_RU,
    ANNOUNCES_RU,
    APPARENTLY,
    APPEAL,
    ATTEMPT_BETWEEN_EN,
    ATTEMPT_COUNTERS_EN,
    ATTEMPT_COUNTERS_RU,
    ATTEMPT_PHRASE_ENDS_EN,
    ATTRIBUTE_BETWEEN,
    ATTRIBUTE_NOT_BEFORE,
    ATTRIBUTIVE_HEDGES,
    BEING_CLARIFIED_RU,
    CALL_OFF,
    CALL_OFF_ATTEMPTS,
    CALL_OFF_ATTEMPTS_RU,
    CALL_OFF_NOT_AFTER,
    CALLED_DENIALS,
    CALLED_DENIALS_RU,
    CALLED_DENIALS_RU_FEMININE,
    CALLED_GAP,
    CALLED_NOT_BEFORE_DENIAL,
    CALLED_NOT_OBJECT,
    CALLED_NOT_OBJECT_RU,
    CALLED_REPORT_DENIALS_RU,
    CALLED_VERBS,
    CALLED_VERBS_RU,
    COMMITMENT_REACH_STOPS,
    COMMITMENT_TIME_TO_COME,
    COMMITMENT_TO_EN,
    COUNTER_PARTICLE_VERBS,
    COUNTER_VERBS,
    COUNTERED_GAP,
    COUNTERED_NOT_BETWEEN,
    CUE_PRIORITY,
    CUE_REACH_STOPS_EN,
    DENOUNCE_KEYS,
    DISCLAIMER_ANAPHORS_EN,
    DISCLAIMER_ANAPHORS_RU,
    DISCLAIMER_DETERMINERS_EN,
    DISCLAIMER_NOT_ANAPHORIC_AFTER_EN,
    DISCLAIMER_NOT_ANAPHORIC_AFTER_RU,
    DISCLAIMER_NOUNS_EN,
    DISCLAIMER_NOUNS_RU,
    DISCLAIMER_RELATIVE_RU,
    DISCLAIMER_RELATIVES_EN,
    DISCLAIMER_SKIP_EN,
    DISCUSSED_AFTER_RU,
    EXPECTATION_PHRASE_STOPS,
    EXPECTATION_PHRASE_WORDS,
    FOILED_BETWEEN_EN,
    FOILED_NOUNS_EN,
    FOILERS_EN,
    GOAL_NOT_AFTER_EN,
    GOAL_OBJECT_WORDS,
    GOAL_REACH,
    GOAL_REACH_STOPS,
    GOAL_STOP_EN,
    GOAL_STOP_RU,
    GOAL_WARN_FORMS,
    GOAL_WARN_STOP,
    GOVERNS_NEXT_WORD,
    HEADLINE_CAUSE_EXCEPTIONS,
    HEADLINE_CAUSE_NOT_AFTER,
    HEADLINE_LANGUAGES,
    HEADLINE_OBJECT_GAP,
    HEADLINE_OBJECT_STOPS,
    HEADLINE_TO_CAUSES,
    HEADLINE_TO_EXCEPTIONS,
    HEADLINE_TO_MOTION,
    HEADLINE_TO_PARTICLES,
    HEADLINE_TO_PLACES,
    HEDGE_ADJECTIVE_KEYS,
    HOPES_RU,
    ING_ONLY,
    LATER_DENIALS,
    MAY_MONTH_AFTER,
    MAY_MONTH_AFTER_CAPITALISED,
    MOVES_NOUN_AFTER,
    MOVES_TO,
    NEARING_AFTER_SUBJECT_EN,
    NEGATED_LIGHT_VERBS,
    NEGATED_VERB_NEGATIONS,
    NEGATED_VERB_NOT_BETWEEN,
    NEGATED_VERB_SKIP,
    NEGATION_REACH_STOPS_EN,
    NEUTRAL,
    NO_FORWARD_REACH_EN,
    NOT_CONFIRMED_RU,
    NOT_YET_DEMAND,
    NOT_YET_DEMAND_AFTER,
    NOT_YET_DEMAND_NOT_AFTER,
    NOT_YET_DISCUSS,
    NOT_YET_FOR_LEADS,
    NOT_YET_HEAD_NEXT,
    NOT_YET_LEADS,
    NOT_YET_OBJECT_LEADS,
    NOT_YET_OF_LEADS,
    NOT_YET_ON,
    NOT_YET_ON_LEADS,
    NOUN_UNLESS_BEFORE,
    OBJECT,
    OBJECT_ALLEGE,
    OBJECT_CONSEQUENCE_AFTER_COMMA,
    OBJECT_CONSEQUENCE_AUX,
    OBJECT_CONSEQUENCE_NOT_OWN,
    OBJECT_CONSEQUENCE_RU,
    OBJECT_CONSEQUENCE_RU_TOLL,
    OBJECT_CONSEQUENCE_TOLL,
    OBJECT_CONSEQUENCE_TOLL_WORDS,
    OBJECT_CONSEQUENCE_VERBS,
    OBJECT_CONSEQUENCE_WORDS,
    OBJECT_FRAME_WORDS,
    OBJECT_LEADS,
    OBJECT_NOT_BETWEEN,
    OBJECT_NOUN_AFTER,
    OBJECT_NOUNS,
    OBJECT_NOUNS_OR_VERBS,
    OBJECT_REACH_STOPS,
    OBJECT_VERBS,
    OBJECT_WARNINGS,
    PARENTHETICAL_SUBJECT_OPENERS,
    PASSIVE_TO_BE,
    PASSIVE_TO_BE_NOT_AFTER,
    PASSIVE_TO_BE_ORDINALS,
    POINT_BACK_DETERMINERS,
    POINT_BACK_LINKS,
    POINT_BACK_NOUNS,
    POINT_BACK_PRONOUN_BEFORE,
    POINT_BACK_PRONOUNS,
    POINT_BACK_STOPS,
    PREDICATE,
    PREDICATE_GAP_BETWEEN,
    PREDICATE_GAP_STOPS_EN,
    PREDICATE_GAP_STOPS_RU,
    PREDICATE_GENITIVE,
    PREDICATE_HEADLINE_BEFORE,
    PREDICATE_HEADLINE_ONLY,
    PREDICATE_HEDGE_NOT_AFTER,
    PREDICATE_OBJECT_FIRST,
    PREDICATE_OBJECT_SUBJECT_AFTER,
    PREDICATE_SUBJECT_PREPOSITIONS_EN,
    PREPARES_RU,
    PRESUMED_DEAD,
    PROPOSED_BEFORE_GAP,
    PROPOSES_RU,
    PURPOSE_DONE_HEADS,
    PURPOSE_HEADS,
    PURPOSE_HELP,
    QUESTION_DEFINITE,
    QUESTION_DEFINITE_WORDS,
    QUESTION_INTONATION_RU,
    QUESTION_MODAL_OPENERS,
    QUESTION_OPENERS_EN,
    QUESTION_PARTICLE_RU,
    QUESTION_PREDICATES,
    QUESTION_WORDS_RU,
    RATIFYING_STEMS,
    RECAP_AFTER_EN,
    RECAP_AFTER_RU,
    RECAP_AGO_COUNTS,
    RECAP_AGO_EN,
    RECAP_AGO_OPENERS,
    RECAP_AGO_RU,
    RECAP_AGO_UNITS_EN,
    RECAP_EARLIER_UNITS_EN,
    RECAP_FOLLOWS_DAY_NEWS_EN,
    RECAP_FOLLOWS_EN,
    RECAP_FOLLOWS_NOT_BETWEEN,
    RECAP_FOR,
    RECAP_FOR_DETERMINERS_EN,
    RECAP_FOR_GAP,
    RECAP_FOR_MODALS_EN,
    RECAP_FOR_REASONS_EN,
    RECAP_FOR_RELATIVES_EN,
    RECAP_FRONTED_DAYS,
    RECAP_FRONTED_NOT,
    RECAP_FRONTED_OPENERS,
    RECAP_FRONTED_WORDS,
    RECAP_GAP,
    RECAP_LAST_UNITS_EN,
    RECAP_MONTH_ABBREVIATIONS_EN,
    RECAP_MONTHS_EN,
    RECAP_PART_OF_EN,
    RECAP_RECALL_LEADS_RU,
    RECAP_RECALL_RU,
    RECAP_RELATIVE_AUX_EN,
    RECAP_RELATIVES_EN,
    RECAP_SINCE_EN,
    RECAP_SINCE_RU,
    RECAP_TIME_GAP,
    RECAP_TIME_WORDS_EN,
    RECAP_UNITS_EN,
    RECAP_UNITS_RU,
    RECAP_WEEKDAYS_EN,
    RECAP_WORDS,
    RECAP_YEAR_AFTER_NEXT,
    RECAP_YEAR_ARTICLES,
    RECAP_YEAR_GAP,
    RECAP_YEAR_INSIDE,
    REPORTED_ABOUT_RU,
    REPORTED_FUTURE_GAP,
    REPORTED_FUTURE_NOT_BEFORE,
    REPORTED_FUTURE_STOPS,
    REPORTED_FUTURE_VERBS,
    REPORTING_VERBS,
    REVOKE_KEYS,
    RU_AGREE_FORMS,
    RU_AGREE_GAP,
    RU_AGREED_DONE_VERBS,
    RU_LATER_DENIALS,
    RU_NAMES_NEW,
    RU_POINT_BACK_ANAPHORS,
    RU_POINT_BACK_LINKS,
    RU_POINT_BACK_NOUNS,
    RU_POINT_BACK_STOPS,
    RU_REPORTING_AFTER_PO,
    RU_REPORTING_VERBS,
    RU_SOON,
    RU_TOPIC_PREPOSITIONS,
    RU_TOPIC_STEMS,
    RU_WALK_BACK_STEMS,
    SCHEDULED_CLAUSE_GAP,
    SCHEDULED_CLAUSE_OPENERS_EN,
    SCHEDULED_CLOCK_WORDS_EN,
    SCHEDULED_DAY_VERBS_EN,
    SCHEDULED_FEAR_EN,
    SCHEDULED_NEXT_UNITS_EN,
    SCHEDULED_SPAN_OPENERS_EN,
    SCHEDULED_SPAN_UNITS_EN,
    SCHEDULED_STEP_BARE_EN,
    SCHEDULED_STEP_VERBS_EN,
    SCHEDULED_SUBJECT_BETWEEN,
    SCHEDULED_SUBJECT_GAP,
    SCHEDULED_TIMES_EN,
    SHORT_REACH_EN,
    SHORT_REACH_GAP,
    VERB_ONLY_TO,
    WALK_BACK_BETWEEN,
    WALK_BACK_GAP,
    WALK_BACK_KEYS,
    WALK_BACK_NOMINAL,
    WALK_BACK_NOUNS,
    WALK_BACK_SAID,
    WALK_BACK_STOPS,
    WANTED_AGREED_PREPOSITIONS,
    WANTED_DISCUSS,
    WANTED_DISCUSSED_NOUNS,
    WANTED_DONE_GAP,
    WANTED_DONE_RELATIVES,
    WANTED_DONE_VERBS,
    WANTED_EVENT_NOUNS,
    WANTED_FOR_GAP,
    WANTED_FOR_LEADS,
    WANTED_GAP,
    WANTED_HEADS,
    WANTED_JOINED_GAP,
    WANTED_JOINED_NEXT,
    WANTED_JOINED_NOUNS,
    WANTED_MODIFIERS,
    WANTED_NOT_AFTER,
    WANTED_NOT_AGREED,
    WANTED_OBJECT_LEADS,
    WANTED_OF_LEADS,
)
from .morphology import (
    finite_verb_tense_ru,
    is_future_verb_ru,
    is_infinitive_ru,
    is_preposition_ru,
    is_transitive_future_verb_ru,
    may_be_case_ru,
    tags_ru,
    word_forms,
)
from .scan import Sentence, Span, find_matches
from .text import aligned_word_view, cased_tokens, tokens

Cue = tuple[str, int, int, str, str]  # (class, first, last, key, direction): Sentence.cues
# A cue's direction in Sentence.cues: "before" and "after" as listed; "back", a verification disclaimer next to
# its anaphor, governs every word before it in its sentence; "goal", the "to" of "urged X to VERB" (its key
# the words "urged x to"), governs up to cues.GOAL_REACH words after it. A walk-back's key is WALK_BACK, or
# WALK_BACK_POINTING when its object points back to a claim before it ("…, but later retracted his tweet"); a
# denial's with such an object is DENIAL_POINTING ("…; Kyiv denies it"): those also reach back (resolve).
BACK = "back"
WALK_BACK = "~walk back"
WALK_BACK_POINTING = "~walk back, pointing back"
DENIAL_POINTING = "~denial, pointing back"
DENIAL = "~denial"  # a one-word denial ("deny", "denied") whose object does not point back
# "calls coup reports fake": the verb to the denial word, governing only the object between them (cues.CALLED_*)
CALLED_DENIAL = "~called it false"
_WALK_BACKS = frozenset({WALK_BACK, WALK_BACK_POINTING})
_POINTING = frozenset({WALK_BACK_POINTING, DENIAL_POINTING})
_DENIALS = frozenset({DENIAL, DENIAL_POINTING})
# Calling off an event ("postponed the exchange", "сорвал обмен"; cues.CALL_OFF): a cue may govern it as a walk-back
# ("will postpone": future; "did not postpone", "не отменил": cancelled with the negation, the event stands).
CALL_OFF_KEY = "~call off"
# A predicate's cue (cues.PREDICATE) keyed by the subject it takes: a headline's bare participle ("Exchange
# postponed": in a body it is a participle), the genitive of a negated existence ("Обмена пленными не было"), the
# object first ("Обмен пленными отложили"), else a nominative subject.
PREDICATE_KEY = "~predicate"
PREDICATE_BARE = "~predicate, a headline's participle"
PREDICATE_GEN = "~predicate, genitive subject"
PREDICATE_OBJ = "~predicate, object first"
# A cue another may govern (_governed_walk_backs): "will retract", "will deny" are still to come.
_GOVERNABLE = _WALK_BACKS | _DENIALS | {CALL_OFF_KEY}
PRESUMED_DEAD_KEY = "~presumed dead"  # "presumed dead" (cues.PRESUMED_DEAD): only the words it overlaps
PREPARES_KEY = "~prepares"  # "готовит новую атаку" (cues.PREPARES_RU): a future of its object only
# "предложила обмен", "за идею перемирия и обмена" (cues.PROPOSES_RU, AGREED_ON_RU): its object only, which "и" may
# join to a first one
PROPOSES_KEY = "~proposes"
# "Обмен пленными премьер обсудил с Путиным" (cues.DISCUSSED_AFTER_RU): a fronted object only
DISCUSSED_KEY = "~discussed, object first"
APPARENTLY_KEY = "~apparently"  # cues.APPARENTLY: the word right after it, or its subject set off before it
GOAL = "goal"
REVOKE_KEY = "~revoke"  # "revoke ratification" (cues.REVOKE_KEYS): the word it leads to
NEXT_WORD = "next word"  # a cue that governs only the word it leads to (cues.GOVERNS_NEXT_WORD)


def read_cues(rules: CompiledRules, sent: Sentence) -> None:
    """The modality cues of a sentence, in text order, after overlaps are settled."""
    sent.cues_read = True
    if rules.cue_automaton is None:
        return
    toks = sent.toks
    norm = " " + " ".join(toks) + " "
    found: list[tuple[str, int, int, str, str]] = []
    reported: list[int] = []  # the "would" found future after a verb of saying (_reported_would)
    n = len(toks)
    for entry, first, last in find_matches(rules.cue_automaton, norm, toks):
        # "May 9" is a date, not a hedge: ignore a cue followed by a number. Not a Russian predicate after its
        # subject, which a date after it only dates ("Обмен пленными не состоялся 5 января", "… состоится 25.12";
        # trial 57, HIGH-1).
        if last + 1 < n and toks[last + 1].isdigit() and (entry.direction != PREDICATE or toks[last].isascii()):
            continue
        # "In May North Korea and Russia signed", "Theresa May said": the month or a name, not the modal.
        if first == last and toks[first] == "may" and _is_month_may(sent, first):
            continue
        key = tuple(toks[first : last + 1])
        cls = entry.cue_class
        # "said the republic would cease to exist": the future seen from a past verb of saying, not a condition
        # (unless a condition follows: _conditions_after).
        if key[0] == "would" and cls == "conditional" and _reported_would(sent, first):
            cls = "future"
            reported.append(len(found))
        # "agreed to" is a future before a verb only: "agreed to send troops", not "agreed to a truce".
        # "is due to expire": a future before a verb only ("is due to the war" is a cause).
        if key[-2:] == ("due", "to") and (
            not _verb_follows(toks, last + 1) or (last + 1 < len(toks) and toks[last + 1] == "be")
        ):
            continue  # (and "is due to be arraigned" is the cue "to be", whose reach is not cut short)
        if last == first + 1 and toks[last] == "to" and toks[first] in VERB_ONLY_TO:
            if not _verb_follows(toks, last + 1):
                continue
            # "agrees to extend the grain deal": the agreement is the extension (cues.AGREED_DONE_VERBS).
            if toks[first] in AGREE_FORMS and _bare_verb_after(toks, last + 1) in AGREED_DONE_VERBS:
                continue
        # "Russia moves to ratify" is a future, "the Taliban's moves to restrict" steps taken (cues.MOVES_TO).
        if key == MOVES_TO and first > 0 and toks[first - 1] in MOVES_NOUN_AFTER:
            continue
        # "close to agreeing", "proposed sending" are futures, "close to the border", "the proposed treaty" not:
        # before an -ing verb only.
        if key in ING_ONLY and not _ing_verb_follows(toks, last + 1):
            continue
        # "deal to be approved" is a thing to be done, "the first to be hit" one done: cues.PASSIVE_TO_BE.
        if key == PASSIVE_TO_BE and not _passive_infinitive(toks, first):
            continue
        # "walks back report that …" denies it, "walks back to her crease" does not: the cue spans the word for
        # what was said, or is none.
        cue_key = entry.key
        # "попытки отразить удар": what was tried is the countering; the strike stands (cues.ATTEMPT_NOUNS_RU).
        if len(key) == 1 and cls == "hedged" and last + 1 < n and _counters(toks[last + 1]):
            if key[0].startswith(CALL_OFF_ATTEMPTS_RU):
                continue
        # "revoke ratification", "отзыв ратификации": negated, governing the word it leads to, which must be one for
        # ratifying ("revoked the licence" is no cue; a walk-back's own words go on to be read as one).
        if key in REVOKE_KEYS and entry.direction == "before" and cls == "negated":
            at = last + 1
            while at < n and toks[at] in _ARTICLES:
                at += 1
            if key in DENOUNCE_KEYS or (at < n and toks[at].startswith(RATIFYING_STEMS)):
                found.append((cls, sent.start + first, sent.start + last, REVOKE_KEY, NEXT_WORD))
                continue
            if key not in WALK_BACK_KEYS:
                continue
        # "…, officials did not deny", "…, a loss officials hope to deny", "…, в Кремле это не отрицают": a denial
        # after the claim that a negation, a modal or "to" leads denies nothing; the claim stands as it was said
        # (trial 52, LOW-1: with "deny" read after the claim too, "did not deny" would otherwise deny it).
        if (
            entry.direction == "after"
            and len(key) == 1
            and (key[0] in LATER_DENIALS or key[0] in RU_LATER_DENIALS)
            and _denial_not_made(toks, first)
        ):
            continue
        if key in WALK_BACK_KEYS and entry.direction == "before":
            if key in WALK_BACK_SAID:
                said = _said_word(toks, last + 1)
                if said is None:
                    continue
                # "Retraction of statement helped form the basis of …": the retraction is the subject, and what
                # follows is said of it, not taken back.
                if key[0] in WALK_BACK_NOMINAL and _predicate_follows(toks, said + 1):
                    continue
                pointing = _definite(toks[last + 1 : said]) and not _names_new(toks, said + 1)
                last = said
            else:
                pointing = key[0] != "no" and _points_back(toks, last + 1, None)
            cue_key = WALK_BACK_POINTING if pointing else WALK_BACK
        elif key[0] in LATER_DENIALS and len(key) == 1 and entry.direction in ("before", "after"):
            if entry.direction == "before" and _points_back(toks, last + 1, POINT_BACK_NOUNS):
                cue_key = DENIAL_POINTING
            else:
                cue_key = DENIAL  # (governed by a modal it is still to come: "will deny", _governed_walk_backs)
        elif key[0] in RU_LATER_DENIALS and len(key) == 1 and entry.direction == "before":
            # "…; Москва это отрицает", "…, однако Песков опроверг это": a denial pointing back (cues.RU_LATER_DENIALS)
            if _points_back_ru(toks, first):
                cue_key = DENIAL_POINTING
        elif entry.cue_class == "negated" and entry.direction == "before" and _ru_walk_back(key):
            cue_key = WALK_BACK
            if is_future_verb_ru(key[0]):  # "отзовёт заявление", "откажется от своих слов": still to come
                found.append(("future", sent.start + first, sent.start + last, cue_key, entry.direction))
                continue
            # "…, но позже отозвал своё заявление": what it takes back was said before it (not "заявление о …")
            if last + 1 >= n or toks[last + 1] not in RU_NAMES_NEW:
                cue_key = WALK_BACK_POINTING
        elif entry.direction == "after" and len(key) > 2 and key[1] in RU_POINT_BACK_ANAPHORS and key[0][:5] == "назва":
            cue_key = DENIAL_POINTING  # "…, однако в Кремле назвали это фейком"
        direction = entry.direction
        if direction == PREDICATE:
            # "Обмен пленными не отложен", "exchange not postponed": a negation before the predicate cancels it;
            # "to ensure attacks never happen again": they did happen.
            if first > 0 and toks[first - 1] in _NEGATIONS and key[0] not in _NEGATIONS:
                # ... but "Grain deal extension not likely", "is not possible": still a likelihood, hedged
                if key not in HEDGE_ADJECTIVE_KEYS:
                    continue
            if last + 1 < n and toks[last + 1] in _AGAIN and not _NEGATIONS.isdisjoint(key):
                continue
            cue_key = (
                PREDICATE_BARE
                if key in PREDICATE_HEADLINE_ONLY
                else PREDICATE_GEN
                if key in PREDICATE_GENITIVE
                else PREDICATE_OBJ
                if key in PREDICATE_OBJECT_FIRST or key in PREDICATE_OBJECT_SUBJECT_AFTER
                else PREDICATE_KEY
            )
        elif key in CALL_OFF and direction == "before":
            # "the postponed exchange took place", "talks were postponed and …": a participle, no object after it;
            # "tried to cancel the vote": an attempt (cues.CALL_OFF_*).
            if not _calls_off(toks, first, key):
                continue
            cue_key = CALL_OFF_KEY
        elif (key in PREPARES_RU or key in HOPES_RU or key in ANNOUNCES_RU) and direction == "before":
            cue_key = PREPARES_KEY
        elif (key in PROPOSES_RU or key in AGREED_ON_RU) and direction == "before":
            # "договорились о прекращении огня", "обсудили итоги визита": the truce agreed, the visit are the news;
            # an act agreed or discussed is still to come
            if key in AGREED_ON_RU and (last + 1 >= n or not toks[last + 1].startswith(AGREED_ACTS_RU)):
                continue
            cue_key = PROPOSES_KEY
        elif key in DISCUSSED_AFTER_RU and direction == "after":
            cue_key = DISCUSSED_KEY
        elif key == APPARENTLY and direction == "before":
            cue_key = APPARENTLY_KEY
        elif key in PRESUMED_DEAD:
            cue_key = PRESUMED_DEAD_KEY
        if key in GOVERNS_NEXT_WORD and direction == "before":
            direction = NEXT_WORD
        elif direction == APPEAL:
            # "stressed the importance of renewing the deal": an appeal before an -ing verb, which alone it governs.
            if not _ing_verb_follows(toks, last + 1):
                continue
        if direction == "disclaimer":
            # "..., but this could not be independently verified": only next to an anaphor that points back.
            if not _disclaimer_anaphor(toks, first, last):
                continue
            direction = BACK
        elif direction == OBJECT:
            # "accused North Korea of supplying …", "warns X against selling …": a cue from the word to what opens
            # its object ("of", "that", "against", "в", "от"), if it has one; it governs only that object (resolve).
            lead = _object_frame(sent, first, last)
            if lead is None:
                continue
            last = lead
        elif direction == GOAL:
            # "urged Hamas to accept": the cue is the "to" before the verb, if there is one.
            to = _goal_to(sent, first, last)
            if to is None:
                continue
            # "пытались предотвратить атаку", "tried to prevent an attack": the attack stands (cues.ATTEMPT_VERBS_RU,
            # ATTEMPT_VERBS_EN).
            if cls == "hedged" and _counters(toks[to + 1]):
                continue
            if cls == "hedged" and toks[first].isascii():
                # "sought increased powers to send …" is no attempt to send (cues.ATTEMPT_BETWEEN_EN)
                if not ATTEMPT_BETWEEN_EN.issuperset(toks[last + 1 : to]):
                    continue
                # "thwarted a Ukrainian attempt to attack": foiled, negated (cues.FOILERS_EN)
                foiled = _foiler_before(sent, first)
                if foiled is not None:
                    cls, first = "negated", foiled
            found.append(
                (
                    cls,
                    sent.start + to,
                    sent.start + to,
                    sent.words(sent.start + first, sent.start + to),
                    GOAL,
                )
            )
            continue
        # "закон о фейках": after a preposition a denial noun is what the sentence is about, not a denial.
        if (
            first == last
            and first > 0
            and toks[first - 1] in RU_TOPIC_PREPOSITIONS
            and entry.cue_class == "negated"
            and toks[first].startswith(RU_TOPIC_STEMS)
        ):
            continue
        found.append((cls, sent.start + first, sent.start + last, cue_key, direction))
    if reported:
        _conditions_after(found, reported)
    found += _called_false(sent)
    if "якобы" in toks:
        found += _alleged_verb_ru(sent)
    if not found:
        return
    if len(found) == 1:  # (most sentences that hold a cue hold one: nothing overlaps)
        sent.cues = found if found[0][0] != NEUTRAL else []
        return
    # Overlapping cues: the longest wins (a neutral phrase on a tie), so "could not be verified" is a
    # hedge and not a negation, and "soon after" cancels "soon".
    found.sort(key=lambda c: (-(c[2] - c[1]), c[4] != "neutral", CUE_PRIORITY.get(c[0], 9), c[1]))
    kept: list[Cue] = []
    hidden: list[tuple[Cue, tuple[Cue, ...]]] = []
    for c in found:
        # The same words listed in both directions ("denied") are one cue that reaches both ways.
        over = [k for k in kept if c[1] <= k[2] and k[1] <= c[2] and not (k[:3] == c[:3] and k[4] != c[4])]
        if not over:
            kept.append(c)
        elif c[0] != NEUTRAL and all(k[0] != NEUTRAL and k[4] != c[4] for k in over):
            # Hidden only by longer cues of the other direction: it applies on the side where they do not
            # ("назвали фейком" governs the words before it, its "фейком" those after it; see resolve).
            hidden.append((c, tuple(over)))
    sent.cues = sorted((c for c in kept if c[0] != NEUTRAL), key=lambda c: (c[1], c[2]))
    sent.cues_hidden = hidden
    if any(c[3] in _GOVERNABLE for c in sent.cues):
        sent.cues = _governed_walk_backs(sent, sent.cues)


def _called_false(sent: Sentence) -> list[Cue]:
    """ "calls coup reports fake", "called the claims baseless": a verb of naming, its object, a word of denial
    (cues.CALLED_*): one negation cue from the verb to the denial, which governs only the object (resolve)."""
    toks = sent.toks
    n = len(toks)
    out: list[Cue] = []
    for v, word in enumerate(toks):
        if word not in CALLED_VERBS:
            if word in CALLED_VERBS_RU:
                out += _called_false_ru(sent, v)
            continue
        for d in range(v + 2, min(v + 2 + CALLED_GAP, n)):
            # "Police call handlers used fake system": a verb's past form between, the noun "call" and a clause
            if toks[d - 1] in CALLED_NOT_OBJECT or _predicate_follows(toks, d - 1):
                break
            if toks[d] in CALLED_DENIALS:
                if toks[d - 1] not in CALLED_NOT_BEFORE_DENIAL and not any(
                    sent.start + v < b <= sent.start + d for b in clause_breaks(sent)
                ):
                    if not _comma_between(sent, v, d):
                        out.append(("negated", sent.start + v, sent.start + d, CALLED_DENIAL, "after"))
                break
    return out


# The verbs "якобы" hedges as a predicate: a finite verb, a short participle (not "якобы воюющие", an attribute).
_RU_FINITE_TAGS = ("VERB", "PRTS")


def _alleged_verb_ru(sent: Sentence) -> list[Cue]:
    """ "Военнослужащие КНДР якобы воюют в …": "якобы" before a verb (a finite verb or a short participle in any
    reading: "якобы прибыли" is also the noun "прибыль"), an adverb or "не" perhaps between ("якобы уже воюют",
    "якобы не воюют": a claim either way), is a predicate's hedge, which governs the subject before it as a listed
    predicate does (_predicate_subject; trial 62, H1: any verb, not only "якобы состоялся / прошёл …",
    cues._ru_predicates)."""
    toks = sent.toks
    out: list[Cue] = []
    for i, word in enumerate(toks):
        if word != "якобы":
            continue
        verb = i + 1
        if verb + 1 < len(toks) and (toks[verb] == "не" or tags_ru(toks[verb])[:1] == ("ADVB",)):
            verb += 1
        if verb < len(toks) and any(t.startswith(_RU_FINITE_TAGS) for t in tags_ru(toks[verb])):
            out.append(("hedged", sent.start + i, sent.start + verb, PREDICATE_KEY, PREDICATE))
    return out


# "назвали провокацией сообщения о …": a naming with its denial first, read before a word for what was said only.
CALLED_DENIAL_FIRST_RU = "~called it false, denial first"
# "не соответствующими действительности / реальности": a denial of three words after a verb of naming.
_REALITY_RU = frozenset({"действительности", "реальности"})


def _called_false_ru(sent: Sentence, v: int) -> list[Cue]:
    """_called_false of a Russian verb of naming at token v (cues.CALLED_*_RU): "Песков назвал сообщения об обмене
    пленными фейком". The object: every word to the denial in the clause (trial 62, H1: a count of words cut
    "сообщения о военных КНДР в Курской области" short), no comma, no verb nor word that opens a clause; a denial
    after a preposition names a topic ("назвал борьбу с дезинформацией …"); "не соответствующими действительности"
    is one. "назвали провокацией сообщения …": before a word for what was said, the object after it."""
    toks = sent.toks
    n = len(toks)
    if v + 2 < n and toks[v + 1] in CALLED_REPORT_DENIALS_RU and toks[v + 2] in RU_POINT_BACK_NOUNS:
        return [("negated", sent.start + v, sent.start + v + 1, CALLED_DENIAL_FIRST_RU, "before")]
    for d in range(v + 1, n):
        word = toks[d]
        end = d
        if word == "не" and d + 2 < n and toks[d + 1].startswith("соответствующ") and toks[d + 2] in _REALITY_RU:
            end = d + 2
        elif word in CALLED_DENIALS_RU_FEMININE and d + 1 < n:
            if not may_be_case_ru(toks[d + 1], "ablt"):
                return []  # "назвал его автором фейковой новости": the genitive, not what the object is called
            end = d + 1  # "… фейковой новостью"
        elif word not in CALLED_DENIALS_RU and word not in CALLED_REPORT_DENIALS_RU:
            if word in CALLED_NOT_OBJECT_RU or _verb_of_its_own(word, True):
                return []
            continue
        if (
            d == v + 1  # "назвал фейком сообщения …": the cues "назвал* фейком" (cues.RU_CALLED_FALSE_FIRST)
            or is_preposition_ru(toks[d - 1])
            or (word in CALLED_REPORT_DENIALS_RU and toks[v + 1] not in RU_POINT_BACK_NOUNS)
            or any(sent.start + v < b <= sent.start + end for b in clause_breaks(sent))
            or _comma_between(sent, v, end)
        ):
            return []
        return [("negated", sent.start + v, sent.start + end, CALLED_DENIAL, "after")]
    return []


def _governed_walk_backs(sent: Sentence, cues: list[Cue]) -> list[Cue]:
    """A walk-back that a cue governs is not one done: "China will backtrack on its goal", "plans to ask X to retract
    the claim" (future), "may retract" (hedged), "if Kyiv retracts" (conditional) take that cue's class; "refused to
    withdraw the comments", "will not backtrack on" (negated) cancel it and the negation with it: the claim stands.
    The governing cue ends at most _GOVERNS_WALK_BACK words before the walk-back, in its clause. A denial governed
    so is still to come too ("Moscow will deny that …": future; "may deny" hedged), but a negation before it keeps it
    a negation ("did not deny", "neither confirm nor deny": not a confirmation either). A governed cue then spans
    its governor, so that the reading names it ("will backtrack on", "может отозвать своё заявление")."""
    cls = [c[0] for c in cues]
    start = [c[1] for c in cues]
    dropped: set[int] = set()
    for i, w in enumerate(cues):
        if w[3] not in _GOVERNABLE:
            continue
        gov = -1
        for j in range(i):  # (the nearest: cues are in text order)
            c = cues[j]
            if c[2] < w[1] <= c[2] + _GOVERNS_WALK_BACK and c[4] in ("before", GOAL) and c[3] not in _WALK_BACKS:
                gov = j
        if gov < 0 or any(cues[gov][2] < b <= w[1] for b in clause_breaks(sent)):
            continue
        if cues[gov][0] == "negated":
            if w[3] not in _DENIALS:
                dropped.update((gov, i))
        else:
            cls[i] = cues[gov][0]
            # (an after-cue spanning its governor would reach further back: not widened)
            if w[4] in ("before", NEXT_WORD):
                start[i] = cues[gov][1]
    # (by index: the engine is compiled, where a cue tuple is a value, not an object that "is" can tell apart)
    return [(cls[i], start[i], c[2], c[3], c[4]) for i, c in enumerate(cues) if i not in dropped]


# A Russian denial verb with an anaphor before it ends its clause, or goes on with a word of these kinds (no object
# of its own): "Москва это отрицает, заявив …", "Песков это опроверг в интервью", "Кремль это категорически отрицает".
_RU_NO_OBJECT_TAGS = ("VERB", "GRND", "ADVB", "PREP", "CONJ", "PRCL", "COMP", "INFN")


# What before a denial verb after the claim leaves it unmade: a negation ("did not deny", "never denied", "neither
# confirm nor deny", "не отрицают"), a modal ("will deny", "may deny": to come, or maybe) or an infinitive's "to"
# ("refusing to deny", "declined to deny", "a move officials hope to deny").
_DENIAL_NOT_MADE_AFTER = frozenset(
    "not never nor cannot to will would may might could can should must shall не ни".split()
)


# The words a denial closing a sentence may have before it in its clause: its subject ("the ministry", "officials in
# Seoul", "Pyongyang and Moscow", "a claim Moscow").
_CLOSING_DENIAL_SUBJECT = 4
# Denying only: not "rejected", "dismissed" ("…, three officials dismissed" are fired).
_CLOSING_DENIALS = frozenset({"deny", "denies", "denied"})


def _closing_denial(sent: Sentence, hi: int, s: int, e: int) -> bool:
    """Whether the cue at tokens s..e is a verb of denying (_CLOSING_DENIALS; отрицает, опроверг … of
    cues.RU_LATER_DENIALS) that closes its sentence (at most "it", "this", "them" after it) in a clause of its own
    of a few words, after a comma or dash that comes after the words ending at token hi: "North Korean troops were
    killed in Russia's Kursk region, officials in Seoul deny"; not across a ";" or a comma before a conjunction
    (clause_breaks: "…; Seoul said, and officials deny" is another clause's)."""
    word = sent.toks[s - sent.start]
    if s != e or not (
        word in _CLOSING_DENIALS or (word in RU_LATER_DENIALS and word.startswith(("отрица", "опроверг")))
    ):
        return False
    last = sent.end - 1
    if e != last and not (e + 1 == last and sent.toks[last - sent.start] in POINT_BACK_PRONOUNS):
        return False
    opens = _mark_between(sent, hi, s)
    return opens >= 0 and s - opens <= _CLOSING_DENIAL_SUBJECT and not any(hi < b < opens for b in clause_breaks(sent))


def _mark_between(sent: Sentence, hi: int, s: int) -> int:
    """The token (document-wide) that the last comma or dash between tokens hi and s opens (after hi, at or before
    s); -1 when there is none."""
    text = sent.text
    marks = sorted(m.start() for m in _COMMA_OR_DASH.finditer(text))
    if not marks:
        return -1
    opened = [sent.start + k for k in _words_before(text, marks)]
    return max((k for k in opened if hi < k <= s), default=-1)


_COMMA_OR_DASH = re.compile(r",|\u2014|\u2013| - ")


_GOES_ON_TO = frozenset("continue continues continued continuing".split())  # "…, Moscow continues to deny": made


def _denial_not_made(toks: list[str], at: int) -> bool:
    """Whether the denial verb toks[at], after a claim, is one not made (_DENIAL_NOT_MADE_AFTER right before it, or a
    negation two words before with an adverb between: "has not yet denied", "never publicly denied")."""
    if at > 0 and toks[at - 1] in _DENIAL_NOT_MADE_AFTER:
        return not (toks[at - 1] == "to" and at > 1 and toks[at - 2] in _GOES_ON_TO)
    return at > 1 and toks[at - 2] in _NEGATIONS and (toks[at - 1] in ("yet", "ever") or toks[at - 1].endswith("ly"))


def _points_back_ru(toks: list[str], at: int) -> bool:
    """Whether the Russian denial verb toks[at] has an object that points back to what was said before it
    (cues.RU_POINT_BACK_*): an anaphor before it ("это отрицает", "эту информацию опроверг") with no object of
    its own after it, or an anaphor or a word for what was said after it ("опроверг это", "опроверг эти
    сообщения", "опроверг информацию") that names nothing new ("опроверг сообщения о …"); never after "не"."""
    n = len(toks)
    if "не" in toks[max(at - 2, 0) : at]:
        return False  # "Москва этого не отрицает", "не опроверг это"
    b = at - 1
    if b > 0 and not toks[b].isascii() and tags_ru(toks[b])[0].startswith("ADVB"):
        b -= 1  # "Кремль это категорически отрицает"
    before = b >= 0 and (
        toks[b] in RU_POINT_BACK_ANAPHORS
        or (b > 0 and toks[b] in RU_POINT_BACK_NOUNS and toks[b - 1] in RU_POINT_BACK_ANAPHORS)
    )
    if before:
        if at + 1 >= n:
            return True
        tags = tags_ru(toks[at + 1])
        return bool(tags) and tags[0].startswith(_RU_NO_OBJECT_TAGS)
    if at + 1 >= n:
        return False
    j = at + 1
    if toks[j] in RU_POINT_BACK_ANAPHORS and j + 1 < n and toks[j + 1] in RU_POINT_BACK_NOUNS:
        j += 1  # "опроверг эти сообщения"
    elif toks[j] not in RU_POINT_BACK_ANAPHORS and toks[j] not in RU_POINT_BACK_NOUNS:
        return False
    return j + 1 >= n or toks[j + 1] not in RU_NAMES_NEW


def _ru_walk_back(key: tuple[str, ...]) -> bool:
    """Whether a Russian negation cue's words are a walk-back (cues.RU_WALK_BACK_STEMS): "дезавуировал", or a
    phrase "отозвал своё заявление", "отказаться от своих слов", "признали ошибочным" (not "отказался" alone)."""
    first = key[0]
    if first.isascii():
        return False
    return first.startswith("дезавуир") or (len(key) > 1 and first.startswith(RU_WALK_BACK_STEMS))


# "will backtrack", "will likely backtrack", "is expected to quickly retract": the governing cue's last word is at
# most this many words before the walk-back's first.
_GOVERNS_WALK_BACK = 3


def _is_month_may(sent: Sentence, at: int) -> bool:
    """Whether the token "may" at toks[at] is the month (or the name "May"), not the modal (cues.MAY_MONTH_*):
    after "in", "since", "until", ... in any case ("In May, soldiers seized power", "in may north korea");
    capitalised after "this", "last", "next", "early", "late" ("this May"); capitalised elsewhere but the
    sentence's first word unless a verb, "not" or a subject pronoun follows ("Theresa May said", "in late May
    North Korea", but a title's "Troops May Be Sent", "Russia May Not Ratify Pact", "May I Suggest"), or before
    a comma or "Day"."""
    toks = sent.toks
    prev = toks[at - 1] if at > 0 else ""
    if prev in MAY_MONTH_AFTER:
        return True
    if at == 0:
        return False  # "May troops be sent?", "May was the deadliest month": the modal reads first
    # Which "may" of the text it is: the text's words are the tokens, in order (the view is lower-cased).
    hits = [m.start() for m in _MAY_WORD.finditer(sent.text)]
    if len(hits) != toks.count("may"):
        return False  # a clitic ("mayn't") made the words differ: keep the cue
    start = hits[toks[:at].count("may")]
    if sent.text[start] != "M":
        return False
    if prev in MAY_MONTH_AFTER_CAPITALISED:
        return True
    rest = sent.text[start + 3 : start + 5]
    if rest.startswith(",") or (at + 1 < len(toks) and toks[at + 1] == "day"):
        return True
    nxt = at + 1
    if nxt < len(toks):
        after = toks[nxt]
        # "… And May Not for Years", "May I Suggest Oakland?", "It May as Well Be", "May Re-Elect"
        if after in _MODAL_MAY_BEFORE or toks[nxt : nxt + 2] == ["as", "well"]:
            return False
        if after in _ADVERBS_AFTER_MODAL or after == "re":  # "Troops May Already Be in Russia"
            nxt += 1
    return not _verb_follows(toks, nxt)


_ADVERBS_AFTER_MODAL = frozenset("also already still soon never even well yet now just".split())
_MODAL_MAY_BEFORE = frozenset("not i we you he she it they".split())
# The word "may" on its own (the tokens are runs of letters and digits).
_MAY_WORD = re.compile(r"(?<![^\W_])may(?![^\W_])", re.IGNORECASE)


def _disclaimer_anaphor(toks: list[str], first: int, last: int) -> bool:
    """Whether the verification predicate toks[first..last] has an anaphor that points back: its subject
    ("this / the claim could not be verified"), a relative before its agent ("which Reuters could not verify"),
    or its object ("Reuters could not verify it / the claims"); Russian: one within three words or inside it
    ("однако эту информацию не удалось проверить", "подтвердить это пока невозможно"). See cues.DISCLAIMER_*."""
    n = len(toks)
    if not toks[first].isascii():
        # An agent's "не смогли проверить": its relative is the agent ("игроки, которые не смогли подтвердить").
        agentive = first + 1 <= last and toks[first + 1].startswith(_RU_AGENTIVE)
        for i in range(max(first - 3, 0), min(last + 4, n)):
            t = toks[i]
            if t in DISCLAIMER_ANAPHORS_RU or (not agentive and t.startswith(DISCLAIMER_RELATIVE_RU)):
                return True
            if t in DISCLAIMER_NOUNS_RU and (i + 1 >= n or toks[i + 1] not in DISCLAIMER_NOT_ANAPHORIC_AFTER_RU):
                return True
        return False
    verb = toks[last]
    if verb in _BARE_VERIFY or (verb in _DONE_VERIFY and _BE_EN.isdisjoint(toks[first:last])):
        # An active verb ("could not verify", "has not verified"): its subject is the agent ("the World Bank said
        # it could not confirm"); a relative before the agent ("which Reuters could not verify"), or its object.
        if any(toks[j] in DISCLAIMER_RELATIVES_EN for j in range(max(first - 4, 0), first - 1)):
            return True
        if last + 1 < n:
            obj = toks[last + 1]
            if obj in _OBJECT_ANAPHORS_EN or (obj == "that" and last + 2 == n):  # "verify that troops ..." no
                # "did not confirm it had hit": the subject of a clause, not the object
                return last + 2 >= n or toks[last + 2] not in _AUX_EN
            for j in (last + 2, last + 3):  # "verify the (Ukrainian) claims", not "the number of dead"
                if j < n and toks[j] in DISCLAIMER_NOUNS_EN and obj in DISCLAIMER_DETERMINERS_EN:
                    return j + 1 >= n or toks[j + 1] not in DISCLAIMER_NOT_ANAPHORIC_AFTER_EN
        return False
    # Passive or "unverified": its subject, the word before (after "however", "still", ...), or a noun after a
    # determiner ("the (Ukrainian) claim could not be confirmed").
    i = first - 1
    while i >= 0 and first - i <= 3 and toks[i] in DISCLAIMER_SKIP_EN:
        i -= 1
    if i < 0:
        return False
    if toks[i] in DISCLAIMER_ANAPHORS_EN:
        # "it could not be confirmed whether / that ...": the clause after it is what was not verified
        return last + 1 >= n or toks[last + 1] not in _WHAT_FOLLOWS_EN
    return toks[i] in DISCLAIMER_NOUNS_EN and any(toks[j] in DISCLAIMER_DETERMINERS_EN for j in range(max(i - 2, 0), i))


_WHAT_FOLLOWS_EN = frozenset("whether if that who what how when where why which".split())
_BARE_VERIFY = frozenset("verify confirm corroborate".split())
_DONE_VERIFY = frozenset("verified confirmed corroborated".split())  # active after "has not": no "be" before
_BE_EN = frozenset("be been was were is are".split())
_OBJECT_ANAPHORS_EN = frozenset("it this them these those".split())
_AUX_EN = frozenset("had has have was were is are would will could did does do can may might should".split())
_RU_AGENTIVE = ("смог", "могут", "может", "подтвержда")  # "не смогли проверить", "не подтверждают"


def _goal_to(sent: Sentence, first: int, last: int) -> int | None:
    """For a verb of persuasion at toks[first..last] (sentence-relative), the index of the "to" of its goal
    ("urged Hamas to accept", "was urged to accept") or, in Russian, the word before its infinitive
    ("призвал Пхеньян ратифицировать"): None when no goal follows within cues.GOAL_OBJECT_WORDS words of
    the same clause."""
    toks = sent.toks
    n = len(toks)
    russian = not toks[first].isascii()
    stop = GOAL_STOP_RU if russian else GOAL_STOP_EN
    if not russian and toks[first].startswith("press") and first > 0 and toks[first - 1] in _NOT_VERBS:
        return None  # "the press", "a press conference"
    if first > 0 and toks[first - 1] in GOAL_NOT_AFTER_EN.get(toks[first], ()):
        return None  # "in order to"
    if toks[first] in GOAL_WARN_FORMS:
        stop = stop | GOAL_WARN_STOP  # "warned Russia against …", "warning over an attempt to …"
    for j in range(last + 1, min(last + 2 + GOAL_OBJECT_WORDS, n)):
        t = toks[j]
        if russian:
            if is_infinitive_ru(t):
                found = j - 1
                break
        elif t == "to":
            if not _verb_follows(toks, j + 1):
                return None
            found = j
            break
        if t in stop:
            return None
    else:
        return None
    if any(sent.start + first < b <= sent.start + found for b in clause_breaks(sent)):
        return None
    if russian and toks[first] in RU_AGREE_FORMS and not _agreed_to_ru(sent, last, found + 1):
        return None
    return found


def _commitment_stop(sent: Sentence, s: int, e: int, lo: int) -> str | None:
    """The word that ends the phrase of a commitment "to VERB" at tokens s..e (cues.COMMITMENT_TO_EN) before the
    signal's words from lo: one of cues.COMMITMENT_REACH_STOPS between, not followed (after "the", "a") by a time to
    come (cues.COMMITMENT_TIME_TO_COME: "after next week's vote"); else None, as for any other cue."""
    toks, base = sent.toks, sent.start
    if e - s != 1 or (toks[s - base], toks[e - base]) not in COMMITMENT_TO_EN:
        return None
    for k in range(e + 1 - base, lo - base):
        if toks[k] in COMMITMENT_REACH_STOPS:
            nxt = k + 1
            if nxt < len(toks) and toks[nxt] in _ARTICLES:
                nxt += 1
            if nxt < len(toks) and toks[nxt] in COMMITMENT_TIME_TO_COME:
                continue
            return toks[k]
    return None


def _agreed_to_ru(sent: Sentence, last: int, inf: int) -> bool:
    """Whether a Russian agreement ending at toks[last] ("договорились") is one to do the infinitive at toks[inf]
    (cues.RU_AGREE_*): close after it, with no finite verb, "и", "или" nor comma between ("договорились о перемирии
    и начали отводить войска" reports the withdrawal), and not an extension ("договорились продлить перемирие": the
    agreement is the extension, as "agreed to extend")."""
    toks = sent.toks
    between = toks[last + 1 : inf]
    if len(between) > RU_AGREE_GAP or toks[inf] in RU_AGREED_DONE_VERBS:
        return False
    if any(w in _COORDINATORS or finite_verb_tense_ru(w) is not None for w in between):
        return False
    return not _comma_between(sent, last, inf)


_POSSESSIVES = frozenset("its his her their our my your s".split())
_WARNING_LEADS = frozenset({"against", "от"})
_ACCUSATION_LEADS = frozenset({"of", "в", "во"})


def _object_frame(sent: Sentence, first: int, last: int) -> int | None:
    """For an accusation or a warning at toks[first..last] (sentence-relative; cues.OBJECT_*), the index of the word
    that opens its object ("accused North Korea **of**", "allegations **that**", "warns N Korea **against**",
    "обвинил Москву **в**", "в том, **что**", "предостерег **от**"), or None when it has none: a noun or a verb
    not followed by one, "claims that" after a subject (a verb of saying), "обвинения в адрес …" (its target)."""
    toks = sent.toks
    n = len(toks)
    word = toks[first]
    nxt = last + 1
    if nxt >= n:
        return None
    if word in OBJECT_NOUNS or word in OBJECT_NOUNS_OR_VERBS or word in OBJECT_ALLEGE:
        after = toks[nxt]
        before = toks[first - 1] if first > 0 else ""
        if after == "of" and word not in OBJECT_ALLEGE:
            # "its claims of …", "Russia's claims of …": a claim with its owner is what that owner says, as "said"
            return None if word in OBJECT_NOUNS_OR_VERBS and before in _POSSESSIVES else nxt
        if after != "that":
            return None
        if word in OBJECT_NOUNS_OR_VERBS and before not in OBJECT_NOUN_AFTER:
            return None  # "Kyiv claims that …": a verb of saying, not an allegation's noun
        return nxt
    russian = not word.isascii()
    if not russian and word not in OBJECT_VERBS:
        return None
    # (a warning's object opens with "against" / "от", an accusation's with "of" / "в")
    leads = _WARNING_LEADS if word in OBJECT_WARNINGS else _ACCUSATION_LEADS
    stop = GOAL_STOP_RU if russian else GOAL_STOP_EN
    for j in range(nxt, min(nxt + OBJECT_FRAME_WORDS + 1, n)):
        t = toks[j]
        if t in leads:
            if j + 1 >= n or toks[j + 1] == "адрес":
                return None  # "обвинения в адрес Израиля": to whom, not of what
            if any(sent.start + first < b <= sent.start + j for b in clause_breaks(sent)):
                return None
            # "обвинили Макрона в том, что он …": the clause after "что" is what is alleged
            if russian and j + 2 < n and toks[j + 1] == "том" and toks[j + 2] == "что":
                return j + 2
            return j
        if t in stop or t in OBJECT_LEADS or t in OBJECT_NOT_BETWEEN:
            return None
    return None


# A new clause: ";" or a comma (or dash) followed by a conjunction. Cues do not reach across one:
# "...sent troops to Russia, and more could follow soon" does not make the sending future.
_CONJUNCTION = re.compile(
    r"\s*(?:and|but|while|whereas|although|though|yet|и|но|а|однако|тогда как|хотя)\b", re.IGNORECASE
)
_CLAUSE_MARKS = ";,—–"
_WORD_RUN = re.compile(r"\S+")
# The letters morphology.script_of reads as Cyrillic: a sentence without one has no Russian verb form (no
# other letter lower-cases into them). Not "not ASCII": curly quotes and dashes are in most English news.
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def clause_breaks(sent: Sentence) -> list[int]:
    """Token indices (document-wide) that start a new clause in the sentence."""
    if sent.breaks is None:
        sent.breaks = [sent.start + n for n in _words_before(sent.text, _break_marks(sent.text))]
    return sent.breaks


_SUBJECT_OPENERS = frozenset("the a an its his her their this these those".split())


def _clause_after_comma(sent: Sentence, e: int, lo: int) -> str | None:
    """Why the signal's words from token lo are in a clause of their own after a goal's "to" ending at token e: the
    last comma between opens with a capitalised word (a name: "…to negotiate, Russia fired …") or an article ("…,
    the army shelled …"), not followed by a "to" of its own before the words ("…to withdraw, Russia to halt …" goes
    on listing goals); None when there is no such comma (a list of verbs: "to negotiate, sign and ratify")."""
    text, toks, base = sent.text, sent.toks, sent.start
    commas = [i for i, c in enumerate(text) if c == ","]
    if not commas:
        return None
    after = [(k, at) for k, at in zip(_words_before(text, commas), commas, strict=True) if e - base < k <= lo - base]
    if not after:
        return None
    k, at = after[-1]
    rest = text[at + 1 :].lstrip()
    # (in a title-cased headline every word is capitalised: "… to Counter Deepfakes, Disinformation" lists on)
    opener = (rest[:1].isupper() and not _title_cased(text)) or toks[k] in _SUBJECT_OPENERS
    if not opener or "to" in toks[k : lo - base] or k >= len(toks):
        return None
    return f"a clause of its own begins after the comma, at {toks[k]!r}"


# A clause of its own (clause_apart): marks that may end one, words that open a clause another verb governs (what was
# said or asked: the negation of "сообщили" / "said" reaches it), and the predicates that make one.
_APART_MARKS = ",;:—–"
_COMPLEMENTIZERS = frozenset({"что", "чтобы", "будто", "ли", "that", "whether", "if"})
_RU_PREDICATE_TAGS = ("VERB", "PRTS", "PRED")
# «есть» reads first as the infinitive "to eat"; in a clause of the news it is the present of "быть" ("there are"):
# «погибших нет, есть пострадавшие» (outside trial 71, H1).
_RU_PREDICATE_WORDS = frozenset({"есть", "имеются", "имеется"})
# A negation by a preposition ("обошлось без погибших"): its clause's predicate stands before it (outside trial 71, H2).
_PREPOSITION_NEGATIONS = frozenset({"без"})
# What may open a Russian count before its number: «но двое раненых», «ещё трое пострадавших».
_COUNT_OPENERS_RU = frozenset({"но", "а", "и", "ещё", "еще", "при", "этом"})
_COUNT_WORDS_RU = frozenset({"один", "одна", "одно", "несколько"})


def clause_apart(sent: Sentence, words: Span, lo: int, hi: int) -> str | None:
    """Why the words (token span `words`) stand in a clause of their own, apart from tokens lo..hi (a negation cue, or a
    negated match of the same signal with its cue), or None: a comma, dash, ";" or ":" stands between (not a colon
    after a verb: "не подтвердили: …" is what it says); the words' clause (up to the next mark either way) holds a
    predicate of its own and does not open with "что" / "that" / "ли" / "whether" (what a verb of the other clause
    says or asks); and the other side, from lo..hi to the mark, holds its own predicate ("нет", "не погиб", "was
    killed"; for «без», its clause from its start: "обошлось без погибших"). So «Погибших нет, ранены трое» and "No
    one was killed, three were wounded" hold two clauses; «пострадавших и погибших нет», "no dead or wounded" and "No
    weapons, troops or ammunition were sent" one. A Russian predicate is a finite verb, a short participle or a
    predicative («нет», «есть»); an English one an auxiliary, or a past verb after its subject (not "Nobody was
    killed, wounded or displaced"). A Russian count with no verb («двое пострадавших», «трое раненых») is a clause of
    its own beside a negated clause with its own predicate: «погибших нет, двое пострадавших», the wire's "no dead,
    two injured" (outside trial 71, H1)."""
    base = sent.start
    a, b = words[0] - base, words[1] - base
    first, last = lo - base, hi - base
    text = sent.text
    toks = sent.toks
    marks = sorted({k for k in _apart_marks(text, toks)})
    if b < first:
        between = [k for k in marks if b < k <= first]
        if not between:
            return None
        own = (max((k for k in marks if k <= a), default=0), between[0])
        other = (between[-1], last + 1)
    elif a > last:
        between = [k for k in marks if last < k <= a]
        if not between:
            return None
        own = (between[-1], min((k for k in marks if k > b), default=len(sent.toks)))
        # (from the negation on: "said no foreigners, dual-nationals or injured Palestinians were able to leave" is a
        # list that "no" negates, whatever verb stands before it; but «без» hangs on the verb before it)
        start = first
        if toks[first] in _PREPOSITION_NEGATIONS:
            start = max((k for k in marks if k <= first), default=0)
        other = (start, between[0])
    else:
        return None
    clause = toks[own[0] : own[1]]
    if not clause or not _COMPLEMENTIZERS.isdisjoint(clause[:2]):
        return None
    if _clause_predicate(toks[other[0] : other[1]]) is None:
        return None
    verb = _clause_predicate(clause)
    if verb is not None:
        return f"a clause of its own, with its own predicate {verb!r}, set off by a comma, dash, ';' or ':'"
    count = _count_ru(clause, a - own[0], b - own[0])
    if count is not None:
        return f"a clause of its own, a count ({count!r}) with no verb, set off by a comma, dash, ';' or ':'"
    return None


def _apart_marks(text: str, toks: list[str]) -> list[int]:
    """The token indices where clause_apart's marks stand (the words before each): a comma, dash, ";", and a colon but
    after a verb that takes an object (it introduces what the verb says: «В МЧС не подтвердили: …», "officials did not
    say: …"); after «нет», «погиб», "killed" it breaks clauses as a dash does."""
    at = [i for i, c in enumerate(text) if c in _APART_MARKS]
    counts = _words_before(text, at)
    return [k for i, k in zip(at, counts, strict=True) if text[i] != ":" or k == 0 or not _introduces(toks[k - 1])]


_INTRODUCING_EN = frozenset("say tell confirm confirmed confirms deny denied denies know knew reveal revealed".split())


def _introduces(word: str) -> bool:
    """Whether a word before a colon introduces what follows it: a Russian transitive verb (its likeliest reading:
    «заявили», «не подтвердили»), an English verb of saying (cues.REPORTING_VERBS, "confirm", "deny", …)."""
    if word.isascii():
        return word in REPORTING_VERBS or word in _INTRODUCING_EN
    tags = tags_ru(word)
    return bool(tags) and tags[0].startswith("VERB") and "tran" in tags[0]


def _count_ru(clause: list[str], a: int, b: int) -> str | None:
    """The number of a Russian clause of a count, or None: a numeral (or «один», «несколько», a figure) that opens the
    clause, perhaps after «но», «а», «ещё» ("двое пострадавших", "но трое раненых"), or stands right before or after
    the signal's words (clause tokens a..b: "При обстреле двое пострадавших", "пострадавших двое")."""
    if all(word.isascii() for word in clause):
        return None
    k = 0
    while k < len(clause) - 1 and clause[k] in _COUNT_OPENERS_RU:
        k += 1
    for at in (k, a - 1, b + 1):
        if 0 <= at < len(clause) and _is_count_ru(clause[at]):
            return clause[at]
    return None


def _is_count_ru(word: str) -> bool:
    """Whether a word is a number of a Russian count: a figure, a numeral, «один», «несколько»."""
    if word.isdigit():
        return True
    if word.isascii():
        return False
    return word in _COUNT_WORDS_RU or any(t.startswith(("NUMR", "NUMB")) for t in tags_ru(word))


def _clause_predicate(clause: list[str]) -> str | None:
    """The word that is the predicate of a clause's words (clause_apart), or None."""
    for i, word in enumerate(clause):
        if word.isascii():
            if word in _AUX_EN or word in _BE_EN or (i > 0 and _predicate_follows(clause, i)):
                return word
        else:
            if word in _RU_PREDICATE_WORDS:
                return word
            tags = tags_ru(word)
            if tags and tags[0].startswith(_RU_PREDICATE_TAGS):
                return word
    return None


def _title_cased(text: str) -> bool:
    """Whether most of the words of `text` start with a capital (a headline in title case)."""
    words = [w for w in text.split() if w[:1].isalpha()]
    return sum(w[:1].isupper() for w in words) * 2 > len(words)


def _words_before(text: str, marks: list[int]) -> list[int]:
    """How many tokens text[:at] holds, for each mark position `at` (a mark is never part of a word). One word
    view of the text for all the marks: tokenising each prefix anew cost ~80 µs for a long sentence."""
    if not marks:
        return []
    view, aligned = aligned_word_view(text)
    if not aligned:  # a clitic or a lower-cased letter changed the length: the prefixes themselves
        return [len(tokens(text[:at])) for at in marks]
    # Character i of the text is character i + 1 of the view, and the mark's own is a space: the words of
    # text[:at] are the words that start before view position at + 1.
    starts = [m.start() for m in _WORD_RUN.finditer(view)]
    return [bisect_left(starts, at + 1) for at in marks]


def _break_marks(text: str) -> list[int]:
    """Where clauses break in `text`: every ";", and a comma or dash followed by a conjunction. (The marks are
    found with str.find, the conjunction tested at each: one regex searched over the whole text tries every
    position, ~9 µs for a sentence of 200 characters, as much as the rest of a modality.)"""
    out: list[int] = []
    for mark in _CLAUSE_MARKS:
        at = text.find(mark)
        while at >= 0:
            if mark == ";" or _CONJUNCTION.match(text, at + 1):
                out.append(at)
            at = text.find(mark, at + 1)
    out.sort()
    return out


@dataclass(frozen=True, slots=True)
class ModalityReason:
    """Why a signal has its modality: the cue that decided, and every cue the sentence holds with the
    reason it did or did not apply (for `rules explain`)."""

    modality: str
    cue: str | None
    why: str
    considered: tuple[tuple[str, str, str, bool, str], ...]  # (class, words, direction, applied, reason)


def resolve(
    rules: CompiledRules,
    sent: Sentence,
    window: Span,
    own: list[Span],
    *,
    headline: bool,
    explain: bool = False,
    published: date | None = None,
) -> tuple[Any, str | None, ModalityReason | None]:
    """(modality, cue words, reason when `explain`) of a signal whose words span `window`, its matched
    phrases being `own` (token spans); `published`, the document's date, dates a recap (_dated_recap)."""
    modality, cue, reason, _at = resolve_at(
        rules, sent, window, own, headline=headline, explain=explain, published=published
    )
    return modality, cue, reason


def resolve_at(
    rules: CompiledRules,
    sent: Sentence,
    window: Span,
    own: list[Span],
    *,
    headline: bool,
    explain: bool = False,
    published: date | None = None,
) -> tuple[Any, str | None, ModalityReason | None, Span | None]:
    """resolve's reading, with the token span of the negation that decided when the signal is negated (else None):
    which of a signal's matches stand apart from it (extract, outside trial 66, MED-4)."""
    lo, hi = window
    if not explain and is_plain(rules, sent, headline):
        # most sentences: nothing could make a signal other than asserted, but a plan, threat or demand of it
        if "en" in rules.languages and (not_yet := _not_yet_event(sent, lo, hi, own)) is not None:
            return "future", not_yet[0], None, None
        return "asserted", None, None, None
    scope = rules.cue_scope
    scope_after = rules.cue_scope_after
    best: tuple[int, int, str, str] | None = None
    best_at = -1  # where the deciding cue ends, when it stands before the words (-1: not before them)
    best_span: Span | None = None  # the tokens of the last cue of the sentence's own that decided
    considered: list[tuple[str, str, str, bool, str]] = []
    # The signal's own words and the names of the sentence: a cue inside them is part of them (made for the
    # first cue in reach: most are not).
    atom_spans: list[Span] | None = None
    # A cue a longer one hid ("фейком" in "назвали фейком") applies where the longer one does not: on the side of
    # the words the longer one does not govern ("В Кремле назвали фейком сообщения о том, что ...").
    cues: list[Cue] = sent.cues
    hidden = sent.cues_hidden
    aside: list[Cue] = []
    revived = False
    # why the words before a predicate are not its subject (_predicate_subject), or not an accusation's object
    not_subject: str | None = None
    # "Will Russia quit the grain deal?": the modal that opens a yes/no question asks, it does not say (outside trial
    # 61, H5); the question hedges the words after it (below), not the modal's future.
    asking = _asking_modal(rules, sent, lo)
    while True:
        for cue in cues:
            cls, s, e, cue_key, direction = cue
            if s == asking and cls != "hedged":  # ("May troops be sent?": hedged by its "may" alike)
                if explain:
                    considered.append((cls, _cue_words(sent, cue), direction, False, _QUESTION_OPENER_WHY))
                continue
            overlaps = s <= hi and e >= lo
            pointing = False
            # A headline's "China to retract claim …": the walk-back is still to come.
            if headline and cue_key in _WALK_BACKS and _headline_to(sent, s):
                cls = "future"
            if direction == NEXT_WORD or direction == APPEAL:
                # The word it leads to, when that is one of the signal's own ("close to agreeing a truce"), or a
                # signal wholly in the phrase it opens ("closer to calling for humanitarian pauses"); not a signal
                # whose verb lies beyond ("a truce aimed at freeing hostages began"). An appeal governs the -ing verb
                # alone: "the importance of covering the war" leaves the war asserted.
                reach = GOAL_REACH
                led = _led_to(sent, e)
                near = (led is not None and any(a <= led <= b for a, b in own)) or (
                    direction == NEXT_WORD
                    and e < lo
                    and hi - e <= reach
                    # "cancels press conference on election fraud claims": the election is not what was called off
                    and (cue_key not in (CALL_OFF_KEY, PREPARES_KEY, PROPOSES_KEY) or _object_phrase(sent, e, lo))
                )
                if not near and cue_key == PROPOSES_KEY and e < lo and lo - e <= reach:
                    # "за идею рождественского перемирия и обмена пленными": a second object joined by "и"
                    near = _object_phrase(sent, e, lo, joined=True)
                # "calls for democracy to be protected after coup": the phrase it leads to ends at "after", "amid",
                # … as a goal's does (outside trial 56, H1: the coup read future)
                if (
                    near
                    and direction == NEXT_WORD
                    and e < lo
                    and not GOAL_REACH_STOPS.isdisjoint(sent.toks[e + 1 - sent.start : lo - sent.start])
                ):
                    near = False
                    not_subject = "past a word that ends the phrase it leads to ('after', 'amid', …)"
                overlaps = False
            elif direction == OBJECT:
                # "accused North Korea of supplying weapons", "warns X against selling": the object after its "of" /
                # "that" / "against", no further ("Russia, accused of war crimes, signed the treaty"); not the
                # accusation itself when it is among the signal's words (a signal of accusations).
                # A clause ("that", "что") reaches as far as a cue before; a noun phrase ("of", "against", "в")
                # as far as a goal's ("claims of force's bias 'a factor' in attacks": the attacks are not claimed).
                reach = scope if sent.toks[e - sent.start] in _CLAUSE_LEADS else GOAL_REACH
                overlaps = False
                led = _led_to(sent, e)
                if any(a <= s <= b for a, b in own):
                    near = False
                    not_subject = "the accusing or warning word is one of the signal's own: a signal of it"
                elif led is not None and any(a <= led <= b for a, b in own):
                    near = True
                elif lo <= e < hi and (after := min((a for a, _ in own if a > e), default=None)) is not None:
                    # The accused is one of the signal's own words ("обвинила КНДР в отправке войск": the signal
                    # spans "КНДР … войск"): the words after the lead are the object, as when the signal starts there.
                    not_subject = _object_end(sent, e, after)
                    near = not_subject is None
                else:
                    near = False
                    if e < lo and lo - e <= reach:
                        not_subject = _object_end(sent, e, lo)
                        near = not_subject is None
                # "accused Russia of attacking Kupiansk, killing two": the deaths are reported, so the attack
                # happened; the accusation disputes who did it (cues.OBJECT_CONSEQUENCE_*).
                if near and sent.toks[s - sent.start] not in _NO_CONSEQUENCE:
                    consequence = _consequence(sent, e, lo, hi)
                    if consequence is not None:
                        near = False
                        not_subject = (
                            f"the act alleged is reported with its consequence ({consequence!r}): the accusation "
                            "disputes who did it, not that it happened"
                        )
            elif direction == "after":
                reach = scope_after
                # "calls coup reports fake" denies the reports it names, not the words before the verb
                near = overlaps or (cue_key != CALLED_DENIAL and s > hi and s - hi <= reach)
                if near and cue_key == DISCUSSED_KEY and not _fronted_object(sent, lo, hi, s):
                    near = False
                    not_subject = "the words are not its object put first (a preposition or a comma before it)"
                # "Киев заявил, что …, однако в Кремле назвали это фейком": pointing back across clauses (_reported).
                if cue_key in _POINTING and s > hi and _reported(sent, lo, hi, s):
                    near = pointing = True
                # "Boris Johnson and two aides deny the allegations": the plural's words before it are its subject; it
                # denies a claim before it only across a comma or dash ("…, officials deny"). ("denies", "denied"
                # after the words are read as before.)
                if near and not overlaps and cue_key == DENIAL and sent.toks[s - sent.start] == "deny":
                    near = _mark_between(sent, hi, s) >= 0
                    if not near:
                        not_subject = "its words before it are its subject: no comma or dash between"
                # "…, officials in Seoul deny": a denial closing the sentence denies the clause before its own,
                # however long (trial 52, LOW-1: past scope_after, "…, the ministry denied" denied a short claim only).
                if not near and cls == "negated" and s > hi and _closing_denial(sent, hi, s, e):
                    near = True
            elif direction == PREDICATE:
                # "Обмен пленными … не состоялся", "the ratification … was postponed": a predicate after the words
                # governs them when they are its subject (_predicate_subject); one that overlaps them counts, but
                # not a headline's participle inside them ("ratifies long delayed treaty").
                reach = scope_after
                # (nor a verb that needs its subject after it: "Удар сорвал эвакуацию, пострадавших нет")
                near = (
                    overlaps
                    and cue_key != PREDICATE_BARE
                    and tuple(sent.toks[s - sent.start : e - sent.start + 1]) not in PREDICATE_OBJECT_SUBJECT_AFTER
                )
                # The words of a relative clause or participle phrase between are not counted ("Обмен пленными,
                # который должен был состояться в пятницу, сорван").
                if (
                    not overlaps
                    and s > hi
                    and (s - hi <= reach or (s - hi <= 2 * reach and _reach_past_inserted(sent, hi, s, reach)))
                ):
                    not_subject = _predicate_subject(sent, lo, hi, cue, headline)
                    near = not_subject is None
            elif direction == BACK:  # a verification disclaimer: every word before it in the sentence
                reach = sent.end
                near = overlaps or s > hi
            elif cue_key == PRESUMED_DEAD_KEY:  # "presumed dead": the death it names, nothing around it
                reach = 0
                near = overlaps
            else:
                # Conditionals ("if", "once", "the treaty stipulates") govern a whole clause: twice the reach.
                # A goal ("urged X to VERB") governs the verb's own words after its "to".
                reach = GOAL_REACH if direction == GOAL else scope * 2 if cls == "conditional" else scope
                near = overlaps or (e < lo and lo - e <= reach)
                if cue_key == APPARENTLY_KEY:
                    near = overlaps or e + 1 == lo  # "were apparently attacked"; not "apparently caught in … attack"
                if not near and cls == "hedged" and direction == "before" and _parenthetical_hedge(sent, lo, hi, s, e):
                    near = True  # "Обмен пленными, по всей видимости, состоялся": the hedge of its clause
                # "as an election nears", "Thai Vote Nears": a nearing verb right after its subject, ending the clause.
                # Not the words of a phrase after "of" ("as the anniversary of Navalny's arrest nears": the arrest is
                # done).
                if not near and s == e == hi + 1 and sent.toks[s - sent.start] in NEARING_AFTER_SUBJECT_EN:
                    at = s - sent.start
                    near = (at + 1 == len(sent.toks) or bool(_marks_between(sent, at, at + 1, ",;:—–"))) and not (
                        _after_of(sent.toks, lo - sent.start)
                    )
                # "ordered to pay $5m after election claims": the goal's phrase ends at "after", "as", "amid", ….
                if (
                    near
                    and direction == GOAL
                    and not GOAL_REACH_STOPS.isdisjoint(sent.toks[e + 1 - sent.start : lo - sent.start])
                ):
                    near = False
                # "Residents in Odessa were told to shelter after cruise missiles were launched": a goal inside the
                # signal's words governs its own verb's phrase; when none of the signal's words stand in it, it
                # governs none of them (outside trial 61, M2).
                if near and direction == GOAL and overlaps and lo < s and not _goal_holds_own(sent, e, hi, own):
                    near = False
                    not_subject = "inside the signal's words, it governs a verb and phrase that hold none of them"
                # "agree to disarm after an assault by Baku": a commitment's phrase ends there too, unless a time to
                # come follows ("vow to retaliate after next week's vote").
                if (
                    near
                    and direction == "before"
                    and not overlaps
                    and e < lo
                    and (stop := _commitment_stop(sent, s, e, lo)) is not None
                ):
                    near = False
                    not_subject = f"past {stop!r}, which ends the phrase of the verb committed to"
                # "rejects calls for ceasefire as troops push into Gaza": a negation's phrase ends at a word that opens
                # a clause or phrase of its own (trial 47, M2), and so does the phrase of a cue before such a negation
                # ("will never happen again after being arrested").
                if (
                    near
                    and direction == "before"
                    and cls != "conditional"
                    and not overlaps
                    and e < lo
                    and (stop := _clause_stop(sent, e, lo, cls == "negated")) is not None
                ):
                    near = False
                    not_subject = f"past {stop!r}, which opens a clause or phrase of its own the cue does not reach"
                # "Никто не погиб, ранены трое", "No one was killed, three were wounded": nor past a comma or dash
                # into a clause with a predicate of its own, when the negation's clause holds its own (outside trial
                # 66, MED-4); a list goes on being negated ("No weapons, troops or ammunition were sent").
                if (
                    near
                    and direction == "before"
                    and cls == "negated"
                    and not overlaps
                    and e < lo
                    and (apart := clause_apart(sent, window, s, e)) is not None
                ):
                    near = False
                    not_subject = apart
                # "pipeline not hit by sanctions over coup": a negation of a passive participle negates the act, not
                # its agent after "by" (nor what follows it): the sanctions exist.
                if (
                    near
                    and direction == "before"
                    and cls == "negated"
                    and not overlaps
                    and e < lo
                    and (verb := _negated_passive(sent, e, lo)) is not None
                ):
                    near = False
                    not_subject = (
                        f"after 'by' of the negated participle {verb!r}: its agent, which the cue does not reach"
                    )
                # "nears the one-year mark of its invasion", "rather than allow him to resign": these govern only the
                # phrase they lead to (cues.SHORT_REACH_EN).
                if (
                    near
                    and not overlaps
                    and e < lo
                    and tuple(sent.toks[s - sent.start : e - sent.start + 1]) in SHORT_REACH_EN
                    and (lo - e - 1 > SHORT_REACH_GAP or _marks_between(sent, e - sent.start, lo - sent.start, ",;:"))
                ):
                    near = False
                    not_subject = f"more than {SHORT_REACH_GAP} words or a comma after it: past the phrase it leads to"
                if (
                    near
                    and not overlaps
                    and e < lo
                    and tuple(sent.toks[s - sent.start : e - sent.start + 1]) in (NO_FORWARD_REACH_EN)
                ):
                    near = False
                    not_subject = "it governs its subject before it, not the words after it"
                # "urged Kyiv to negotiate, Russia fired missiles": a comma then a name or an article opens a clause
                # with a subject of its own, which the goal does not reach (trial 32, a leftover of M3).
                if near and direction == GOAL and not overlaps and (new := _clause_after_comma(sent, e, lo)):
                    near = False
                    not_subject = new
                # "пытались скрыться, напали на …", "пытался скрыться и был задержан": an attempt governs its
                # infinitive's phrase, which ends at a comma or "и" (cues.ATTEMPT_VERBS_RU).
                if near and direction == GOAL and cls == "hedged" and not overlaps and e < lo:
                    tried = sent.toks[e + 1 - sent.start : lo - sent.start]
                    if (
                        _comma_between(sent, e - sent.start, lo - sent.start)
                        or not _COORDINATORS.isdisjoint(tried)
                        or not ATTEMPT_PHRASE_ENDS_EN.isdisjoint(tried)
                    ):
                        near = False
                        not_subject = "past the phrase of the infinitive tried (a comma, coordinator or verb between)"
                # "had not responded to a last-minute attempt to renew the deal": the negation governs "responded";
                # the renewal is the object of the attempt after it, which governs it (outside trial 61, H3).
                if near and cls == "negated" and not overlaps and e < lo:
                    nested = _nested_goal(sent, cues, e, lo)
                    if nested is not None:
                        near = False
                        not_subject = f"the negation governs {nested[0]!r}; the words are what {nested[1]!r} governs"
                # "vows to crush armed mutiny", "fails to stop the attack": the cue governs the verb of countering,
                # not what it acts on, which exists already.
                if near and not overlaps and e < lo and (verb := _countered_object(sent, e, lo, own)):
                    near = False
                    not_subject = f"the signal's words are what {verb!r} acts on, which exists already"
                # "Kyiv said troops were killed, but later retracted its report": a walk-back or denial whose
                # object points back governs what a verb of saying before the words introduced, across clauses.
                if not near and cue_key in _POINTING and s > hi and _reported(sent, lo, hi, s):
                    near = pointing = True
            # (The words and where they stand are spelled out only for an explanation, or for the cue that decides.)
            words = _cue_words(sent, cue) if explain else ""
            where = _where(direction, s, e, lo, hi, overlaps) if explain else ""
            if pointing and explain:
                where = f"{s - hi} word(s) after; its object points back to what was said"
            if near and explain and direction == "before" and s > hi and not overlaps:
                where = f"{s - hi} word(s) after, set off right after its subject, the signal's words"
            if cue_key == CALLED_DENIAL and explain:
                where = "its object holds the signal's words" if overlaps else "the signal's words are not its object"
            if not near:
                wrong_side = not overlaps and (e < lo if direction in _GOVERNS_BEFORE else s > hi)
                if not_subject is not None:
                    if explain:
                        considered.append((cls, words, direction, False, f"{not_subject} ({where})"))
                    not_subject = None
                    continue
                if hidden and wrong_side:
                    aside.append(cue)  # it governs only the other side: a cue it hid may apply here
                if explain:
                    # "fake" after the words it would govern is not out of reach but on the wrong side of them.
                    why = (
                        where
                        if cue_key == CALLED_DENIAL
                        else f"on the side it does not govern ({where})"
                        if wrong_side
                        else f"out of reach ({where}; reach {reach})"
                    )
                    considered.append((cls, words, direction, False, why))
                continue
            if not overlaps and direction != BACK and not pointing:  # (a disclaimer reaches back across clauses)
                gap = (e, lo) if e < lo else (hi, s)
                if any(gap[0] < b <= gap[1] for b in clause_breaks(sent)):
                    if explain:
                        considered.append((cls, words, direction, False, f"in another clause ({where})"))
                    continue
                # "Kim vows to expand arsenal, after launch of new missile": the launch is in a phrase of its own.
                if e < lo and cls != "conditional" and direction in _REACH_ADVERBIAL:
                    opener = _adverbial_between(sent, e, lo)
                    if opener is not None:
                        if explain:
                            why = f"the signal's words are in the phrase ', {opener} …' ({where})"
                            considered.append((cls, words, direction, False, why))
                        continue
                # "retracts evacuation order after failed satellite launch": the launch is not what was taken back.
                if cue_key in _WALK_BACKS and any(
                    w in WALK_BACK_STOPS for w in sent.toks[e - sent.start + 1 : lo - sent.start]
                ):
                    if explain:
                        considered.append((cls, words, direction, False, f"past what was taken back ({where})"))
                    continue
            # "Вскоре Госдума ратифицировала договор": with a past verb "soon" is "shortly afterwards", not a future.
            if s == e and sent.toks[s - sent.start] in RU_SOON:
                past = _past_verb_ru(sent, s, lo, hi)
                if past is not None:
                    if explain:
                        considered.append(
                            (cls, words, direction, False, f"the verb {past!r} is in the past: it was done soon after")
                        )
                    continue
            # Cues that are part of the signal's own phrases or of a name (e.g. "no" inside a phrase) do not count.
            # One that leads on to a word (a goal's, "calls off", "to be") is exempt from names only: wholly inside
            # one of the signal's phrases it is that phrase's words ("calls off" as the phrase of a stand-down
            # signal: trial 34, H1, where the built-in cue negated it), as the docs say of every cue.
            if atom_spans is None:
                atom_spans = [*own, *((m[0], m[1]) for m in sent.mentions)]
            if any(a <= s and e <= b for a, b in (atom_spans if direction not in _LEADS_ON else own)):
                if explain:
                    considered.append((cls, words, direction, False, "part of the signal's own phrase or of a name"))
                continue
            # "North Korea fires suspected ballistic missile": the hedge says what was fired, not whether it was.
            if s == e and cls == "hedged" and s <= hi and sent.toks[s - sent.start] in ATTRIBUTIVE_HEDGES:
                head = _attributive_hedge(sent, s, lo, hi, own)
                if head is not None:
                    if explain:
                        why = f"an attribute of the noun after it, after {head!r}: it qualifies what, not whether"
                        considered.append((cls, words, direction, False, why))
                    continue
            dist = (lo - e) if e < lo else (s - hi if s > hi else 0)
            rank = (CUE_PRIORITY[cls], dist)
            if explain:
                considered.append((cls, words, direction, True, where + (_REVIVED if revived else "")))
            if best is None or rank < (best[0], best[1]):
                best = (rank[0], rank[1], cls, words or _cue_words(sent, cue))
                best_span = (s, e)
                best_at = e if e < lo else sent.end
        if revived or not aside:
            break
        cues = [c for c, over in hidden if all(k in aside for k in over)]
        revived = True
    if best is None or best[0] > CUE_PRIORITY["future"]:
        future = _future_form(rules, sent, window, own, headline) or _scheduled(rules, sent, window, own, headline)
        if future is not None:
            if explain:
                considered.append(("future", future[0], "verb", True, future[1]))
            best = (CUE_PRIORITY["future"], 0, "future", future[0])
            best_at = sent.end
    if (best is None or best[0] > CUE_PRIORITY["future"]) and "en" in rules.languages:
        # "Protesters demand the release of hostages", "hostage release deal moves forward" (outside trial 47, M1)
        wanted = _wanted_event(sent, lo, hi, own)
        if wanted is None and best is None:  # "might demand more pay" stays hedged
            wanted = _not_yet_event(sent, lo, hi, own)
        if wanted is not None:
            if explain:
                considered.append(("future", wanted[0], "wanted", True, wanted[1]))
            best = (CUE_PRIORITY["future"], 0, "future", wanted[0])
            best_at = sent.end
    if best is None:
        # "Ukraine said it took the village. This could not be independently verified."
        nxt = next_disclaimer(rules, sent, headline)
        if nxt:
            if explain:
                considered.append(("hedged", nxt, "next sentence", True, _NEXT_WHY))
            best = (CUE_PRIORITY["hedged"], 0, "hedged", nxt)
    if best is None:
        # "Did Prigozhin die in a plane crash?": a yes/no question asks whether it happened.
        question = _yes_no_question(rules, sent)
        if question is not None:
            asked = asking >= 0 or _asked(sent, question, lo)
            if explain:
                why = _QUESTION_WHY if asked else "the question does not ask about the signal's words"
                considered.append(("hedged", question[0], "question", asked, why))
            if asked:
                best = (CUE_PRIORITY["hedged"], 0, "hedged", question[0])
    if best is None or best[2] in _RECAP_OVERRIDES:
        # "Wagner boss posts first video since the mutiny": the mutiny is recalled, not reported; and a negation or
        # hedge before the lead governs the clause it opens, not the event it recalls ("has not been seen since the
        # mutiny", "may have been killed after the mutiny"; a question or a disclaimer of the next sentence asks or
        # doubts the news, not the time it is given). A future or condition there may make it one to come ("will
        # meet after the summit"): it stays.
        recap = (
            _recap(rules, sent, lo, own)
            or _recalled_ru(rules, sent, lo)
            or _recap_relative(rules, sent, lo, hi, own)
            or _recap_relative_for(rules, sent, lo)
        )
        if recap is None and published is not None and "en" in rules.languages:
            recap = _dated_recap(sent, lo, hi, own, published)
        if recap is not None and best_at < recap[2]:
            if explain:
                if best is not None:
                    considered.append(("recap", recap[0], "recap", True, recap[1] + f"; {best[3]!r} governs before it"))
                else:
                    considered.append(("recap", recap[0], "recap", True, recap[1]))
            best = (len(CUE_PRIORITY), 0, "recap", recap[0])
    if best is None:
        reason = (
            ModalityReason("asserted", None, "no cue governs the signal's words", tuple(considered))
            if explain
            else None
        )
        return "asserted", None, reason, None
    reason = None
    if explain:
        reason = ModalityReason(best[2], best[3], f"{best[2]}: cue {best[3]!r}", tuple(considered))
    # (only a cue of the sentence's own negates: the later readings above are futures, hedges and recaps)
    return best[2], best[3], reason, best_span if best[2] == "negated" else None


_NEGATIONS = frozenset({"не", "not", "never", "ни"})
_AGAIN = frozenset({"again", "снова", "вновь", "опять"})


def _object_phrase(sent: Sentence, e: int, lo: int, *, joined: bool = False) -> bool:
    """Whether the words between a verb of calling off (ending at token e) and the signal's (from lo) leave these in
    its object: no preposition nor "and" / "or" between ("scraps flights Friday over strike", "cancels press conference
    on election claims" call off no strike, no election; "cancels Swedish minister visit" calls off the visit).
    `joined`: "и" may join the words to a first object ("идею перемирия и обмена"), and no comma may stand between."""
    if joined and _marks_between(sent, e - sent.start, lo - sent.start, ",;:—–"):
        return False
    for word in sent.toks[e + 1 - sent.start : lo - sent.start]:
        if (
            (word in _COORDINATORS and not (joined and word == "и"))
            or word in PREDICATE_SUBJECT_PREPOSITIONS_EN
            or word in PREDICATE_GAP_STOPS_EN  # "scrapped as Met Office warns": a clause of its own
            or is_preposition_ru(word)
        ):
            return False
    return True


def _parenthetical_hedge(sent: Sentence, lo: int, hi: int, s: int, e: int) -> bool:
    """Whether the hedge at tokens s..e is set off by commas right after the signal's words (lo..hi), which open the
    sentence, perhaps after an article, and a predicate follows it ("Обмен пленными, по всей видимости, состоялся",
    "The exchange, apparently, took place"; cues.PARENTHETICAL_SUBJECT_OPENERS); or an English "-ly" hedge
    without commas ("The exchange apparently took place")."""
    base, toks = sent.start, sent.toks
    if s != hi + 1 or e + 1 - base >= len(toks):
        return False
    if any(word not in PARENTHETICAL_SUBJECT_OPENERS for word in toks[: lo - base]):
        return False
    a, z = s - base, e - base
    before, after = _marks_between(sent, a - 1, a, ","), _marks_between(sent, z, z + 1, ",")
    if before and after:
        return True
    # "The exchange apparently took place": an English adverb between the subject and its verb, no commas
    return not before and not after and s == e and toks[a].isascii() and toks[a].endswith("ly")


def _fronted_object(sent: Sentence, lo: int, hi: int, s: int) -> bool:
    """Whether the signal's words (lo..hi) are the fronted object of the verb at token s after them ("Прекращение огня
    и обмен пленными премьер Венгрии обсудил …", cues.DISCUSSED_AFTER_RU): in the sentence's first phrase, no
    preposition nor comma from the sentence's start to the verb ("После обмена пленными стороны обсудили …": the
    exchange happened), the verb at most cues.PROPOSED_BEFORE_GAP words after them, and the words name an act
    (cues.AGREED_ACTS_RU)."""
    base = sent.start
    if s - hi - 1 > PROPOSED_BEFORE_GAP or _marks_between(sent, 0, s - base, ",;:—–"):
        return False
    if not any(word.startswith(AGREED_ACTS_RU) for word in sent.toks[lo - base : hi - base + 1]):
        return False  # "Итоги визита обсудили …": the visit happened
    return not any(is_preposition_ru(word) for word in sent.toks[: s - base])


def _counters(word: str) -> bool:
    """Whether an infinitive tried is one of countering or calling off, whose object stands ("пытались предотвратить
    атаку", "попытки отразить удар", "tried to prevent an attack", "tried to cancel the swap", "trying to flee the
    strikes"; cues.ATTEMPT_COUNTERS_RU, ATTEMPT_COUNTERS_EN, COUNTER_VERBS, CALL_OFF)."""
    if word.isascii():
        return word in ATTEMPT_COUNTERS_EN or word in COUNTER_VERBS or (word,) in CALL_OFF
    return word.startswith(ATTEMPT_COUNTERS_RU) or (word,) in CALL_OFF


def _foiler_before(sent: Sentence, noun: int) -> int | None:
    """The index (sentence-relative) of a verb of foiling (cues.FOILERS_EN) at most cues.FOILED_BETWEEN_EN words
    before the English noun of trying at token `noun` ("thwarted a Ukrainian attempt to attack"), with no comma, verb,
    coordinator or "to" between; None for a verb of trying ("blocked roads, tried to storm …") or no such verb."""
    toks = sent.toks
    if toks[noun] not in FOILED_NOUNS_EN:
        return None
    for j in range(noun - 1, max(-1, noun - 2 - FOILED_BETWEEN_EN), -1):
        if toks[j] in FOILERS_EN:
            return None if _comma_between(sent, j, noun) else j
        if toks[j] in _COORDINATORS or toks[j] in GOAL_STOP_EN or toks[j] == "to" or not toks[j].isalpha():
            return None
    return None


def _calls_off(toks: list[str], first: int, key: tuple[str, ...]) -> bool:
    """Whether the verb of calling off at toks[first] (cues.CALL_OFF) calls off the words after it: not after an
    attempt ("tried to cancel", "попытался отменить"); an English participle not after a determiner, a form of "be",
    a preposition or a verb, nor first in its sentence ("the postponed exchange", "talks were postponed and …",
    "ahead of delayed meeting", "to hold delayed elections", "Scrapped deal cost …")."""
    prev = toks[first - 1] if first > 0 else ""
    if not key[0].isascii():
        return not prev.startswith(CALL_OFF_ATTEMPTS_RU)
    if prev == "to" and first > 1 and toks[first - 2] in CALL_OFF_ATTEMPTS:
        return False
    if prev in CALL_OFF_NOT_AFTER:
        return False
    if key[0].endswith("ed"):
        return bool(prev) and prev not in PREDICATE_SUBJECT_PREPOSITIONS_EN and not _is_bare_verb_en(prev)
    return True


_COORDINATORS = frozenset({"and", "or", "и", "или", "либо"})
_SUBJECT_DETERMINERS_EN = frozenset("the a an its their his her our this that these those s".split())
# A word whose most likely reading is one of these is a verb of its own between a Russian subject and its predicate.
_RU_VERB_TAGS = ("VERB", "INFN", "PRTS", "GRND")


def _predicate_subject(sent: Sentence, lo: int, hi: int, cue: Cue, headline: bool) -> str | None:
    """Whether the signal's words (tokens lo..hi) are the subject of the predicate cue after them
    (cues.PREDICATE): None when they are, else why not. They are a noun phrase (no verb among them: "Russia ratified
    the treaty, the exchange did not take place" says nothing of the ratification); nothing between them and the
    predicate is a verb, a word that opens a clause or another subject, or "and" / "or" but after "between" / "между"
    (cues.PREDICATE_GAP_*); commas between come in pairs (none in a headline); they are no preposition's object ("talks
    on the exchange", "после обмена пленными"); and a Russian subject is in its case: the nominative, the genitive
    of a negated existence ("Обмена пленными не было"), the accusative before a plural with no subject ("Обмен
    пленными отложили")."""
    key = cue[3]
    toks, base = sent.toks, sent.start
    at, end, first_cue, last_cue = lo - base, hi - base, cue[1] - base, cue[2] - base
    if key == PREDICATE_BARE:
        if not headline:
            return "a participle without an auxiliary is a predicate only in a headline"
        # (a comma after it ends the clause: "Grain deal renewal unlikely, Kremlin says")
        if (
            last_cue + 1 < len(toks)
            and toks[last_cue + 1] not in PREDICATE_HEADLINE_BEFORE
            and not _marks_between(sent, last_cue, last_cue + 1, ",;:—–")
        ):
            return f"a participle before {toks[last_cue + 1]!r} is an attribute, not a predicate"
        before = toks[first_cue - 1]
        if before in PREDICATE_SUBJECT_PREPOSITIONS_EN or before in _SUBJECT_DETERMINERS_EN:
            return f"a participle after {before!r} is an attribute, not a predicate"  # "resigns from delayed project"
    gap = toks[end + 1 : first_cue]
    russian = not toks[first_cue].isascii()
    if key == PREDICATE_GEN and toks[first_cue] == "нет" and _none_of_ru(sent, end, first_cue, last_cue + 1):
        return None  # "Беспилотник сбит, пострадавших нет": the words' last, right before it, is what there is not
    # A relative clause or participle phrase set off by a comma pair says more of the subject and is not the main
    # clause: its verbs and its commas are not between the subject and its predicate ("Обмен пленными, который
    # планировался на пятницу, не состоялся", "The swap, which was planned for Friday, did not take place").
    inserted = _inserted_phrases(sent, end, first_cue) if "," in sent.text else []
    between = False
    for i, word in enumerate(gap):
        if inserted and any(a <= end + 1 + i < b for a, b in inserted):
            continue
        if word in PREDICATE_GAP_BETWEEN:
            between = True
        elif word in _COORDINATORS:
            if not between and not (word == "и" and i > 0 and gap[i - 1] == "так"):  # "так и не состоялся"
                return f"{word!r} stands between the words and the predicate"
        elif word in (PREDICATE_GAP_STOPS_RU if russian else PREDICATE_GAP_STOPS_EN) or _verb_of_its_own(word, russian):
            return f"{word!r} stands between the words and the predicate: they are not its subject"
    for word in toks[at : end + 1]:
        if _verb_of_its_own(word, russian):
            return f"the signal's words hold a verb of their own ({word!r}): they are not the predicate's subject"
    commas = _marks_between(sent, end, first_cue, ",") - 2 * len(inserted)
    if commas and (headline or commas % 2):
        return "a comma stands between the words and the predicate"
    if _marks_between(sent, end, first_cue, ":"):
        return "a colon stands between the words and the predicate"
    first = toks[at]
    if russian:
        predicate = " ".join(toks[first_cue : last_cue + 1])
        if at > 0 and is_preposition_ru(toks[at - 1]) and not _marks_between(sent, at - 1, at, ",:"):
            if not (
                (predicate in NOT_CONFIRMED_RU or predicate in BEING_CLARIFIED_RU)
                and toks[at - 1] in REPORTED_ABOUT_RU
                and at > 1
                and toks[at - 2] in DISCLAIMER_NOUNS_RU
                and not _marks_between(sent, at - 2, at, ",:")
            ):
                return f"the words are the object of the preposition {toks[at - 1]!r}"
            # "Сообщения об атаке … не подтверждаются": the report is the subject, and what it says is not confirmed
            first = toks[at - 2]
            if not may_be_case_ru(first, "nomn"):
                return f"{first!r} cannot be the predicate's subject (not {_CASE_NAMES['nomn']})"
            return None
        if predicate in BEING_CLARIFIED_RU:
            # ("Число погибших уточняется", "Потери уточняются": what is made out exists)
            return f"{predicate!r} hedges the event only in a report noun's phrase ('информация о …')"
        case = "gent" if key == PREDICATE_GEN else "accs" if key == PREDICATE_OBJ else "nomn"
        if not may_be_case_ru(first, case):
            return f"{first!r} cannot be the predicate's subject (not {_CASE_NAMES[case]})"
        if key == PREDICATE_OBJ and tuple(toks[first_cue : last_cue + 1]) in PREDICATE_OBJECT_SUBJECT_AFTER:
            return _subject_after_ru(sent, first, last_cue)
        if key == PREDICATE_GEN and _lacking_after_ru(sent, last_cue + 1):
            return f"{toks[last_cue + 1]!r} is what there was not"  # "в ходе обмена … не было инцидентов"
        return None
    i = at - 1
    while i >= 0 and toks[i] in _SUBJECT_DETERMINERS_EN:
        i -= 1
    if i >= 0 and toks[i] in PREDICATE_SUBJECT_PREPOSITIONS_EN:
        return f"the words are the object of the preposition {toks[i]!r}"
    if i >= 0 and cue[0] == "hedged" and toks[i] in PREDICATE_HEDGE_NOT_AFTER:
        return f"the words are the object of {toks[i]!r}, which the adjective says of them"
    return None


_CASE_NAMES = {"nomn": "a nominative", "gent": "a genitive", "accs": "an accusative"}


def _none_of_ru(sent: Sentence, end: int, cue: int, after: int) -> bool:
    """Whether the signal's last word (token `end`, sentence-relative) is the genitive of "нет" (token `cue`) after
    it: "пострадавших нет", joined with others ("погибших и пострадавших нет", "жертв или раненых нет"), or with a
    short phrase set off by a comma pair between ("Пострадавших, по предварительным данным, нет", "…, как сообщил
    губернатор, …"); not when a noun after "нет" is what there is not ("погибших нет данных")."""
    toks = sent.toks
    gap = toks[end + 1 : cue]
    if not may_be_case_ru(toks[end], "gent"):
        return False
    if _lacking_after_ru(sent, after):
        return False
    if not gap:
        return True
    if (
        len(gap) <= _NONE_OF_ASIDE
        and _marks_between(sent, end, end + 1, ",") == 1
        and _marks_between(sent, cue - 1, cue, ",") == 1
        and _marks_between(sent, end, cue, ",") == 2
    ):
        return gap[0] == "как" or not any(_verb_of_its_own(w, True) for w in gap)  # ("…, как сообщили в МЧС, …")
    # a list of genitives joined by "и" / "или", perhaps with commas ("погибших, раненых и пострадавших нет")
    return (
        len(gap) <= _NONE_OF_LIST
        and not _JOINERS_RU.isdisjoint(gap)
        and all(w in _JOINERS_RU or may_be_case_ru(w, "gent") for w in gap)
        and (gap[0] in _JOINERS_RU or not _marks_between(sent, end, cue, ";:—–"))
    )


_JOINERS_RU = frozenset({"и", "или"})
_NONE_OF_LIST = 5  # the words of a list of genitives between the signal's last and its "нет"


_NONE_OF_ASIDE = 4  # the words of a phrase set off between a genitive and its "нет"


def _lacking_after_ru(sent: Sentence, after: int) -> bool:
    """Whether the noun at token `after` (sentence-relative), right after a negated existence ("нет", "не было"), is
    what there was not ("погибших нет данных", "не было инцидентов"): a noun or pronoun in the same clause, no
    comma, dash, ";" or ":" between (outside trial 71, H3: in «погибших нет, повреждения получили два дома» the
    damage is the subject of a clause of its own, and the dead are what there were not)."""
    toks = sent.toks
    if after <= 0 or after >= len(toks):
        return False
    tags = tags_ru(toks[after])
    if not tags or not tags[0].startswith(("NOUN", "NPRO")):
        return False
    return not _marks_between(sent, after - 1, after, ",;:—–")


_RU_GENDERS = ("masc", "femn", "neut")
_RU_NAMED = frozenset({"anim", "Geox", "Orgn", "Surn", "Name"})  # a person, a place, a body: one who calls off


def _subject_after_ru(sent: Sentence, head: str, verb: int) -> str | None:
    """Why the words before the singular past verb of calling off at token `verb` (sentence-relative;
    cues.PREDICATE_OBJECT_SUBJECT_AFTER), their first word `head`, are not its object put first with its subject
    after it; None when they are. The word after the verb, past at most two adjectives, is a nominative of the
    verb's gender ("сорвал Киев", "отложила Государственная дума"); and either `head` cannot be that subject
    ("Ратификацию …", "Обмен …" before "сорвала") or the word after is a name or a person ("Киев", "Зеленский",
    "Кремль"): "Обстрел сорвал обмен пленными", "Удар сорвал эвакуацию" say the strike happened."""
    toks = sent.toks
    verb_tags = tags_ru(toks[verb])
    grams = set(re.split("[ ,]", verb_tags[0])) if verb_tags else set()
    gender = next((g for g in _RU_GENDERS if g in grams), None)
    if gender is None or "sing" not in grams:
        return f"{toks[verb]!r} is not a singular past verb"

    def agrees(tag: str, pos: tuple[str, ...]) -> bool:
        parts = set(re.split("[ ,]", tag))
        return tag.startswith(pos) and "nomn" in parts and "sing" in parts and (gender in parts or "Fixd" in parts)

    subject: list[str] = []
    at = verb + 1
    while at < len(toks) and at <= verb + 3:
        subject = [t for t in tags_ru(toks[at]) if agrees(t, ("NOUN",))]
        if subject or not any(agrees(t, ("ADJF",)) for t in tags_ru(toks[at])):
            break
        at += 1  # "официальный Киев", "Государственная дума"
    if not subject:
        return f"no subject of {toks[verb]!r} after it: the words before are its subject"
    if not any(agrees(t, ("NOUN", "ADJF")) for t in tags_ru(head)):
        return None
    cased = cased_tokens(sent.text)
    if len(cased) == len(toks) and cased[at][:1].isupper():
        return None
    if any(_RU_NAMED.intersection(re.split("[ ,]", t)) for t in subject):
        return None
    return f"{toks[at]!r} after {toks[verb]!r} may be its object, and the words before its subject"


_RELATIVE_EN = frozenset({"which", "who", "whom", "whose"})


def _inserted_phrases(sent: Sentence, end: int, first_cue: int) -> list[tuple[int, int]]:
    """The relative clauses and participle phrases set off by a comma pair between the sentence's tokens end and
    first_cue (sentence-relative), as (first, last + 1) of their words: each opens, perhaps after a preposition, with
    "который" (any form) or "which" / "who" / "whom" / "whose", or with a participle (Russian a full participle,
    perhaps after an adverb; English a past form in "-ed", perhaps after an adverb in "-ly"), and a comma closes it
    before the predicate ("Обмен, о котором договорились, не состоялся", "The swap, originally planned for Friday,
    did not take place")."""
    text = sent.text
    marks = [i for i, c in enumerate(text) if c == ","]
    if len(marks) < 2:
        return []
    ks = [k for k in _words_before(text, marks) if end < k <= first_cue]
    toks, found, i = sent.toks, [], 0
    while i + 1 < len(ks):
        a, b = ks[i], ks[i + 1]
        if a < b and _opens_insertion(toks, a, b):
            found.append((a, b))
            i += 2
        else:
            i += 1
    return found


def _reach_past_inserted(sent: Sentence, hi: int, s: int, reach: int) -> bool:
    """Whether a predicate at token s is within `reach` words of the signal's last word (token hi) when the words of
    the relative clauses and participle phrases between are not counted (_inserted_phrases)."""
    if "," not in sent.text:
        return False
    skipped = sum(b - a for a, b in _inserted_phrases(sent, hi - sent.start, s - sent.start))
    return s - hi - skipped <= reach


def _opens_insertion(toks: list[str], a: int, b: int) -> bool:
    """Whether the words toks[a:b], set off by commas, open as a relative clause or participle phrase does
    (_inserted_phrases)."""
    word = toks[a]
    if word.isascii():
        if word in PREDICATE_SUBJECT_PREPOSITIONS_EN and a + 1 < b:
            return toks[a + 1] in _RELATIVE_EN  # "for which", "under whom"
        if word.endswith("ly") and a + 1 < b:
            word = toks[a + 1]  # "originally planned"
        return word in _RELATIVE_EN or (word.endswith("ed") and _verb_of_its_own(word, False))
    if is_preposition_ru(word) and a + 1 < b:
        word = toks[a + 1]  # "о котором", "в ходе которого" is none
    if word.startswith("котор"):
        return True
    tags = tags_ru(word)
    if tags and tags[0].startswith("ADVB") and a + 1 < b:
        tags = tags_ru(toks[a + 1])  # "ранее запланированный"
    return bool(tags) and tags[0].startswith("PRTF")


def _verb_of_its_own(word: str, russian: bool) -> bool:
    """Whether a word is a verb that makes a clause of its own (between a subject and its predicate, or among the
    signal's words): English an auxiliary, a past form or a verb of saying (_predicate_follows, cues.REPORTING_VERBS);
    Russian a finite verb, a short participle, an infinitive or a gerund in its likeliest reading (not a full
    participle: "Обмен пленными, запланированный на пятницу, не состоялся")."""
    if russian:
        if word.isascii():
            return False
        tags = tags_ru(word)
        return bool(tags) and tags[0].startswith(_RU_VERB_TAGS)
    return word in _AUX_EN or word in _BE_EN or word in REPORTING_VERBS or _predicate_follows([word], 0)


def _marks_between(sent: Sentence, a: int, b: int, chars: str) -> int:
    """How many of these marks (",", ":") stand between the sentence's tokens a and b (a < b, sentence-relative)."""
    text = sent.text
    marks = [i for i, c in enumerate(text) if c in chars]
    return sum(1 for k in _words_before(text, marks) if a < k <= b) if marks else 0


def _reported_would(sent: Sentence, first: int) -> bool:
    """Whether the "would" at toks[first] (sentence-relative) is the future seen from a past verb of saying or thinking
    (cues.REPORTED_FUTURE_*): "Leaders said the republic would cease to exist", "told reporters that the exchange
    would take place". Not "would have" (a past that did not happen), nor with a condition between the verb and it
    ("said that if talks failed, …"); one after it is _conditions_after's."""
    toks = sent.toks
    if first + 1 < len(toks) and (toks[first + 1] == "have" or toks[first + 1] in REPORTED_FUTURE_NOT_BEFORE):
        return False  # "would have …" did not happen; "said, 'Would you like …?'" asks
    for v in range(first - 1, max(first - 2 - REPORTED_FUTURE_GAP, -1), -1):
        word = toks[v]
        if word in REPORTED_FUTURE_STOPS:
            return False
        if word in REPORTED_FUTURE_VERBS:
            return not any(sent.start + v < b <= sent.start + first for b in clause_breaks(sent))
    return False


def _conditions_after(found: list[Cue], reported: list[int]) -> None:
    """A reported "would" with a condition after it in its sentence is a condition after all: "said troops would be
    sent if / unless / on condition that …" (a conditional cue after it that no neutral phrase covers: "speaking on
    condition of anonymity" is none). Puts the class back in `found`, in place."""
    neutral = [(c[1], c[2]) for c in found if c[0] == NEUTRAL]
    for i in reported:
        would = found[i]
        if any(
            c[0] == "conditional" and c[1] > would[2] and not any(a <= c[1] and c[2] <= b for a, b in neutral)
            for c in found
        ):
            found[i] = ("conditional", *would[1:])


def _past_verb_ru(sent: Sentence, at: int, lo: int, hi: int) -> str | None:
    """The verb a Russian "soon" at token `at` governs, when it is in the past (cues.RU_SOON): the first finite verb or
    short participle from the cue to the end of the signal's words (lo..hi), or from their start to a cue after them
    ("Вскоре Госдума **ратифицировала** договор", "Вскоре договор **был** ратифицирован"); None when that verb is not
    past ("вскоре ратифицирует", "вскоре будет ратифицирован") or there is none."""
    base = sent.start
    first, last = (at + 1, hi) if at < lo else (lo, at - 1) if at > hi else (lo, hi)
    for i in range(first, last + 1):
        word = sent.toks[i - base]
        tense = finite_verb_tense_ru(word)
        if tense is not None:
            return word if tense == "past" else None
    return None


_ARTICLES = frozenset("a an the".split())


def _object_end(sent: Sentence, e: int, lo: int) -> str | None:
    """Why the signal's words from token lo do not lie in the object an accusation or a warning opens at token e
    (cues.OBJECT), or None when they do: no comma, dash, colon or clause break between, nor a word of
    cues.OBJECT_REACH_STOPS, nor "and" / "or" / "и" but before an -ing verb ("accused Russia of shelling the plant and
    killing civilians"; not "was accused of fraud and resigned"); after an "of" / "against" / "в" (a noun phrase, not
    a clause) no auxiliary nor Russian finite verb ("accused of fraud was …", "обвинили Москву в сдаче Карабаха,
    заявили …")."""
    toks, base = sent.toks, sent.start
    clause = toks[e - base] in _CLAUSE_LEADS
    for i in range(e + 1 - base, lo - base):
        word = toks[i]
        if (
            word in OBJECT_REACH_STOPS
            or (word in _COORDINATORS and not (i + 1 < len(toks) and toks[i + 1].endswith("ing")))
            or (not clause and (word in _AUX_EN or finite_verb_tense_ru(word) is not None))
        ):
            return f"its object ends before {word!r}"
    if any(e < b <= lo for b in clause_breaks(sent)):
        return "the signal's words are in another clause"
    if _marks_between(sent, e - base, lo - base, ",;:—–"):
        return "its object ends at the punctuation before the signal's words"
    return None


_CLAUSE_LEADS = frozenset({"that", "что"})  # an object that is a clause, with a verb of its own
# A warning's object is to come and what is feared is not reported, consequence or not.
_NO_CONSEQUENCE = OBJECT_WARNINGS | {"fear", "fears"}


def _consequence(sent: Sentence, e: int, lo: int, hi: int) -> str | None:
    """The words that report a toll of the act an accusation opens at token e (document-wide), when the signal's
    words lo..hi stand between the lead and them, or None: ", killing two", "that killed 30", "в результате
    которого погибли" (cues.OBJECT_CONSEQUENCE_*)."""
    toks, base = sent.toks, sent.start
    if not OBJECT_CONSEQUENCE_NOT_OWN.isdisjoint(toks[lo - base : hi + 1 - base]):
        return None  # "accused of lying about the attack, which killed 12": the lying is still alleged
    first = lo - base  # the consequence's verb stands no earlier than the signal's words ("…, killing two" may be them)
    end = min(len(toks), e + 1 - base + OBJECT_CONSEQUENCE_WORDS)
    breaks = clause_breaks(sent)
    for j in range(e + 1 - base, end):
        if any(b == base + j for b in breaks):
            return None
        word = toks[j]
        if word in OBJECT_CONSEQUENCE_AFTER_COMMA and j >= first and _marks_between(sent, j - 1, j, ",—–") > 0:
            if word.isascii() and not _toll_after(toks, j):
                return None  # ", leaving little room for talks": a consequence, but no toll
            return f", {word}"
        if word in ("that", "which"):
            k = j + 1
            if k < len(toks) and toks[k] in OBJECT_CONSEQUENCE_AUX:
                k += 1
            if k >= first and k < len(toks) and toks[k] in OBJECT_CONSEQUENCE_VERBS and _toll_after(toks, k):
                return sent.words(base + j, base + k)
        if word == "результате" and j > 0 and toks[j - 1] == "в" and first <= j + 1 < len(toks):
            if toks[j + 1] in OBJECT_CONSEQUENCE_RU and any(
                t.startswith(OBJECT_CONSEQUENCE_RU_TOLL) for t in toks[j + 2 : j + 2 + OBJECT_CONSEQUENCE_TOLL_WORDS]
            ):
                return sent.words(base + j - 1, base + j + 1)
        if word in OBJECT_REACH_STOPS and word != "which":
            return None
    return None


def _toll_after(toks: list[str], k: int) -> bool:
    """Whether a count or a word of casualties (cues.OBJECT_CONSEQUENCE_TOLL) follows the verb at toks[k] closely:
    "killing at least 12", "that left two dead"; not "leaving little room", "that left for Russia"."""
    return any(
        t in OBJECT_CONSEQUENCE_TOLL or any(c.isdigit() for c in t)
        for t in toks[k + 1 : k + 1 + OBJECT_CONSEQUENCE_TOLL_WORDS]
    )


def _led_to(sent: Sentence, e: int) -> int | None:
    """The word a NEXT_WORD cue ending at token e leads to: the next, past an article or an -ly adverb."""
    toks, at = sent.toks, e - sent.start + 1
    for _ in range(2):
        if at < len(toks) and (toks[at] in _ARTICLES or (toks[at].endswith("ly") and len(toks[at]) > 3)):
            at += 1
    return sent.start + at if at < len(toks) else None


_REVIVED = "; hidden by a longer cue that governs only the other side"
_LEADS_ON = frozenset({GOAL, NEXT_WORD, APPEAL, OBJECT})  # directions whose cues govern the word(s) they lead to
_GOVERNS_BEFORE = frozenset({"after", BACK, PREDICATE})  # directions whose cues govern the words before them


def _cue_words(sent: Sentence, cue: Cue) -> str:
    """A cue's words: its tokens, or for a goal the words from its verb to its "to" ("urged hamas to")."""
    return cue[3] if cue[4] == GOAL else sent.words(cue[1], cue[2])


def _where(direction: str, s: int, e: int, lo: int, hi: int, overlaps: bool) -> str:
    """Where a cue (tokens s..e) stands against the signal's words (lo..hi), for an explanation."""
    if direction == BACK and s > hi:
        return f"{s - hi} word(s) after; a verification disclaimer governs all of its sentence before it"
    if direction in _GOVERNS_BEFORE:
        if s > hi:
            return f"{s - hi} word(s) after"
        if overlaps:
            return "inside the signal's words"
        return f"{lo - e} word(s) before, and it governs only words before it"
    if e < lo:
        return f"{lo - e} word(s) before"
    if direction in (NEXT_WORD, APPEAL, OBJECT):  # "deal to be approved": among the signal's words, leading on
        if s > hi:  # "Обмен пленными сорвал Киев": after them (trial 57, HIGH-2: "among" was said of it)
            return f"{s - hi} word(s) after, and it governs only the word it leads to"
        return "among the signal's words, and it governs the word it leads to"
    if overlaps:
        return "inside the signal's words"
    return f"{s - hi} word(s) after, and it governs only words after it"


def is_plain(rules: CompiledRules, sent: Sentence, headline: bool) -> bool:
    """Whether every signal of the sentence (its cues read) is asserted, whatever its words: no cue, and no
    verb form that could make one future. Decided once per sentence (`headline` is the same for all its
    signals: whether it is a document's title)."""
    plain = sent.plain
    if plain is None:
        plain = sent.plain = (
            not sent.cues
            and not _may_be_future(rules, sent, headline)
            and not _may_be_scheduled(rules, sent)
            and not next_disclaimer(rules, sent, headline)
            and _yes_no_question(rules, sent) is None
            and RECAP_WORDS.isdisjoint(sent.toks)
            and RECAP_RECALL_RU.isdisjoint(sent.toks[:2])
            and not _may_be_relative_recap(rules, sent)
            and not ("en" in rules.languages and _may_be_wanted_or_dated(sent))
        )
    return plain


# A verification disclaimer that opens the next sentence hedges all of this one: its predicate starts within
# the next sentence's first _OPENING words, its anaphor found as in a sentence (the words read: _HEAD).
_OPENING = 5
_HEAD = 20
_NEXT_WHY = "a verification disclaimer opens the next sentence"


def next_disclaimer(rules: CompiledRules, sent: Sentence, headline: bool) -> str:
    """The words of a verification disclaimer that opens the sentence after this one ("This could not be
    independently verified.", "Reuters could not independently verify the report."), or "". Not after a
    headline: the body's first sentence does not speak of the title. Read once per sentence, and only for a
    sentence with a signal (the cue automaton over the next sentence's first words)."""
    got = sent.next_disclaimer
    if got is None:
        got = ""
        toks = sent.next_toks
        if toks and not headline and rules.cue_automaton is not None:
            head = toks[:_HEAD]
            for entry, first, last in find_matches(rules.cue_automaton, " " + " ".join(head) + " ", head):
                if entry.direction == "disclaimer" and first <= _OPENING and _disclaimer_anaphor(head, first, last):
                    got = " ".join(head[first : last + 1])
                    break
        sent.next_disclaimer = got
    return got


_QUESTION_WHY = "a yes/no question asks whether it happened"
# The recap leads by their last word: (lead words, "since" | "after" | "follows" | "ago", Russian). "follows" before
# "after": "comes after" is tried before the bare "after" it ends with.
_RECAP_LEADS: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
for _keys, _kind, _ru in (
    (RECAP_FOLLOWS_EN, "follows", False),
    (RECAP_SINCE_EN, "since", False),
    (RECAP_AFTER_EN, "after", False),
    (RECAP_SINCE_RU, "since", True),
    (RECAP_AFTER_RU, "after", True),
    (RECAP_AGO_EN, "ago", False),
    (RECAP_AGO_RU, "ago", True),
):
    for _key in _keys:
        _RECAP_LEADS.setdefault(_key[-1], []).append((_key, _kind, _ru))
_PRESENT_AUX_EN = frozenset("is are am will would can could may might should must shall".split())  # "since it is …"


_RECAP_OVERRIDES = frozenset({"negated", "hedged"})


def _recap(rules: CompiledRules, sent: Sentence, lo: int, own: list[Span]) -> tuple[str, str, int] | None:
    """(the lead's words, why, the token the lead starts at) when the signal's words from token lo are an earlier
    event that a "since", "anniversary of", or "N days / weeks / months / years after" (cues.RECAP_*) gives as the
    time of the one reported: at most cues.RECAP_GAP words after the lead, in its clause, no comma between, no present
    or future auxiliary between ("since it is unclear"). A bare "after", "following", "in the wake of" only before
    "last week's / month's / year's" ("after last month's mutiny"). Russian: "с момента", "в годовщину", "N месяцев
    после", "спустя N лет после"."""
    toks, base = sent.toks, sent.start
    at = lo - base
    if at <= 0 or RECAP_WORDS.isdisjoint(toks[max(0, at - RECAP_GAP - 1) : at]):
        return None
    english = "en" in rules.languages
    russian = "ru" in rules.languages and _has_cyrillic(sent)
    for j in range(at - 1, max(-1, at - RECAP_GAP - 2), -1):
        for key, kind, ru in _RECAP_LEADS.get(toks[j], ()):
            first = j - len(key) + 1
            if not (russian if ru else english) or first < 0 or tuple(toks[first : j + 1]) != key:
                continue
            # (a comma may close a fronted "A year ago, …")
            if any(a <= base + j <= b for a, b in own) or _marks_between(sent, j + (kind == "ago"), at, ",;:"):
                return None
            if any(base + j < b <= lo for b in clause_breaks(sent)):
                return None
            between = toks[j + 1 : at]
            if not _PRESENT_AUX_EN.isdisjoint(between):
                return None
            words = " ".join(key)
            if kind == "follows":
                if not RECAP_FOLLOWS_NOT_BETWEEN.isdisjoint(between) or not RECAP_FOLLOWS_DAY_NEWS_EN.isdisjoint(
                    between
                ):
                    return None  # "followed by the exit", "follows Turkey in quitting", "followed overnight strikes"
                if not between and _is_past_participle_en(toks[at]):
                    return None  # "the deluge that followed killed thousands": "followed" has no object
                if key[0] == "come" and first > 0 and toks[first - 1] == "to":
                    return None  # "worse things to come after the election"
            elif kind == "ago":
                units = RECAP_UNITS_RU if ru else RECAP_UNITS_EN
                if first == 0 or toks[first - 1] not in units:
                    return None  # "ago" without a time: no recap time
                first -= 1
                for _ in range(2):  # "two years ago", "twenty five years ago"
                    if first > 0 and (toks[first - 1] in RECAP_AGO_COUNTS or toks[first - 1].isdigit()):
                        first -= 1
                if not _opens_clause(sent, first):
                    return None  # "kidnapped two weeks ago, according to …": the time of the clause before
                words = " ".join(toks[first : j + 1])
            elif kind == "after":
                units = RECAP_UNITS_RU if ru else RECAP_UNITS_EN
                before = toks[max(0, first - 3) : first]
                if ru and key == ("спустя",):
                    if units.isdisjoint(between) or "после" not in between:
                        return None
                elif before and before[-1] in units:
                    words = f"{before[-1]} {words}"
                elif ru or not any(w == "last" and n in units for w, n in pairwise(between)):
                    return None
            elif ru and "того" in between:
                return None
            return words, f"{words!r} recalls the words as an earlier event, the time of the one reported", base + first
    return None


def _recalled_ru(rules: CompiledRules, sent: Sentence, lo: int) -> tuple[str, str, int] | None:
    """(the marker's words, why, its first token) when a Russian recap marker opens the sentence before the signal's
    words (from token lo), set off by a comma or followed by «что»: "Напомним, …", "Стоит напомнить, что …"
    (cues.RECAP_RECALL_RU)."""
    if "ru" not in rules.languages:
        return None
    toks, base = sent.toks, sent.start
    k = 1 if toks and toks[0] in RECAP_RECALL_LEADS_RU else 0
    if k >= len(toks) or toks[k] not in RECAP_RECALL_RU or lo - base <= k:
        return None
    if not (_marks_between(sent, k, k + 1, ",:—–") or (k + 1 < len(toks) and toks[k + 1] == "что")):
        return None
    words = " ".join(toks[: k + 1])
    return words, f"{words!r} opens the sentence: it recalls an event reported before", base


def _opens_clause(sent: Sentence, first: int) -> bool:
    """Whether the sentence's token `first` opens it or its clause (after ":", ";", a dash), perhaps after
    cues.RECAP_AGO_OPENERS ("Ровно 80 лет назад …", "… истории: 80 лет назад …")."""
    k = first
    while k > 0 and sent.toks[k - 1] in RECAP_AGO_OPENERS:
        k -= 1
    return k == 0 or bool(_marks_between(sent, k - 1, k, ";:—–"))


def _may_be_relative_recap(rules: CompiledRules, sent: Sentence) -> bool:
    """Whether an English sentence holds a relative pronoun and a word of a recap time (cues.RECAP_TIME_WORDS_EN, or a
    year), which _recap_relative needs."""
    toks = sent.toks
    if "en" not in rules.languages or RECAP_RELATIVES_EN.isdisjoint(toks):
        return False
    if RECAP_FOR in toks and not RECAP_FOR_RELATIVES_EN.isdisjoint(toks):
        return True  # _recap_relative_for's "which … for"
    return not RECAP_TIME_WORDS_EN.isdisjoint(toks) or any(_is_year(t) for t in toks)


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and word[:2] in ("19", "20")


def _is_day(word: str) -> bool:
    """A day of a month as news writes it: "26", "3" (an ordinal's "26th" is one token too)."""
    digits = word[:-2] if word.endswith(("st", "nd", "rd", "th")) else word
    return 1 <= len(digits) <= 2 and digits.isdigit() and 1 <= int(digits) <= 31


def _recap_time(toks: list[str], k: int) -> str | None:
    """The words of an earlier time starting at toks[k] (cues.RECAP_*_EN): "in July", "in 2021", "last month", "two
    years ago", "earlier this year"; else None."""
    word = toks[k]
    nxt = toks[k + 1] if k + 1 < len(toks) else ""
    third = toks[k + 2] if k + 2 < len(toks) else ""
    if word == "in" and (nxt in RECAP_MONTHS_EN or _is_year(nxt)):
        return f"in {nxt}"
    # "in late July", "in mid-July", "in early 2021" (outside trial 68, MED-4: "the generals who overthrew Niger's
    # president in late July" read as a new coup), and a day: "on July 26", "on 26 July".
    if word == "in" and nxt in RECAP_PART_OF_EN and (third in RECAP_MONTHS_EN or _is_year(third)):
        return f"in {nxt} {third}"
    if word == "on" and nxt in RECAP_MONTHS_EN and _is_day(third):
        return f"on {nxt} {third}"
    if word == "on" and _is_day(nxt) and third in RECAP_MONTHS_EN:
        return f"on {nxt} {third}"
    if word == "last" and nxt in RECAP_LAST_UNITS_EN:
        return f"last {nxt}"
    if word == "earlier" and nxt == "this" and k + 2 < len(toks) and toks[k + 2] in RECAP_EARLIER_UNITS_EN:
        return f"earlier this {toks[k + 2]}"
    if nxt in RECAP_AGO_UNITS_EN and k + 2 < len(toks) and toks[k + 2] == "ago":
        return f"{word} {nxt} ago"
    return None


def _recap_relative(
    rules: CompiledRules, sent: Sentence, lo: int, hi: int, own: list[Span]
) -> tuple[str, str, int] | None:
    """(the words, why, the token the relative pronoun stands at) when the signal's words are a past relative clause
    dated to an earlier time (cues.RECAP_RELATIVES_EN …): "who" / "which" / "that" right before the signal's words (or
    before "had", "was", "were", "had been" before them, or among them, before one of its phrases), the verb after it a
    past form, and "in July", "in 2021", "last month", "two years ago", "earlier this year" within
    cues.RECAP_TIME_GAP words after them, in their clause, no comma between."""
    if "en" not in rules.languages or not _may_be_relative_recap(rules, sent):
        return None
    toks, base = sent.toks, sent.start
    at, end = lo - base, hi - base
    for r in range(max(0, at - 3), end):
        if toks[r] not in RECAP_RELATIVES_EN:
            continue
        v = r + 1
        while v < len(toks) and v - r <= 2 and toks[v] in RECAP_RELATIVE_AUX_EN:
            v += 1
        if v >= len(toks) or not _is_past_participle_en(toks[v]):
            continue
        if v < at or (v > at and not any(a <= base + v <= b for a, b in own)):
            continue  # the verb is not the signal's words' first, nor one of its phrases'
        breaks = clause_breaks(sent)
        for k in range(end + 1, min(len(toks), end + 1 + RECAP_TIME_GAP)):
            if _marks_between(sent, end, k, ",;:") or any(base + end < b <= base + k for b in breaks):
                break
            time = _recap_time(toks, k)
            if time is not None:
                words = f"{' '.join(toks[r : v + 1])} … {time}"
                return words, f"{words!r}: a past relative clause dated earlier recalls the words", base + r
        return None
    return None


def _recap_relative_for(rules: CompiledRules, sent: Sentence, lo: int) -> tuple[str, str, int] | None:
    """(the words, why, the token the relative pronoun stands at) when the signal's words from token lo are the reason
    a relative clause gives for what it says of its subject (cues.RECAP_FOR_*): "who" / "which" within
    cues.RECAP_FOR_GAP words before a "for" right before the words (or before "its", "having" … before them), no
    comma or clause break between, a word of judgement or punishment between the two (cues.RECAP_FOR_REASONS_EN), no
    modal: "Russia, which drew criticism for pulling out of the deal, …"."""
    if "en" not in rules.languages:
        return None
    toks, base = sent.toks, sent.start
    at = f = lo - base
    while f > 0 and at - f < 2 and toks[f - 1] in RECAP_FOR_DETERMINERS_EN:
        f -= 1
    f -= 1  # the "for"
    if f < 2 or toks[f] != RECAP_FOR or toks[f - 1] in WANTED_FOR_LEADS:
        return None
    for r in range(f - 2, max(-1, f - 1 - RECAP_FOR_GAP), -1):
        if toks[r] not in RECAP_FOR_RELATIVES_EN:
            continue
        clause = toks[r + 1 : f]
        if RECAP_FOR_REASONS_EN.isdisjoint(clause) or not RECAP_FOR_MODALS_EN.isdisjoint(clause):
            return None  # a "for" of a goal or a use: "which pushed for quitting", "which can be launched for attacks"
        if _marks_between(sent, r, at, ",;:") or any(base + r < b <= lo for b in clause_breaks(sent)):
            return None
        words = f"{toks[r]} … {RECAP_FOR}"
        return words, f"{words!r}: a relative clause gives the words as the reason, an earlier event", base + r
    return None


_QUESTION_END = re.compile(r"\?[\s\"'\u201d\u2019\u00bb)]*$")
_FIRST_WORD = re.compile(r"[^\W\d_]+")


def _yes_no_question(rules: CompiledRules, sent: Sentence) -> tuple[str, int] | None:
    """(its words, the sentence-relative token it opens at) when the sentence is a yes/no question
    (cues.QUESTION_OPENERS_EN, QUESTION_PARTICLE_RU): it ends with "?" and opens with an auxiliary ("Did …?", "Was
    …?"; after a colon: "Analysis: Is …?", which then asks nothing of the words before the colon), or, in Russian,
    holds "ли" ("Погиб ли Пригожин?") or no question word at all (cues.QUESTION_WORDS_RU: "Задержан организатор
    теракта?"). A wh-question ("Why did Wagner rebel?") presupposes the event."""
    text = sent.text
    if "?" not in text or not _QUESTION_END.search(text):
        return None
    colon = text.rfind(":")
    first = _words_before(text, [colon])[0] if colon >= 0 else 0
    if "ru" in rules.languages and QUESTION_PARTICLE_RU in sent.toks[first:]:
        return f"{QUESTION_PARTICLE_RU} …?", first
    # "Задержан организатор теракта?": a Russian question by intonation alone, no question word.
    if (
        "ru" in rules.languages
        and first < len(sent.toks)
        and _has_cyrillic(sent)
        and QUESTION_WORDS_RU.isdisjoint(sent.toks[first:])
    ):
        return QUESTION_INTONATION_RU, first
    if "en" in rules.languages and first < len(sent.toks):
        word = _FIRST_WORD.search(text[colon + 1 :])
        opener = sent.toks[first]
        if word is not None and word.group(0).lower() == opener and opener in QUESTION_OPENERS_EN:
            return f"{opener} …?", first
    return None


_QUESTION_OPENER_WHY = "it opens a yes/no question, which asks whether"


def _asking_modal(rules: CompiledRules, sent: Sentence, lo: int) -> int:
    """The token (document-wide) of the modal ("will", "would", "could", "can" …; cues.QUESTION_MODAL_OPENERS) that
    opens the yes/no question the signal's words from token lo stand in, after it with no comma between ("Will Russia
    quit the grain deal?"); -1 when there is none. A definite noun phrase after it is asked too ("Will the deal be
    extended?"): what is to come is not taken as given."""
    if "?" not in sent.text:
        return -1
    question = _yes_no_question(rules, sent)
    if question is None:
        return -1
    first = question[1]
    at = lo - sent.start
    if sent.toks[first] not in QUESTION_MODAL_OPENERS or sent.toks[first] in _DONE_OPENERS:
        return -1
    if at <= first or _marks_between(sent, first, at, ","):
        return -1
    return sent.start + first


_DONE_OPENERS = frozenset({"did", "does", "do"})  # (no cue: "Did Iran direct the Hamas attacks?" presupposes them)


def _asked(sent: Sentence, question: tuple[str, int], lo: int) -> bool:
    """Whether the yes/no question asks about the signal's words from token lo: they follow its opener, with no
    comma between ("Was Mossadeq, later overthrown in a 1953 coup, elected …?" asks nothing of the coup), and they
    are not a definite noun phrase, which the question presupposes: the nearest determiner within
    cues.QUESTION_DEFINITE_WORDS before them is one of cues.QUESTION_DEFINITE, not "a", "an" ("Did Iran direct the
    Hamas attacks?", "Was he aboard the plane that crashed?"), unless they open with the bare verb after "did",
    "can", "will" … ("Did the strikes **kill** anyone?" asks about the killing) or with a predicate ("on board"). In
    Russian every word after the colon is asked."""
    words, first = question
    at = lo - sent.start
    if at < first or _marks_between(sent, first, at, ","):
        return False
    toks = sent.toks
    if words.startswith(QUESTION_PARTICLE_RU) or words == QUESTION_INTONATION_RU:
        return True  # ("Погиб ли …?": the verb comes first)
    if at == first:
        return False  # (the opener is the signal's own word)
    if (toks[first] in QUESTION_MODAL_OPENERS and _is_bare_verb_en(toks[at])) or toks[at] in QUESTION_PREDICATES:
        return True  # the verb asked about, or a predicate: "Was the warlord **on board**?"
    # the nearest determiner before the words: "the" presupposes, "a" asks ("Has the militia launched an attack?")
    for k in range(at - 1, max(first, at - 1 - QUESTION_DEFINITE_WORDS), -1):
        if toks[k] in _ARTICLES:
            return toks[k] != "the"
        if toks[k] in QUESTION_DEFINITE:
            return False
    return True


def _perfect_after(word: str) -> bool:
    """Whether `word` after "to have" makes a perfect infinitive: a past participle or "been"."""
    return word == "been" or _is_past_participle_en(word)


def _countered_object(sent: Sentence, e: int, lo: int, own: list[Span]) -> str:
    """The verb of countering (cues.COUNTER_VERBS, COUNTER_PARTICLE_VERBS) right after a cue ending at token e
    (past "not" or an -ly adverb), whose object holds the signal's words from token lo: at most cues.COUNTERED_GAP words
    between, none of cues.COUNTERED_NOT_BETWEEN ("vows to crush armed mutiny": "crush"), or ""."""
    toks, base = sent.toks, sent.start
    v = e + 1 - base
    for _ in range(2):  # "will not stop", "vows to swiftly crush"
        if v < len(toks) and (toks[v] in _NEGATIONS or (toks[v].endswith("ly") and len(toks[v]) > 3)):
            v += 1
    if v >= len(toks) or base + v >= lo or any(a <= base + v <= b for a, b in own):
        return ""
    verb = toks[v]
    end = v
    if v + 1 < len(toks) and (verb, toks[v + 1]) in COUNTER_PARTICLE_VERBS:
        end = v + 1
        verb = f"{verb} {toks[v + 1]}"
    elif verb not in COUNTER_VERBS:
        return ""
    between = toks[end + 1 : lo - base]
    if base + end >= lo or len(between) > COUNTERED_GAP or not COUNTERED_NOT_BETWEEN.isdisjoint(between):
        return ""
    if _marks_between(sent, end, lo - base, ",;:"):  # "won't stop, even during a truce"
        return ""
    return verb


def _goal_holds_own(sent: Sentence, e: int, hi: int, own: list[Span]) -> bool:
    """Whether the phrase of a goal whose "to" is token e holds one of the signal's own words (`own`, up to token hi):
    within GOAL_REACH words after it, before a word that ends the phrase (GOAL_REACH_STOPS: "told to shelter after
    cruise missiles were launched" holds no missile)."""
    toks, base = sent.toks, sent.start
    for k in range(e + 1, min(hi, e + GOAL_REACH) + 1):
        if toks[k - base] in GOAL_REACH_STOPS:
            return False
        if any(a <= k <= z for a, z in own):
            return True
    return False


def _nested_goal(sent: Sentence, cues: list[Cue], e: int, lo: int) -> tuple[str, str] | None:
    """(the verb negated, the goal's words) when a negation ending at token e governs an English verb whose object holds
    a goal cue (an attempt, a call, a plan … + "to": cues' `goal` tables) that governs the signal's words from token lo
    ("had not responded to a last-minute attempt to renew the deal"); None when the verb is the goal's own ("did not
    attempt to renew") or one that only says it was made ("made no attempt to", cues.NEGATED_LIGHT_VERBS)."""
    toks, base = sent.toks, sent.start
    if toks[e - base] not in NEGATED_VERB_NEGATIONS:
        return None
    v = e + 1 - base
    while v < len(toks) and (toks[v] in NEGATED_VERB_SKIP or _adverb_en(toks[v])):
        v += 1  # "has not yet responded", "may not necessarily want to"
    if v >= len(toks) or base + v >= lo or not toks[v].isascii() or toks[v] in NEGATED_LIGHT_VERBS:
        return None
    for goal in cues:
        if goal[4] != GOAL or goal[0] == "negated" or goal[2] >= lo or lo - goal[2] > GOAL_REACH:
            continue
        # (a goal's cue is its "to"; its key, the words from its lead to that "to")
        lead = goal[1] - len(goal[3].split()) + 1
        if lead <= base + v:
            return None  # "did not attempt to renew": the verb negated is the goal's own
        between = toks[v + 1 : lead - base]
        if not NEGATED_VERB_NOT_BETWEEN.isdisjoint(between) or _marks_between(sent, v, lead - base, ",;:—–"):
            return None  # "didn't acknowledge his defeat and asked supporters to protest": a clause of its own
        return toks[v], _cue_words(sent, goal)
    return None


def _may_be_future(rules: CompiledRules, sent: Sentence, headline: bool) -> bool:
    """Whether a verb form could make a signal of this sentence future (Cyrillic words, or a headline's "to")."""
    if headline and "to" in sent.toks and rules.languages & HEADLINE_LANGUAGES:
        return True
    return "ru" in rules.languages and _has_cyrillic(sent)


def _has_cyrillic(sent: Sentence) -> bool:
    """Whether the sentence holds a Cyrillic letter: once per sentence (is_plain and every signal's future form
    ask), and an ASCII text (most English news) needs no regex to say no."""
    got = sent.cyrillic
    if got is None:
        text = sent.text
        got = sent.cyrillic = not text.isascii() and _CYRILLIC.search(text) is not None
    return got


def _future_form(
    rules: CompiledRules, sent: Sentence, window: Span, own: list[Span], headline: bool
) -> tuple[str, str] | None:
    """A future written in the verb (Russian) or as a headline's "to VERB" (English): (words, why)."""
    lo, hi = window
    toks = sent.toks
    base = sent.start
    if "ru" in rules.languages and _has_cyrillic(sent):  # (else no word can be Russian)
        for i in range(lo, hi + 1):
            tok = toks[i - base]
            if is_future_verb_ru(tok):
                return tok, f"{tok!r} is a perfective verb in the future"
        got = _governing_future_ru(sent, lo, hi)
        if got is not None:
            return got
    if headline and rules.languages & HEADLINE_LANGUAGES:
        atom_spans: list[Span] | None = None
        mention_starts: set[int] = set()
        for p in range(max(lo - 1, base), hi + 1):
            if toks[p - base] != "to" or p + 1 >= sent.end:
                continue
            if atom_spans is None:  # (only for a "to" in reach)
                atom_spans = [sp for spans in sent.atoms.values() for sp in spans]
                mention_starts = {m[0] for m in sent.mentions}
            if any(x <= p <= y for x, y in atom_spans):
                continue  # "to" is part of a matched phrase ("sent to Russia")
            nxt = toks[p + 1 - base]
            if p + 1 in mention_starts or nxt in _NOT_VERBS or nxt.isdigit():
                continue  # "to Kursk", "to the front": a preposition, not an infinitive
            if nxt == "have" and p + 2 < sent.end and _perfect_after(toks[p + 2 - base]):
                continue  # "crash believed to have killed …": a perfect infinitive is done, not to come
            if not _verb_follows(toks, p + 1 - base):
                continue  # "to missile launch site": no verb after it
            if _after_motion(toks, p - base) and _place_after(sent, p + 2):
                continue  # "travels to launch site": a place ("heads to sign treaty" is a purpose)
            if any(t in HEADLINE_TO_EXCEPTIONS for t in toks[: p - base]):
                continue  # a verb before it: "votes to ratify", "sends troops to fight"
            return f"to {nxt}", "a headline's 'to' + verb speaks of the future"
        # "Export Ban to Trigger Grain Deal Exit": the signal is what a headline's "to" + a causing verb brings about.
        got = _headline_cause(sent, lo)
        if got is not None:
            return got
    return None


def _may_be_scheduled(rules: CompiledRules, sent: Sentence) -> bool:
    """Whether a step fixed for a time to come could make a signal of this sentence future (_scheduled): a time word
    or a step's verb in English."""
    return "en" in rules.languages and bool(_word_sets(sent) & _MAY_SCHEDULE)


# What a sentence's words allow the English readings asked per signal (_word_sets): bits read once per sentence
# (some sentences hold several signals), from a set of its words: a test of a cue set against the token list walks
# the whole sentence (~2,300 instructions natively for a news sentence), against a set only the cue set's 7-17
# words (callgrind, BENCHMARKS.md session 34).
_MAY_SCHEDULE = 1  # a time word or a step's verb (_may_be_scheduled)
_MAY_TIME = 2  # a word a time to come starts at (_time_to_come): "next" or a time word
_MAY_WANT = 4  # an event noun, or "to" and a purpose head (_may_be_wanted)
_MAY_NOT_YET = 8  # a lead of an event not yet (_not_yet_event): apart, as common words ("calls", "plans") would make
# many sentences not plain, and a plain one needs only _not_yet_event read


def _word_sets(sent: Sentence) -> int:
    """The _MAY_* bits of the sentence's words, read at its first asking."""
    got = sent.word_sets
    if got < 0:
        toks = set(sent.toks)
        times = not SCHEDULED_TIMES_EN.isdisjoint(toks)
        got = 0
        if times or not SCHEDULED_STEP_VERBS_EN.isdisjoint(toks):
            got |= _MAY_SCHEDULE
        if times or "next" in toks:
            got |= _MAY_TIME
        if not WANTED_EVENT_NOUNS.isdisjoint(toks) or ("to" in toks and not PURPOSE_HEADS.isdisjoint(toks)):
            got |= _MAY_WANT
        if not NOT_YET_LEADS.isdisjoint(toks):
            got |= _MAY_NOT_YET
        sent.word_sets = got
    return got


def _time_to_come(toks: list[str], t: int) -> int | None:
    """The index of the last word of a time to come that starts at toks[t] ("Thursday", "on Friday", "tomorrow",
    "next week": cues.SCHEDULED_TIMES_EN, SCHEDULED_NEXT_UNITS_EN), or None."""
    n = len(toks)
    if t >= n:
        return None
    w = toks[t]
    if w == "on" and t + 1 < n and toks[t + 1] in SCHEDULED_TIMES_EN and toks[t + 1].endswith("day"):
        return t + 1
    if w in SCHEDULED_TIMES_EN:
        return t
    if w == "next" and t + 1 < n and toks[t + 1] in SCHEDULED_NEXT_UNITS_EN:
        return t + 1
    return None


_STEP_PARTICLES = frozenset("effect hold into force out off".split())  # "takes effect", "runs out", "kicks off"


def _scheduled(
    rules: CompiledRules, sent: Sentence, window: Span, own: list[Span], headline: bool
) -> tuple[str, str] | None:
    """A step fixed for a time to come in the present tense (trial 47, H1; cues.SCHEDULED_*): (words, why), or None.
    (1) "Cease-Fire Starts Thursday": a present -s verb held by the signal's words or just after them (its subject),
    directly followed by a time to come; or the words follow it as "…, followed by <words>". (2) In body text, a
    step's verb in the present in a clause of time ("before the cease-fire expires", "after the truce ends"); in a
    headline only under a future of the main clause ("Israel to hit Hamas … after truce ends")."""
    if "en" not in rules.languages or not _may_be_scheduled(rules, sent):
        return None
    lo, hi = window
    toks, base = sent.toks, sent.start
    n = len(toks)
    first, last = lo - base, hi - base
    # (1) a verb in the present before a time to come: only in a sentence holding a word _time_to_come starts at
    # (many reach here for a step's verb alone, which (2) reads); the clause breaks only when asked.
    timed = bool(_word_sets(sent) & _MAY_TIME)
    for v in range(0, n - 1 if timed else 0):
        word = toks[v]
        infinitive = v > 0 and toks[v - 1] == "to" and word in SCHEDULED_STEP_BARE_EN  # "Truce to begin Friday"
        if word not in SCHEDULED_STEP_VERBS_EN and word not in SCHEDULED_DAY_VERBS_EN and not infinitive:
            continue
        if not infinitive and v > 0 and (toks[v - 1] in _PREPOSITIONS_EN or toks[v - 1] in _NOT_VERBS):
            continue  # a noun: "the collation of votes on Tuesday", "the ends"
        p = v + 1
        while p < n and p < v + 3 and toks[p] in _STEP_PARTICLES:
            p += 1  # "takes effect", "comes into force"
        if p < n and toks[p] == "at":  # "begins at 7am on Friday"
            q = p + 1
            while q < n and q < p + 5 and (toks[q] in SCHEDULED_CLOCK_WORDS_EN or any(ch.isdigit() for ch in toks[q])):
                q += 1
            if q > p + 1:
                p = q
        t = _time_to_come(toks, p)
        if t is None:
            continue
        when = " ".join(toks[p : t + 1])
        why = f"{word!r} in the present before a time to come ({when!r}): a step fixed for it"
        word = " ".join(toks[v:p])
        if (
            first <= v <= last + SCHEDULED_SUBJECT_GAP
            and not any(hi < b <= v + base for b in clause_breaks(sent))
            and all(
                toks[g] in SCHEDULED_SUBJECT_BETWEEN
                or any(a <= g + base <= b for a, b, *_ in sent.mentions)
                or (infinitive and g == v - 1)
                for g in range(last + 1, v)
            )
        ):
            return f"{word} {when}", why
        if toks[t + 1 : t + 3] == ["followed", "by"] and 0 <= first - (t + 3) <= 2:
            return f"{word} {when}", why + ", followed by the signal's words"
    # (2) a step's verb in the present in a clause of time
    for k in range(max(first - SCHEDULED_CLAUSE_GAP, 0), first):
        if toks[k] not in SCHEDULED_CLAUSE_OPENERS_EN:
            continue
        if any(k + base < b <= lo for b in clause_breaks(sent)):
            continue
        for j in range(k + 2, min(last + 2, n)):
            word = toks[j]
            if word not in SCHEDULED_STEP_VERBS_EN:
                continue
            if not (any(a <= j + base <= b for a, b in own) or j == last + 1):
                continue
            if word in ("takes", "comes", "goes", "enters", "runs", "kicks") and (
                j + 1 >= n or toks[j + 1] not in _STEP_PARTICLES
            ):
                continue
            if not _looks_ahead(sent, k):
                continue
            why = f"{word!r} in the present in a clause of time opened by {toks[k]!r}: a step still to come"
            return f"{toks[k]} … {word}", why
    return None


def _looks_ahead(sent: Sentence, k: int) -> bool:
    """Whether the words before the clause of time opened at toks[k] (sentence-relative) look ahead: an infinitive
    "to VERB", a future, conditional or hedged cue, or a span of time just before the opener ("weeks before")."""
    toks, base = sent.toks, sent.start
    if k > 0 and toks[k - 1] in SCHEDULED_SPAN_UNITS_EN and toks[k] in SCHEDULED_SPAN_OPENERS_EN:
        return True  # "weeks before voting begins" (not "into second day after the truce collapses")
    if any(cue[0] in _LOOKING_AHEAD and cue[2] < k + base for cue in sent.cues):
        return True
    if not SCHEDULED_FEAR_EN.isdisjoint(toks[:k]):
        return True  # "fear a resumption of airstrikes after the fighting pause ends"
    return any(toks[p] == "to" and _verb_follows(toks, p + 1) for p in range(k))


_LOOKING_AHEAD = frozenset({"future", "conditional", "hedged"})


def _clause_stop(sent: Sentence, e: int, lo: int, negation: bool) -> str | None:
    """The word (cues.CUE_REACH_STOPS_EN, NEGATION_REACH_STOPS_EN) between a negation ending at token e (or a cue
    before such a negation: `negation` false) and the signal's words from lo that opens a clause or phrase of its own
    ("rejects calls for ceasefire as troops push into Gaza"), or None. Not "as" right after the cue ("not as many"),
    nor in "as well as", "such as", nor before a noun of what is wanted or expected ("amid threats of"), nor in a
    phrase a comma closes before the words."""
    toks, base = sent.toks, sent.start
    negations: list[Cue] | None = None
    for k in range(e + 1 - base, lo - base):
        w = toks[k]
        if w not in CUE_REACH_STOPS_EN and w not in NEGATION_REACH_STOPS_EN:
            continue
        if not negation:
            # "will be no easy task after … election win", "will never happen again after being arrested": past a
            # negation that stops there, the cue before it stops there too. (Not a future or a hedge alone: "the
            # trip will mix diplomacy … as he meets Irish leaders", "will continue Tuesday as the House votes".)
            if negations is None:
                negations = [c for c in (*sent.cues, *(c for c, _ in sent.cues_hidden)) if c[0] == "negated"]
            if not any(e < c[1] and c[2] < k + base for c in negations):
                continue
        if w == "amid" and _expectation_after(toks, k, lo - base):
            continue  # "amid threat of expanding strikes": not there already (cues.ADVERBIAL_EXPECTATION_NOUNS)
        if _marks_between(sent, k, lo - base, ",;:—–"):
            continue  # "Russia will, amid protests, sign the treaty": a comma closes the phrase before the words
        if w == "after" and (_time_to_come_after(toks, k) or (k > 0 and toks[k - 1] == "until")):
            continue  # "rules out coalition after next election", "can't get a fair trial until after the election"
        if w == "as" and (
            k == e + 1 - base
            or toks[k - 1] in ("such", "well")
            or (k >= 2 and toks[k - 2] == "as")  # "as much as possible", "as early as"
            or (k + 1 < len(toks) and toks[k + 1] == "well")
            or not _as_opens_clause(toks, k)
        ):
            continue
        return w
    return None


def _negated_passive(sent: Sentence, e: int, lo: int) -> str | None:
    """The passive participle right after a negation ending at token e ("not hit", "not been affected", "not directly
    impacted") whose "by" comes before the signal's words from lo, or None: the words are its agent ("not impacted by
    regional sanctions"). Not a participle of what comes with or after, or of a cause ("not followed by a ceasefire",
    "not caused by a missile"): there the agent is what did not happen."""
    toks, base = sent.toks, sent.start
    k = e + 1 - base
    end = lo - base
    while k < end and (toks[k] in _PASSIVE_BE or _adverb_en(toks[k])):
        k += 1
    if k >= end:
        return None
    verb = toks[k]
    if verb in _NOT_AGENT_PARTICIPLES or not (
        verb in _IRREGULAR_PARTICIPLES_EN or (verb.endswith("ed") and len(verb) > 4)
    ):
        return None
    k += 1
    if k < end and _adverb_en(toks[k]):
        k += 1
    if k < end and toks[k] == "by" and not _marks_between(sent, e - base, end, ",;:—–"):
        return verb
    return None


def _adverb_en(word: str) -> bool:
    return word in ("yet", "even") or (word.endswith("ly") and len(word) > 4)


_PASSIVE_BE = frozenset("be been being".split())
_IRREGULAR_PARTICIPLES_EN = frozenset(
    "hit hurt struck cut caught shaken shut swept spared bound taken seen held made given brought shown beaten "
    "stung broken torn".split()
)
# Participles whose agent after "by" is what comes with, after or in support, or a cause: negated, it did not happen
# or is denied ("crash not caused by a missile").
_NOT_AGENT_PARTICIPLES = frozenset(
    "followed accompanied preceded matched backed replaced succeeded joined supported met caused triggered sparked "
    "prompted provoked motivated linked".split()
)


def _after_of(toks: list[str], at: int) -> bool:
    """Whether the words from toks[at] follow an "of" within five words, no clause word between ("the anniversary of
    Navalny's arrest"; not "run short of fuel as a ground invasion")."""
    for k in range(at - 1, max(at - 6, -1), -1):
        if toks[k] in _CLAUSE_WORDS_AFTER_OF:
            return False
        if toks[k] == "of":
            return True
    return False


_CLAUSE_WORDS_AFTER_OF = frozenset("as while when until before after because since".split())


def _time_to_come_after(toks: list[str], k: int) -> bool:
    """Whether a time to come (cues.COMMITMENT_TIME_TO_COME, perhaps after "the" or "a") follows the word at toks[k]."""
    nxt = k + 1
    if nxt < len(toks) and toks[nxt] in _ARTICLES:
        nxt += 1
    return nxt < len(toks) and toks[nxt] in COMMITMENT_TIME_TO_COME


_SUBJECT_PRONOUNS = frozenset("he she it they we i you".split())
_AUXILIARIES = frozenset("is are was were has have had will would can could may might must does did do".split())
_PREPOSITIONS_EN = frozenset("of in at for on to with from by into over against about".split())


def _as_opens_clause(toks: list[str], k: int) -> bool:
    """Whether the "as" at toks[k] opens a clause ("as troops push", "as the country votes", "as he meets"), not a
    phrase ("as host of", "as Labour candidate", "as part of", "as a result of"): a subject pronoun after it, or a
    verb within the next words before a preposition (a bare verb only after a plural subject with no article)."""
    n = len(toks)
    if k + 1 >= n:
        return False
    if toks[k + 1] in _SUBJECT_PRONOUNS:
        return True
    indefinite = toks[k + 1] in ("a", "an")
    for j in range(k + 2, min(k + 6, n)):
        w = toks[j]
        if w in _PREPOSITIONS_EN:
            return False
        if w in _AUXILIARIES or (w.endswith("ed") and len(w) > 4):
            return True
        if w.endswith("s") and not w.endswith(("ss", "us", "is")) and j > k + 2:
            return True
        if not indefinite and j == k + 2 and toks[j - 1].endswith("s") and _is_bare_verb_en(w):
            return True  # "as troops push into Gaza"
    return False


# A Russian perfective future that takes the signal's words as its object: "Совфед **рассмотрит** ратификацию
# договора", "Путин **внесёт** в Госдуму договор", "Ратификацию договора **одобрит** Совфед". Before the words: at most
# this many words between, none a verb, a conjunction or a word that opens a clause (_RU_GOVERNS_STOPS), in its
# clause, and the signal's first word can be an accusative. After the words (object first): at most
# _RU_GOVERNS_AFTER words between, and that first word cannot be a nominative (then it would be the subject:
# "договор вступит в силу" is intransitive anyway, "договор обеспечит …" the treaty's subject).
_RU_GOVERNS_GAP = 3
_RU_GOVERNS_AFTER = 2
_RU_GOVERNS_STOPS = frozenset(
    "что чтобы который которая которое которые которого которую но а и или однако если когда после ли не как".split()
)
_RU_GAP_NOT = ("VERB", "INFN", "GRND", "CONJ", "PRTF", "PRTS")


def _governing_future_ru(sent: Sentence, lo: int, hi: int) -> tuple[str, str] | None:
    """A Russian transitive perfective future just before the signal's words (or just after, the object first)
    whose object they are: (the verb, why), or None."""
    toks, base = sent.toks, sent.start
    at, end = lo - base, hi - base
    first = toks[at]
    if not first.isascii() and may_be_case_ru(first, "accs"):
        for v in range(at - 1, max(at - 2 - _RU_GOVERNS_GAP, -1), -1):
            word = toks[v]
            if is_transitive_future_verb_ru(word):
                if any(base + v < b <= lo for b in clause_breaks(sent)) or _comma_between(sent, v, at):
                    return None
                return word, f"{word!r} is a perfective verb in the future whose object is the signal's words"
            if word.isdigit():
                continue  # a count in the object: "вернет России 95 военнопленных" (outside trial 51, L2)
            if word in _RU_GOVERNS_STOPS or word.isascii() or tags_ru(word)[0].startswith(_RU_GAP_NOT):
                break
        if not may_be_case_ru(first, "nomn"):
            for v in range(end + 1, min(end + 2 + _RU_GOVERNS_AFTER, len(toks))):
                word = toks[v]
                if is_transitive_future_verb_ru(word):
                    if any(hi < b <= base + v for b in clause_breaks(sent)) or _comma_between(sent, end, v):
                        return None
                    return word, f"{word!r} is a perfective verb in the future whose object is the signal's words"
                if word in _RU_GOVERNS_STOPS or word.isascii() or tags_ru(word)[0].startswith(_RU_GAP_NOT):
                    break
    return None


def _comma_between(sent: Sentence, a: int, b: int) -> bool:
    """Whether a comma stands between the sentence's tokens a and b (a < b, sentence-relative): "Частицы пламени,
    зажженные у Могилы Неизвестного Солдата, отправят …" (the verb's subject ends at the comma, not its object)."""
    text = sent.text
    marks = [i for i, c in enumerate(text) if c == ","]
    return any(a < k <= b for k in _words_before(text, marks))


def _headline_cause(sent: Sentence, lo: int) -> tuple[str, str] | None:
    """A headline's "to" + a verb that brings its object about (cues.HEADLINE_TO_CAUSES) whose object holds the
    signal's first word (at token lo), at most cues.HEADLINE_OBJECT_GAP words after the verb, with no preposition,
    conjunction or clause break between ("G-7 Export Ban to Trigger Grain Deal Exit"): (words, why), or None."""
    toks, base = sent.toks, sent.start
    at = lo - base
    for v in range(at - 1, max(at - 2 - HEADLINE_OBJECT_GAP, 0), -1):
        if toks[v] in HEADLINE_TO_CAUSES and toks[v - 1] == "to":
            if any(t in HEADLINE_OBJECT_STOPS for t in toks[v + 1 : at]):
                return None
            if v > 1 and toks[v - 2] in HEADLINE_CAUSE_NOT_AFTER:
                return None  # "its attempt to launch a spy satellite (ends in failure)"
            if any(base + v < b <= lo for b in clause_breaks(sent)):
                return None
            if any(t in HEADLINE_TO_EXCEPTIONS or t in HEADLINE_CAUSE_EXCEPTIONS for t in toks[: v - 1]):
                return None  # "signs decree to trigger …": a purpose; "enabled X to launch …": done
            return f"to {toks[v]}", "a headline's 'to' + a verb of causing: what it brings about is still to come"
    return None


_NOT_VERBS = frozenset("the a an its their his her this that these those our your my some all more its".split())


def _after_motion(toks: list[str], to: int) -> bool:
    """Whether the headline's "to" at toks[to] (sentence-relative) follows a verb or noun of going, perhaps with a
    particle between (cues.HEADLINE_TO_MOTION, HEADLINE_TO_PARTICLES): "travels to", "heads back to", "trip to" lead
    to a place, whatever the word after "to" ("Kim travels to launch site")."""
    before = to - 1
    if before >= 0 and toks[before] in HEADLINE_TO_PARTICLES:
        before -= 1
    return before >= 0 and toks[before] in HEADLINE_TO_MOTION


def _place_after(sent: Sentence, at: int) -> bool:
    """Whether token `at` (document-wide), after a word of going's "to" and a word that can be a verb, makes that
    word a noun before a place, at most two words on (cues.HEADLINE_TO_PLACES: "to launch site", "to rocket launch
    pad"). Nothing after it ("Kim heads to launch") or anything else ("heads to sign treaty") leaves the verb a
    purpose (review 25, H2)."""
    if at >= sent.end:
        return False  # "Kim heads to launch": a purpose
    # (a compound's nouns between: "to rocket launch pad")
    return any(t in HEADLINE_TO_PLACES for t in sent.toks[at - sent.start : min(at + 2, sent.end) - sent.start])


def _attributive_hedge(sent: Sentence, s: int, lo: int, hi: int, own: list[Span]) -> str | None:
    """For a hedge adjective at token s among or before the signal's words (lo..hi) (cues.ATTRIBUTIVE_HEDGES): the
    words of the phrase it follows when it qualifies the noun after it, not the event ("fires suspected ballistic
    missile", "launch of a possible ICBM"), else None. That phrase is one of the signal's own, or, when the words
    start after the hedge, any phrase of the sentence (the shortest window may leave the verb out: "fires suspected
    long-range missile into sea in first launch"), and then the words start at most four words after it with no
    comma between; the phrase ends at most three words before it, the words between cues.ATTRIBUTE_BETWEEN or
    numbers, no comma between. The word after it is none of cues.ATTRIBUTE_NOT_BEFORE ("suspected of launching"),
    and no name starts within two words after it ("captured suspected North Korean soldiers": who they are is what
    is hedged)."""
    toks, base = sent.toks, sent.start
    at = s - base
    if s >= hi or toks[at + 1] in ATTRIBUTE_NOT_BEFORE:
        return None
    if any(s < m[0] <= s + 2 for m in sent.mentions):
        return None
    spans = own
    if s < lo:
        if lo - s > 4 or not ATTRIBUTE_NOT_BEFORE.isdisjoint(toks[at + 1 : lo - base]):
            return None
        if _marks_between(sent, at, lo - base, ",;:"):
            return None
        spans = [sp for found in sent.atoms.values() for sp in found]
    for a, b in spans:
        if b < s and s - b <= 3 and all(t in ATTRIBUTE_BETWEEN or t.isdigit() for t in toks[b + 1 - base : at]):
            if _marks_between(sent, b - base, at, ",;:"):
                return None
            return sent.words(a, b)
    return None


def _adverbial_between(sent: Sentence, e: int, lo: int) -> str | None:
    """The word that opens a phrase of its own between a cue ending at token e and the signal's words from token lo:
    one of cues.ADVERBIAL_OPENERS right after a comma or dash, or "amid" / "despite" (cues.ADVERBIAL_OPENERS_BARE)
    anywhere, with no comma or dash after it before the words ("vows to expand arsenal, after launch of new
    missile": "after"; "will visit amid claims of …": "amid"; "will, after months of delay, ratify": None)."""
    toks, base = sent.toks, sent.start
    first, end = e + 1 - base, lo - base
    if ADVERBIAL_OPENERS.isdisjoint(toks[first:end]):
        return None
    text = sent.text
    marks = [i for i, c in enumerate(text) if c in _ADVERBIAL_MARKS]
    starts = _words_before(text, marks)  # a mark stands just before the token of each of these indices
    for k in range(first, end):
        if (
            toks[k] in ADVERBIAL_OPENERS
            and (k in starts or (toks[k] in ADVERBIAL_OPENERS_BARE and not _expectation_after(toks, k, end)))
            and not any(k < c <= end for c in starts)
        ):
            return toks[k]
    return None


def _expectation_after(toks: list[str], k: int, end: int) -> bool:
    """Whether the "amid" / "despite" at toks[k] opens the phrase of a noun of what is wanted or expected
    (cues.ADVERBIAL_EXPECTATION_NOUNS) that holds the signal's words from toks[end] ("despite calls for a truce",
    "amid growing threats of strikes"): not a thing there already. The noun's phrase ends at a word that opens a
    clause or a phrase of its own (cues.EXPECTATION_PHRASE_STOPS: "despite pressure after North Korea fired …",
    "amid talks as Ukraine shelled …", "despite warnings that Russia supplied …") and reaches
    cues.EXPECTATION_PHRASE_WORDS words."""
    for n in range(k + 1, min(end, k + 2 + ADVERBIAL_EXPECTATION_GAP)):
        if toks[n] in ADVERBIAL_EXPECTATION_NOUNS:
            between = toks[n + 1 : end]
            return len(between) <= EXPECTATION_PHRASE_WORDS and EXPECTATION_PHRASE_STOPS.isdisjoint(between)
    return False


_ADVERBIAL_MARKS = ",—–"
# The directions whose cues an adverbial phrase between them and the words stops (_adverbial_between).
_REACH_ADVERBIAL = frozenset({"before", GOAL})


def _headline_to(sent: Sentence, s: int) -> bool:
    """Whether the walk-back starting at token s (document-wide) follows a headline's "to" ("China to retract claim
    …"), not after a verb that makes it a purpose or a complement ("votes to", "refuses to": HEADLINE_TO_EXCEPTIONS)."""
    at = s - sent.start
    toks = sent.toks
    return at > 0 and toks[at - 1] == "to" and not any(t in HEADLINE_TO_EXCEPTIONS for t in toks[: at - 1])


def _reported(sent: Sentence, lo: int, hi: int, s: int) -> bool:
    """Whether the signal's words lo..hi are what was said, for a cue pointing back from token s: a verb of saying
    (cues.REPORTING_VERBS, not a noun before "of": "claims of …") stands before them in their clause ("Kyiv said
    (that) …", "Thorpe alleged …", "is accused of …"; not after "to": "expected him to say …"), the cue stands in a
    later clause (cues.POINT_BACK_LINKS), and no clause of concession, cause or an earlier time opens between the
    verb and the cue (cues.POINT_BACK_STOPS)."""
    toks, base = sent.toks, sent.start
    breaks = clause_breaks(sent)
    between = toks[hi + 1 - base : s - base]
    if (
        not any(hi < b <= s for b in breaks)
        and POINT_BACK_LINKS.isdisjoint(between)
        and RU_POINT_BACK_LINKS.isdisjoint(between)
        and not any(w.startswith(_RU_RELATIVE) for w in between)  # "…, которое позже опровергли"
    ):
        return False
    for i in range(lo - 1, base - 1, -1):
        if any(i < b <= lo for b in breaks):
            return False
        word = toks[i - base]
        if (word in REPORTING_VERBS and (word == "accused" or i + 1 >= sent.end or toks[i + 1 - base] != "of")) or (
            word in RU_REPORTING_VERBS or (word in RU_REPORTING_AFTER_PO and i > base and toks[i - 1 - base] == "по")
        ):
            # "expected him to say …, not deny it": a saying still to come, or refused, reports nothing
            if i > base and toks[i - 1 - base] == "to":
                return False
            return not any(w in POINT_BACK_STOPS or w in RU_POINT_BACK_STOPS for w in toks[i + 1 - base : s - base])
    return False


_RU_RELATIVE = "котор"


def _definite(between: list[str]) -> bool:
    """Whether the words between a walk-back's verb and its word for what was said make it one already named:
    "its earlier report", "the comments"; not "a report", "an earlier statement", or none ("retracts claim")."""
    return any(t in POINT_BACK_DETERMINERS for t in between)


def _names_new(toks: list[str], at: int) -> bool:
    """Whether the words at toks[at] go on to say what the noun before was ("the report **that** …", "the claim
    **of** responsibility", "the comments **about** …"): then it is not what was said before it."""
    return at < len(toks) and toks[at] in DISCLAIMER_NOT_ANAPHORIC_AFTER_EN


def _points_back(toks: list[str], at: int, nouns: frozenset[str] | None) -> bool:
    """Whether the object at toks[at] points back to something said before: a pronoun ("denies it", "retracted
    this"; not a clause's subject: "denies it is doing so"), or a determiner before a noun ("retracted his tweet",
    "denied the allegations"; for a denial one of `nouns`, within two words), not followed by "of", "that", ...."""
    n = len(toks)
    if at >= n:
        return False
    word = toks[at]
    if word in POINT_BACK_PRONOUNS:
        return at + 1 >= n or toks[at + 1] in POINT_BACK_PRONOUN_BEFORE
    if word not in POINT_BACK_DETERMINERS:
        return False
    for j in (at + 1, at + 2):
        if j >= n:
            return False
        if nouns is None or toks[j] in nouns:
            return not _names_new(toks, j + 1)
    return False


# After a noun walk-back's word for what was said, a verb: the noun phrase is the subject ("Retraction of statement
# helped form …", "Withdrawal of the claim was ordered"). An auxiliary, or a verb's past form.
_PREDICATE_STARTS = frozenset(
    "is was were are has had have will would could can may might should must did does led made came sent left took "
    "gave drew brought found saw put set meant kept".split()
)


def _predicate_follows(toks: list[str], at: int) -> bool:
    """Whether toks[at] begins a predicate: an auxiliary or an English verb's past form (_PREDICATE_STARTS, or an
    -ed form of a verb: "helped", "prompted", "sparked")."""
    if at >= len(toks):
        return False
    word = toks[at]
    return word in _PREDICATE_STARTS or (word.endswith("ed") and _is_past_participle_en(word))


def _said_word(toks: list[str], at: int) -> int | None:
    """The index of the word for what was said that a walk-back leads to ("walks back (its earlier) report"):
    cues.WALK_BACK_NOUNS at toks[at], or after up to cues.WALK_BACK_GAP words of cues.WALK_BACK_BETWEEN; else None."""
    for i in range(at, min(at + WALK_BACK_GAP + 1, len(toks))):
        if toks[i] in WALK_BACK_NOUNS:
            return i
        if toks[i] not in WALK_BACK_BETWEEN:
            return None
    return None


def _verb_follows(toks: list[str], at: int) -> bool:
    """Whether toks[at] (or the word after an adverb there: "to quickly send", "to not send") is an English
    verb in its bare form, as after an infinitive's "to": "send", "ratify", "be"; not "a", "truce", "talks"."""
    if at >= len(toks):
        return False
    if _is_bare_verb_en(toks[at]):  # first: "supply", "apply", "rely" end in -ly and are verbs
        return _used_as_verb(toks, at)
    if at + 1 < len(toks) and (toks[at] == "not" or toks[at].endswith("ly")):
        return _is_bare_verb_en(toks[at + 1]) and _used_as_verb(toks, at + 1)
    return False


def _bare_verb_after(toks: list[str], at: int) -> str:
    """The word _verb_follows found a verb in: toks[at], or the one after "not" or an -ly adverb there."""
    if at + 1 < len(toks) and not _is_bare_verb_en(toks[at]) and (toks[at] == "not" or toks[at].endswith("ly")):
        return toks[at + 1]
    return toks[at] if at < len(toks) else ""


def _ing_verb_follows(toks: list[str], at: int) -> bool:
    """Whether toks[at] (or the word after an -ly adverb there: "close to finally agreeing") is an English verb's
    -ing form: "agreeing", "reaching", "extending"; not "the", "a", "ceiling" (no verb's form)."""
    if at < len(toks) and toks[at].endswith("ly") and at + 1 < len(toks):
        at += 1
    if at >= len(toks):
        return False
    word = toks[at]
    if not word.endswith("ing") or len(word) < 5 or not word.isalpha():
        return False
    return any(_is_bare_verb_en(base) for base in word_forms("en", word) if not base.endswith("ing"))


def _passive_infinitive(toks: list[str], to: int) -> bool:
    """Whether "to be" at toks[to] is a passive infinitive after a noun (cues.PASSIVE_TO_BE): a past participle
    follows (perhaps after an -ly adverb), and the words before it are not a report, a complement or a rank."""
    at = to + 2
    if at < len(toks) and toks[at].endswith("ly") and len(toks[at]) > 3:
        at += 1
    if at >= len(toks) or not _is_past_participle_en(toks[at]):
        return False
    if to > 0:
        before = toks[to - 1]
        if before in PASSIVE_TO_BE_NOT_AFTER or before.endswith("ed"):
            return False
    for word in toks[max(0, to - 4) : to]:
        if word in PASSIVE_TO_BE_ORDINALS or _is_superlative_en(word):
            return False
    return True


@lru_cache(maxsize=20_000)
def _is_past_participle_en(word: str) -> bool:
    """A verb's past participle (by the English dictionary's forms): "approved", "sent", "held", "set" (its bare
    form, when the verb has no -ed form); not "fake" (faked is), "fighting", "ratifies", nor a noun."""
    if not word.isalpha() or word.endswith("ing") or (word.endswith("s") and not word.endswith("ss")):
        return False
    forms = word_forms("en", word)
    if len(forms) < 3 or not any(f.endswith("ing") for f in forms):  # (not a verb)
        return False
    if _is_bare_verb_en(word):
        return not any(f.endswith("ed") for f in forms)
    return True


@lru_cache(maxsize=20_000)
def _is_superlative_en(word: str) -> bool:
    """ "largest", "biggest", "latest": an -est word whose comparative is among its forms (not "protest")."""
    return len(word) > 4 and word.endswith("est") and any(f.endswith("er") for f in word_forms("en", word))


_VERB_OBJECT_STARTS = frozenset("a an him her them us me".split())


def _used_as_verb(toks: list[str], at: int) -> bool:
    """Whether the bare verb toks[at] is the verb there: a homograph of cues.NOUN_UNLESS_BEFORE is the noun
    unless one of its verb words follows, perhaps after an -ly adverb ("deal (swiftly) with"), or "a"/"an"/a
    pronoun ("deal a blow"): "agreed to deal terms", "agrees to deal on grain", "agrees to deal" are a deal."""
    verb_words = NOUN_UNLESS_BEFORE.get(toks[at])
    if verb_words is None:
        return True
    n = len(toks)
    if at + 1 >= n:
        return False
    nxt = toks[at + 1]
    if nxt in verb_words or nxt in _VERB_OBJECT_STARTS:
        return True
    return nxt.endswith("ly") and at + 2 < n and toks[at + 2] in verb_words


@lru_cache(maxsize=20_000)
def is_bare_verb_en(word: str) -> bool:
    """Whether `word` is an English verb's bare form (_is_bare_verb_en)."""
    return _is_bare_verb_en(word)


def _is_bare_verb_en(word: str) -> bool:
    """A word whose forms (the English dictionary's) include its own -ing form: "send" (sending), "ratify"
    (ratifying), "exchange" (exchanging), "stop" (stopping), "tie" (tying); not "truce", "ceasefire", nor
    another form of a verb ("talks", "sanctions": no "talksing")."""
    if not word.isalpha() or word in _NOT_VERBS:
        return False
    forms = word_forms("en", word)
    if len(forms) < 3:  # (a noun or a name: the word and its plural)
        return False
    ing = {word + "ing", word + word[-1] + "ing"}
    if word.endswith("e"):
        ing.add(word[:-1] + "ing")
    if word.endswith("ie"):
        ing.add(word[:-2] + "ying")
    return not ing.isdisjoint(forms)


def may_be_not_yet(rules: CompiledRules, sent: Sentence) -> bool:
    """Whether an English sentence holds a lead of an event not yet (_not_yet_event: "plans for", "threat of"),
    which may make a signal of a plain sentence future."""
    return "en" in rules.languages and bool(_word_sets(sent) & _MAY_NOT_YET)


def _may_be_wanted(sent: Sentence) -> bool:
    """Whether the sentence holds a word _wanted_event needs (an event noun, or "to" after a purpose head)."""
    return bool(_word_sets(sent) & _MAY_WANT)


def _owned(sent: Sentence, own: list[Span]) -> set[int]:
    """The sentence-relative indices of the tokens of the signal's own phrases."""
    base, n = sent.start, len(sent.toks)
    return {k - base for a, b in own for k in range(a, b + 1) if 0 <= k - base < n}


def _wanted_event(sent: Sentence, lo: int, hi: int, own: list[Span]) -> tuple[str, str] | None:
    """(the words, why) when one of the signal's own words in lo..hi is an event that is wanted, not reported
    (cues.WANTED_*, PURPOSE_*): "demand the release of", "plea for release of", "await their release", "hostage
    release deal", "talks to release hostages"; else None."""
    if not _may_be_wanted(sent):
        return None  # neither branch below can answer: most sentences read past "plain" for another reading
    toks, base = sent.toks, sent.start
    owned = _owned(sent, own)
    # The cue is the lead and its preposition ("pushes for", "demand", "idea of", "talks to"), as _not_yet_event
    # gives it: the words a pack's `except_cues` names, not the signal's own (outside trial 61, L2: "cue 'pushes for
    # grain deal extension'" hid which word decided).
    for p in range(max(0, lo - base), min(len(toks), hi - base + 1)):
        if p not in owned:
            continue
        word = toks[p]
        if word in WANTED_EVENT_NOUNS:
            if p + 1 < len(toks) and toks[p + 1] in WANTED_HEADS and p + 1 not in owned:
                if not _marks_between(sent, p, p + 1, ",;:"):
                    words = f"{word} {toks[p + 1]}"
                    return words, f"{words!r}: the event qualifies the {toks[p + 1]} it is the object of, still to come"
            j = _wanted_lead(toks, p, owned)
            if j < 0 or _marks_between(sent, j, p, ",;:"):
                continue
            if any(
                toks[k] in WANTED_DONE_RELATIVES and toks[k + 1] in WANTED_DONE_VERBS
                for k in range(p + 1, min(len(toks) - 1, p + 1 + WANTED_DONE_GAP))
            ):
                continue  # "agreed to a prisoner exchange last week, which took place on Monday": it happened
            if (
                toks[j] in WANTED_OBJECT_LEADS
                and not (j > 0 and toks[j - 1] in WANTED_NOT_AFTER.get(toks[j], ()))
                and (toks[j] not in WANTED_DISCUSS or word in WANTED_DISCUSSED_NOUNS)
            ):
                words = toks[j]
                return words, f"{words!r}: the event is what is asked for or awaited, still to come"
            if j > 0 and toks[j] in NOT_YET_ON and toks[j - 1] in NOT_YET_ON_LEADS:
                # "Talks on grain deal extension end without agreement" (outside trial 61, H4)
                words = " ".join(toks[j - 1 : j + 1])
                return words, f"{words!r}: the event is what the talks are on, still to come"
            if j > 0 and (
                (toks[j] == "of" and toks[j - 1] in WANTED_OF_LEADS)
                or (
                    toks[j] in WANTED_AGREED_PREPOSITIONS
                    and toks[j - 1] in AGREE_FORMS
                    and word not in WANTED_NOT_AGREED
                )
            ):
                # "the idea of a prisoner exchange", "agreed on a swap": proposed or agreed, still to come
                words = " ".join(toks[j - 1 : j + 1])
                return words, f"{words!r}: the event is what is proposed or agreed, still to come"
            if toks[j] == "for":
                # "rally for the release", "Thousands Rally in Ottawa for the Release of Hostages"
                for k in range(j - 1, max(-1, j - 1 - WANTED_FOR_GAP), -1):
                    if toks[k] in WANTED_FOR_LEADS and not _marks_between(sent, k, j, ",;:"):
                        words = " ".join(toks[k : j + 1])
                        return words, f"{words!r}: the event is what is asked for or awaited, still to come"
        t = p - 2 if p >= 2 and toks[p - 1] == PURPOSE_HELP else p - 1
        if (
            t >= 1
            and toks[t] == "to"
            and toks[t - 1] in PURPOSE_HEADS
            and t - 1 not in owned  # "agree a deal to sign X": the deal is the signal's own, the signing its terms
            and not (toks[t - 1] in PURPOSE_DONE_HEADS and word in AGREED_DONE_VERBS)
            and not _marks_between(sent, t - 1, p, ",;:")
        ):
            words = " ".join(toks[t - 1 : t + 1])
            return words, f"{words!r}: a purpose infinitive, what the {toks[t - 1]} is for, still to come"
    return None


def _not_yet_event(sent: Sentence, lo: int, hi: int, own: list[Span]) -> tuple[str, str] | None:
    """(the words, why) when the signal's words in lo..hi are the object of a plan, a threat, a demand, talks or a
    preparation (cues.NOT_YET_*): "plans for military intervention", "threat of military action", "demand French
    troops leave", "weighs troop withdrawal"; else None."""
    toks, base = sent.toks, sent.start
    # a lead stands at most WANTED_GAP + 1 words before the first of the signal's words (most signals: none there)
    if not _word_sets(sent) & _MAY_NOT_YET or NOT_YET_LEADS.isdisjoint(
        toks[max(0, lo - base - WANTED_GAP - 2) : hi - base + 1]
    ):
        return None
    owned = _owned(sent, own)
    named = {k - base for m in sent.mentions for k in range(m[0], m[1] + 1)}
    first = next((p for p in range(max(0, lo - base), min(len(toks), hi - base + 1)) if p in owned), None)
    if first is None:
        return None
    # the lead: past modifiers, the signal's own words and the sentence's names ("demand French troops leave")
    j = first - 1
    while j >= 0 and first - j <= WANTED_GAP and (toks[j] in WANTED_MODIFIERS or j in owned or j in named):
        j -= 1
    if j < 0 or first - j > WANTED_GAP or j in owned or _marks_between(sent, j, first, ",;:"):
        return None
    word = toks[j]
    lead = -1
    # a gerund right after discuss or "talks on": the act discussed ("push for gambling reform": not "gambling")
    gerund = (
        toks[first].endswith("ing")
        and first == j + 1
        and (word in NOT_YET_DISCUSS or (word in NOT_YET_ON and j > 0 and toks[j - 1] in NOT_YET_ON_LEADS))
    )
    if word in NOT_YET_OBJECT_LEADS or (word in NOT_YET_DISCUSS and gerund):
        lead = j
        if word in NOT_YET_DEMAND and not _demand_verb(toks, j):
            return None  # "as demand slows", "mortgage demand falls": the noun
    elif j > 0:
        before = toks[j - 1]
        if (
            (word == "for" and before in NOT_YET_FOR_LEADS)
            or (word == "of" and before in NOT_YET_OF_LEADS)
            or (word in NOT_YET_ON and before in NOT_YET_ON_LEADS)
        ):
            lead = j - 1
    if lead < 0 or lead in owned:
        return None
    last = first
    while (
        last + 1 < len(toks)
        and (last + 1 in owned or last + 1 in named)
        and not _marks_between(sent, last, last + 1, ",;:")
    ):
        last += 1
    nxt = last + 1
    # (a gerund right after the lead heads its own phrase: "talks on extending Ukraine's grain-export deal")
    if not gerund and not (
        nxt >= len(toks)
        or _marks_between(sent, last, nxt, ",;:—–")
        or toks[nxt] in NOT_YET_HEAD_NEXT
        or toks[nxt] in _AUXILIARIES
        or (toks[nxt].endswith("ly") and len(toks[nxt]) > 3)
    ):
        return None  # "deadline for Niger's coup leaders": the words qualify another noun, the lead's object
    if word == "for" and nxt < len(toks) and toks[nxt] == "to" and not any(k > nxt for k in owned):
        return None  # "calls for Santos to resign": the subject of the infinitive, what is asked is its verb
    if any(
        toks[k] in WANTED_DONE_RELATIVES and toks[k + 1] in WANTED_DONE_VERBS
        for k in range(first + 1, min(len(toks) - 1, first + 1 + WANTED_DONE_GAP))
    ):
        return None  # "plans for the intervention, which took place in March": it happened
    # the cue is the lead and its preposition ("threat of", "plans for", "weighs"): the words a pack's
    # `except_cues` names
    words = " ".join(toks[lead : j + 1])
    return words, f"{words!r}: the event is what is planned, threatened, demanded or weighed, still to come"


def _demand_verb(toks: list[str], j: int) -> bool:
    """Whether "demand(s)" at toks[j] is a verb: after "to", a modal or a pronoun (cues.NOT_YET_DEMAND_AFTER), or
    after a word that is no determiner, preposition or auxiliary, one that looks plural before "demand"."""
    if j == 0:
        return False
    before = toks[j - 1]
    if before in NOT_YET_DEMAND_AFTER:
        return True
    if before in NOT_YET_DEMAND_NOT_AFTER or before in WANTED_MODIFIERS or before in _PREPOSITIONS_EN:
        return False
    # "Union demands pay rise" (a singular subject before the verb "demands"); "Protesters demand"
    return toks[j] == "demands" or before.endswith("s")


def _wanted_lead(toks: list[str], p: int, owned: set[int]) -> int:
    """The index of the word that may lead to the event noun at toks[p] (_wanted_event): past at most
    cues.WANTED_GAP modifiers or the signal's own words, and past "and" / "or" after a first object of
    cues.WANTED_JOINED_NOUNS ("discussed a ceasefire and a prisoner exchange"); -1 when none."""
    stops = ("for", "of", *WANTED_AGREED_PREPOSITIONS)
    j, gap, joined, qualifier = p - 1, WANTED_GAP, False, False
    while j >= 0 and p - j <= gap and toks[j] not in WANTED_OBJECT_LEADS and toks[j] not in stops:
        word = toks[j]
        if word in WANTED_MODIFIERS or j in owned or (joined and word in WANTED_JOINED_NOUNS):
            pass
        elif word in ("and", "or") and not joined and j > 0 and toks[j - 1] in WANTED_JOINED_NOUNS:
            joined, gap = True, p - j + WANTED_JOINED_GAP
        elif joined and not qualifier and toks[j + 1] in WANTED_JOINED_NOUNS:
            qualifier = True  # "a Christmas truce and exchange"
        else:
            return -1
        j -= 1
    if joined and p + 1 < len(toks) and toks[p + 1] not in WANTED_JOINED_NEXT:
        return -1  # "demanded a ceasefire and the swap went ahead": a clause of its own (the comma: the caller)
    return j if j >= 0 and p - j <= gap else -1


def _weekday_days(pub: date, name: str, last: bool) -> int:
    """How many days before `pub` the weekday `name` was (0: that day itself, or 7 after "last")."""
    days = (pub.weekday() - RECAP_WEEKDAYS_EN.index(name)) % 7
    return 7 if last and days == 0 else days


_MONTH_ORDER = "january february march april may june july august september october november december".split()


def _month_number(word: str) -> int | None:
    """The month a name ("december") or an abbreviation ("dec") names, 1-12; else None."""
    if word in _MONTH_ORDER:
        return _MONTH_ORDER.index(word) + 1
    return RECAP_MONTH_ABBREVIATIONS_EN.get(word)


def _date_days(pub: date, month: int, day: int) -> int | None:
    """How many days before `pub` the day `day` of `month` was (in pub's year, or the year before)."""
    try:
        when = date(pub.year, month, day)
        if when > pub:
            when = date(pub.year - 1, month, day)
    except ValueError:
        return None
    return (pub - when).days


def _fronted_time_days(toks: list[str], c: int, pub: date) -> tuple[str, int] | None:
    """(the words, days before `pub`) of a past time that ends a fronted phrase just before token c: "on Friday",
    "last Friday", "last week", "on December 1", "on 1 December"; else None."""
    a, b = (toks[c - 2], toks[c - 1]) if c >= 2 else ("", "")
    if a == "on" and b in RECAP_WEEKDAYS_EN:
        return f"on {b}", _weekday_days(pub, b, last=False)
    if a == "last" and b in RECAP_WEEKDAYS_EN:
        return f"last {b}", _weekday_days(pub, b, last=True)
    if a == "last" and b in RECAP_LAST_UNITS_EN:
        return f"last {b}", 7
    if c >= 3 and toks[c - 3] == "on":
        month, day = _month_number(a), b
        if month is None:
            month, day = _month_number(b), a
        if month is not None and day.isdigit() and len(day) <= 2:
            days = _date_days(pub, month, int(day))
            if days is not None:
                return f"on {a} {b}", days
    return None


def _dated_recap(sent: Sentence, lo: int, hi: int, own: list[Span], published: date) -> tuple[str, str, int] | None:
    """(the words, why, the token the recap's lead starts at) when the signal's words are dated before the document
    (cues.RECAP_YEAR_*, RECAP_FRONTED_*): "in a 2011 prisoner swap", "freed in 2011" in a 2023 report; "After the
    collapse of the truce on Friday, …" read on Monday; else None."""
    toks, base = sent.toks, sent.start
    at, end = lo - base, hi - base
    # The clause breaks and the owned tokens only once a year is found near the words (most signals: none).
    owned: set[int] | None = None
    for k in range(max(1, at - RECAP_YEAR_GAP - 1), min(len(toks), end + 3)):
        if not _is_year(toks[k]) or int(toks[k]) >= published.year:
            continue
        if toks[k - 1] == "in":
            first = k - 1
        elif toks[k - 1] in RECAP_YEAR_ARTICLES and k >= 2 and toks[k - 2] == "in" and k <= end:
            first = k - 2
        else:
            continue
        ends = k + 1 >= len(toks) or toks[k + 1] in RECAP_YEAR_AFTER_NEXT or _marks_between(sent, k, k + 1, ",;:")
        if k > end and (first != end + 1 or not ends):
            continue  # after the words only "in 2011" right after them, ending its phrase ("arrested in 2001 killing")
        if at <= k <= end:
            if owned is None:
                owned = _owned(sent, own)
            if end - k > RECAP_YEAR_INSIDE or (k < end and k + 1 not in owned):
                continue  # "suspect in 1984 Florida killing arrested": the year dates another noun than the words'
        if k < at and not _AUX_EN.isdisjoint(toks[k + 1 : at]):
            continue  # "a refugee in 2015 has won an election": the year ends its phrase, the clause goes on
        if k < at - 1 and first == k - 1 and toks[k + 1] not in RECAP_YEAR_AFTER_NEXT:
            continue  # "suspect in 1984 killing arrested": a bare year dates the noun after it (not "in a 2014 coup")
        a, b = (first, at) if first < at else (end, first)
        breaks = clause_breaks(sent)
        if a != b and (_marks_between(sent, a, b, ",;:") or any(base + a < x <= base + b for x in breaks)):
            continue
        words = " ".join(toks[first : k + 1])
        why = f"{words!r}: the words are dated to a year before the document's ({published.year})"
        return words, why, base + first
    if len(toks) > 2 and toks[0] in RECAP_FRONTED_OPENERS and toks[1] in RECAP_YEAR_ARTICLES:
        commas = [i for i, ch in enumerate(sent.text) if ch == ","]
        at_commas = [k for k in _words_before(sent.text, commas) if k > 0]
        if not at_commas:
            return None
        c = at_commas[0]
        if c > RECAP_FRONTED_WORDS or end >= c or not RECAP_FRONTED_NOT.isdisjoint(toks[1:c]):
            return None
        found = _fronted_time_days(toks, c, published)
        if found is None or found[1] < RECAP_FRONTED_DAYS:
            return None
        words = f"{toks[0]} … {found[0]},"
        why = f"{words!r}: a fronted phrase dates the words {found[1]} days before the document"
        return words, why, base
    return None


def _may_be_wanted_or_dated(sent: Sentence) -> bool:
    """Whether an English sentence holds a word that _wanted_event or _dated_recap needs."""
    return _may_be_wanted(sent) or any(_is_year(t) for t in sent.toks)
