"""Built-in modality cues per language: the words that make a reader hear a report as not (yet) a fact.

Each list is a class (negated, conditional, future, hedged; denials such as "dismissed" and "опроверг"
are negations) and a direction: `before` cues govern the words after them ("will sign"), `after` cues
the words before them ("sign ... in the coming weeks", "..., calling them fake"). `neutral` phrases
cancel a cue they overlap ("soon after" is not a future, "не только" not a negation).

Built-in cues match as written (`*` ends a prefix, as in rule phrases), so their meaning does not
depend on a pack's morphology setting. A pack adds its own (docs/rules.md, "Modality").
"""

from __future__ import annotations

CLASSES = ("negated", "conditional", "future", "hedged")
# The strongest class wins when several cues govern the same words.
CUE_PRIORITY = {"negated": 0, "conditional": 1, "future": 2, "hedged": 3}
NEUTRAL = "neutral"

CueTable = dict[str, dict[str, list[str]]]  # direction -> class -> phrases

_EN: CueTable = {
    "before": {
        "negated": [
            "not",
            "no",
            "never",
            "without",
            "neither",
            "nor",
            "no evidence",
            "no sign of",
            "no signs of",
            "no proof",
            "false",
            "ruled out",
            "rules out",
            "ruling out",
            # denials and dismissals
            "deny",
            "denies",
            "denied",
            "denying",
            "denial",
            "dismissed",
            "dismisses",
            "dismissing",
            "rejected",
            "rejects",
            "rejecting",
            "refuted",
            "refutes",
            "refused to confirm",
            "refuses to confirm",
            "refusing to confirm",
            "declined to confirm",
            "declines to confirm",
            "declining to confirm",
            # refusals and failures: the verb after them did not happen ("refused to approve the truce",
            # headlines "refuses to approve truce", "fails to agree truce"). "declined to" only before a verb
            # (VERB_ONLY_TO: "prices declined to their lowest level" is a fall).
            "refuse to",
            "refuses to",
            "refused to",
            "refusing to",
            "refusal to",
            "fail to",
            "fails to",
            "failed to",
            "failing to",
            "failure to",
            "decline to",
            "declines to",
            "declined to",
            "declining to",
            "debunk*",
            "fake",
            "fabricat*",
            "baseless",
            "groundless",
            "untrue",
        ],
        "conditional": [
            "if",
            "once",
            "unless",
            "in case",
            "provided that",
            "whether",
            "would",
            "stipulat*",
            "in the event",
            "as soon as",
            "on condition",
            "conditional on",
            "depending on",
        ],
        "future": [
            "will",
            "shall",
            "set to",
            "ready to",
            "poised to",
            "about to",
            "preparing to",
            "prepares to",
            "prepare to",
            "expected to",
            "plan to",
            "plans to",
            "planned to",
            "planning to",
            "intend*",
            "aims to",
            "aim to",
            "going to",
            "must",
            "need to",
            "needs to",
            "has to",
            "have to",
            "should",
            "could soon",
            "upcoming",
            "forthcoming",
            "scheduled to",
            "slated to",
            "due to be",
            "is to",
            "are to",
            "agreed to",
            "agrees to",
            "pledged to",
            "pledges to",
            "vowed to",
            "vows to",
            "promised to",
            "promises to",
            "threatened to",
            "threatens to",
            "seeks to",
            "seeking to",
            "hopes to",
            "wants to",
        ],
        "hedged": [
            "could",
            "might",
            "may",
            "appear",
            "appears",
            "appeared",
            "appearing",
            "seem*",
            "possibl*",
            "likely",
            "probably",
            "perhaps",
            "believed to",
            "suspected",
            "unconfirmed",
            "allegedly",
            "purportedly",
            "supposedly",
            "speculat*",
            "rumor*",
            "rumour*",
            "unverified",
            "potential*",
            "reportedly preparing",
            "unclear whether",
            "not clear whether",
            "unclear if",
        ],
    },
    "after": {
        "future": [
            "soon",
            "shortly",
            "next week",
            "next month",
            "next year",
            "later this week",
            "later this month",
            "later this year",
            "in the coming days",
            "in the coming weeks",
            "in the coming months",
            "in coming days",
            "in coming weeks",
            "in coming months",
            "in the near future",
            "tomorrow",
            "by the end of the year",
        ],
        "negated": [
            "denied",
            "denies",
            "dismissed",
            "rejected",
            "calling them fake",
            "calling it fake",
            "calling the reports fake",
            "called them fake",
            "called it fake",
            "as fake",
            "as false",
            "as baseless",
            "as groundless",
            "was false",
            "were false",
            "is false",
            "are false",
        ],
        "hedged": [
            "could not be independently verified",
            "could not be verified",
            "not independently verified",
            "cannot be verified",
            "could not be confirmed",
            "not been confirmed",
            "unconfirmed",
            "unverified",
        ],
    },
    "neutral": {
        NEUTRAL: [
            "soon after",
            "soon afterwards",
            "not only",
            "no doubt",
            "no longer",
            "not least",
            "whether or not",
            "no matter",
            # no comment is not a refusal of what follows ("declined to comment on reports that troops
            # crossed": as asserted as before "refused to" was a cue)
            "refuse to comment",
            "refuses to comment",
            "refused to comment",
            "refusing to comment",
            "decline to comment",
            "declines to comment",
            "declined to comment",
            "declining to comment",
        ]
    },
}

