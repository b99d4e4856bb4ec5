"""Built-in modality cues per language: the words that make a reader hear a report as not (yet) a fact.

Each list is a class (negated, conditional, future, hedged; denials such as "dismissed" and "опроверг"
are negations) and a direction: `before` cues govern the words after them ("will sign"), `after` cues
the words before them ("sign ... in the coming weeks", "..., calling them fake"). `neutral` phrases
cancel a cue they overlap ("soon after" is not a future, "не только" not a negation).

Five more directions are read by modality.read_cues, each from a table made by a function below:
- `disclaimer`: a verification disclaimer's predicate ("could not be independently verified", "не удалось
  проверить"). Next to an anaphor that points back ("but **this** could not be verified", "**which** Reuters
  could not verify", "однако **эту информацию** не удалось проверить") it hedges every word before it in its
  sentence, across clause breaks; without one it is no cue (those that also stand in the `after` list act
  as that plain after-cue);
- `appeal`: "the importance of", "the need for", "called for", "urged" are a cue only before an -ing verb
  ("stressed the importance of renewing the deal"), which alone they govern, as "close to" does;
- `goal`: a verb of persuasion, request or directive ("urged", "called on", "ordered", "told", "призвал"; Russian
  wishes, proposals, threats and promises too: "хочет", "предложил", "пригрозил") is a cue only when "X to VERB"
  follows (Russian: X and an infinitive); it then governs the verb after "to", not X nor the words before;
- `object`: an accusation (hedged: "accused", "allegations", "обвинил") or a warning (future: "warns",
  "предостерег") is a cue only before its object ("accused X **of** …", "allegations **that** …", "warns X
  **against** …", "обвинил X **в** …"), which alone it governs (modality._object_frame, _object_end);
- `predicate`: a predicate that says whether an event happened ("did not take place", "was postponed", "may take
  place", "will take place"; "не состоялся", "так и не произошла", "отложена", "может состояться", "состоится"). It
  governs the words before it only when they are its subject: a noun phrase with no verb of its own, no verb or
  clause word between it and the predicate, not a preposition's object ("Обмен пленными между Россией и Украиной
  **не состоялся**", "Russia's ratification of the treaty **was postponed**"; modality._predicate_subject).

Built-in cues match as written (`*` ends a prefix, as in rule phrases), so their meaning does not
depend on a pack's morphology setting. A pack adds its own (docs/rules.md, "Modality").
"""

from __future__ import annotations

CLASSES = ("negated", "conditional", "future", "hedged")
# The strongest class wins when several cues govern the same words.
CUE_PRIORITY = {"negated": 0, "conditional": 1, "future": 2, "hedged": 3}
NEUTRAL = "neutral"
APPEAL = "appeal"  # the direction of appeals before an -ing verb (the `appeal` table)
PREDICATE = "predicate"  # the direction of a predicate after its subject (the `predicate` tables)

CueTable = dict[str, dict[str, list[str]]]  # direction -> class -> phrases


def _en_disclaimers() -> list[str]:
    """The predicates of an English verification disclaimer: "(this) could not be independently verified",
    "(which Reuters) could not immediately verify", "(Reuters) has not independently verified (the claim)",
    "(the claim) remains unverified". Their anaphor is read by modality.read_cues (DISCLAIMER_*_EN)."""
    done = ("verified", "confirmed", "corroborated")
    bare = ("verify", "confirm", "corroborate")
    adverbs = ("", "independently ", "immediately ")
    out: list[str] = []
    for modal in ("could not", "cannot", "can not", "ca not", "could not yet"):  # "can't": "ca not"
        for pp in done:
            out += [f"{modal} be {adv}{pp}" for adv in adverbs]
            out += [f"{modal} {adv}be {pp}" for adv in adverbs if adv]
            out.append(f"{modal} be {pp} independently")
    for aux in (
        "has not been",
        "have not been",
        "had not been",
        "has not yet been",
        "have not yet been",
        "has yet to be",
        "have yet to be",
        "was not",
        "were not",
        "is not",
        "are not",
        "has not",  # "Reuters has not independently verified the claim"
        "have not",
        "had not",
    ):
        out += [f"{aux} {adv}{pp}" for pp in done for adv in adverbs]
    for aux in (
        "could not",
        "cannot",
        "can not",
        "ca not",
        "could not yet",
        "did not",
        "was not able to",
        "were not able to",
        "has not been able to",
        "have not been able to",
        "was unable to",
        "were unable to",
        "is unable to",
        "are unable to",
        "has been unable to",
        "have been unable to",
    ):
        out += [f"{aux} {adv}{verb}" for verb in bare for adv in adverbs]
    for be in ("is", "was", "are", "were", "remains", "remain", "remained", "is still", "remains still"):
        out += [f"{be} unverified", f"{be} unconfirmed"]
    return out


def _en_walk_backs() -> list[str]:
    """English walk-backs, negations before the words they govern: what is retracted, withdrawn, walked back or
    corrected is denied ("Kyiv retracts claim troops were killed", "walks back report that …", "withdrew its
    earlier statement that …"). "retract", "recant", "backtrack on" and "no longer says" alone ("backtracks on plan
    to send troops": the sending is off); the verbs of WALK_BACK_SAID only before a word for what was said."""
    out = [" ".join(key) for key in sorted(WALK_BACK_SAID)]
    out += [f"{v} on" for v in ("backtrack", "backtracks", "backtracked", "backtracking")]
    out += "retract retracts retracted retracting recant recants recanted recanting".split()
    out += [f"no longer {v}" for v in ("says", "say", "said", "claims", "claim", "believes", "maintains")]
    out += [f"no longer {v} by" for v in ("stands", "stand", "stood")]
    return out


# Walk-backs that are a cue only before a word for what was said (WALK_BACK_NOUNS), perhaps after a determiner
# and "earlier" (WALK_BACK_BETWEEN, at most WALK_BACK_GAP words): "walks back report that …", "withdrew its earlier
# claim", "corrected an earlier report"; not "walks back to her crease", "withdrew troops", "took back the village".
# Not "correct": "that is correct, the report says …" (a comma is not among the words). "retraction" only before
# "of": alone it is also a shrinking ("an economic retraction in 2023"). The cue then spans the noun
# (modality.read_cues), so its scope counts from there.
WALK_BACK_SAID = frozenset(
    tuple(v.split())
    for v in (
        "walk back,walks back,walked back,walking back,withdraw,withdraws,withdrew,withdrawn,withdrawing,"
        "withdrawal of,take back,takes back,took back,taken back,taking back,corrects,corrected,correcting,"
        "correction of,retraction of"
    ).split(",")
)
WALK_BACK_NOUNS = frozenset(
    "claim claims report reports statement statements allegation allegations assertion assertions story stories "
    "comments remarks account accounts".split()
)
WALK_BACK_BETWEEN = frozenset("a an the its their his her this that these those earlier previous initial".split())
WALK_BACK_GAP = 3
# A walk-back governs what was taken back, not the events named after it: "Seoul retracts evacuation order after
# failed North Korean satellite launch" (the launch happened). Its reach ends at one of these words.
WALK_BACK_STOPS = frozenset(
    "after amid following despite as because while when since before during".split()
    # What a claim of responsibility, credit or a role takes back is the claimant's part, not the event: "walked
    # back its earlier claim of responsibility for the attacks" (the attacks happened).
    + "responsibility credit blame role involvement".split()
)
# "retraction of", "withdrawal of", "correction of": a walk-back that is a noun. Before a verb ("Retraction of
# statement helped form the basis of the indictment") it is the sentence's subject, and what follows its word for
# what was said is the predicate, not the claim taken back: no cue (modality.read_cues, _predicate_follows).
WALK_BACK_NOMINAL = frozenset({"retraction", "withdrawal", "correction"})
# A walk-back (or a denial, LATER_DENIALS) after the claim, in a later clause, with an object that points back
# ("…, but later retracted his tweet", "… - before withdrawing the comments", "…; Kyiv denies it") governs the
# words a verb of saying before the claim introduces ("said that …", "alleged …"; REPORTING_VERBS): in the clause
# of that verb, from it to the cue. The object is an anaphor (POINT_BACK_PRONOUNS, not the subject of a clause:
# "denies it is doing so") or a determiner of POINT_BACK_DETERMINERS before a noun (for a denial, one of
# POINT_BACK_NOUNS); "a report that …", "the report of …" name something new.
LATER_DENIALS = frozenset(
    "denied denies deny denying rejected rejects rejecting dismissed dismisses dismissing refuted refutes".split()
)
REPORTING_VERBS = frozenset(
    "said says say claimed claims claim alleged alleges allege reported reports announced announces stated "
    "states tweeted tweets wrote writes insisted insists suggested suggests accused".split()
)  # (not "claims of", "reports of": the nouns; modality._reported)
POINT_BACK_PRONOUNS = frozenset("it this them".split())
# ... a pronoun only at the end or before one of these ("Kyiv denies it.", "denied it outright"; not "deny them
# their rights", "denies it is doing so").
POINT_BACK_PRONOUN_BEFORE = frozenset(
    "and but as in on at altogether outright strongly flatly categorically vehemently repeatedly publicly "
    "entirely completely later too though however while saying calling".split()
)
# Not from a clause of concession, cause, condition or an earlier time between the claim and the cue: "…
# confident of a yes vote in the referendum, despite many speakers at the rallies publicly rejecting it" (it is
# the proposal), "… said the commitments address the concerns, but the deal is in jeopardy after regulators
# rejected it" (the deal).
POINT_BACK_STOPS = frozenset("despite amid although though because if unless whether after when since".split())
# ... and the cue stands in a clause of its own, after a clause break or one of these: "…, but later retracted his
# tweet", "… - before withdrawing the comments", "…, which rejected the accusation"; not "Russian media says the
# journalist denied the charge" (the journalist is the denial's subject, not what was said).
POINT_BACK_LINKS = frozenset("but and then before as while which who yet".split())
# "calls coup reports fake", "called the claims baseless", "labels reports of a coup false": a verb of naming
# (CALLED_VERBS), its object, then a word of denial (CALLED_DENIALS) deny the object (outside trial 21, M10; as
# "called it fake" does). The object is one to CALLED_GAP words, in the clause, with no comma and none of
# CALLED_NOT_OBJECT nor a verb's past form ("calls for an end to fake news", "called on Kyiv to stop false claims"
# request; "Police call handlers used fake system": the noun). The word before the denial is no determiner nor
# preposition: "called the fake reports", "calls reports of false ballots" name fakes, not a denial. The cue governs
# only the object (modality.resolve). In the 2023 corpus's 166,559 titles it is read 3 times, each a denial ("Trump
# calls indictment 'baseless'", "China calls US accusations of police stations 'groundless'").
CALLED_VERBS = frozenset(
    "call calls called calling label labels labeled labelled labeling labelling brand brands branded branding".split()
)
CALLED_DENIALS = frozenset("fake false baseless groundless untrue unfounded fabricated bogus fiction".split())
CALLED_GAP = 6
CALLED_NOT_OBJECT = frozenset(
    "for on upon off out up in into back to at that which who whom whose as if after before because while when "
    "since but and or said says say is are was were will would".split()
)
CALLED_NOT_BEFORE_DENIAL = frozenset(
    "a an the its their his her this that these those of about on in for with against over from by".split()
)
POINT_BACK_DETERMINERS = frozenset("the its his her their this that these those".split())
POINT_BACK_NOUNS = frozenset(
    "claim claims report reports statement statements allegation allegations accusation accusations charge charges "
    "assertion assertions story stories account accounts comments remarks".split()
)

# Russian, as the English above (modality._reported): a denial verb (the one-word `after` negations) or a walk-back
# in a later clause whose object points back ("…; Москва **это** отрицает", "…, однако Песков опроверг **это**", "…,
# но позже отозвал **своё заявление**") governs what a verb of saying before the claim introduced ("заявил, что …",
# "по словам Киева, …"). The object: an anaphor (RU_POINT_BACK_ANAPHORS) right before the verb ("это отрицает",
# "эту информацию опроверг"; the verb then ends its clause or goes on with no object of its own: modality), or right
# after it, or a word for what was said (RU_POINT_BACK_NOUNS) right after it ("опроверг эти сообщения", "опроверг
# информацию"), not followed by "о", "об", "про", "что" ("опроверг сообщения о …" names something new). A walk-back
# points back when no "о", "что" … follows its noun ("отозвал своё заявление"; not "отозвал заявление о том, что").
# Not after "не" ("Москва этого не отрицает": no denial).
RU_LATER_DENIALS = frozenset(
    "опроверг опровергла опровергли опровергло опровергает опровергают опровергнул опровергнула опровергнули "
    "отрицает отрицают отрицал отрицала отрицали отрицало "
    "отверг отвергла отвергли отвергло отвергает отвергают".split()
)
RU_REPORTING_VERBS = frozenset(
    "заявил заявила заявили заявило заявляет заявляют заявлял заявляла заявляли "
    "сообщил сообщила сообщили сообщило сообщает сообщают сообщал сообщала сообщали "
    "утверждает утверждают утверждал утверждала утверждали утверждало "
    "сказал сказала сказали говорит говорят говорил говорила говорили "
    "написал написала написали пишет пишут рассказал рассказала рассказали "
    "объявил объявила объявили объявило настаивает настаивают настаивал настаивала настаивали "
    "обвинил обвинила обвинили обвиняет обвиняют передает передают передал передала передали".split()
)
# "по словам Киева, …", "по данным Сеула, …": a source named before the claim, as a verb of saying.
RU_REPORTING_AFTER_PO = frozenset("словам данным информации сведениям сообщениям утверждению".split())
RU_POINT_BACK_ANAPHORS = frozenset("это этого эту эти этих эта этот такие такую такое".split())
RU_POINT_BACK_NOUNS = frozenset(
    "информация информацию информации сведения сведений сообщение сообщения сообщений заявление заявления "
    "утверждение утверждения данные данных слова слов обвинения обвинение версию версия".split()
)
RU_NAMES_NEW = frozenset("о об обо про что".split())
RU_POINT_BACK_LINKS = frozenset("но а однако и затем потом позже позднее впоследствии".split())  # (and "котор*")
RU_POINT_BACK_STOPS = frozenset("несмотря хотя поскольку потому если когда после пока".split())
# Russian denials "назвал(и) это фейком / ложью", "назвали эту информацию фейком": after-cues whose object points back.
RU_CALLED_IT_FAKE = [
    f"{verb} {obj}{kind}"
    for verb in ("назвал*", "назвав")
    for obj in ("это ", "эту информацию ", "эти сообщения ", "это сообщение ", "это заявление ", "эти данные ")
    for kind in ("фейк*", "ложн*", "ложью", "дезинформаци*", "вымысл*", "выдумк*")
]
# ... and as the English "calls coup reports fake" (CALLED_*): a verb of naming, its object, then a word of denial
# deny the object ("Песков назвал сообщения об обмене пленными фейком"; trial 57, MED-1). "Провокацией" denies only
# a report ("назвал сообщения об ударе провокацией"; "назвал удар провокацией" says the strike happened).
CALLED_VERBS_RU = frozenset("назвал назвала назвали назвало назвав называет называют называл называла называли".split())
# The nouns of denial after a verb of naming (trial 62, H1: "назвали ложью / вымыслом / уткой сообщения …"); the
# adjectives are CALLED_DENIALS_RU's others.
CALLED_DENIAL_NOUNS_RU = (
    "фейком фейками ложью дезинформацией вбросом вбросами выдумкой выдумками вымыслом вымыслами фальшивкой "
    "фальшивками уткой клеветой неправдой враньем враньём домыслами измышлениями фальсификацией".split()
)
CALLED_DENIALS_RU = frozenset(
    [
        *CALLED_DENIAL_NOUNS_RU,
        *"фейковым фейковыми ложным ложными лживыми необоснованными беспочвенными голословными".split(),
        # "назвал сообщения очередной фейковой новостью" (trial 62, H1): a feminine adjective only before a noun in
        # the instrumental (modality._called_false_ru), as "-ой" is also the genitive ("автором фейковой новости")
        *"фейковой ложной лживой фальшивой недостоверной недостоверными вымышленными выдуманными".split(),
    ]
)
CALLED_DENIALS_RU_FEMININE = frozenset("фейковой ложной лживой фальшивой недостоверной".split())
# The verb right before its denial noun, the object after them: "В Минобороны назвали ложью сообщения о …" (before)
# and the object first, "Сообщения о … в Кремле назвали вымыслом" (after). Not "провокацией": "назвали провокацией
# удар" says the strike happened (modality._called_false_ru reads it before a word for what was said only).
RU_CALLED_FALSE_FIRST = [
    f"{verb} {noun}"
    for verb in ("назвал*", "назвав", "называет", "называют", "называл*", "называя")
    for noun in CALLED_DENIAL_NOUNS_RU
]
# The standard official denial, after what it denies: "Сообщения о … не соответствуют действительности, заявил
# Песков" (trial 62, H1).
RU_NOT_TRUE = [
    f"{verb} {what}"
    for verb in (
        "не соответствует",
        "не соответствуют",
        "не соответствовал*",
        "не имеет отношения к",
        "не имеют отношения к",
        "не имеет ничего общего с",
        "не имеют ничего общего с",
    )
    for what in (
        ("действительности", "реальности")
        if verb.endswith(("соответствует", "соответствуют", "соответствовал*", " к"))
        else ("действительностью", "реальностью")
    )
]
CALLED_REPORT_DENIALS_RU = frozenset({"провокацией", "провокационными"})
CALLED_NOT_OBJECT_RU = frozenset("что чтобы если когда который которые которая которое но однако хотя".split())


