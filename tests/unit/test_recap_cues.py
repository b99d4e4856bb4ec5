"""Recaps: an earlier event named as the time of the one reported ("since the mutiny", "a year after the invasion",
"on the anniversary of the coup", "с момента мятежа") reads `recap`, so a detection on asserted reports does not
raise it again months later (an outside trial's Wagner pack: every false alert it scored was one). A bare "after" is
no recap: news reports an event by what followed it. Sentences are written for these tests, modelled on real
headlines of 2023."""

from __future__ import annotations

import pytest

from watchfloor.schemas.events import MODALITIES

from .test_en_mutiny_cues import reading


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        # "since" and "anniversary of": the event is recalled
        ("Mercenary chief posts first video since the short-lived mutiny", "mutiny", "recap"),
        ("Army chief appears in public for first time since uprising", "mutiny", "recap"),
        ("Two years since the militia attacked the capital, the city rebuilds", "attack", "recap"),
        ("Capital marks anniversary of the attack on parliament", "attack", "recap"),
        # "N days / weeks / months / years after", and "after last month's …"
        ("Mercenary chief met the president days after the mutiny", "mutiny", "recap"),
        ("Two months after he led a revolt, the warlord died in a crash", "mutiny", "recap"),
        ("Sanctions follow after last month's mutiny in the capital", "mutiny", "recap"),
        ("Город восстанавливают спустя год после мятежа", "mutiny", "recap"),
        ("Президент впервые выступил с момента мятежа", "mutiny", "recap"),
        # a negation or hedge before the lead governs its own clause, not the event recalled
        ("The general has not been seen since the mutiny", "mutiny", "recap"),
        ("Army chief appears for first time since revolt", "mutiny", "recap"),
        # not a recap: a bare "after" (the day's news, told by what followed it), hours after, a clause with "after",
        # the words before the lead, a present auxiliary after "since", a comma between
        ("Dozens killed after attack on the capital", "attack", "asserted"),
        ("Troops deployed hours after the mutiny began", "mutiny", "asserted"),
        ("President leaves after the militia attacked the capital", "attack", "asserted"),
        ("Militia attacks the capital since the talks failed", "attack", "asserted"),
        ("Since it is the largest attack in years, leaders met", "attack", "asserted"),
        ("Ever since, the militia attacked the capital twice", "attack", "asserted"),
        ("Задержаны 11 человек после мятежа", "mutiny", "asserted"),
        ("После того как начался мятеж, войска вошли в город", "mutiny", "asserted"),
        # a future before the lead may make the recalled event one to come: it stays future
        ("Leaders will meet weeks after the attack on the capital", "attack", "future"),
    ],
)
def test_recaps(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title


def test_recap_is_a_modality_a_detection_can_take() -> None:
    assert "recap" in MODALITIES