_RU: CueTable = {
    "before": {
        "negated": [
            "не",
            "нет",
            "ни",
            "никогда",
            "без",
            "ничего",
            # отрицание, опровержение
            "опроверг*",
            "опроверж*",
            "отрица*",
            "отверг*",
            "фейк*",
            "ложн*",
            "дезинформац*",
            "выдумк*",
            "вымысел",
            "голословн*",
            # отказ: "отказался подписать", "отказывается подписать", "отказавшись подписать"
            "отказался",
            "отказалась",
            "отказались",
            "отказалось",
            "отказывается",
            "отказываются",
            "отказывался",
            "отказывалась",
            "отказывались",
            "откажется",
            "откажутся",
            "отказавшись",
        ],
        "conditional": ["если", "в случае", "при условии", "бы", "ли", "как только", "в зависимости от"],
        "future": [
            "будет",
            "будут",
            "буду",
            "будем",
            "планир*",
            "намерен*",
            "собирается",
            "собираются",
            "собирался",
            "собиралась",
            "собирались",
            "готов",
            "готова",
            "готовы",
            "готовится",
            "готовятся",
            "предстоит",
            "ожидается",
            "ожидают",
            "ожидает",
            "должен",
            "должна",
            "должно",
            "должны",
            "намечен*",
            "запланирован*",
            "предполагается",
            "вскоре",
            "в ближайшее время",
            "в ближайшие дни",
            "в ближайшие недели",
            "в ближайшие месяцы",
            "в перспективе",
        ],
        "hedged": [
            "может",
            "могут",
            "мог",
            "могла",
            "могли",
            "могло",
            "возможн*",
            "вероятн*",
            "якобы",
            "предположительн*",
            "неподтвержд*",
            "по неподтвержденным данным",
            "по слухам",
            "слух*",
            "не исключ*",
            "видимо",
            "по видимому",
            "судя по всему",
            "кажется",
            "похоже",
        ],
    },
    "after": {
        "future": [
            "вскоре",
            "в ближайшее время",
            "в ближайшие дни",
            "в ближайшие недели",
            "в ближайшие месяцы",
            "на следующей неделе",
            "в следующем месяце",
            "в следующем году",
            "до конца года",
            "завтра",
        ],
        # Only the denial constructions: verbs of denial and "назвали фейком". Not a prefix such as "отрица*"
        # or "фейк*", which read nouns and adjectives after the words ("закон о фейках об армии", "несмотря на
        # отрицательный отзыв") as denials of them.
        "negated": [
            "опроверг",
            "опровергла",
            "опровергли",
            "опровергло",
            "опровергает",
            "опровергают",
            "опровергнул*",
            "отрицает",
            "отрицают",
            "отрицал",
            "отрицала",
            "отрицали",
            "отрицало",
            "отверг",
            "отвергла",
            "отвергли",
            "отвергло",
            "отвергает",
            "отвергают",
            "назвал* фейк*",
            "назвав фейк*",
            "назвал* ложн*",
            "назвав ложн*",
            "оказал* фейк*",  # "сообщения о том, что …, оказались фейком"
            "оказал* ложн*",
        ],
        "hedged": ["не подтвержд*", "не удалось подтвердить", "не удалось проверить", "неподтвержд*"],
    },
    "neutral": {
        NEUTRAL: [
            "не только",
            "не менее",
            "не раз",
            "не ранее",
            "не позднее",
            "вне зависимости от",
            "ни один",
            # "отказался от комментариев": no comment, not a refusal of what follows
            "отказ* комментир*",
            "отказ* от комментари*",
        ]
    },
}