def _ru_disclaimers() -> list[str]:
    """The predicates of a Russian verification disclaimer: "(эту информацию) не удалось (независимо)
    проверить", "подтвердить (это) пока невозможно", "(эти данные) не подтверждены", "(что) не нашло
    подтверждения". Their anaphor is read by modality.read_cues (DISCLAIMER_*_RU)."""
    verbs = ("проверить", "подтвердить")
    adverbs = ("", "независимо ", "пока ", "сразу ", "самостоятельно ", "оперативно ")
    cannot = ("не удалось", "невозможно", "нельзя", "не получилось", "не представляется возможным")
    unable = ("не смог", "не смогла", "не смогли", "не смогло", "не могут", "не может")
    objects = (
        "это",
        "эту информацию",
        "эти данные",
        "эти сведения",
        "эти сообщения",
        "данную информацию",
        "информацию",
    )
    out: list[str] = []
    for neg in (*cannot, *unable):
        out += [f"{neg} {adv}{verb}" for verb in verbs for adv in adverbs]
    for neg in cannot:  # "проверить (это) (пока) не удалось"
        out += [f"{verb} {adv}{neg}" for verb in verbs for adv in adverbs]
        out += [f"{verb} {obj} {adv}{neg}" for verb in verbs for obj in objects for adv in ("", "пока ")]
    out += [
        "не подтвержд*",  # не подтверждена, не подтверждены, не подтвердил, не подтвердила
        "не проверен*",
        "не был* подтвержд*",
        "не был* проверен*",
        "пока не подтвержд*",
        "не получил* подтверждени*",
        "не нашл* подтверждени*",
        "не нашел подтверждени*",
        "не нашёл подтверждени*",
    ]
    return out


# "reported to have been killed", "said to have died": what is reported or believed to have happened (hedged cues
# "VERB to have"; a headline's "to have" + a participle is no future: modality._future_form).
_EN_REPORTED_TO_HAVE = (
    "reported said alleged thought presumed feared rumored rumoured understood claimed suspected reputed".split()
)


def _en_not_confirming() -> list[str]:
    """Hedged cues before the words: not confirming (yet) is no denial ("has not confirmed that …", "did not confirm
    …", "has yet to confirm …"). They hide the "not" and "yet to" inside them."""
    out = [f"{aux} {adv}confirmed" for aux in ("has not", "have not", "had not") for adv in ("", "yet ", "officially ")]
    out += [f"{aux} {adv}confirm" for aux in ("did not", "does not", "do not") for adv in ("", "yet ", "officially ")]
    out += [
        f"{aux} yet to {adv}confirm"
        for aux in ("has", "have", "had", "is", "are", "was", "were")
        for adv in ("", "officially ")
    ]
    return out


def _en_takes_time_to_confirm() -> list[str]:
    """ "(It) will take time to confirm …": the confirmation is still to come, what it would confirm unconfirmed."""
    out: list[str] = []
    for take in ("take", "takes", "took", "will take", "would take", "could take", "may take", "might take"):
        for what in ("time", "some time", "days", "weeks", "months", "a while"):
            out += [f"{take} {what} to {verb}" for verb in ("confirm", "verify")]
    return out


# "presumed dead", "believed dead", "feared dead", "reported dead": a hedge of the death the word "dead" says, and
# of nothing else (modality.resolve: they govern only the words they overlap): "Wagner chief presumed dead after
# plane crash" presumes no crash, "Attack leaves 10 feared dead" fears no attack. Not "reported killed": as
# "reportedly" (no built-in cue), what a wire reports as killed reads asserted ("Two reported killed in strike").
PRESUMED_DEAD = frozenset(
    (verb, dead) for verb in "presumed believed feared thought".split() for dead in ("dead", "killed", "drowned")
) | {("reported", "dead")}


def _en_anonymity() -> list[str]:
    """Neutral phrases of a source's anonymity: "on (the) condition of anonymity", "… of not being named", "… (that)
    he not be named", "… that their names not be used"."""
    out: list[str] = []
    for lead in ("on condition", "on the condition"):
        out += [f"{lead} of anonymity", f"{lead} of not being named", f"{lead} of not being identified"]
        for that in ("", "that "):
            for who in ("he", "she", "they", "it", "we", "i"):
                out += [f"{lead} {that}{who} {rest}" for rest in _ANONYMOUS]
            for who in ("their names", "his name", "her name"):
                out += [f"{lead} {that}{who} not be {done}" for done in ("used", "published")]
    return out


_ANONYMOUS = ("not be named", "not be identified", "would not be named", "would not be identified", "remain anonymous")


def _en_goals() -> list[str]:
    """English verbs of persuasion and request, a cue only before "X to VERB" (modality.read_cues)."""
    out: list[str] = []
    for stem in (
        "persuade persuades persuaded persuading",
        "convince convinces convinced convincing",
        "urge urges urged urging",
        "press presses pressed pressing",
        "push pushes pushed pushing",
        "pressure pressures pressured pressuring",
        "encourage encourages encouraged encouraging",
        "lobby lobbies lobbied lobbying",
        "ask asks asked asking",
        "request requests requested requesting",
        "implore implores implored imploring",
        "invite invites invited inviting",
        "want wants wanted wanting",
        # directives (outside trial 28, F3): "Baku ordered residents to leave", "officials told Armenians to leave",
        # "is advising residents to leave". "order" too, as every other form (outside trial 44, M5: "coup leaders
        # order police to expel …" read asserted where "regime orders police to expel …" read future), but not after
        # "in" ("in order to", GOAL_NOT_AFTER_EN); as a noun it is a directive too ("an order to evacuate"). Not
        # "direct" ("direct talks to end the war").
        "order orders ordered ordering",
        "tell tells told telling",
        "advise advises advised advising",
        "instruct instructs instructed instructing",
        "directs directed directing",
        "warn warns warned warning",
    ):
        out += stem.split()
    for verb in ("call", "calls", "called", "calling"):
        out += [f"{verb} on", f"{verb} upon", f"{verb} for"]
    out += ["appeal to", "appeals to", "appealed to", "appealing to"]
    # "paved the way for Armenia to ratify the statute": what the way was cleared for is still to come (PAVED_THE_WAY)
    out += [" ".join(key) for key in sorted(PAVED_THE_WAY)]
    return out


def _en_object_frames() -> dict[str, list[str]]:
    """The English words of an accusation (hedged) or a warning against (future), a cue only before their object
    (modality._object_frame): "accused North Korea of supplying", "allegations that …", "warns X against selling"."""
    return {
        "hedged": (
            "accuse accuses accused accusing allege alleges alleged alleging accusation accusations allegation "
            "allegations claim claims fear fears"
        ).split(),
        "future": "warn warns warned warning caution cautions cautioned cautioning".split(),
    }


def _ru_object_frames() -> dict[str, list[str]]:
    """The Russian words of an accusation (hedged: "обвинил Москву в …", "обвинения в …") or a warning against
    (future: "предостерег Киев от …"), a cue only before their object (modality._object_frame)."""
    return {
        "hedged": (
            "обвинить обвинил обвинила обвинили обвинило обвиняет обвиняют обвинял обвиняла обвиняли обвиняя обвинив "
            "обвиняется обвиняются обвинен обвинена обвинены обвинение обвинения обвинений обвинениям обвинениями "
            "обвинением обвинении"
        ).split(),
        "future": (
            "предостеречь предостерег предостерегла предостерегли предостерегает предостерегают предостерегал "
            "предостерегала предостерегали предостерегая"
        ).split(),
    }


def _ru_goals() -> list[str]:
    """Russian verbs of persuasion and request, of wish and proposal, and of threat and promise, a cue only before
    (X and) an infinitive (modality.read_cues): "призвал Пхеньян ратифицировать", "убедить Киев подписать",
    "потребовал от Израиля прекратить", "КНДР хочет направить", "предложение президента Франции отправить",
    "Лондон пригрозил ввести", "пообещала запретить"; and agreements and pledges, as the English "agreed to",
    "pledged to" (RU_AGREE_FORMS; outside trial 32, M4): "Стороны договорились провести обмен пленными", "согласился
    передать", "обязались выделить"."""
    return (
        "убедить убедил убедила убедили убеждает убеждают убеждал убеждала убеждали "
        "уговорить уговорил уговорила уговорили уговаривает уговаривают уговаривал уговаривала уговаривали "
        "призвать призвал призвала призвали призвало призывает призывают призывал призывала призывали призвав "
        "призывая "
        "попросить попросил попросила попросили просит просят просил просила просили "
        "потребовать потребовал потребовала потребовали требует требуют требовал требовала требовали "
        # wishes and proposals: "КНДР хочет направить военных", "предложение президента Франции отправить солдат"
        "хотеть хочет хочу хотим хотите хотят хотел хотела хотели хотело захотел захотела захотели "
        "предложить предложил предложила предложили предложило предлагает предлагают предлагал предлагала "
        "предлагали предложив предлагая предложение предложения предложению предложением предложении "
        # threats and promises, as the English "threatened to", "promised to" (outside trial 21, H3): "Лондон
        # пригрозил ввести санкции", "пообещала запретить", "грозит ввести", "обещает усилить"; "угроза / обещание
        # ввести". Not before a noun ("грозит штрафом", "стране грозит дефолт", "обещает помощь"). Not "решил ввести":
        # as the English "decided to", a decision reads as the act ("the EU decided to impose sanctions": asserted).
        "пригрозить пригрозил пригрозила пригрозили пригрозило пригрозив "
        "грозить грозит грозят грозил грозила грозили грозило грозя грозится грозятся грозился грозилась "
        "грозились "
        "угрожать угрожает угрожают угрожал угрожала угрожали угрожало угрожая "
        "пообещать пообещал пообещала пообещали пообещало пообещав "
        "обещать обещает обещают обещал обещала обещали обещало обещая "
        "поклясться поклялся поклялась поклялись клянется клянутся "
        "угроза угрозу угрозы угрозой обещание обещания обещанию обещанием "
        # readiness: "страны, готовых отправить войска", "заявил о готовности направить войска" (not "готовые
        # образцы", "в боевой готовности", "готовность к диалогу")
        "готовый готовая готовое готовые готового готовой готовому готовым готовыми готовых готовую "
        "готовность готовности готовностью"
    ).split() + sorted(RU_AGREE_FORMS)


# Russian agreements before an infinitive are goals, as the English "agreed to" + a verb is a future: "Стороны
# договорились провести обмен пленными", "лидеры ЕС договорились выделить Украине …" (the exchange, the money are
# still to come); "договорились об обмене" (a noun) reports the agreement, as "agreed to a prisoner exchange" does.
# The infinitive stands at most RU_AGREE_GAP words after the verb with no finite verb, "и", "или" or comma between
# ("договорились о перемирии и начали отводить войска": the withdrawal is reported). As "agreed to extend", one of
# RU_AGREED_DONE_VERBS is no cue: the agreement is the extension ("договорились продлить перемирие").
RU_AGREE_FORMS = frozenset(
    (
        "договорились договорился договорилась договорилось договорятся договорится договариваются договаривается "
        "договаривались договаривался договаривалась договорившись договоренность договоренности "
        "согласились согласился согласилась согласилось согласятся согласится соглашаются соглашается согласившись "
        "условились условился условилась обязались обязался обязалась обязалось обязуются обязуется обязавшись "
        # short adjectives: "КНДР согласна направить войска" (consent, not the act: a review of a768ce7 found it read
        # asserted), "Москва готова провести обмен" (a readiness, which another cue already read future; named here
        # too, so that it is said as what it is); not "согласно", a preposition ("согласно договору")
        "согласен согласна согласны готов готова готовы"
    ).split()
)
RU_AGREE_GAP = 3
RU_AGREED_DONE_VERBS = frozenset("продлить продлевать пролонгировать".split())

# Accusations and warnings (the `object` tables): a word that governs its object, the phrase after "of" / "that" /
# "against" ("в" / "от" in Russian), and only that (modality._object_frame, resolve). An accusation reports a claim,
# not a fact (hedged, as "allegedly"): "The US accused North Korea of supplying weapons", "amid accusations that
# Pyongyang is supplying arms", "as Pyongyang accused of providing weapons", "the allegations that …", "amid claims
# of weapons supplied", "Запад обвинил КНДР в поставках оружия", "на фоне обвинений в …". A warning against an act is
# a goal, to prevent it (future, as "warned X to halt"): "US warns N Korea against selling weapons", "предостерег
# Киев от …". Outside trial 32, M3: a pack's own cues are contiguous and could not reach past the object ("accused
# X of"). What stands beyond the object is left alone: "Russia, accused of war crimes, signed the treaty" (a comma),
# "was accused of fraud and resigned" ("and" before no -ing verb), "accused X of Y after the strike" (a word of
# OBJECT_REACH_STOPS), and words more than GOAL_REACH words after an "of" / "against" / "в" / "от" (a noun
# phrase; a "that" / "что" clause reaches `scope` words); and so is the accusation itself when it is among the
# signal's words. Known limit: a thing named in the act alleged is hedged with it ("accuses Israel of breaking the
# truce": the truce; "accused of carrying out the attack": the attack, which did happen), unless the act's
# consequence is reported (OBJECT_CONSEQUENCE_*, below).
# - a verb (accuse, accused, обвинил, предостерег, …) then its object "X" in at most OBJECT_FRAME_WORDS words (none
#   of GOAL_STOP_EN / GOAL_STOP_RU, in the clause) and "of" / "against" / "в" / "от";
# - "allege(s/d)", "alleging" right before "that";
# - the nouns accusation(s), allegation(s), обвинение (each form) right before "of" / "that" / "в" ("обвинения в
#   адрес Израиля" names the target: no cue); claim(s) as a noun: before "of", or before "that" after one
#   of OBJECT_NOUN_AFTER ("amid claims that", "the claim that"; "Kyiv claims that …" is a verb of saying, read as
#   "said" is, and so is a claim with its owner, "its claim that …"). Russian "в том, что" opens a clause: the cue
#   is its "что".
OBJECT = "object"
OBJECT_FRAME_WORDS = 5
OBJECT_LEADS = frozenset({"of", "against", "в", "во", "от"})
OBJECT_VERBS = frozenset(
    "accuse accuses accused accusing warn warns warned warning caution cautions cautioned cautioning".split()
)
# ... nor one of these in X: "Accused Shooter Found Guilty of Killing 11 People" (a verdict, "accused" an adjective).
OBJECT_NOT_BETWEEN = frozenset("found guilty convicted acquitted cleared".split())
OBJECT_ALLEGE = frozenset("allege alleges alleged alleging".split())
# (and a fear: "amid fears of a new offensive", "fears that civilians were killed": what is feared is not reported
# as having happened; not "concerns about", which names real things as often: "concern over troops in Russia")
OBJECT_NOUNS = frozenset("accusation accusations allegation allegations fear fears".split())
OBJECT_NOUNS_OR_VERBS = frozenset("claim claims".split())
OBJECT_NOUN_AFTER = frozenset(
    "amid over despite after following about of on with against to from by in the a an these those such any new "
    "fresh repeated earlier recent similar false unfounded unsubstantiated unproven unverified baseless groundless "
    "dubious".split()
)  # (not "its", "his", "their": "Seoul refused to retract its claim that …" names who says it, as "Seoul said")
OBJECT_WARNINGS = frozenset(
    "warn warns warned warning caution cautions cautioned cautioning предостеречь предостерег предостерегла "
    "предостерегли предостерегает предостерегают предостерегал предостерегала предостерегали предостерегая".split()
)
# The object ends at a comma, dash, colon, a clause break or one of these before the signal's words; and at a word
# of a part in an event, which happened whoever took that part: "accused of involvement in terror attacks", "accused
# Iran of being behind an attack on a tanker", "обвинили в причастности к теракту" (the attacks are not alleged).
# An act alleged with its consequence reported ("accused Russia of attacking Kupiansk, killing two", "accused of
# launching an airstrike that killed 30", "обвинил Россию в ударе по Харькову, в результате которого погибли двое"):
# the speaker reports the deaths, so the act happened and the accusation disputes only who did it; the object is not
# hedged (review of bbcd398: "attack" and "killed" signals of war news went from asserted to hedged). After a comma,
# one of OBJECT_CONSEQUENCE_AFTER_COMMA; "that" / "which" (an auxiliary may follow) then one of
# OBJECT_CONSEQUENCE_VERBS; "в результате" then "которого" / "которой" / "которых" / "чего"; searched up to
# OBJECT_CONSEQUENCE_WORDS words after the lead, in the lead's clause, not past a word of OBJECT_REACH_STOPS but
# "which". "accused of killing his wife" has none: who was killed is not the question, whether he did it is.
# Only a toll counts (review of 2a43dcd, HIGH: ", leaving little room for talks", "that left the opposition
# weakened", "drones that kill civilians" read as consequences and un-hedged what was alleged): the verb is past or
# a participle, and a count or a word of casualties (OBJECT_CONSEQUENCE_TOLL, or a token with a digit) follows it
# within OBJECT_CONSEQUENCE_TOLL_WORDS words ("killing at least 12", "that left two dead", "в результате которого
# погибли двое": the Russian verb of dying is itself the toll, OBJECT_CONSEQUENCE_RU_TOLL). The consequence
# un-hedges only the signal's words that stand between the lead and it, and not a signal that holds a word of
# OBJECT_CONSEQUENCE_NOT_OWN ("accused Kyiv of lying about the attack, which killed 12": the attack happened; the
# lying is still what is alleged).
OBJECT_CONSEQUENCE_AFTER_COMMA = frozenset("killing leaving wounding injuring убив убившего ранив".split())
OBJECT_CONSEQUENCE_VERBS = frozenset("killed left wounded injured".split())
OBJECT_CONSEQUENCE_AUX = frozenset("has have had reportedly".split())
OBJECT_CONSEQUENCE_RU = frozenset("которого которой которых чего".split())
OBJECT_CONSEQUENCE_RU_TOLL = (
    "погиб",
    "пострада",
    "ранен",
    "ранены",
    "ранено",
    "убит",
    "убиты",
    "жертв",
)  # prefixes
OBJECT_CONSEQUENCE_TOLL = frozenset(
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty hundred "
    "hundreds thousand thousands dozen dozens scores several people civilians dead wounded injured children "
    "soldiers residents villagers passengers workers person persons man men woman women family families him her "
    "them двоих троих человек людей жителей мирных детей".split()
)
OBJECT_CONSEQUENCE_TOLL_WORDS = 3
OBJECT_CONSEQUENCE_NOT_OWN = frozenset(
    "lying lie lied lies falsely false fabricating faking staging covering spreading claiming saying denying "
    "exaggerating misrepresenting".split()
)
OBJECT_CONSEQUENCE_WORDS = 20
OBJECT_REACH_STOPS = frozenset(
    "after amid following despite as because while when since before during until but whereas although though said "
    "says say told which who но а однако хотя когда после пока если поскольку потому заявил заявили заявила "
    "сообщил сообщили сообщила".split()
    + "involvement role responsibility complicity behind причастности причастность участии роли".split()
)

