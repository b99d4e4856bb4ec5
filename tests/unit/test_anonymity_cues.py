"""A source's anonymity is no condition (outside trial 17, M2): "speaking on condition of anonymity", "on the
condition that he not be named" are built-in neutral phrases, so the fact the source reports stays asserted.
Sentences are written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.cues import builtin_cues

from .test_modality_v2 import modality

SENT = "troop_deployment"


@pytest.mark.parametrize(
    "body",
    [
        "Officials, speaking on condition of anonymity, said North Korean troops were sent to Russia.",
        "A diplomat who spoke on the condition of anonymity said North Korean troops were sent to Russia.",
        "An official, speaking on the condition that he not be named, said North Korean troops were sent to Russia.",
        "Two officials, who spoke on condition they not be identified, said North Korean troops were sent to Russia.",
    ],
)
def test_anonymity_leaves_the_report_asserted(body: str) -> None:
    assert modality(body, SENT)[0] == "asserted"


def test_a_real_condition_still_is_one() -> None:
    body = "Seoul said North Korean troops would be sent to Russia on condition that Moscow pays."
    assert modality(body, SENT)[0] == "conditional"
    assert "on condition of anonymity" in builtin_cues("en")["neutral"]["neutral"]
