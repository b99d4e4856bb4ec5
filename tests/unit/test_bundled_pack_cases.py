"""The bundled pack on issue 12's two failing stories, end to end through the engine: a headline future
("Moscow and Pyongyang to exchange instruments next month") and a denial ("officials dismissed reports
that troops had been sent, calling them fake") raise no alert, so the rule's realert stays free for the
real event that follows. Texts written for these tests."""

from __future__ import annotations

import pytest

from .engine_helpers import Timeline, doc, engine_for

PACK = "builtin:dprk_russia"


def _timeline() -> Timeline:
    return Timeline(engine_for(PACK))


@pytest.mark.parametrize(
    "headline",
    [
        "Moscow and Pyongyang to exchange instruments next month",
        "Moscow and Pyongyang to exchange instruments of ratification next month",
    ],
)
def test_headline_future_is_no_exchange_and_leaves_the_real_one_its_alert(headline: str) -> None:
    tl = _timeline()
    assert tl.feed(doc("", title=headline, source="Wire A")) == []
    got = [s for s in tl.signals if s.name == "ratification_exchange"]
    assert got and all(s.modality == "future" for s in got), [(s.modality, s.cue) for s in got]
    # Two weeks later (inside the rule's 30-day realert), the exchange happens and is alerted.
    fired = tl.feed(
        doc(
            "",
            title="Moscow and Pyongyang exchanged instruments of ratification on Wednesday",
            source="Wire B",
            at=24 * 14,
        )
    )
    assert [d.rule for d in fired] == ["ratification-exchange"]


@pytest.mark.parametrize(
    "body",
    [
        "Officials dismissed reports that North Korean troops had been sent to Russia, calling them fake.",
        "Seoul's officials dismissed reports that troops from North Korea had been sent to Russia, calling them fake.",
    ],
)
def test_denial_is_no_deployment_and_leaves_the_real_one_its_alert(body: str) -> None:
    tl = _timeline()
    assert tl.feed(doc(body, source="Wire A")) == []
    got = [s for s in tl.signals if s.name == "troop_deployment"]
    assert got and all(s.modality == "negated" for s in got), [(s.modality, s.cue) for s in got]
    fired = tl.feed(doc("North Korean troops have been sent to Russia, NATO says.", source="Wire B", at=2))
    assert [d.rule for d in fired] == ["troops-deployed"]


def test_the_same_stories_asserted_do_alert() -> None:
    """The cases above are silent because of their modality, not for want of matching."""
    tl = _timeline()
    assert [d.rule for d in tl.feed(doc("", title="Moscow and Pyongyang exchange instruments"))] == [
        "ratification-exchange"
    ]
    fired = tl.feed(doc("Officials said North Korean troops had been sent to Russia.", at=1))
    assert [d.rule for d in fired] == ["troops-deployed"]