# Predicates (the `predicate` tables): what is said of an event that is the subject before them. An event noun as
# the subject ("the exchange", "ratification of the treaty", "обмен пленными", "ратификация договора") is asserted
# by "took place", "состоялся", "прошла успешно" (no cue), and not by "did not take place", "не состоялся", "так и не
# произошла", "was postponed", "отложена", "сорван" (negated), "may take place", "может состояться" (hedged), "will
# take place", "состоится" (future), "would take place" (conditional). Only verbs of taking place, being held or
# called off: "Обмен пленными не стал неожиданностью", "the ratification did not change anything" say something of
# an event that did happen, and are no cue. modality._predicate_subject says when the words before are the subject.
_EN_OCCUR_BARE = ("take place", "happen", "occur", "go ahead", "materialize", "materialise", "proceed")
_EN_OCCUR_PAST = ("took place", "happened", "occurred", "went ahead", "materialized", "materialised", "proceeded")
_EN_OCCUR_DONE = ("taken place", "happened", "occurred", "gone ahead", "materialized", "materialised", "proceeded")
_EN_HELD = ("held", "carried out", "completed", "conducted", "concluded", "finalized", "finalised")
# Called off or put off: the event did not take place (when, if ever, it will is another report). Without an
# auxiliary ("Prisoner exchange postponed") only in a headline (PREDICATE_HEADLINE_ONLY): in a body sentence such a
# word after a noun is a participle ("the exchange, delayed by a week, took place on Tuesday").
_EN_CALLED_OFF = (
    "postponed",
    "delayed",
    "cancelled",
    "canceled",
    "called off",
    "put off",
    "shelved",
    "scrapped",
    "put on hold",
)


_EN_LIKELIHOOD = ("unlikely", "likely", "possible")
_EN_HEDGE_ADJECTIVES = ("unlikely", "likely", "possible", "uncertain", "doubtful", "in doubt", "still in doubt")
_EN_HEDGE_COPULAS = (
    *("is are was were remains remain seems seem looks look appears appear".split()),
    "is still",
    "are still",
    "now looks",
    "now seems",
)


def _en_predicates() -> dict[str, list[str]]:
    """The English `predicate` cues, by class (see above)."""
    neg_bare = (
        "did not",
        "does not",
        "do not",
        "did never",
        "never",
        "will not",
        "wo not",  # "won't"
        "will never",
        "shall not",
        "would not",
        "would never",
        "cannot",
        "can not",
        "ca not",  # "can't"
        "could not",
        "may not",
        "might not",
        "failed to",
        "fails to",
        "fail to",
        "has yet to",
        "have yet to",
        "is yet to",
        "are yet to",
        "was yet to",
        "were yet to",
    )
    neg_done = ("has not", "have not", "had not", "has never", "have never", "had never", "has not yet", "have not yet")
    neg_be = (
        "was not",
        "were not",
        "is not",
        "are not",
        "has not been",
        "have not been",
        "had not been",
        "will not be",
        "wo not be",
        "was never",
        "were never",
        "has never been",
        "have never been",
        "has yet to be",
        "have yet to be",
        "is yet to be",
        "are yet to be",
    )
    be = (
        "was",
        "were",
        "is",
        "are",
        "has been",
        "have been",
        "had been",
        "will be",
        "is being",
        "are being",
        "was being",
        "were being",
        "has now been",
        "have now been",
    )
    hedge = ("may", "might", "could", "can")
    future = (
        "will",
        "shall",
        "will soon",
        "could soon",
        "is to",
        "are to",
        "is set to",
        "are set to",
        "is due to",
        "are due to",
        "is scheduled to",
        "are scheduled to",
        "is expected to",
        "are expected to",
        "was expected to",
        "were expected to",
        "is slated to",
        "are slated to",
        "is going to",
        "are going to",
    )
    negated = [f"{a} {v}" for a in neg_bare for v in _EN_OCCUR_BARE]
    negated += [f"never {v}" for v in _EN_OCCUR_PAST]
    negated += [f"{a} {v}" for a in neg_done for v in _EN_OCCUR_DONE]
    negated += [f"{a} {v}" for a in neg_be for v in _EN_HELD]
    negated += [f"{a} {v}" for a in be for v in _EN_CALLED_OFF]
    negated += ["fell through", "falls through", "has fallen through", "have fallen through", "had fallen through"]
    negated += list(_EN_CALLED_OFF)  # (a headline's, PREDICATE_HEADLINE_ONLY)
    hedged = [f"{m} {v}" for m in hedge for v in _EN_OCCUR_BARE]
    hedged += [f"{m} have {v}" for m in hedge for v in _EN_OCCUR_DONE]
    hedged += [f"{m} be {v}" for m in hedge for v in (*_EN_HELD, *_EN_CALLED_OFF)]
    hedged += [
        f"{a} to {v}" for a in ("is likely", "are likely", "is unlikely", "are unlikely") for v in _EN_OCCUR_BARE
    ]
    # "Grain deal renewal unlikely, Kremlin says", "the extension is possible", "Pact Extension Still in Doubt": an
    # adjective of likelihood after its subject says the event may or may not come (outside trial 61, H1); bare only in
    # a headline (PREDICATE_HEADLINE_ONLY).
    hedged += [f"{b} {a}" for b in _EN_HEDGE_COPULAS for a in _EN_HEDGE_ADJECTIVES]
    hedged += [f"{b} not {a}" for b in ("is", "are", "was", "were") for a in _EN_LIKELIHOOD]
    hedged += list(_EN_HEDGE_ADJECTIVES)
    fut = [f"{a} {v}" for a in future for v in _EN_OCCUR_BARE]
    fut += [f"{a} be {v}" for a in future for v in _EN_HELD]
    fut += [f"{a} {w} for" for a in ("is", "are", "was", "were") for w in ("scheduled", "planned", "slated", "set")]
    # "The swap allegedly took place": alleged after the subject too (outside trial 51, H3). Not "reportedly", which
    # is how the news tells an event it has from others: asserted, as attributed reports are.
    hedged += [f"{a} {v}" for a in ("allegedly", "supposedly", "purportedly") for v in _EN_OCCUR_PAST]
    hedged += [f"{b} {a} {v}" for b in ("was", "were") for a in ("allegedly", "supposedly") for v in _EN_HELD]
    conditional = [f"would {v}" for v in _EN_OCCUR_BARE]
    conditional += [f"would have {v}" for v in _EN_OCCUR_DONE]
    conditional += [f"would be {v}" for v in _EN_HELD]
    return {"negated": negated, "conditional": conditional, "future": fut, "hedged": hedged}


PREDICATE_HEADLINE_ONLY = frozenset(tuple(w.split()) for w in (*_EN_CALLED_OFF, *_EN_HEDGE_ADJECTIVES))
# "Grain deal extension not likely", "is not possible": still a likelihood, which a negation before it does not cancel
# (as it cancels "not postponed"); "not in doubt" is sure, and cancels.
HEDGE_ADJECTIVE_KEYS = frozenset(tuple(f"{b} {a}".split()) for b in ("", *_EN_HEDGE_COPULAS) for a in _EN_LIKELIHOOD)
# ... nor after a verb that makes its object what the adjective says ("Turkey makes grain deal extension possible"):
# the words are that verb's object, not the adjective's subject.
PREDICATE_HEDGE_NOT_AFTER = frozenset(
    "make makes made making keep keeps kept render renders rendered deem deems deemed find finds found".split()
)
# ... and then only at the headline's end or before one of these ("Hostage deal delayed", "State visit postponed
# amid protests", "Vote delayed until next month"; not "anguish over cancelled op": a participle before its noun).
PREDICATE_HEADLINE_BEFORE = frozenset(
    "again indefinitely until till amid as after over due because following for in to by at on from once twice yet "
    "further but while despite".split()
)

_RU_OCCUR_PAST = (
    "состоялся состоялась состоялось состоялись произошел произошла произошло произошли прошел прошла прошло прошли "
    "начался началась началось начались завершился завершилась завершилось завершились"
).split()
_RU_OCCUR_FUTURE = (
    "состоится состоятся произойдет произойдут пройдет пройдут начнется начнутся завершится завершатся"
).split()
_RU_OCCUR_INFINITIVE = "состояться произойти пройти начаться завершиться".split()
_RU_HELD = (
    "проведен проведена проведено проведены осуществлен осуществлена осуществлено осуществлены "
    "завершен завершена завершено завершены"
).split()
# Called off or put off (short participles: a predicate, never an attribute; "отложенный обмен" is none), and the
# reflexive verbs: "Обмен пленными отложен на неопределенный срок", "Ратификация договора сорвалась".
_RU_CALLED_OFF = (
    "отложен отложена отложено отложены перенесен перенесена перенесено перенесены "
    "сорван сорвана сорвано сорваны отменен отменена отменено отменены "
    "предотвращен предотвращена предотвращено предотвращены"
).split()
_RU_CALLED_OFF_VERBS = (
    "сорвался сорвалась сорвалось сорвались провалился провалилась провалилось провалились "
    "откладывается откладываются переносится переносятся отменяется отменяются сорвется сорвутся"
).split()
_RU_NOT_CONFIRMED = (
    "зафиксирован зафиксирована зафиксировано зафиксированы подтвердился подтвердилась подтвердилось подтвердились "
    "подтверждается подтверждаются подтвержден подтверждена подтверждено подтверждены"
).split()
# Predicates of a report that say it was not confirmed: of "Сообщения об атаке … не подтверждаются", "Информация об
# ударе не подтвердилась" (the event in a report noun's "о/об" phrase, DISCLAIMER_NOUNS_RU) they say it of the event
# too (modality._predicate_subject; outside trial 35: read asserted, as the object of the preposition "об").
NOT_CONFIRMED_RU = frozenset(f"не {v}" for v in _RU_NOT_CONFIRMED)
# Still being made out, of a report: "Информация о погибших уточняется", "Данные о пострадавших уточняются" say it is
# not yet known whether there were any (outside trial 71, L1): hedged, of the event in a report noun's "о/об" phrase
# only (modality._predicate_subject); "Число погибших уточняется" says there were dead, and stays asserted.
BEING_CLARIFIED_RU = frozenset("уточняется уточняются выясняется выясняются устанавливается устанавливаются".split())
REPORTED_ABOUT_RU = frozenset({"о", "об", "обо", "про"})
# Not confirming, which is no denial, as the English "did not confirm" (hiding the "не", the longer cue winning):
# "В Минобороны не подтвердили вторжение", "не подтвердили, что …", "пока не подтверждают", "не спешат подтверждать"
# hedge their object or their "что"-clause (outside trial 41, M4). An agent's active verb only: the predicates of the
# event or of a report on it ("Атака не подтвердилась", "Сообщения об атаке не подтверждаются": NOT_CONFIRMED_RU)
# stay negations.
NOT_CONFIRMING_RU = [
    *(f"не {v}" for v in "подтвердил подтвердила подтвердили подтвердило подтверждает подтверждают".split()),
    *(f"не {v}" for v in "подтверждал подтверждала подтверждали подтверждало".split()),
    *(f"не {v} подтвержд*" for v in ("спеш*", "тороп*")),
]
# The object first and a verb in the third person plural, no subject: "Обмен пленными отложили", "Ратификацию
# договора перенесли". The words before are then its object (accusative), not its subject.
PREDICATE_OBJECT_FIRST = frozenset(
    {("отложили",), ("перенесли",), ("отменили",), ("сорвали",), ("предотвратили",), ("удалось", "предотвратить")}
)
# ... and a verb in the singular past with its subject after it: "Обмен пленными сорвал Киев", "Ратификацию договора
# отложила Госдума" (trial 57, HIGH-2); only when the word after it is that subject (modality._subject_after_ru):
# "Обстрел сорвал эвакуацию" says the shelling happened.
PREDICATE_OBJECT_SUBJECT_AFTER = frozenset(
    (f"{stem}{end}",)
    for stem in ("отложил", "отменил", "сорвал", "предотвратил", "перенес")
    for end in (("", "а", "о") if stem != "перенес" else ("", "ла", "ло"))
)
# "Обмена пленными пока не было", "Обмена пленными не будет": a negated existence, its subject in the genitive.
# "…, пострадавших нет", "Погибших и раненых нет": the present "нет" (trial 57, MED-2).
PREDICATE_GENITIVE = frozenset({("не", "было"), ("не", "будет"), ("нет",)})


def _ru_predicates() -> dict[str, list[str]]:
    """The Russian `predicate` cues, by class (see above)."""
    modals = ("может", "могут", "мог", "могла", "могло", "могли")
    must = ("должен", "должна", "должно", "должны")
    negated = [f"{neg} {v}" for neg in ("не", "так и не") for v in (*_RU_OCCUR_PAST, *_RU_OCCUR_FUTURE, *_RU_HELD)]
    negated += [f"не {aux} {v}" for aux in ("был*", "будет", "будут") for v in _RU_HELD]
    negated += [f"{m} не {v}" for m in modals for v in _RU_OCCUR_INFINITIVE]
    negated += [" ".join(key) for key in sorted(PREDICATE_GENITIVE)]
    negated += [f"{aux}{v}" for aux in ("", "был* ", "будет ", "будут ") for v in _RU_CALLED_OFF]
    negated += _RU_CALLED_OFF_VERBS
    negated += [" ".join(key) for key in sorted(PREDICATE_OBJECT_FIRST | PREDICATE_OBJECT_SUBJECT_AFTER)]
    # not recorded, not confirmed: "Атака беспилотников на Белгород не подтвердилась", "… не зафиксировано" (outside
    # trial 35, M2)
    negated += [f"не {v}" for v in _RU_NOT_CONFIRMED]
    hedged = [f"{m} {v}" for m in modals for v in _RU_OCCUR_INFINITIVE]
    hedged += sorted(BEING_CLARIFIED_RU)
    hedged += [f"{m} быть {v}" for m in modals for v in (*_RU_HELD, *_RU_CALLED_OFF)]
    future = [*_RU_OCCUR_FUTURE]
    future += [f"{aux} {v}" for aux in ("будет", "будут") for v in _RU_HELD]
    future += [f"{m} {v}" for m in must for v in _RU_OCCUR_INFINITIVE]
    future += ["запланирован*", "намечен*", "ожидается", "ожидаются", "планируется", "планируются"]
    # "Обмен пленными якобы прошел": alleged after the subject too (outside trial 51, H3)
    hedged += [f"якобы {v}" for v in (*_RU_OCCUR_PAST, *_RU_HELD)]
    # "Обмен пленными мог бы состояться еще летом", "… состоялся бы, если …": it did not take place (outside trial 51,
    # H3; "бы" before the words governs only what follows it)
    conditional = [f"{m} бы {v}" for m in modals for v in _RU_OCCUR_INFINITIVE]
    conditional += [f"{v} бы" for v in _RU_OCCUR_PAST]
    return {"negated": negated, "future": future, "hedged": hedged, "conditional": conditional}


