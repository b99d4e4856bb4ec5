"""Walk-backs are denials (outside trial 12, M1): a claim that is retracted, walked back, withdrawn or corrected is
read negated, in English and Russian; the verbs that also name a movement or a withdrawal of troops are cues only
before a word for what was said. Sentences are written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.cues import builtin_cues

from .test_modality_v2 import modality

KILLED = "troop_engagement"
SENT = "troop_deployment"


@pytest.mark.parametrize(
    ("title", "body", "signal"),
    [
        ("Seoul retracts claim that North Korean troops were killed near Kursk", "", KILLED),
        ("Kyiv walks back report North Korean soldiers died in Kursk fighting", "", KILLED),
        ("Ukraine withdraws claim that North Korean troops were killed in Kursk", "", KILLED),
        ("", "The agency withdrew its earlier statement that North Korean troops had been sent to Russia.", SENT),
        ("", "The ministry corrected an earlier report that North Korean troops were killed in Kursk.", KILLED),
        ("", "Ukraine's army no longer says that North Korean troops were killed in Kursk.", KILLED),
        ("", "Officials backtracked on their claim that North Korean troops had been sent to Russia.", SENT),
        ("", "A lawmaker recanted his account: North Korean troops, he had said, were killed in Kursk.", KILLED),
        # after the words
        ("", "North Korean troops were killed in Kursk, a claim the ministry later retracted.", KILLED),
        # Russian
        ("", "Киев дезавуировал сообщение о том, что КНДР направила военных в Россию.", SENT),
        ("", "Министерство отозвало своё заявление о том, что КНДР направила военных в Россию.", SENT),
        ("", "Разведка отказалась от своих слов о том, что КНДР направила военных в Россию.", SENT),
        ("", "Сообщение о том, что КНДР направила военных в Россию, в ведомстве признали ошибочным.", SENT),
    ],
)
def test_a_walked_back_claim_is_negated(title: str, body: str, signal: str) -> None:
    assert modality(body, signal, title=title)[0] == "negated"


@pytest.mark.parametrize(
    ("title", "body", "signal"),
    [
        # "walks back", "withdrew", "took back" before no word for what was said: a movement, a pull-out, a capture
        ("", "A medic who walks back to the village said North Korean troops were killed in Kursk.", KILLED),
        ("", "Ukraine withdrew units from the village after North Korean troops were killed in Kursk.", KILLED),
        ("", "Russia took back the village where North Korean troops were killed in Kursk fighting.", KILLED),
        # a walk-back takes back what it names, not the events after "after", "amid", …
        ("Kursk governor retracts curfew order after North Korean troops were killed nearby", "", KILLED),
        ("", "The ministry withdrew its statement amid reports North Korean troops were sent to Russia.", SENT),
        # "no longer" alone stays neutral
        ("", "Moscow no longer hides that North Korean troops were sent to Russia.", SENT),
        # "отозвал" alone recalls an envoy
        ("", "Киев отозвал посла, после того как КНДР направила военных в Россию.", SENT),
    ],
)
def test_the_same_verbs_elsewhere_are_no_cue(title: str, body: str, signal: str) -> None:
    assert modality(body, signal, title=title)[0] == "asserted"


def test_walk_backs_are_negations_in_the_built_in_lists() -> None:
    en, ru = builtin_cues("en"), builtin_cues("ru")
    for cue in ("retracts", "walks back", "withdraws", "corrected", "backtracks on", "no longer says"):
        assert cue in en["before"]["negated"], cue
    assert "retracted" in en["after"]["negated"]
    assert "дезавуир*" in ru["before"]["negated"] and "отозвал*" not in ru["before"]["negated"]


@pytest.mark.parametrize(
    ("sentence", "cue"),
    [
        (
            "Kyiv walked back its earlier report that North Korean troops were killed in Kursk.",
            "walked back its earlier report",
        ),
        ("Kyiv took back the claim that North Korean troops were killed in Kursk.", "took back the claim"),
        (
            "Kyiv issued a correction of its report that North Korean troops were killed in Kursk.",
            "correction of its report",
        ),
    ],
)
def test_a_walk_back_spans_the_word_for_what_was_said(sentence: str, cue: str) -> None:
    """The cue reaches from the noun ("walked back its earlier report"), so its scope is counted from there."""
    assert modality(sentence, KILLED) == ("negated", cue)


@pytest.mark.parametrize(
    ("title", "body", "signal", "want"),
    [
        # What a reader hears: the correction (the headline's subject) sparked anger, and the killing that the anger
        # is about is reported as a fact; what follows "statement" is the headline's predicate, not the statement.
        ("Correction of statement sparked anger that North Korean troops were killed in Kursk", "", KILLED, "asserted"),
        (
            "",
            "Withdrawal of the report was ordered after North Korean troops were killed in Kursk.",
            KILLED,
            "asserted",
        ),
        # ... while a retraction whose statement is spelled out still takes it back.
        ("Retraction of the claim that North Korean troops were killed in Kursk", "", KILLED, "negated"),
    ],
)
def test_a_walk_back_noun_as_the_subject_takes_back_nothing(title: str, body: str, signal: str, want: str) -> None:
    """Session 10's harm, read on the 2023 corpus: "Retraction of statement 'helped form the basis of the revised
    indictment …', court papers say". A reader hears that the retraction helped form the basis: the quote is the
    headline's predicate, said of the retraction, and nothing in it is taken back. A noun walk-back ("retraction
    of", "withdrawal of", "correction of") before a verb is the subject, and no cue."""
    assert modality(body, signal, title=title)[0] == want


