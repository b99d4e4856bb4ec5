"""Russian yes/no questions of outside trial 41 (M1): a question by intonation alone, with no "ли" and no question
word, asks whether it happened (hedged); a wh-question takes the event as given. Sentences are written for these
tests."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "ru_border.yaml")


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        ("Задержан второй подозреваемый в поджоге?", "detention", "hedged"),
        ("Диверсанты прорвались к Судже?", "breach", "hedged"),
        ("Итоги недели: диверсанты прорвались к Судже?", "breach", "hedged"),
        # ... not a wh-question in any form, nor a statement
        ("Кого задержали после поджога?", "detention", "asserted"),
        ("Каким путем диверсанты прорвались к Судже?", "breach", "asserted"),
        ("Диверсанты прорвались к Судже", "breach", "asserted"),
    ],
)
def test_intonation_questions(title: str, signal: str, want: str) -> None:
    assert modality("", signal, title=title, spec=PACK)[0] == want, title