# Calling off or putting off an event before it, its object (negated; governing the word it leads to, as
# GOVERNS_NEXT_WORD): "Kyiv postponed the exchange", "Moscow called off the ratification", "Киев сорвал обмен
# пленными", "Госдума отложила ратификацию договора"; and in Russian the predicates above before their subject
# ("Отложен обмен пленными", "Сорвался обмен пленными"). Not an English participle after a determiner or a form of
# "be" ("the postponed exchange took place", "talks were postponed and the exchange took place": modality.read_cues,
# CALL_OFF_NOT_AFTER), nor at a sentence's start or after a preposition or a verb ("Scrapped vaccine deal cost …",
# "ahead of delayed OPEC+ meeting", "to hold delayed elections"). Not after an attempt ("tried to cancel the vote",
# "попытался отменить голосование": CALL_OFF_ATTEMPTS). Not the nouns "delay(s)", "scraps", "shelves" ("cost overruns
# and delays since launch"), nor "перенес" ("перенесли удары на …" shifts strikes elsewhere), nor "сорвать" (in the
# news mostly after an attempt that failed).
_EN_CALL_OFF = (
    "postpone postpones postponed postponing cancel cancels cancelled canceled cancelling canceling "
    "delayed delaying scrapped scrapping shelved shelving"
).split() + [f"{v} off" for v in ("call", "calls", "called", "calling")]
_RU_CALL_OFF = (
    "отложил отложила отложили отложило отложить откладывает откладывают "
    "сорвал сорвала сорвали сорвало срывает срывают "
    "отменил отменила отменили отменило отменить отменяет отменяют "
    "отложен отложена отложено отложены сорван сорвана сорвано сорваны отменен отменена отменено отменены "
    "перенесен перенесена перенесено перенесены сорвался сорвалась сорвалось сорвались "
    # prevented: "удалось предотвратить атаку", "ПВО предотвратила удар" (outside trial 35, M2); not after an attempt
    # ("пытались предотвратить атаку": CALL_OFF_ATTEMPTS_RU)
    "предотвратил предотвратила предотвратили предотвратило предотвратить предотвращает предотвращают "
    "предотвращен предотвращена предотвращено предотвращены"
).split()
CALL_OFF = frozenset(tuple(w.split()) for w in (*_EN_CALL_OFF, *_RU_CALL_OFF))
# Taking a ratification back is no ratification: "State Duma votes to revoke ratification of the test ban treaty",
# "revocation of its ratification", "withdraws (from) ratification", "rescinds ratification", "de-ratify", "отзыв
# ратификации", "отозвала ратификацию" (an outside trial fired "treaty ratified" on the first). Negated, governing the
# word they lead to (as GOVERNS_NEXT_WORD do), and a cue only before a word for ratifying, "ratif…", "ратифи…"
# (modality.read_cues: "revoked the licence", "отзыв посла" are no cue; "withdrew its statement" stays a walk-back).
# "денонсир…", "денонсаци…" denounce what they lead to, whatever word that is ("денонсировать ратифицированный
# договор").
_EN_REVOKE = (
    "revoke revokes revoked revoking revocation withdraw withdraws withdrew withdrawn withdrawing withdrawal "
    "rescind rescinds rescinded rescinding reverse reverses reversed reversing reversal de"
).split()
_RU_REVOKE = "отзыв отзыва отзыве отзывом отозвать отозвал отозвала отозвали отозвало отзовет отзовёт отзовут".split()
_RU_DENOUNCE = (
    "денонсировать денонсировал денонсировала денонсировали денонсировало денонсирует денонсируют денонсация "
    "денонсации денонсацию денонсацией денонсирован денонсирована денонсированы"
).split()
REVOKES_RATIFICATION = [
    *(
        f"{verb}{between}"
        for verb in _EN_REVOKE
        for between in ("", " its", " their", " of", " of its", " of their", " from", " from its", " from their")
        if verb != "de" or not between
    ),
    *(f"{verb}{between}" for verb in _RU_REVOKE for between in ("", " свою", " своей")),
    *_RU_DENOUNCE,
]
REVOKE_KEYS = frozenset(tuple(c.split()) for c in REVOKES_RATIFICATION)
DENOUNCE_KEYS = frozenset((w,) for w in _RU_DENOUNCE)
RATIFYING_STEMS = ("ratif", "ратифи")
# "Украина готовит новую атаку беспилотников": what is being prepared is still to come; the verb governs its object
# only, with no preposition between ("готовит ответ на атаку": the attack happened; modality._object_phrase), as a
# verb of calling off does (outside trial 35, M2).
PREPARES_RU = frozenset((w,) for w in "готовит готовят готовил готовила готовили готовило".split())
# ... and so is what is hoped or counted on, its object after "на" only ("Россия надеется на обмен пленными"; not
# "рассчитывает на сотрудничество в расследовании теракта": the attack happened; outside trial 51, M4).
HOPES_RU = frozenset(
    (w, "на")
    for w in "надеется надеются надеемся надеюсь надеялся надеялась надеялись рассчитывает рассчитывают".split()
)
# ... and what is announced ahead ("Зеленский анонсировал обмен пленными"; outside trial 51, L2).
ANNOUNCES_RU = frozenset((w,) for w in "анонсировал анонсировала анонсировали анонсирует анонсируют".split())
# ... and what is proposed, or an idea (outside trial 51, M4): "Украина предложила России обмен пленными", "за идею
# перемирия и обмена пленными", "предложение об обмене": the exchange is still to come. Their object only, as
# "готовит": no preposition between ("предложил помощь после теракта": the attack happened), but "и" may join it to
# a first object ("идею перемирия и обмена пленными"). The verbs "предложил" … before an infinitive are goals as
# well ("предложил провести обмен"); either reads future.
PROPOSES_RU = frozenset(
    (w,)
    for w in (
        "предложил предложила предложили предложило предлагает предлагают предлагал предлагала предлагали "
        "идея идеи идею идеей"
    ).split()
) | frozenset(
    (noun, prep)
    for noun in "предложение предложения предложении предложением предложению".split()
    for prep in ("о", "об")
)
# ... and an act agreed on, discussed, of interest or dragged out ("Россия и Украина договорились об обмене
# пленными", "Путин и Орбан обсудили обмен пленными", "Киев интересует обмен", "Киев затягивает обмен"): still to
# come. Only before a noun of an act (AGREED_ACTS_RU; modality.read_cues): "договорились о прекращении огня" reports
# the ceasefire agreed, which is the news of a truce, as "agreed to a truce" is; "обсуждает встречу Байдена",
# "обсудили итоги визита", "обсудили расследование терактов" speak of what happened (on the 5,414 Channel One items
# of 2024 those verbs before any noun changed 5 readings, 3 of them wrongly).
AGREED_ON_RU = frozenset(
    (verb, prep)
    for verb in (
        "договорились договорился договорилась договорилось договорятся договорится договариваются договаривается "
        "договаривались договоренность договоренности договоренностей"
    ).split()
    for prep in ("о", "об")
) | frozenset(
    (w,)
    for w in (
        "обсудил обсудила обсудили обсудило обсуждает обсуждают обсуждал обсуждала обсуждали обсудят обсудит "
        "обсуждение обсуждения обсуждении обсуждением "
        "интересует интересуют интересовал интересовала интересовали "
        "затягивает затягивают затягивал затягивала затягивали затянул затянула затянули"
    ).split()
)
AGREED_ACTS_RU = ("обмен", "освобожд", "передач", "возвращен", "вывод")
# A fronted object before "обсудил" (the verb after it: "Прекращение огня и обмен пленными премьер Венгрии обсудил
# с Путиным"): the signal's words, which hold a noun of an act, open the sentence, at most PROPOSED_BEFORE_GAP words
# before the verb, no comma or preposition between (modality.resolve).
DISCUSSED_AFTER_RU = frozenset(
    (w,) for w in "обсудил обсудила обсудили обсуждали обсуждал обсуждала обсуждают обсуждает".split()
)
PROPOSED_BEFORE_GAP = 4
CALL_OFF_ATTEMPTS = frozenset(
    "try tries tried trying attempt attempts attempted attempting seek seeks sought seeking bid effort efforts".split()
)
CALL_OFF_ATTEMPTS_RU = ("попыт", "пыта", "старал", "стара")  # "попытался", "в попытке", "пытается", "старались"
# Trying is not doing: "ВСУ пытались прорваться", "попытка прорыва", "задержан при попытке устроить теракт" hedge
# the act tried: it may have failed (outside trial 41, H3). The verbs are goals (the `goal` table): they govern the
# infinitive and its phrase only, up to a comma or "и" ("мужчины, которые пытались скрыться, напали на пограничника":
# the attack happened), and only the reflexive verb ("пытали пленного" is torture); the nouns govern what follows
# them, as any cue before. Not before a verb of countering or calling off, whose object stands ("пытались
# предотвратить атаку", "попытки отразить удар": the attack happened; modality.read_cues).
ATTEMPT_VERBS_RU = (
    "пытался пыталась пыталось пытались пытается пытаются пытаясь пытаться "
    "попытался попыталась попыталось попытались попытается попытаются попытаться"
).split()
ATTEMPT_NOUNS_RU = ["попыток", "попытк*"]
ATTEMPT_COUNTERS_RU = (
    *("предотврат", "отраз", "отбить", "отбива", "пресе", "сорва", "останов", "сдерж", "помеша", "сбить"),
)
# Foiling an attempt negates the act tried: "военные пресекли попытки ВСУ прорваться", "сорвана очередная попытка
# прорыва", "отбиты новые попытки диверсантов проникнуть", "отразили попытку прорыва" (outside trial 41, H3). The
# verbs alone are no cue: "отразили атаку" and "пресекли деятельность" say the attack and the activity happened.
# ("предотвратили попытку" is a verb of calling off already, CALL_OFF; not with a word between: "предотвратили все
# попытки диверсантов прорваться".)
FOILED_ATTEMPTS_RU = [
    f"{verb} {between}попыт{end}"
    for verb in (
        *("пресек*", "пресеч*", "пресека*", "отразил*", "отразить", "отражен*", "отбил*", "отбит*", "сорван*"),
        "предотврат*",
    )
    for between in ("", "очередн* ", "нов* ", "все ", "всех ")
    for end in ("к*", "ок")
]
# The English, as the Russian: "Troops attempted to storm the village", "Parliament tried to ratify the treaty but the
# vote failed", "in a bid to seize", "an effort to cross the border" hedge the act tried. Verbs and nouns alike are
# goals (the `goal` table, "hedged"): they govern the "to VERB" phrase only, up to a comma or a coordinator ("tried
# to flee and was arrested": the arrest happened). "sought to" as "tried to" ("seeks to", "seeking to" are futures
# already: the goal still to come); "struggle(d) to" too (rescuers "struggle to reach" the area: not yet done). Not
# before a verb of countering, calling off, fleeing or covering up, whose object stands ("tried to prevent an attack",
# "attempted to repel the assault", "tried to cancel the swap", "civilians trying to flee the strikes": modality.
# read_cues, ATTEMPT_COUNTERS_EN, COUNTER_VERBS, CALL_OFF).
ATTEMPT_VERBS_EN = (
    "try tries tried trying attempt attempts attempted attempting sought struggle struggles struggled struggling"
).split()
ATTEMPT_NOUNS_EN = "effort efforts bid bids".split()
# the nouns a verb of foiling may take: FOILED_ATTEMPTS_EN, modality._foiler_before
FOILED_NOUNS_EN = frozenset({"attempt", "attempts", *ATTEMPT_NOUNS_EN})
ATTEMPT_COUNTERS_EN = frozenset(
    """prevent avert thwart foil block repel repulse stop halt intercept counter resist deter contain fend fight ward
    beat push defend combat tackle curb control resolve settle address ban outlaw restrict limit slow reverse undo
    flee escape evade avoid dodge survive ride weather cover downplay justify explain deny rebut refute regain recover
    reclaim retrieve cancel postpone delay""".split()
)
# Between a verb of trying and its "to" only an adverb of manner or repetition ("tried hard to", "tried in vain to",
# "attempted unsuccessfully to"): "sought increased powers to send seized assets" seeks the powers, not the sending.
ATTEMPT_BETWEEN_EN = frozenset("again hard in vain once more twice repeatedly also still desperately".split())
# A finite verb ends the phrase tried: "two men who tried to help her were attacked" (the attack happened).
ATTEMPT_PHRASE_ENDS_EN = frozenset("was were is are has have had will would did does".split())
# Foiling an attempt with a word of its own before the noun ("thwarted a Ukrainian attempt to attack"): the verb at
# most two words before the noun of trying (modality.read_cues); with none, FOILED_ATTEMPTS_EN.
FOILED_BETWEEN_EN = 2
# Foiling an attempt negates the act tried, as FOILED_ATTEMPTS_RU: "troops repelled an attempt to cross the border",
# "thwarted an attempt to storm", "foiled attempts by saboteurs to seize". A negation before the words, which it
# governs as any cue before does (its "to", when it spans one, hides the goal's: the longer cue wins). The verbs alone
# are no cue ("repelled the attack": it happened). "a failed attempt to …" is no foiling: the attempt was made and
# did not succeed, the act may have happened in part ("a failed attempt to launch a satellite": the rocket flew), so
# the goal's hedge stands.
_EN_FOILERS = (
    "repel repels repelled repelling repulse repulses repulsed repulsing thwart thwarts thwarted thwarting "
    "foil foils foiled foiling prevent prevents prevented preventing avert averts averted averting "
    "block blocks blocked blocking stop stops stopped stopping halt halts halted halting "
    "frustrate frustrates frustrated frustrating defeat defeats defeated defeating crush crushes crushed crushing "
    "rebuff rebuffs rebuffed rebuffing"
).split() + [f"{v} {p}" for v, p in (("fended", "off"), ("fought", "off"), ("beat", "back"), ("beaten", "back"))]
FOILERS_EN = frozenset(w.split()[0] for w in _EN_FOILERS if " " not in w)
FOILED_ATTEMPTS_EN = [
    f"{verb} {between}{noun}{to}"
    for verb in _EN_FOILERS
    for between in ("", "a ", "an ", "the ", "another ", "new ", "fresh ", "renewed ", "repeated ", "several ", "all ")
    for noun in sorted(FOILED_NOUNS_EN)
    for to in ("", " to")
    if not (between in ("a ", "an ", "another ") and noun.endswith("s"))
    if not (between in ("several ", "all ", "repeated ") and not noun.endswith("s"))
]
CALL_OFF_NOT_AFTER = frozenset(
    "the a an its their his her our this that these those s long much twice be been being is are was were get gets "
    "got".split()
)

# What may stand between a predicate and the words before it for those to be its subject (modality._predicate_subject):
# no verb (an auxiliary, a past form, a verb of saying; Russian: a finite verb, a short participle, an infinitive or
# a gerund), no word that opens a clause or names another subject, no "and"/"or" but in "between X and Y" ("the
# exchange between Russia and Ukraine did not take place"; not "Russia ratifies treaty and exchange did not take
# place"), and an even number of commas in a body sentence ("The exchange, however, did not take place"), none in a
# headline ("Russia ratifies treaty, exchange postponed").
PREDICATE_GAP_STOPS_EN = frozenset(
    "that which who whom whose where when while whereas because although though since if unless whether than as "
    "said says say told it they he she we there but nor".split()
)
PREDICATE_GAP_STOPS_RU = frozenset("что чтобы если когда хотя но а однако ли зато он она оно они это".split())
PREDICATE_GAP_BETWEEN = frozenset({"between", "между"})  # ... after which "and", "и" join its two sides
# ... and the words are not a preposition's object ("talks on the exchange did not take place"; past a determiner).
# Russian: the preposition right before them, and their first word must be in the subject's case.
PREDICATE_SUBJECT_PREPOSITIONS_EN = frozenset(
    "of on for about after before since following during over in at to from with by against ahead amid despite "
    "without into under toward towards upon regarding concerning among between like via per".split()
)

# "Leaders said the republic would cease to exist": after a past verb of saying or thinking "would" is the future in
# the past (the future, as "will" is), not a condition (modality._reported_would). The verb stands at most
# REPORTED_FUTURE_GAP words before "would", in its clause, with none of REPORTED_FUTURE_STOPS between ("said that if
# talks failed, the republic would …" stays conditional); "would have" stays conditional, and so does a "would"
# with a conditional cue after it in its sentence ("said the republic would dissolve if Baku attacked", "… on
# condition that Moscow pays").
REPORTED_FUTURE_VERBS = frozenset(
    "said told stated announced added declared warned predicted promised pledged vowed insisted wrote confirmed "
    "indicated signaled signalled decided agreed expected believed thought hoped noted explained tweeted assured "
    "reported claimed argued estimated suggested knew".split()
)
REPORTED_FUTURE_GAP = 10
REPORTED_FUTURE_STOPS = frozenset("if unless whether once when provided otherwise what".split())
# "said, 'Would you like to join us?'": a question, not a report.
REPORTED_FUTURE_NOT_BEFORE = frozenset("i you we he she they it".split())

# "paved the way for ratifying the statute", "clears the way for Sweden to join": not yet done (future). It governs
# the word it leads to or a signal within the phrase it opens (GOVERNS_NEXT_WORD), and, before "X to VERB", that
# verb (a goal, as "urged X to").
PAVED_THE_WAY = frozenset(
    (verb, "the", "way", prep)
    for verb in "pave paves paved paving clear clears cleared clearing".split()
    for prep in ("for", "to")
)

