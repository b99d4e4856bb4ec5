"""Russian cues of outside trial 41 (M4): not confirming is no denial, as the English "did not confirm" (hedged);
the event or a report of it that did not prove true stays negated. Sentences are written for these tests, modelled on
Channel One items of 2024."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "ru_border.yaml")
DRONES = str(DATA / "rules" / "ru_drones.yaml")


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        ("В Минобороны не подтвердили прорыв диверсантов к Судже.", "breach", "hedged"),
        ("В ФСБ не подтвердили, что задержан второй подозреваемый.", "detention", "hedged"),
        ("В ведомстве пока не подтверждают вторжение на территорию района.", "breach", "hedged"),
        ("В Кремле не спешат подтверждать задержание подозреваемого.", "detention", "hedged"),
        # ... a denial stays one, and so does the event's own predicate
        ("В ФСБ опровергли, что задержан второй подозреваемый.", "detention", "negated"),
        ("Задержание второго подозреваемого не подтвердилось.", "detention", "negated"),
        ("Подозреваемый не задержан, сообщили в ФСБ.", "detention", "negated"),
    ],
)
def test_not_confirming(body: str, signal: str, want: str) -> None:
    assert modality(body, signal, spec=PACK)[0] == want, body


def test_a_report_not_confirmed_stays_negated() -> None:
    body = "Сообщения об атаке беспилотников на Белгород не подтверждаются."
    assert modality(body, "drone_attack", spec=DRONES)[0] == "negated"
