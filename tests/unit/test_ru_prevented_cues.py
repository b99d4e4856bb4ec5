"""Russian cues of outside trial 35 (M2): an attack nothing recorded, not confirmed, prevented, or still being
prepared did not happen; one prepared for in answer, or not prevented, did. Sentences are written for these tests,
modelled on Channel One items of 2024 ("ФСБ предотвратила серию терактов", "готовил теракты")."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "ru_drones.yaml")


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Никаких атак беспилотников на Курскую область не зафиксировано.", "negated"),
        ("Атака беспилотников на Белгород не подтвердилась.", "negated"),
        # a report of it that was not confirmed (the attack in the report's "об" phrase): session 30's candidate
        ("Сообщения об атаке беспилотников на Белгород не подтверждаются.", "negated"),
        ("Информация об атаке дронов на Курскую область не подтвердилась.", "negated"),
        # ... but not any noun's "об" phrase, nor a report that appeared
        ("Переговоры об атаке беспилотников на Белгород не подтверждаются.", "asserted"),
        ("Сообщения об атаке беспилотников на Белгород появились утром.", "asserted"),
        # prevented, by a verb before the attack, after it with the object first, or a short participle
        ("ПВО предотвратила атаку беспилотников на Белгород.", "negated"),
        ("Атаку дронов на Брянск удалось предотвратить.", "negated"),
        ("Атаку дронов на Брянск предотвратили военные.", "negated"),
        ("Атака дронов на Брянск предотвращена.", "negated"),
        # ... but not when it was only tried, or failed
        ("Пытались предотвратить атаку беспилотников на Белгород.", "asserted"),
        ("Атаку дронов на Брянск не удалось предотвратить.", "asserted"),
        # prepared: still to come, but not what an answer is prepared to
        ("Украина готовит новую атаку беспилотников на Курскую область.", "future"),
        ("Диверсант готовил атаку беспилотников на аэродром.", "future"),
        ("Россия готовит ответ на атаку беспилотников на Курскую область.", "asserted"),
    ],
)
def test_not_recorded_not_confirmed_prevented_or_prepared(body: str, want: str) -> None:
    assert modality(body, "drone_attack", spec=PACK)[0] == want, body