# Nearing an end or a step is not reaching it (trial 47, H1): "As pause **nears** end", "the truce is **nearing** its
# end", "**edges closer to** a deal" (future cues before the words; not the preposition "near").
NEARING_EN = (
    "nears",
    "neared",
    "nearing",
    "edges closer to",
    "edged closer to",
    "edging closer to",
    "inches closer to",
    "inching closer to",
    "draws closer to",
    "drawing closer to",
    "looms",
    "loomed",
)
# "the ceasefire is due to expire on Tuesday" (trial 47, H1: a false "truce collapsed"): before a verb only (as
# VERB_ONLY_TO: "due to the war" is a cause).
DUE_TO_EN = ("is due to", "are due to", "was due to", "were due to")
# ... and "nears" / "neared" right after the signal's words, ending the clause, govern them as their subject: "Thai Vote
# Nears", "as an election nears" (modality.resolve); not words after "of" (up to five words before them: "as the
# anniversary of Russia's invasion nears").
NEARING_AFTER_SUBJECT_EN = frozenset({"nears", "neared", "looms", "loomed"})  # "as end of Israel-Gaza truce looms"
# A choice against (trial 47, M5): "might take a different course **rather than** launching a ground offensive",
# "**instead of** a truce" (negated cues before the words).
CHOSEN_AGAINST_EN = ("rather than", "instead of")
# These, NEARING_EN and DUE_TO_EN govern only the phrase they lead to: the signal's words overlap them or start within
# SHORT_REACH_GAP words after them, no comma between ("nears the one-year mark of its invasion", "rather than hold
# office for life, died aged 95", "rather than allow him to resign", "is due to appear in court charged with …", "the
# loss was due to knock-on effects from Russia's invasion" are not governed: 2023 corpus, trial 47).
SHORT_REACH_EN = frozenset(tuple(c.split()) for c in (*NEARING_EN, *CHOSEN_AGAINST_EN, *DUE_TO_EN))
# ... and "looms" / "loomed" govern no words after them at all, only a subject before (NEARING_AFTER_SUBJECT_EN):
# "Taiwan looms over summit", "Strike Deadline Looms as Talks Continue" (2023 corpus: the summit, the talks are there).
NO_FORWARD_REACH_EN = frozenset({("looms",), ("loomed",)})
SHORT_REACH_GAP = 2
# Readiness in a body sentence, as "ready to" (trial 47, M5): "the country is **prepared to** agree to a pause".
READINESS_EN = ("prepared to", "determined to")

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
            # "stops short of declaring war", "ECOWAS stopped short of imposing sanctions": the act was held back,
            # as after "declined to". It governs the word it leads to (GOVERNS_NEXT_WORD), or a signal within
            # the phrase it opens ("stopping short of a total ban"), not a verb beyond it.
            "stop short of",
            "stops short of",
            "stopped short of",
            "stopping short of",
            # "has yet to ratify", "the treaty is yet to be ratified": it has not happened (before a verb only,
            # VERB_ONLY_TO: "the worst yet to come" still reads so, "the best yet to date" is no cue)
            "yet to",
            "debunk*",
            "fake",
            "fabricat*",
            "baseless",
            "groundless",
            "untrue",
            # walk-backs: "retracts claim that …", "walks back report that …", "no longer says …"
            *_en_walk_backs(),
            # calling off: "Kyiv postponed the exchange", "called off the ratification" (CALL_OFF)
            *_EN_CALL_OFF,
            # taking a ratification back: "revoke ratification", "revocation of its ratification" (REVOKE_KEYS)
            *(c for c in REVOKES_RATIFICATION if c.isascii()),
            # foiling an attempt: "repelled an attempt to cross the border", "thwarted attempts to storm"
            *FOILED_ATTEMPTS_EN,
            *CHOSEN_AGAINST_EN,
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
            "was to",
            "were to",
            # the passive infinitive after a noun: "hostage deal to be approved", "troops to be deployed"
            # (PASSIVE_TO_BE says when it is one: not "the first to be hit", "happy to be elected")
            "to be",
            "agreed to",
            "agrees to",
            # every form of the verb (a headline's plural present: "Officers threaten to seize power", "Leaders
            # vow to restore order": trial 44, H1, 203 titles of 2023 used a form left out)
            "agree to",
            "agreeing to",
            "pledged to",
            "pledges to",
            "pledge to",
            "pledging to",
            "vowed to",
            "vows to",
            "vow to",
            "vowing to",
            "promised to",
            "promises to",
            "promise to",
            "promising to",
            "threatened to",
            "threatens to",
            "threaten to",
            "threatening to",
            # proposals, offers and first steps: "proposed to send troops", "offered to mediate", "the Duma moves
            # to ratify the treaty" (before a verb only, VERB_ONLY_TO: "moves to Kursk", "offered to Russia").
            # Not "move to", "moved to": a step taken ("upheld Modi's move to scrap …", "Biden moved to forgive
            # $4.8 billion in student loans"), or a place whose name is a verb ("moved to house arrest").
            "propose to",
            "proposes to",
            "proposed to",
            "proposing to",
            "proposal to",
            "offer to",
            "offers to",
            "offered to",
            "offering to",
            "moves to",
            "moving to",
            # ... and before an -ing verb only (ING_ONLY): "proposed sending troops", "is considering sending"
            # (not "the proposed treaty", "considering the risks"; not "considered" nor "suggests": "is considered
            # missing", "the forecast suggests accelerating growth")
            "propose",
            "proposes",
            "proposed",
            "proposing",
            "consider",
            "considers",
            "considering",
            "mulls",
            "mulled",
            "mulling",
            "seeks to",
            "seeking to",
            "hopes to",
            "wants to",
            # nearing: "close to agreeing", "talks aimed at extending" (before an -ing verb only: ING_ONLY)
            "close to",
            "closer to",
            # "France open to sending fighter jets": willing, not done (before an -ing verb only: "open to talks")
            "open to",
            "aimed at",
            "aiming at",
            "on the verge of",
            "on the brink of",
            # headlines drop the article: "ECOWAS on brink of imposing sanctions", "Napoli on verge of ending wait"
            "on verge of",
            "on brink of",
            # "has paved the way for ratifying the statute", "clears the way for ratification" (PAVED_THE_WAY)
            *(" ".join(key) for key in sorted(PAVED_THE_WAY)),
            *NEARING_EN,
            *READINESS_EN,
            *DUE_TO_EN,
        ],
        "hedged": [
            "could",
            "might",
            "may",
            "appear",
            "appears",
            "appeared",
            "appearing",
            # "were apparently attacked", and set off after its subject: "The exchange, apparently, took place"
            # (outside trial 51, L2). Only the word right after it or its subject (APPARENTLY; modality.resolve).
            "apparently",
            "seem*",
            "possibl*",
            "likely",
            # "Russia is unlikely to quit the grain deal": hedged, as "is unlikely to take place" (the predicates
            # below); not negated, which denies (outside trial 61, H1). Not alone: "an unlikely rethink" is what kind.
            "unlikely to",
            "unlikely that",
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
            # "Unclear who is on board", "not clear if he survived" (Wagner-headline trial, M6)
            "unclear who",
            "not clear who",
            "not clear if",
            # a perfect infinitive after a verb of report or belief: "reported to have been killed", "said to have
            # died", "alleged to have ordered" (Wagner-headline trial, M2; "believed to" is above)
            *(f"{v} to have" for v in _EN_REPORTED_TO_HAVE),
            # not confirming leaves it unconfirmed, not denied: "has not confirmed that he died", "did not confirm the
            # strike", "has yet to confirm his death" (Wagner-headline trial, M5; "refused to confirm" stays negated)
            *_en_not_confirming(),
            # "It will take time to confirm he was killed": unconfirmed, not a future (hides "will")
            *_en_takes_time_to_confirm(),
            # "presumed dead", "feared dead": hedged, and only the words they overlap (PRESUMED_DEAD; Wagner-
            # headline trial, M3): "presumed dead after plane crash" presumes no crash
            *(" ".join(key) for key in sorted(PRESUMED_DEAD)),
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
            # "…, officials deny", "…, Pyongyang and Moscow deny": the plural reads as "denies" does (trial 52, LOW-1;
            # not when a negation, a modal or "to" leads it: modality._denial_not_made)
            "deny",
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
            # "…, a claim Kyiv later retracted", "…, but the order was later retracted", "… she has since recanted"
            "retracted",
            "recanted",
            "later walked back",
            "since walked back",
            "been walked back",
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
            # "The attack was not confirmed", "… but death yet to be confirmed" (Wagner-headline trial, M5, M6)
            "was not confirmed",
            "were not confirmed",
            "is not confirmed",
            "are not confirmed",
            "not yet confirmed",
            "yet to be confirmed",
        ],
    },
    "disclaimer": {"hedged": _en_disclaimers()},
    # an attempt: "Troops attempted to storm the village", "in a bid to seize" (ATTEMPT_VERBS_EN, ATTEMPT_NOUNS_EN)
    "goal": {"future": _en_goals(), "hedged": [*ATTEMPT_VERBS_EN, *ATTEMPT_NOUNS_EN]},
    OBJECT: _en_object_frames(),
    PREDICATE: _en_predicates(),
    # Appeals before an -ing verb: "stressed the importance of renewing the deal", "underlined the need for extending
    # it", "called for extending the truce", "urged ending the blockade" report an appeal, not that the renewal
    # happened. Only before an -ing verb, which alone they govern (modality.read_cues; "the importance of the deal",
    # "called for calm" are no cue here). A table of its own: a pack's own "called for" stays a plain cue.
    APPEAL: {
        "future": [
            "importance of",
            "need for",
            "need of",
            "necessity of",
            "call for",
            "calls for",
            "called for",
            "calling for",
            "urge",
            "urges",
            "urged",
            "urging",
        ]
    },
    "neutral": {
        NEUTRAL: [
            "soon after",
            "soon afterwards",
            # "fired several missiles shortly after a U.S. submarine left": then, not later
            "shortly after",
            "shortly afterwards",
            "shortly before",
            # a manner, not a hedge ("urged the West to send arms as quickly as possible, as Russia fired missiles")
            "as soon as possible",
            "as quickly as possible",
            "as fast as possible",
            "as much as possible",
            "not only",
            "no doubt",
            # "It is no secret that the swap took place" (outside trial 51, M1); not "has no secret plan to …"
            "no secret that",
            "no secret of",
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
            # a source's terms, not a condition on what it says ("officials, speaking on condition of anonymity,
            # said the Duma revoked …": outside trial 17, M2)
            *_en_anonymity(),
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
            # "Никаких атак беспилотников не зафиксировано" (outside trial 35, M2)
            "никакой",
            "никакая",
            "никакое",
            "никакие",
            "никакого",
            "никаких",
            "никакую",
            "никаким",
            "никакими",
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
            # walk-backs: "дезавуировал сообщение о том, что …", "отозвал своё заявление о …" (not "отозвал посла")
            "дезавуир*",
            "отозвал* заявлени*",
            "отозвал* сво* заявлени*",
            "отозвал* сообщени*",
            "отозвал* сво* сообщени*",
            "отозвал* утверждени*",
            "отозвал* сво* утверждени*",
            "отказал* от сво* слов",
            "отказал* от сво* заявлени*",
            "отказал* от заявлени*",
            "отказал* от утверждени*",
            "признал* ошибочн*",
            # ... and their infinitives and futures, which a modal governs ("может отозвать своё заявление", "намерена
            # отказаться от своих слов": RU_WALK_BACK_STEMS) or which are a future themselves ("отзовёт заявление")
            "отозвать заявлени*",
            "отозвать сво* заявлени*",
            "отозвать сообщени*",
            "отозвать сво* сообщени*",
            "отозвать утверждени*",
            "отозвать сво* утверждени*",
            "отзов* заявлени*",
            "отзов* сво* заявлени*",
            "отзов* сообщени*",
            "отзов* сво* сообщени*",
            "отказаться от сво* слов",
            "отказаться от сво* заявлени*",
            "отказаться от заявлени*",
            "отказаться от утверждени*",
            "откаж* от сво* слов",
            "откаж* от сво* заявлени*",
            "откаж* от заявлени*",
            "откаж* от утверждени*",
            "признать ошибочн*",
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
            # calling off: "Киев сорвал обмен пленными", "Отложена ратификация договора" (CALL_OFF)
            *_RU_CALL_OFF,
            # taking a ratification back, denouncing: "отзыв ратификации", "денонсировать договор" (REVOKE_KEYS)
            *(c for c in REVOKES_RATIFICATION if not c.isascii()),
            # foiling an attempt: "пресекли попытки ВСУ прорваться", "сорвана очередная попытка прорыва"
            *FOILED_ATTEMPTS_RU,
            # "В Минобороны назвали ложью сообщения о …" (RU_CALLED_FALSE_FIRST)
            *RU_CALLED_FALSE_FIRST,
        ],
        "conditional": ["если", "в случае", "при условии", "бы", "ли", "как только", "в зависимости от"],
        "future": [
            # «потребовал, чтобы парламент ратифицировал», «хочет, чтобы … подписали»: the past form after «чтобы»
            # is a wish or a demand (a purpose: «…, чтобы он вступил в силу»), not a fact
            "чтобы",
            "будет",
            "будут",
            "буду",
            "будем",
            "планир*",
            "намерен*",
            *(" ".join(key) for key in sorted(HOPES_RU)),
            *(key[0] for key in sorted(ANNOUNCES_RU)),
            *(" ".join(key) for key in sorted(PROPOSES_RU)),
            *(" ".join(key) for key in sorted(AGREED_ON_RU)),
            "собирается",
            "собираются",
            "собирался",
            "собиралась",
            "собирались",
            # the short forms of "готов"; its full forms and the noun "готовность" are goals, before an infinitive
            # ("страны, готовых отправить войска"; not "готовые образцы", "в боевой готовности")
            "готов",
            "готова",
            "готово",
            "готовы",
            "готовится",
            "готовятся",
            *(key[0] for key in sorted(PREPARES_RU)),
            "предстоит",
            # its past, "was yet to come" ("Пленным предстоял обмен": it had not happened then; outside trial 51, M2)
            "предстоял",
            "предстояла",
            "предстояло",
            "предстояли",
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
            "скоро",
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
            # attributions to no named source, which Channel One gives for what it cannot vouch for ("по некоторым
            # данным, там находилось подразделение"; outside trial 41, M5). Not "по предварительным / последним
            # данным", a first tally given as fact ("По предварительным данным, никто не пострадал"), nor "как
            # сообщается", which reads as "reportedly" does: asserted.
            "по некоторым данным",
            "по некоторым сведениям",
            "по неофициальным данным",
            "по неофициальным сведениям",
            "по неофициальной информации",
            "по слухам",
            "слух*",
            "не исключ*",
            "видимо",
            "по видимому",
            "по всей видимости",  # outside trial 51, H3 (LOW)
            "судя по всему",
            "кажется",
            "похоже",
            # an attempt: "попытка прорыва", "при попытке прорваться" (ATTEMPT_NOUNS_RU; the verbs are goals)
            *ATTEMPT_NOUNS_RU,
            # not confirming: "не подтвердили вторжение", "пока не подтверждают, что …" (NOT_CONFIRMING_RU)
            *NOT_CONFIRMING_RU,
        ],
    },
    "after": {
        "future": [
            *(key[0] for key in sorted(DISCUSSED_AFTER_RU)),
            "вскоре",
            "скоро",
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
            "дезавуировал*",  # "…, заявление о …, которое позднее дезавуировали"
            "признал* ошибочн*",  # "сообщение о гибели … признали ошибочным"
            "оказал* ошибочн*",
            # "…, однако в Кремле назвали это фейком": pointing back (RU_CALLED_IT_FAKE)
            *RU_CALLED_IT_FAKE,
            # "Сообщения о … в Кремле назвали вымыслом" (RU_CALLED_FALSE_FIRST)
            *RU_CALLED_FALSE_FIRST,
            # "Сообщения о … не соответствуют действительности" (RU_NOT_TRUE)
            *RU_NOT_TRUE,
        ],
        "hedged": ["не подтвержд*", "не удалось подтвердить", "не удалось проверить", "неподтвержд*"],
    },
    "disclaimer": {"hedged": _ru_disclaimers()},
    # an attempt: "ВСУ пытались прорваться" (ATTEMPT_VERBS_RU)
    "goal": {"future": _ru_goals(), "hedged": ATTEMPT_VERBS_RU},
    OBJECT: _ru_object_frames(),
    PREDICATE: _ru_predicates(),
    "neutral": {
        NEUTRAL: [
            "не только",
            "не менее",
            "не раз",
            "не ранее",
            "не позднее",
            "вне зависимости от",
            "ни один",
            # a negated verb of hiding or doubting, and "не … не", say that what follows is so: "Не секрет, что
            # обмен состоялся", "никто не сомневается, что …", "не могли не знать, что …" (outside trial 51, M1)
            "не секрет",
            "не является секретом",
            "ни для кого не секрет",
            "ни для кого не является секретом",
            "не сомнева*",
            "нет сомнений",
            "нет никаких сомнений",
            "не скрыва*",
            "нельзя не",
            *(f"не {m} не" for m in ("мог", "могла", "могли", "может", "могут")),
            # "отказался от комментариев": no comment, not a refusal of what follows
            "отказ* комментир*",
            "отказ* от комментари*",
        ]
    },
}

BUILTIN: dict[str, CueTable] = {"en": _EN, "ru": _RU}
# The English walk-backs' words (modality.read_cues marks them: their reach ends at WALK_BACK_STOPS).
WALK_BACK_KEYS = frozenset(tuple(c.split()) for c in _en_walk_backs())

# English cues "VERB to" whose verb also takes a noun after "to": "agreed to send troops" is a future,
# "agreed to a truce" an agreement made; "declined to approve" a refusal (negated), "declined to their lowest
# level" a fall. Such a cue (its first word one of these, then "to") applies only when a verb in its bare
# form follows, after at most one adverb ("agreed to quickly send").
# "yet to" too: "has yet to ratify", "is yet to be ratified" (not "the best yet to date").
VERB_ONLY_TO = frozenset(
    "agree agrees agreed agreeing pledge pledges pledged pledging promise promises promised promising "
    "decline declines declined declining yet propose proposes proposed proposing proposal offer offers offered "
    "offering moves moving".split()
)

