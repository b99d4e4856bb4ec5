"""Russian cues of outside trial 41 (M5): an attribution to no named source ("по некоторым данным", "по неофициальным
данным") hedges what it reports; a first tally ("по предварительным данным") and "как сообщается" do not, as
"reportedly" does not. Sentences are written for these tests, modelled on Channel One items of 2024."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "ru_border.yaml")


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        ("По некоторым данным, диверсанты прорвались к селу ночью.", "breach", "hedged"),
        ("Диверсанты, по некоторым сведениям, прорвались к селу ночью.", "breach", "hedged"),
        ("По неофициальным данным, в перестрелке погибли трое.", "dead", "hedged"),
        # ... a first tally is given as fact, and "как сообщается" reads as "reportedly" does
        ("По предварительным данным, в перестрелке погибли трое.", "dead", "asserted"),
        ("В перестрелке, как сообщается, погибли трое.", "dead", "asserted"),
    ],
)
def test_attributions(body: str, signal: str, want: str) -> None:
    assert modality(body, signal, spec=PACK)[0] == want, body
