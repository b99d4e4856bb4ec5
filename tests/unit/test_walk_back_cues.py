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