# Cues of nearness or purpose that are a future only before an -ing verb ("close to agreeing", "negotiations
# aimed at extending the truce"); before a noun they name a place or a target ("troops close to the border",
# "strikes aimed at the depot").
# "agreed to" + a verb of extension reports a decision that is itself the act: once the parties agree to extend a
# truce, a deal, a mandate or a detention, it is extended ("Russia agrees to extend the grain deal again", "Israel
# and Hamas agree to extend truce for two more days"). No cue then; "agreed to send / pay / buy / plead" stay futures
# (the act is still to be done). Read on the 2023 corpus (docs/rules.md, "Modality").
AGREE_FORMS = frozenset("agree agrees agreed agreeing".split())
AGREED_DONE_VERBS = frozenset("extend renew prolong".split())

# "moves to" is the verb ("Russia moves to ratify"), not the plural noun after a possessive, a determiner or an
# adjective ("the Taliban's moves to restrict women's rights", "a series of moves to", "dance moves to keep warm"):
# the noun reports steps taken.
MOVES_TO = ("moves", "to")
MOVES_NOUN_AFTER = frozenset(
    "s the its their his her our your my these those such new recent latest further other similar any no of "
    "dance chess bold diplomatic legal military".split()
)

# Proposals and deliberation too: "North Korea proposed sending troops", "Russia is considering sending troops"
# (not "the proposed treaty", "considering the risks").
ING_ONLY = frozenset(
    {("close", "to"), ("closer", "to"), ("open", "to"), ("aimed", "at"), ("aiming", "at")}
    | {(w,) for w in "propose proposes proposed proposing consider considers considering mulls mulled mulling".split()}
)
# These, "on (the) verge / brink of" and "stop(ped) short of", govern only the word they lead to (after an article or
# an -ly adverb): the signal is future (negated) when that word is one of its own ("close to agreeing a truce", "on
# the verge of a truce deal", "stopped short of imposing sanctions"), not when the signal's verb lies beyond ("a truce
# aimed at freeing hostages begins", "on the brink of collapse, the truce was extended").
STOPPED_SHORT_OF = frozenset((form, "short", "of") for form in ("stop", "stops", "stopped", "stopping"))
NEARING_OF = frozenset(
    ("on", *article, noun, "of") for article in ((), ("the",)) for noun in ("verge", "brink")
)  # "on (the) verge / brink of": headlines drop the article
GOVERNS_NEXT_WORD = (
    ING_ONLY
    | STOPPED_SHORT_OF
    | NEARING_OF
    | CALL_OFF
    | PAVED_THE_WAY
    | PREPARES_RU
    | HOPES_RU
    | ANNOUNCES_RU
    | PROPOSES_RU
    | AGREED_ON_RU
    | frozenset({("to", "be")})
)

# "to be" + a past participle after a noun is a passive infinitive, a thing still to be done: "signs hostage
# deal to be approved", "Putin orders troops to be deployed", "a treaty to be ratified next week". It governs
# the participle (GOVERNS_NEXT_WORD) and is a cue only when (modality.read_cues):
# - a past participle follows, perhaps after an -ly adverb ("to be formally ratified"), not an adjective or an
#   -ing form ("to be fake", "to be fighting");
# - the word before "to" is none of these, where "to be" is a complement or a report, not a plan: "was to be"
#   and "has yet to be" are cues of their own; "said / believed / thought / known to be" report; "appears /
#   seems to be" hedge; "happy / proud to be elected" and "began to be released" happened;
# - no ordinal, "only" or superlative is among the four words before it: "the first (country) to be hit", "the
#   only one to be spared", "the largest force to be deployed", "the most senior official to be killed" report
#   what happened.
# In a year of English news (171k items, 2023) 1,699 "to be" pass (4,513 not); of a sample of 40, 37 read a thing to be
# done ("Missouri man to be executed", "minimal fuel to be allowed into Gaza"), 3 not.
PASSIVE_TO_BE = ("to", "be")
PASSIVE_TO_BE_NOT_AFTER = frozenset(
    """am is are was were be been being yet has have had having going about used able unable likely unlikely
    due set seem seems appear appears happen happens prove proves turn turns ought need needs want wants deserve
    deserves expect expects hope hopes claim claims said known thought shown proven found seen meant held told
    made bound sure certain enough happy glad proud lucky sorry sad fortunate unfortunate keen eager ready
    willing reluctant one ones began begin begins begun start starts continue continues cease ceases stop stops
    struggle struggles""".split()
)
PASSIVE_TO_BE_ORDINALS = frozenset("first second third fourth fifth last only next latest most least".split())

# Noun/verb homographs that after such a cue are the noun unless a use of the verb follows: "agreed to deal
# terms", "agrees to deal on grain" (headlines drop the article) report a deal; "agreed to deal with the
# backlog" is a future. The word -> the words after it that make it the verb, also after an -ly adverb
# ("deal swiftly with"); "a"/"an" or a pronoun after it make it the verb too ("deal a blow"). In a year of
# English news "to deal" is "to deal with" 195 times in 210. Not "plan": it takes its object bare ("to plan
# attacks", "to plan changes to the Cabinet"), so "agreed to plan changes" cannot be told from the noun.
NOUN_UNLESS_BEFORE: dict[str, frozenset[str]] = {"deal": frozenset({"with"})}

# "May" the month (or a name), not the modal: modality._is_month_may. After these words in any case ("in May",
# "in may", "since May"; the modal cannot follow them), and, capitalised, after these ("this May", "last May";
# lower-cased they may be a subject: "this may take weeks", "those who arrive late may be turned away").
MAY_MONTH_AFTER = frozenset("in since until till from of by during through before after mid the".split())
MAY_MONTH_AFTER_CAPITALISED = frozenset("this last next early late".split())

# Russian walk-backs (the `negated` cues of these stems with more than one word: "отозвал своё заявление",
# "отказаться от своих слов", "дезавуировал сообщение", "признал ошибочным"; not "отказался" alone, a refusal) are
# walk-backs as the English ones are: a modal governs them ("может отозвать заявление": hedged; "намерена отказаться
# от своих слов": future), "не" cancels with them ("не отозвал заявление": the claim stands), and a perfective future
# is one still to come ("отзовёт заявление").
RU_WALK_BACK_STEMS = ("дезавуир", "отозва", "отзов", "отказа", "откаж", "призна")

# Russian "soon": a future only when the verb it governs is not in the past. With a past verb it means "shortly
# afterwards" and the act is done ("Вскоре Госдума ратифицировала договор", as the English "soon imposed"); "вскоре
# ратифицирует" stays a future (modality.resolve, _past_verb_ru).
RU_SOON = frozenset({"вскоре", "скоро"})

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
    "uses used helps helped urges urged calls called asks asked wants tries tried "
    # "Russia likely to quit grain deal": a hedge, whose infinitive is what may come (outside trial 61, H1)
    "likely unlikely".split()
)
HEADLINE_LANGUAGES = frozenset({"en"})
# ... and only when the word after "to" can be a verb (modality._verb_follows: "Kim to visit", not "to missile launch
# site"), and not after a verb or noun of going when the word after "to" is the noun before a place
# (HEADLINE_TO_PLACES: "Kim travels to launch site", "heads back to launch pad") or ends the headline: the word just
# before "to", or the one before a particle there (HEADLINE_TO_PARTICLES). A verb there is a purpose ("heads to sign
# treaty", "travels to meet Putin": review 25, H2). Not "way", "route", "rush": "on way to attack Sevastopol".
HEADLINE_TO_MOTION = frozenset(
    "go goes went going come comes came coming travel travels travelled traveled travelling traveling head heads "
    "headed heading fly flies flew flying return returns returned returning sail sails sailed drive drives drove "
    "walk walks walked arrive arrives arrived trip trips visit visits journey journeys".split()
)
HEADLINE_TO_PARTICLES = frozenset("back out over down up home".split())
HEADLINE_TO_PLACES = frozenset(
    "site sites pad pads facility facilities base bases area areas zone zones range ranges centre center complex "
    "port ports station stations ground grounds field fields point points camp camps".split()
)
# ... and the object of such a verb when the verb brings it about: "Medvedev Says G-7 Export Ban to Trigger Grain Deal
# Exit", "Sanctions to Spark Grain Deal Collapse" (the exit is still to come). Only these verbs: after "to protest",
# "to mark", "to end", "to discuss" the object has happened ("Farmers rally to protest grain deal exit"). The signal
# starts at most HEADLINE_OBJECT_GAP words after the verb, none of them HEADLINE_OBJECT_STOPS.
HEADLINE_TO_CAUSES = frozenset(
    "trigger spark prompt provoke cause force bring spell mean herald precipitate unleash launch stage hold".split()
)
HEADLINE_OBJECT_GAP = 3
# ... nor after a verb that says it was done ("Russian help likely enabled North Korea to launch a spy satellite"),
# nor after a noun of trying: the attempt is the news, and it may have failed ("its attempt to launch a spy satellite
# ends in failure", "in effort to launch election-betting market").
HEADLINE_CAUSE_EXCEPTIONS = frozenset("enabled enables allowed allows let lets".split())
HEADLINE_CAUSE_NOT_AFTER = frozenset("attempt attempts effort efforts bid bids try tries".split())
HEADLINE_OBJECT_STOPS = frozenset(
    "as after amid while before despite since until when if because but and or than says said say over following "
    "ahead in on at by from for with to into against".split()
)

# Verification disclaimers (the `disclaimer` tables): a predicate hedges the words before it in its sentence
# only next to an anaphor that points back. English, passive or "unverified": the word just before it (after
# "however", "still", …) is one of DISCLAIMER_ANAPHORS_EN ("this could not be verified"), or a
# DISCLAIMER_NOUNS_EN word after one of DISCLAIMER_DETERMINERS_EN, perhaps one word between ("the (Ukrainian)
# claim could not be confirmed"). Active: "which"/"that" up to four words before it ("which (the) Reuters
# could not verify"), or its object is such an anaphor ("Reuters could not verify it / the claims"), not
# followed by "of" or "that" ("verify the number of dead", "verify the report that …" name something new).
DISCLAIMER_ANAPHORS_EN = frozenset("this it that which these those they".split())
DISCLAIMER_NOUNS_EN = frozenset(
    "claim claims report reports information figure figures account accounts assertion assertions allegation "
    "allegations statement statements data footage video videos image images numbers authenticity accuracy "
    "veracity".split()
)
DISCLAIMER_DETERMINERS_EN = frozenset("the this these that those such its their his her both either whose".split())
DISCLAIMER_SKIP_EN = frozenset("however still yet also though so far".split())
DISCLAIMER_RELATIVES_EN = frozenset({"which", "that"})
DISCLAIMER_NOT_ANAPHORIC_AFTER_EN = frozenset({"of", "that", "about", "on"})
# Russian (free word order): within three words either side, or inside the predicate ("проверить эту
# информацию не удалось"), a demonstrative or relative ("это", "эту", "эти", "которую"), or a word for what was
# said ("информацию", "сведения", "данные") not followed by "о"/"об"/"про" ("подтвердить информацию о потерях",
# "данные о потерях не удалось проверить" name something new).
DISCLAIMER_ANAPHORS_RU = frozenset("это этого этому эту эти этих эта этот".split())
DISCLAIMER_RELATIVE_RU = "котор"
DISCLAIMER_NOUNS_RU = frozenset(
    "информация информацию информации сведения сведений сообщение сообщения сообщений заявление заявления "
    "утверждение утверждения данные данных данную данная данное".split()
)
DISCLAIMER_NOT_ANAPHORIC_AFTER_RU = frozenset({"о", "об", "обо", "про"})

# Goals (the `goal` tables): "urged Hamas to accept", "was urged to accept". The words between the verb and
# "to" (X: none, or up to GOAL_OBJECT_WORDS) hold none of GOAL_STOP_EN (a clause of its own: "urged restraint
# and Russia began to withdraw" is no request to withdraw), and an English verb in its bare form follows "to".
# Russian: X then an infinitive ("призвал Пхеньян ратифицировать", "потребовал от Израиля прекратить"), X
# holding none of GOAL_STOP_RU. The cue governs up to GOAL_REACH words after the "to" (the infinitive): the
# verb's own phrase, not the rest of the sentence ("Asked to comment, the ministry said …").
GOAL_OBJECT_WORDS = 5
GOAL_REACH = 4
GOAL_STOP_EN = frozenset(
    "that which who whom whose as after before while when whether but because if since than said says say is are "
    "was were be been being has have had will would could should can may might must did does do not began begun "
    "begin decided agreed voted moved started continued tried refused failed declined".split()
)
# A commitment, agreement or threat "to VERB" (the future cues "agree(s|d|ing) to", "pledge …", "vow …", "promise …",
# "threaten …") governs its verb's phrase, which ends at one of COMMITMENT_REACH_STOPS, as a goal's does at
# GOAL_REACH_STOPS: "Separatists agree to disarm **after** an assault by Baku" (the assault is reported), "US and China
# agree to resume talks **after** summit". Unless a time to come follows the stop (COMMITMENT_TIME_TO_COME, after "the"
# or "a" perhaps): "vow to retaliate after next week's vote", "after the upcoming summit" (outside trial 44's leftover
# of H1). Only these four: "before" and "until" name a time the commitment looks to ("pledge to stay until the vote").
COMMITMENT_TO_EN = frozenset(
    (verb, "to")
    for verb in (
        "agree agrees agreed agreeing pledge pledges pledged pledging vow vows vowed vowing promise promises promised "
        "promising threaten threatens threatened threatening"
    ).split()
)
COMMITMENT_REACH_STOPS = frozenset({"after", "following", "despite", "amid"})
COMMITMENT_TIME_TO_COME = frozenset({"next", "upcoming", "coming", "forthcoming", "planned", "scheduled", "tomorrow"})
# A goal verb that is none after one of these words: "in order to", "in order for X to" (purpose, not a directive).
GOAL_NOT_AFTER_EN: dict[str, frozenset[str]] = {"order": frozenset({"in"})}
# "warned Russia against / of …", "warning over an attempt to ban strikes": a warning about something, not a directive.
GOAL_WARN_STOP = frozenset("of against over about".split())
GOAL_WARN_FORMS = frozenset("warn warns warned warning".split())
# The goal's reach ends at one of these: "ordered to pay $5m after election claims" (the election is not the goal).
GOAL_REACH_STOPS = frozenset("after amid following despite as because while when since before during until".split())
# A cue before the signal's words does not reach them across a comma or dash followed by one of these, when the
# words lie in the phrase that opens ("Kim vows to expand arsenal, after launch of new missile": the launch is not
# vowed; "Seoul said it could be a missile, after North Korea fired …"), unless a second comma closes it before the
# words ("Russia will, after months of delay, ratify the treaty"). Not a conditional: "if …, …" governs its clause.
# (modality._adverbial_between)
# Only words that point back, to what is so or has happened (review 25, H1: ", before it ratifies the treaty" and ",
# ahead of a missile launch" after "expected to" are just as future, and read as asserted alerts). Russian too: "…,
# после того как КНДР запустила ракету" (the launch happened, whatever "может" before the comma says).
ADVERBIAL_OPENERS = frozenset("after following amid despite because since после несмотря вслед".split())
# ... and these open such a phrase without a comma too: what stands "amid" or "despite" is there already, never what
# the cue says is to come ("Lavrov will visit North Korea amid claims of weapons supplied to Moscow": the claims and
# what they say are not future; outside trial 32, M3). Not "after", "because", "since" ("vows to launch more missiles
# after the drills": the drills may be to come too).
ADVERBIAL_OPENERS_BARE = frozenset({"amid", "despite"})
# ... but not before a noun of what is still wanted, threatened or expected: "will not halt strikes despite calls for
# a truce", "could escalate amid threats of expanding strikes": the truce and the strikes are not there already, and
# the cue before keeps them (review of d23f251: they went from negated or future to asserted). Up to
# ADVERBIAL_EXPECTATION_GAP words (an article, "growing", "international") may stand between.
ADVERBIAL_EXPECTATION_NOUNS = frozenset(
    "call calls demand demands appeal appeals plea pleas pressure threat threats hope hopes plan plans prospect "
    "prospects expectation expectations push pushes bid bids effort efforts talk talks risk risks danger dangers "
    "possibility possibilities speculation rumors rumours warning warnings".split()
)
ADVERBIAL_EXPECTATION_GAP = 2
# ... and only over that noun's own phrase, where the signal's words stand (review of 2a43dcd, MED: "will not
# retaliate despite pressure after North Korea fired missiles" read the firing negated, "may impose sanctions amid
# talks as Ukraine shelled Belgorod" hedged): it ends at one of these (a clause of its own, or a phrase of time or
# cause; "that" opens what is claimed, not wanted: "despite warnings that Russia supplied missiles") and reaches
# EXPECTATION_PHRASE_WORDS words past the noun.
EXPECTATION_PHRASE_STOPS = frozenset(
    "that after as while when since because before following during until but whereas although though which who "
    "amid despite said says told".split()
)
EXPECTATION_PHRASE_WORDS = 6
GOAL_STOP_RU = frozenset("что чтобы который которая которые которого но а однако если когда после ли не".split())

