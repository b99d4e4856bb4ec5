"""Stories: syndicated copies of one story are one report; look-alike templates and other events are not."""

from __future__ import annotations

from watchfloor.stream_processors.engine.stories import independent, same_story, similarity, story_signature
from watchfloor.stream_processors.engine.text import tokens

WIRE = (
    "Hundreds of soldiers were reported killed near the border on Monday, officials said, "
    "as fighting spread to three more villages in the region overnight."
)
EDITED = WIRE.replace("on Monday, officials said", "on Monday, according to officials")
TEMPLATE_A = "War in the east: list of key events, day 512. Shelling hit the port; talks stalled; grain deal in doubt."
TEMPLATE_B = "War in the east: list of key events, day 530. Drones hit the airport; aid convoy reached the city."
OTHER = "Parliament approved the budget on Tuesday after a long debate about taxes and pensions."


def sig(text: str) -> str:
    return story_signature(tokens(text))


def test_copies_are_one_story_and_templates_are_not() -> None:
    assert sig(WIRE) == sig(WIRE)  # deterministic
    assert same_story(sig(WIRE), sig(WIRE.upper()))  # tokens are lower-cased
    assert similarity(sig(WIRE), sig(EDITED)) > 0.5
    assert not same_story(sig(TEMPLATE_A), sig(TEMPLATE_B))
    assert not same_story(sig(WIRE), sig(OTHER))
    assert not same_story(None, sig(WIRE))


def test_independent_reports() -> None:
    wire = sig(WIRE)
    # Two outlets carrying one wire story, and a third with its own report: two independent reports.
    assert independent([("ABC", wire), ("Post", wire), ("Daily", sig(OTHER))]) == 2
    # One outlet twice is one report, whatever the texts.
    assert independent([("ABC", wire), ("ABC", sig(OTHER))]) == 1
    # Without stories (signals of rules that do not count sources), sources alone count.
    assert independent([("ABC", None), ("Post", None)]) == 2
    # Copies link transitively: A~B (same story), B and C one outlet: one report.
    assert independent([("A", wire), ("B", wire), ("B", sig(OTHER))]) == 1