@pytest.mark.parametrize(
    ("title", "body", "signal", "want"),
    [
        # A walk-back still to come, or one that may come, is not one done: the claim is not denied now.
        ("", "Seoul will retract its claim that North Korean troops were killed in Kursk.", KILLED, "future"),
        (
            "",
            "Seoul is expected to walk back its report that North Korean troops were killed in Kursk.",
            KILLED,
            "future",
        ),
        ("Seoul to retract claim that North Korean troops were killed in Kursk", "", KILLED, "future"),
        ("", "Seoul may walk back its report that North Korean troops were killed in Kursk.", KILLED, "hedged"),
        (
            "",
            "If Seoul retracts its claim that North Korean troops were killed in Kursk, talks resume.",
            KILLED,
            "conditional",
        ),
        # A walk-back refused or not made leaves the claim standing.
        ("", "Seoul refused to retract its claim that North Korean troops were killed in Kursk.", KILLED, "asserted"),
        ("", "Seoul did not walk back its report that North Korean troops were killed in Kursk.", KILLED, "asserted"),
        # (one done stays a denial)
        ("", "Seoul has retracted its claim that North Korean troops were killed in Kursk.", KILLED, "negated"),
    ],
)
def test_a_walk_back_governed_by_another_cue(title: str, body: str, signal: str, want: str) -> None:
    """Session 10's harm "… concerns that China will backtrack on goal to become carbon neutral by 2060": a reader
    hears a change still to come (the goal stands today), as "will" makes any other claim future: the walk-back
    takes the class of the cue that governs it (future; "may retract" hedged, "if … retracts" conditional), and a
    negation cancels with it ("refused to withdraw the comments", "will not backtrack on": the claim stands). Read
    on the 2023 corpus: "plan to ask Elon Musk to retract his backing", "appears to have withdrawn an assertion",
    "urged the UK not to backtrack on … agreements", "failing to retract previous remarks"."""
    assert modality(body, signal, title=title)[0] == want


@pytest.mark.parametrize(
    ("title", "body", "signal", "want"),
    [
        # A claim of responsibility taken back: the strike and the deaths happened, the claimant's part is withdrawn.
        (
            "",
            "The group walked back its claim of responsibility for the blast that killed North Korean troops in Kursk.",
            KILLED,
            "asserted",
        ),
        # A walk-back or denial in a later clause whose object points back takes back what was said before it.
        ("", "Seoul said North Korean troops were killed in Kursk, but later retracted its report.", KILLED, "negated"),
        (
            "",
            "Kyiv alleged North Korean troops were sent to Russia - before withdrawing the comments.",
            SENT,
            "negated",
        ),
        ("", "Kyiv says North Korean troops were sent to Russia; Moscow denies it.", SENT, "negated"),
        # ... not what no verb of saying introduced, nor across a clause of concession, nor a new object.
        ("", "North Korean troops were killed in Kursk, and Seoul later retracted its report.", KILLED, "asserted"),
        (
            "",
            "Seoul says North Korean troops were sent to Russia despite Moscow rejecting it.",
            SENT,
            "asserted",
        ),
        ("", "Seoul says North Korean troops were sent to Russia, and Moscow denied them leave.", SENT, "asserted"),
        (
            "",
            "Seoul said North Korean troops were sent to Russia, but talks stalled after Moscow rejected it.",
            SENT,
            "asserted",
        ),
        ("", "Seoul expected Moscow to say North Korean troops were sent to Russia, not deny it.", SENT, "asserted"),
        # (in the verb of saying's own clause the words are the denier, not what was said)
        (
            "",
            "Seoul says relatives of North Korean troops killed in Kursk during the long autumn fighting of last year "
            "denied the report.",
            KILLED,
            "asserted",
        ),
    ],
)
def test_a_walk_back_after_the_claim(title: str, body: str, signal: str, want: str) -> None:
    """Session 10's harm "walked back its earlier claim of responsibility for the attacks" and the open "negation
    after a claim in a later clause". Read on the 2023 corpus: "X said that … had been found, but later retracted
    his tweet", "Y alleged … - before withdrawing the comments", "Z says … ; W denies it" are heard as taken back
    or denied (as "…, a claim W denied" already is)."""
    assert modality(body, signal, title=title)[0] == want
