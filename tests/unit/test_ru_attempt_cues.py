"""Russian cues of outside trial 41 (H3): an attempt is not the act tried, and a foiled attempt negates it.
Sentences are written for these tests, modelled on Channel One items of 2024 ("пресекли попытки … прорваться",
"пытались прорваться", "сорвана очередная попытка")."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "ru_border.yaml")
DRONES = str(DATA / "rules" / "ru_drones.yaml")


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        # foiled: the act tried did not happen
        ("Пограничники пресекли попытки диверсантов прорваться через границу.", "breach", "negated"),
        ("Пресечена попытка украинских военных прорваться к Судже.", "breach", "negated"),
        ("Военные отразили попытку прорыва в Белгородскую область.", "breach", "negated"),
        ("Сорвана очередная попытка прорыва на территорию России.", "breach", "negated"),
        ("Отбиты новые попытки диверсантов прорваться к селу.", "breach", "negated"),
        ("Военные предотвратили все попытки диверсантов прорваться к селу.", "breach", "negated"),
        # tried: it may have failed
        ("Диверсанты пытались прорваться к границе ночью.", "breach", "hedged"),
        ("Попытка прорыва в Белгородскую область отражена.", "breach", "hedged"),
        ("Мужчина задержан при попытке прорваться через кордон.", "breach", "hedged"),
        # ... not what came before the attempt, nor torture ("пытали"), nor the object of a verb of foiling alone
        ("Мужчина задержан при попытке прорваться через кордон.", "detention", "asserted"),
        ("Пленных пытали, а потом их задержали снова.", "detention", "asserted"),
        # ... nor past the infinitive's phrase
        ("Двое, которые пытались скрыться от патруля, атаковали пограничника.", "attack", "asserted"),
        ("Мужчина пытался скрыться и был задержан на вокзале.", "detention", "asserted"),
        ("Военные отразили прорыв в Белгородскую область.", "breach", "asserted"),
    ],
)
def test_attempts_and_foiled_attempts(body: str, signal: str, want: str) -> None:
    assert modality(body, signal, spec=PACK)[0] == want, body


def test_an_attempt_to_prevent_leaves_the_attack_standing() -> None:
    body = "Военные попытались предотвратить атаку беспилотников на Белгород."
    assert modality(body, "drone_attack", spec=DRONES)[0] == "asserted"