# Hedge adjectives that qualify what a noun names, not the event ("North Korea fires suspected ballistic missile",
# "launches possible ICBM": the launch is reported; what was launched is hedged). A one-word hedge cue of these among
# the signal's words, right after one of its own phrases (the verb; ATTRIBUTE_BETWEEN may stand between) and before a
# word of the signal's that is none of ATTRIBUTE_NOT_BEFORE, does not hedge the signal (modality._attributive_hedge).
# Still a hedge: before the event's own word ("a suspected launch", "suspected of launching"), as an adverb ("possibly
# fired", "allegedly launched"), and before a name ("captured suspected North Korean soldiers": who is the news).
ATTRIBUTIVE_HEDGES = frozenset("suspected possible apparent alleged potential probable presumed purported".split())
# Not "of": after an event noun the launch itself may be what is awaited or unconfirmed ("warns of launch of possible
# ICBM", "The launch of a suspected ballistic missile was not confirmed": review 25, L3); a verb reports it.
ATTRIBUTE_BETWEEN = frozenset("a an the two three four several more another new".split())
ATTRIBUTE_NOT_BEFORE = frozenset("of to that whether if by as in on at for from with and or".split())

# Verbs that act against something that exists already: "Putin vows to crush armed mutiny", "will quash the
# rebellion", "fails to stop the attack", "pledges to investigate the attack". A cue that governs such a verb (the
# word after it, past an -ly adverb; with its particle: "respond to", "put down") does not govern the verb's object,
# the words after it (modality._countered_object; Wagner-headline trial, M4): the mutiny, the attack happened. Not when
# one of COUNTERED_NOT_BETWEEN stands between the verb and the words ("vows to crush any mutiny", "ready to repel
# future attacks": what would come), nor past a word that opens another verb's phrase ("and", "to", "that" …).
COUNTER_VERBS = frozenset(
    """crush crushes crushed crushing quash quashes quashed quashing suppress suppresses suppressed suppressing
    quell quells quelled quelling defeat defeats defeated defeating stop stops stopped stopping end ends ended ending
    halt halts halted halting repel repels repelled repelling repulse repulses repulsed repulsing punish punishes
    punished punishing avenge avenges avenged avenging investigate investigates investigated investigating probe
    probes probed probing condemn condemns condemned condemning""".split()
) | frozenset(
    # ... and verbs that take their object as given (outside trial 56, H1): "ECOWAS calls for summit to discuss Niger
    # coup", "vows to save democracy from coup", "push to reverse the coup": what is discussed, reversed or saved from
    # has happened; the cue governs the verb.
    """discuss discusses discussing debate debates debating reverse reverses reversing overturn overturns
    overturning undo undoes undoing save saves saving rescue rescues rescuing denounce denounces denouncing""".split()
)
# verbs that take their object after a particle: "respond to the attack", "put down the mutiny"
COUNTER_PARTICLE_VERBS = frozenset(
    (verb, particle)
    for verbs, particle in (
        ("respond responds responded responding", "to"),
        ("retaliate retaliates retaliated retaliating", "for"),
        ("retaliate retaliates retaliated retaliating", "against"),
        ("put puts putting", "down"),
        ("crack cracks cracked cracking", "down"),
    )
    for verb in verbs.split()
)
# A negation of a verb whose object holds a goal ("had not responded to a last-minute attempt to renew the deal",
# modality._nested_goal; outside trial 61, H3) negates that verb, not the act the goal governs: the attempt hedges it.
# Not these verbs, which say only whether the goal was made ("made no attempt to renew", "did not make any effort to"),
# and past these words after the negation ("has not yet responded").
NEGATED_LIGHT_VERBS = frozenset(
    """make makes made making take takes took taken taking give gives gave given giving launch launches launched
    launching mount mounts mounted mounting undertake undertakes undertook undertaken undertaking see sees saw seen
    any""".split()
)
NEGATED_VERB_SKIP = frozenset("yet even ever once been so".split())
# ... and only for these negations before the verb ("rejects new bid to advance elections" rejects the bid's aim), and
# not past one of these between the verb and the goal ("didn't acknowledge his defeat and asked supporters to …")
NEGATED_VERB_NEGATIONS = frozenset({"not", "never"})
NEGATED_VERB_NOT_BETWEEN = frozenset("and or but that which who when while as if because".split())
COUNTERED_GAP = 4
COUNTERED_NOT_BETWEEN = frozenset(
    """any future possible potential further new more another fresh renewed next every all attempted initial and or
    but to that which who if whether before after amid despite following during while since when as because until
    unless""".split()
)

# Yes/no questions: a sentence that ends with "?" and opens with one of these (after a colon, if there is one:
# "Analysis: Did …?", and then only the words after it) asks whether it happened ("Did Prigozhin die in a plane
# crash?"): hedged, when no cue governs the words (modality.resolve, _asked; Wagner-headline trial, M1). A
# wh-question ("Why did Wagner rebel?") takes the event as given. Russian: a question with "ли" ("Погиб ли Пригожин?").
QUESTION_OPENERS_EN = frozenset(
    "did does do was were is are has have had will would could can should may might".split()
)
QUESTION_PARTICLE_RU = "ли"
# ... or, in Russian, a question by intonation alone, the usual form of a headline's: it ends with "?" and holds no
# question word ("Задержан организатор теракта?", "Командир наемников погиб?"; outside trial 41, M1). A question
# word in any form makes it a wh-question, which takes the event as given ("Кого задержали после теракта?").
# (Channel One 2024: 151 sentences end with "?", 8 hold "ли", all but 8 of the rest a question word; those 8 are
# alternatives, "… или нет?", and none holds an event word.)
QUESTION_INTONATION_RU = "…?"
QUESTION_WORDS_RU = frozenset(
    (
        "кто кого кому кем ком что чего чему чем чём где когда почему зачем отчего как сколько скольких скольким "
        "какой какая какое какие какого какую каким каких какому каком какой каков какова каково каковы "
        "чей чья чьё чье чьи чьего чьей чьих куда откуда доколе"
    ).split()
)
# ... but not what a definite noun phrase names, which the question takes as given ("Did Iran direct **the** Hamas
# attacks?", "Was he aboard **the** plane that crashed?"): one of these at most QUESTION_DEFINITE_WORDS words before the
# signal's words; unless they open with the bare verb after a modal opener ("Did the strikes **kill** anyone?").
QUESTION_DEFINITE = frozenset("the this that these those its his her their our s".split())
QUESTION_DEFINITE_WORDS = 4
QUESTION_PREDICATES = frozenset("on in at aboard inside behind among".split())  # "Was he on board?": no noun
QUESTION_MODAL_OPENERS = frozenset("did does do will would could can should may might".split())

# Backwards compatible view: the English cues that stand before the words they govern (v1's DEFAULT_CUES).
DEFAULT_CUES: dict[str, list[str]] = _EN["before"]


def builtin_cues(language: str) -> CueTable:
    return BUILTIN.get(language, {})


# A recap: the signal's words name an earlier event as the time of the one reported ("Wagner boss posts first video
# **since** the mutiny", "**a year after** the invasion", "on the **anniversary of** the coup"): the event is recalled,
# not reported, and reads `recap` when no cue governs the words (modality._recap; Wagner-desk trial 37, M5: every
# false alert it scored was a recap months later, after the realert had run out). A bare "after" is no recap: news
# reports an event by what followed it ("233 killed **after** train crash in India", "Hundreds dead **after** quake
# hits Turkey"); only "N days / weeks / months / years after" (and "following", "in the wake of", ...) is, or one
# before "last week's / month's / year's" ("after last month's mutiny"). Measured on the 2023 corpus with an
# 11-signal probe pack: a bare "after" changed 2,124 readings, most of them fresh news; "since" 515 and "anniversary
# of" 136, every one sampled a recap.
RECAP_SINCE_EN = frozenset({("since",), ("anniversary", "of"), ("anniversaries", "of")})
RECAP_AFTER_EN = frozenset({("after",), ("following",), ("in", "the", "wake", "of"), ("in", "the", "aftermath", "of")})
# The time between, before an "after" (hours are the day's news: "hours after the quake").
RECAP_UNITS_EN = frozenset("day days week weeks month months year years decade decades".split())
# A verb that sets the reported event after an earlier one, its object (outside trial 61, L3: "The agreement
# **follows** Russia's departure from the grain deal" raised a fresh exit alert five weeks on): "follows",
# "followed", "comes / came after". Not "followed by" (what came next), "follows through / up / suit", nor "follows
# Turkey in quitting" (Turkey does it now): RECAP_FOLLOWS_NOT_BETWEEN.
RECAP_FOLLOWS_EN = frozenset(
    {("follows",), ("followed",), ("comes", "after"), ("came", "after"), ("come", "after"), ("coming", "after")}
)
RECAP_FOLLOWS_NOT_BETWEEN = frozenset("by in through up suit on with to".split())
# A time of the day's news between the lead and the words: the event recalled is the day's news itself ("alerts
# followed **overnight** drone strikes"), no recap.
RECAP_FOLLOWS_DAY_NEWS_EN = frozenset(
    (
        "overnight today tonight yesterday morning night weekend "
        "monday tuesday wednesday thursday friday saturday sunday"
    ).split()
)
RECAP_SINCE_RU = frozenset(
    {("с", "момента"), ("со", "времени"), ("со", "времён"), ("со", "времен"), ("годовщину",), ("годовщины",)}
)
RECAP_AFTER_RU = frozenset({("после",), ("спустя",)})
RECAP_UNITS_RU = frozenset("день дня дней сутки суток неделю недели недель месяц месяца месяцев год года лет".split())
# A hedge set off by commas right after the signal's words, which open the sentence (perhaps after an article),
# governs them, its subject ("Обмен пленными, по всей видимости, состоялся", "The exchange, apparently, took place";
# outside trial 51, L2): as a parenthesis it hedges the clause it stands in (modality._parenthetical_hedge).
PARENTHETICAL_SUBJECT_OPENERS = frozenset("the this that a an".split())
# "apparently" hedges the word right after it or its subject, no further: "was apparently caught in the cross-fire of
# an attack", "'Apparently Deliberate' Israeli Attack" doubt no attack (on the 2023 corpus, 3 of its 7 readings as
# a cue before read so).
APPARENTLY = ("apparently",)

# An earlier time that opens the clause before the words: "**A year ago** Russia and Ukraine exchanged prisoners",
# "**Год назад** Россия и Украина провели обмен пленными" (outside trial 51, L2), after a unit of RECAP_UNITS_EN /
# _RU (with its number: "two years ago", "несколько лет назад"); a comma may follow it ("A year ago, …"). Only when it
# opens the sentence or its clause (after ":", ";", a dash), perhaps after RECAP_AGO_OPENERS: mid-sentence "ago" ends
# the clause before ("kidnapped two weeks ago, according to officials", "higher than a year ago, striking …"; on the
# 2023 corpus every one of the 23 such readings it made was wrong or not a recap of the words).
RECAP_AGO_EN = frozenset({("ago",)})
RECAP_AGO_RU = frozenset({("назад",)})
# The count before the unit, said with the lead ("two years ago", "пять лет назад"; figures too).
RECAP_AGO_COUNTS = frozenset(
    "a an one two three four five six seven eight nine ten several few many some twenty thirty forty fifty sixty "
    "seventy eighty ninety hundred "
    "два две три четыре пять шесть семь восемь девять десять несколько пару много".split()
)
RECAP_AGO_OPENERS = frozenset(
    "just only exactly about nearly almost over more than and but on this day "
    "ровно почти около более уже еще ещё всего лишь а и но в этот день".split()
)
# A Russian recap marker opening its sentence: "Напомним, 30 декабря при обстреле Белгорода погибли 25 человек", "Стоит
# напомнить, что …" recall an event reported before (outside trial 71, L3): every word after it is a recap.
RECAP_RECALL_RU = frozenset({"напомним", "напомню", "напоминаем", "напомнить"})
RECAP_RECALL_LEADS_RU = frozenset({"стоит", "следует", "нужно", "надо", "необходимо", "важно"})
# At most this many words between the lead and the signal's words ("since **the short-lived Wagner** mutiny").
RECAP_GAP = 4
RECAP_WORDS = frozenset(
    {
        k[-1]
        for k in RECAP_SINCE_EN
        | RECAP_AFTER_EN
        | RECAP_FOLLOWS_EN
        | RECAP_SINCE_RU
        | RECAP_AFTER_RU
        | RECAP_AGO_EN
        | RECAP_AGO_RU
    }
)
# A recap by a relative clause (outside trial 44, M3: background of the Niger coup re-raised it four times): the
# signal's words open with a past verb right after "who" / "which" / "that" (or "who had", "which was", "that were"
# …), and the clause names an explicit earlier time after them, within RECAP_TIME_GAP words, no comma between: "the
# generals **who overthrew** Niger's president **in July**", "the junta **that seized** power **last month**", "who
# led a mutiny **two years ago**", "**in 2021**", "**earlier this year**". Without such a time a relative clause is
# often the day's news ("soldiers who seized power on Wednesday"), so a weekday, "this week", "yesterday" are no
# recap time. This reading ignores the document's date (RECAP_YEAR_* do): a month name is taken as past ("who seized
# power in July" read on 26 July would be a recap too; news of the day names the weekday). Participles ("Bazoum,
# overthrown in July, …") are not read: after a comma a past form is as often the main verb ("Soldiers, led by …,
# seized power").
RECAP_RELATIVES_EN = frozenset({"who", "which", "that"})
RECAP_RELATIVE_AUX_EN = frozenset({"had", "was", "were", "been"})  # "who had seized", "which was seized", "had been"
RECAP_MONTHS_EN = frozenset(
    "january february march april may june july august september october november december".split()
)
# "in late July", "in mid-July" (tokens "mid", "july"), "in early 2021": a part of a month or year, earlier too.
RECAP_PART_OF_EN = frozenset({"late", "early", "mid", "end"})
RECAP_LAST_UNITS_EN = frozenset({"week", "month", "year", "decade"})  # "last month"; not "last night", a weekday
RECAP_AGO_UNITS_EN = frozenset("week weeks month months year years decade decades".split())  # "two years ago"
RECAP_EARLIER_UNITS_EN = frozenset({"month", "year"})  # "earlier this year"
RECAP_TIME_GAP = 6
# A sentence holding none of these has no recap time (modality.is_plain); a year ("in 2021") is looked for apart.
RECAP_TIME_WORDS_EN = RECAP_MONTHS_EN | {"last", "ago", "earlier"}
# A relative clause that gives the signal's words as the reason for what it says of its subject is a recap too, with
# no time (outside trial 61, L3: "Russia, **which drew** international criticism **for pulling out** of the grain
# deal, claimed …" raised a fresh exit alert five weeks on): "who" / "which" within RECAP_FOR_GAP words before a
# "for" right before the words (or before "its", "his", "her", "their", "the", "having" before them), no comma or
# clause break between, and a word of judgement or punishment between them (RECAP_FOR_REASONS_EN): "who was jailed
# for leading the mutiny", "which was criticised for its withdrawal", "who spent 20 years in prison for killing".
# Any other "for" is as often a goal or a use ("which pushed for quitting", "who was running for election", "money
# for his dying dog", "missiles which can be launched for attacks": 2023 corpus, probe pack, 5 of 20 readings
# without the list), and so is one after a modal or "to" (RECAP_FOR_MODALS_EN). Not "that" (as often "said that
# …").
RECAP_FOR_RELATIVES_EN = frozenset({"who", "which"})
RECAP_FOR = "for"
RECAP_FOR_DETERMINERS_EN = frozenset("its his her their the having".split())
RECAP_FOR_REASONS_EN = frozenset(
    (
        "criticism criticised criticized condemned condemnation blame blamed praise praised hailed thanked credited "
        "rebuked slammed denounced censured apologised apologized apology backlash outrage flak fire scrutiny "
        "sanctioned sanctions punished punishment penalised penalized fined jailed imprisoned prison jail sentenced "
        "convicted trial tried arrested detained charged charges indicted prosecuted expelled banned sacked fired "
        "ousted impeached responsible known famous notorious infamous served spent"
    ).split()
)
RECAP_FOR_MODALS_EN = frozenset("can could will would may might should must shall to".split())
RECAP_FOR_GAP = 8

