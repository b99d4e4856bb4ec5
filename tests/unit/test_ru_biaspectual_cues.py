"""Russian biaspectual verbs of outside trial 41 (M2): their non-past is the present in news ("МЧС эвакуирует
жителей", "ВСУ атакуют"), not a perfective future; a perfective-only verb stays a future, and so does
"ратифицирует", whose done act news writes in the past. Sentences are written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.morphology import is_future_verb_ru

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "ru_border.yaml")


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        ("Спасатели эвакуируют жителей приграничного села.", "evacuation", "asserted"),
        ("Беспилотники атакуют нефтебазу на окраине города.", "attack", "asserted"),
        ("Противник использует дроны для ударов по дорогам.", "use", "asserted"),
        # ... a perfective-only verb is a future
        ("Диверсанты прорвутся к границе, считают в штабе.", "breach", "future"),
    ],
)
def test_biaspectual_present(body: str, signal: str, want: str) -> None:
    assert modality(body, signal, spec=PACK)[0] == want, body


@pytest.mark.parametrize(
    ("word", "want"),
    [
        ("эвакуирует", False),
        ("атакуют", False),
        ("организует", False),
        ("направит", True),
        ("задержит", True),
        ("ратифицирует", True),
        ("денонсирует", True),
    ],
)
def test_future_form(word: str, want: bool) -> None:
    assert is_future_verb_ru(word) is want