BUILTIN: dict[str, CueTable] = {"en": _EN, "ru": _RU}

# English cues "VERB to" whose verb also takes a noun after "to": "agreed to send troops" is a future,
# "agreed to a truce" an agreement made; "declined to approve" a refusal (negated), "declined to their lowest
# level" a fall. Such a cue (its first word one of these, then "to") applies only when a verb in its bare
# form follows, after at most one adverb ("agreed to quickly send").
VERB_ONLY_TO = frozenset(
    "agree agrees agreed agreeing pledge pledges pledged pledging promise promises promised promising "
    "decline declines declined declining".split()
)

# Noun/verb homographs that after such a cue are the noun unless a use of the verb follows: "agreed to deal
# terms", "agrees to deal on grain" (headlines drop the article) report a deal; "agreed to deal with the
# backlog" is a future. The word -> the words after it that make it the verb, also after an -ly adverb
# ("deal swiftly with"); "a"/"an" or a pronoun after it make it the verb too ("deal a blow"). In a year of
# English news "to deal" is "to deal with" 195 times in 210. Not "plan": it takes its object bare ("to plan
# attacks", "to plan changes to the Cabinet"), so "agreed to plan changes" cannot be told from the noun.
NOUN_UNLESS_BEFORE: dict[str, frozenset[str]] = {"deal": frozenset({"with"})}

# Russian denial nouns are a sentence's topic, not a denial, after a preposition: "закон о фейках", "штраф за
# фейки", "борьба с дезинформацией". A one-word negation cue of these stems is ignored right after one of these.
RU_TOPIC_STEMS = ("фейк", "ложн", "дезинформац", "выдумк", "вымыс", "опроверж", "отрица")
RU_TOPIC_PREPOSITIONS = frozenset("о об обо про за против с со по от для".split())

# English headlines write the future as "X to VERB" ("Moscow and Pyongyang to exchange instruments").
# In a title, a "to" among the signal's words followed by something that can be a verb reads as a
# future, unless a verb before it makes it a purpose or a complement ("votes to ratify", "signs law
# to ratify", "sends troops to fight").
HEADLINE_TO_EXCEPTIONS = frozenset(
    "vote votes voted law laws bill bills decree decrees order orders ordered sign signs signed "
    "agree agrees agreed decide decides decided begin begins began start starts started continue continues "
    "continued fail fails failed refuse refuses refused sends sent dispatches dispatched deploys deployed "
    "uses used helps helped urges urged calls called asks asked wants tries tried".split()
)
HEADLINE_LANGUAGES = frozenset({"en"})

# Backwards compatible view: the English cues that stand before the words they govern (v1's DEFAULT_CUES).
DEFAULT_CUES: dict[str, list[str]] = _EN["before"]


def builtin_cues(language: str) -> CueTable:
    return BUILTIN.get(language, {})