# An event WANTED, written as a noun (outside trial 47, M1: "Protesters demand the release of hostages", "Relatives
# plea for release of captives", "prisoners await their release" read as releases; the verb forms "urges Hamas to
# release" were futures already, by the `goal` table). One of the signal's own words that is an event noun
# (WANTED_EVENT_NOUNS) reads `future` when it follows, past at most WANTED_GAP modifiers (WANTED_MODIFIERS or the
# signal's own words: "the immediate release", "hostages' release"):
# - "for" after a noun or verb of asking, hoping, awaiting or campaigning (WANTED_FOR_LEADS): "call for the release
#   of", "plea for release of", "rally for the release of", "waiting for the release", "pushing for a truce
#   extension";
# - or one of WANTED_OBJECT_LEADS, whose object it is: "demand the release of", "working to secure the release of",
#   "await their release", "seeking the release of". Only forms that leave the event to come: not "secured",
#   "negotiated", "won", "welcomed" ("Qatar secured the release of two hostages" reports it).
# (modality._wanted_event)
WANTED_EVENT_NOUNS = frozenset("release releases freeing extension exchange swap handover renewal prolongation".split())
WANTED_FOR_LEADS = frozenset(
    (
        "call calls called calling plea pleas plead pleads pleaded pleading appeal appeals appealed appealing "
        "rally rallies rallied rallying march marches marched marching protest protests protested protesting "
        "push pushes pushed pushing press presses pressed pressing pray prays prayed praying prayer prayers "
        "hope hopes hoped hoping wait waits waited waiting campaign campaigns campaigned campaigning lobby lobbies "
        "lobbied lobbying ask asks asked asking demand demands bid bids fight fights fighting vigil vigils "
        "negotiate negotiates negotiating talks negotiations effort efforts pressure advocate advocates advocating "
        "conditions terms allow allowing "
        # a plan or a proposal for it (outside trial 51, M4): "plans for a prisoner swap", "a proposal for an exchange"
        "plan plans proposal proposals"
    ).split()
)
WANTED_OBJECT_LEADS = frozenset(
    "demand demands demanded demanding seek seeks sought seeking secure securing await awaits awaited awaiting "
    "urge urges urged urging negotiate negotiating allow allowing enable enabling facilitate facilitating ensure "
    "ensuring "
    # proposed, offered or discussed (outside trial 51, M4): "Ukraine proposed a prisoner swap", "discussed an
    # exchange". Not "announced": an English report of a swap announces it done ("announced a prisoner swap that
    # returned 100 soldiers"; the Russian "анонсировал" announces ahead, cues.ANNOUNCES_RU).
    "propose proposes proposed proposing offer offers offered offering discuss discusses discussed discussing".split()
)
# ... but "discuss" only an exchange or a handover: a release is often discussed once made ("held a briefing to
# discuss the release of two Americans"; on the 2023 corpus the one such reading).
WANTED_DISCUSS = frozenset("discuss discusses discussed discussing".split())
# ... and an extension or renewal discussed is still to come (outside trial 61, H4: "Officials Discuss Extension")
WANTED_DISCUSSED_NOUNS = frozenset("exchange swap handover extension renewal prolongation".split())
# ... or "of" after one of these: "the idea of a prisoner exchange", "the prospect of a swap" (outside trial 51, M4).
WANTED_OF_LEADS = frozenset("idea ideas prospect prospects possibility proposal proposals".split())
# ... or "on" / "to" after an agreement (AGREE_FORMS): "the two sides agreed on a swap", "agreed to a prisoner
# exchange": the exchange agreed is still to come (outside trial 51, M4). Not an extension, which is agreed as it is
# made ("agreed to a truce extension", as "agreed to extend": AGREED_DONE_VERBS); nor a truce or a deal, not among
# WANTED_EVENT_NOUNS ("agreed to a truce" reports the truce).
WANTED_AGREED_PREPOSITIONS = frozenset({"on", "to"})
WANTED_NOT_AGREED = frozenset({"extension", "renewal", "prolongation"})
# A second object joined by "and" / "or" to a first one of these (perhaps after one word that qualifies it, and
# WANTED_MODIFIERS): "discussed a ceasefire and a prisoner exchange", "the idea of a Christmas truce and exchange".
WANTED_JOINED_NOUNS = frozenset(
    "ceasefire truce pause talks peace release releases exchange swap handover deal aid withdrawal".split()
)
WANTED_JOINED_GAP = 4  # more words past the "and"
# A relative clause after the event noun that says it happened ("agreed to a prisoner exchange last week, which took
# place on Monday"): the event is reported, whatever led to it. Within WANTED_DONE_GAP words after the noun.
WANTED_DONE_RELATIVES = frozenset({"which", "that"})
WANTED_DONE_VERBS = frozenset("took happened occurred went".split())
WANTED_DONE_GAP = 6
# ... and only when the second object's phrase ends there or goes on with one of these: "Kyiv demanded a ceasefire
# and the swap went ahead" joins two clauses, the swap reported.
WANTED_JOINED_NEXT = frozenset("with of for between in on to at by from involving and or".split())
WANTED_MODIFIERS = frozenset(
    "the a an their his her its our immediate swift safe unconditional speedy quick rapid prompt further more all "
    "remaining possible eventual hostage hostages prisoner prisoners s".split()
)
WANTED_GAP = 3
# The lead of "for" may stand up to this many words before it, no comma between ("rally in Ottawa for the release").
WANTED_FOR_GAP = 3
# ... and an event noun of the signal's that qualifies the talks or the deal it is the object of (WANTED_HEADS right
# after it, not one of the signal's own words): "hostage release deal moves forward", "Truce Enters Final Day as
# Extension Talks Drag": the deal is news, the release or extension still to come.
WANTED_HEADS = frozenset(
    "deal deals talks negotiations plan plans proposal proposals framework bid push efforts negotiators".split()
)
# ... and a purpose infinitive: the signal's verb in its bare form right after "to" (or "to help") after one of
# PURPOSE_HEADS: "talks to release hostages", "a pause to help free hostages", "doing everything it can to free
# hostages" (a headline's "to" is read apart, modality._future_form). Not "bid", "effort", "efforts": an attempt,
# which hedges the act tried ("in a bid to capture it": the goal table's hedged attempts, ATTEMPT_VERBS_EN).
PURPOSE_HEADS = frozenset(
    "talks negotiations deal agreement pause truce ceasefire plan proposal push pressure "
    "framework mediation can everything working work".split()
)
PURPOSE_HELP = "help"
# ... not the head of the signal's own words ("Chelsea agree a deal to sign X": what the deal is) nor a deal or an
# agreement to extend, renew or prolong, which is the extension itself, as "agreed to extend" is (AGREED_DONE_VERBS:
# "A deal to extend the ceasefire by two days has been agreed").
PURPOSE_DONE_HEADS = frozenset("deal deals agreement agreements".split())
# An object lead that reports the event done after these words: "the talks were key in securing the release".
WANTED_NOT_AFTER: dict[str, frozenset[str]] = {"securing": frozenset({"in"})}

# An event NOT YET, the object of a plan, a threat, a demand, talks or a preparation (outside trial 56, H1): "make plan
# for military intervention", "finalises plans for military intervention", "threat of military action", "Protesters
# demand French troops leave", "talks on troop withdrawal", "France weighs troop withdrawal" ("could face sanctions" is
# hedged by its "could" already).
# Any of the signal's own words, not only WANTED_EVENT_NOUNS (a signal names an event: what a plan, a threat or a demand
# is of has not happened). It reads `future`, as the verbs "plans to", "threatens to", "demands X to" do; a detection
# that must tell a threat from a decision names the cue words in `except_cues`. The lead stands before the words past
# at most WANTED_GAP modifiers (WANTED_MODIFIERS, the signal's own words, the sentence's names), and is not one of the
# signal's own words (a signal of threats is not governed by its own "threat"):
# - "for" after one of NOT_YET_FOR_LEADS ("plans for", "calls for", "ultimatum for");
# - "of" after one of NOT_YET_OF_LEADS ("threat of", "prospect of");
# - one of NOT_YET_OBJECT_LEADS, whose object it is ("demand", "weighs", "readies"): present forms, not "considered",
#   "prepared", "threatening" (often adjectives: "a prepared statement", "life-threatening storm");
# - "on" after one of NOT_YET_ON_LEADS ("talks on").
# Only when no cue governs the words: one that hedges them already ("might demand more pay") stays.
# (modality._not_yet_event)
NOT_YET_FOR_LEADS = frozenset(
    "plan plans planning proposal proposals call calls calling called demands ultimatum ultimatums deadline "
    "preparations push pushes pushing prepare prepares preparing ready readies readying brace braces bracing "
    # "Russia, UN set for grain deal renewal", "Sudan set for elections" (outside trial 61, H4)
    "set".split()
)
NOT_YET_OF_LEADS = frozenset("threat threats prospect prospects possibility idea proposal proposals".split())
NOT_YET_OBJECT_LEADS = frozenset(
    "demand demands demanding threaten threatens threatened weigh weighs weighing mull mulls mulling consider "
    "considers considering prepare prepares preparing ready readies readying".split()
)
# ... but "demand" (and "demands") is as often the noun of markets ("as demand slows", "mortgage demand falls",
# "Demand for abortion pills has risen": never "demand for"): a verb only after "to", a modal or a subject that looks
# plural ("Protesters demand", "people demand"; NOT_YET_DEMAND_AFTER, or a word ending in "s" that is no determiner
# or preposition).
NOT_YET_DEMAND = frozenset({"demand", "demands"})
NOT_YET_DEMAND_AFTER = frozenset("to will would could may might must people they we i you".split())
NOT_YET_DEMAND_NOT_AFTER = frozenset("as this its his was is has does".split())
# The signal's words are the head of the lead's object, not a word that qualifies another noun ("deadline for Niger's
# coup leaders", "deadline for coup reversal": the coup happened): the word after the run of the signal's own words
# ends the noun phrase: the end of the sentence, a comma, a name, an -ly adverb, an auxiliary, or one of these (an
# article: the object of a verb among the words, "demand French troops leave the country"). Not "to" after the last of
# them after "for": the words are the subject of the infinitive the lead asks for ("Calls For Santos to Resign"; the
# goal table reads that verb); after "of" it is a purpose ("the prospect of a military intervention to reinstate …").
NOT_YET_HEAD_NEXT = frozenset(
    "of in on at to for from by with against into over under between among and or but as after before since until "
    "unless while when if that which who amid despite following during near across through without within the a an "
    "its their his her".split()
)
# "talks on"; not "talks over" / "about", which name what the talks are about as often as what they would bring
# ("crisis talks over the wave of crime", "Macron talks about love").
NOT_YET_ON_LEADS = frozenset("talks negotiations".split())
NOT_YET_ON = frozenset({"on"})
# ... and discussion of an act named by its gerund: "Officials Discuss Extending Grain Deal" (outside trial 61, H4);
# an event noun discussed has happened ("meet to discuss the coup": asserted, COUNTER_VERBS), so only a gerund.
NOT_YET_DISCUSS = frozenset("discuss discusses discussed discussing debate debates debated debating".split())
NOT_YET_LEADS = NOT_YET_FOR_LEADS | NOT_YET_OF_LEADS | NOT_YET_OBJECT_LEADS | NOT_YET_ON_LEADS | NOT_YET_DISCUSS

# Recaps dated by the document's own date (outside trial 47, M6; modality._dated_recap; only when the reading is given
# the document's date):
# - "in <year>", "in a / the <year> …" before or among the signal's words, or "in <year>" right after them, the year
#   before the document's: "before being released in a 2011 prisoner swap" (a 2023 report), "freed in 2011";
# - a sentence that opens with "After" / "Following" and an article, the signal's words in that fronted phrase, and the
#   phrase ending, at its comma, with a past time at least RECAP_FRONTED_DAYS days before the document's date: "on
#   Friday" (read on Monday), "on December 1", "last week": "After the collapse of the weeklong truce on Friday, it is
#   the south that has faced the brunt of Israel's attacks". Not when the phrase holds a present or future verb
#   (RECAP_FRONTED_NOT: "After the truce ends on Thursday, …" is to come). News of the day or the day before names
#   its weekday too ("After the truce collapsed on Friday, Israel resumed strikes", published on Friday): that stays.
RECAP_YEAR_ARTICLES = frozenset({"a", "an", "the"})
RECAP_YEAR_GAP = 3
# "in 2011" after the words ends their phrase: the sentence or the clause ends there (a comma) or one of these follows
# ("resigned in 2021 after reports …"; not "arrested in 2001 killing", "charges in 2020 election inquiry": the year
# dates the noun after it).
RECAP_YEAR_AFTER_NEXT = frozenset(
    "and or but after before when while as by following amid with under during from for to at on until since which "
    "who that between".split()
)
# A year among the words stands at most this many words before their end, one of the signal's own words right after it
# ("released in a 2011 prisoner swap"; not "suspect in 1984 Florida killing arrested", "arrested in 2021 homicide:
# police").
RECAP_YEAR_INSIDE = 2
RECAP_FRONTED_OPENERS = frozenset({"after", "following"})
RECAP_FRONTED_WORDS = 14
RECAP_FRONTED_DAYS = 2
RECAP_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RECAP_MONTH_ABBREVIATIONS_EN = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
RECAP_FRONTED_NOT = frozenset(
    "is are am will would could can may might shall should must ends begins starts expires takes comes goes "
    "resumes opens lapses collapses breaks".split()
)
# A step fixed for a day to come, in the present tense (trial 47, H1): "Cease-Fire **Starts Thursday**", "the truce
# **expires Thursday morning**", "the law **takes effect next week**": a verb of SCHEDULED_STEP_VERBS_EN or
# SCHEDULED_DAY_VERBS_EN (the third person present: "votes", "meets"), after its particles perhaps ("takes effect",
# "comes into force"), directly followed by one of SCHEDULED_TIMES_EN (after "on" for a weekday) or "next" + one of
# SCHEDULED_NEXT_UNITS_EN, reads future for the signal whose words hold the verb or end just before it
# (SCHEDULED_SUBJECT_GAP words: its subject), or that follows it as "…, followed by <words>". Not any word in -s: a
# plural noun stands there as often ("released hostages on Friday", "holds talks Thursday"). No time word, no future:
# a headline's present tells the past ("Truce ends; fighting resumes"), and a past form keeps its weekday ("released
# on Friday").
SCHEDULED_TIMES_EN = frozenset("monday tuesday wednesday thursday friday saturday sunday tomorrow tonight".split())
SCHEDULED_NEXT_UNITS_EN = frozenset("week month year weekend".split())  # "begins next week"
SCHEDULED_DAY_VERBS_EN = frozenset("votes meets convenes reopens".split())
SCHEDULED_SUBJECT_GAP = 3
# ... a clock time may stand between the verb and the day: "begins at 7am on Friday", "expires at 0500 GMT tomorrow".
SCHEDULED_CLOCK_WORDS_EN = frozenset("at noon midnight dawn am pm a m p gmt utc local time".split())
# ... the words between the signal's and the verb: none, or these, or a name ("truce in Gaza takes effect"; not
# "Georgia election workers begins": the election is not what begins).
SCHEDULED_SUBJECT_BETWEEN = frozenset("which that officially formally finally now also then in with between".split())
# A step's verb in the present inside a clause of time (trial 47, H1): "before the cease-fire **expires**",
# "after the truce **ends**", "until the pause **lapses**": the step is still to come. Only these verbs of a phase
# beginning or ending (a plural noun in -s is as often there: "after the Israeli strikes"), in a clause opened by one
# of SCHEDULED_CLAUSE_OPENERS_EN within SCHEDULED_CLAUSE_GAP words before the signal's words, no clause break between.
# Only under a main clause that looks ahead (before the opener): an infinitive ("to govern Gaza after the war ends",
# a headline's "Israel to hit Hamas … after truce ends"), a future, conditional or hedged cue ("must be approved
# before the strike ends", "would not accept … when the war ends"), or a span of time just before the opener ("weeks
# before voting begins", "two months until voting kicks off": SCHEDULED_SPAN_UNITS_EN). A present main clause tells
# the past as often, in body text as in headlines ("Israel resumes military offensive in Gaza after weeklong truce
# expires", "clashes erupt in Khartoum before truce expires": 8 of 42 readings wrong without this; 2023 corpus).
# ("once", "as soon as" are conditional cues already.)
SCHEDULED_SPAN_UNITS_EN = frozenset("hours days weeks months years day week month year".split())
# ... before these only: "into second day after Israel-Hamas truce collapses", "four-day week after trial ends" are
# the past.
SCHEDULED_SPAN_OPENERS_EN = frozenset("before until till".split())
SCHEDULED_STEP_VERBS_EN = frozenset(
    "starts begins ends expires lapses collapses resumes concludes finishes closes opens takes comes goes enters runs "
    "kicks".split()
)
# ... their bare forms after "to" count as well, the "to" standing between the subject and the verb: "Truce **to begin
# Friday** morning", "hostage release to begin Friday" (trial 47: a false "truce in effect" of 23 Nov, in a body).
SCHEDULED_STEP_BARE_EN = frozenset(
    "start begin end expire lapse resume conclude finish close open take come go enter run kick".split()
)
# ... and a verb of fearing before the clause of time looks ahead too: "fear a resumption of airstrikes after the
# fighting pause ends".
SCHEDULED_FEAR_EN = frozenset("fear fears feared fearing".split())
SCHEDULED_CLAUSE_OPENERS_EN = frozenset("after when before until till".split())
SCHEDULED_CLAUSE_GAP = 6
# The reach of a negation before the words ends at one of CUE_REACH_STOPS_EN between them (trial 47, M2): "Netanyahu
# rejects calls for ceasefire **as** troops push into Gaza" (the push is not rejected), "did not confirm the deal
# **but** troops …", "will not halt strikes **while** …" (modality._clause_stop). "as" only where it opens a clause (a
# subject pronoun after it, or a verb before any preposition: "as troops push", "as the country votes"; not "stand as
# Labour candidate at next election", "as part of", "as a result of"), not right after the cue ("not as many"), nor in
# "as well as", "such as", "as much as possible"; "amid" not before a noun of what is wanted or expected ("amid threats
# of expanding strikes": ADVERBIAL_EXPECTATION_NOUNS). A negation's reach ends at NEGATION_REACH_STOPS_EN too ("no
# casualties **after** the bomb went off", "refused to resign **after** an emergency meeting"; not before a time to
# come, COMMITMENT_TIME_TO_COME, nor in "until after": "rules out coalition after next election"), and so does a cue's
# before such a negation ("will never happen again after being arrested"); a future's or a hedge's alone does not: "to
# hit Hamas after the truce ends" is a time to come as well, and "the trip will mix diplomacy … as he meets Irish
# leaders" is future (2023 corpus, probe pack: stopping every cue there, 9 of 45 changed readings read were wrong, 7 of
# them right before, most futures; the negations' stops alone changed 115 readings, of 45 read 38 right, each wrong one
# wrong before as well, 4 of them mended since by the time to come and "until after").
CUE_REACH_STOPS_EN = frozenset("as while amid but because whereas although though".split())
NEGATION_REACH_STOPS_EN = frozenset({"after", "when"})
