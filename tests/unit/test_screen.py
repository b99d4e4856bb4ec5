"""The screen (a first look at a document's words, then probes) decides exactly what the full automaton
decided: the same viable signals, the same signals out, on generated documents (hypothesis)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchfloor.stream_processors.engine.extract import Extractor
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import doc

# Conjunctions of two phrases (whole words, word forms, '*' prefixes, phrases anchored on one word
# because their forms make too many combinations, a phrase naming an entity), with entity and
# context-word requirements, and a few plain "any" signals.
PACK = """
version: 2
name: screened
entities:
  PRK: {name: North Korea, kind: country, aliases: [North Korea, DPRK, Pyongyang]}
  KOR: {name: South Korea, kind: country, aliases: [South Korea, Seoul, Korea]}
signals:
  launch_condemned: {match: {all: [missile launch, condemn]}}
  tanker_sanctions: {match: {all: [sanction*, oil tanker]}}
  minister_visit: {match: {all: [prime minister, visit]}, mentions: {any: [PRK]}}
  summit_talks: {match: {all: [summit, talks]}, context: {words: nuclear}}
  troops_deployed: {match: {all: [troops from @PRK, deploy]}}
  seoul_warns: {match: {all: [warn, test]}, mentions: {all: [KOR]}}
  strikes_rocked: {match: {all: [strikes rocked, capital city]}}
  talks_stalled: {match: {all: [stalled talks, envoy]}}
  launch_rocked: {match: {all: [strikes rocked capital, warhead test]}}
  cease: {match: {any: [ceasefire, truce]}}
  drill: {match: drill*}
detections:
"""
SIGNALS = [
    "launch_condemned",
    "tanker_sanctions",
    "minister_visit",
    "summit_talks",
    "troops_deployed",
    "seoul_warns",
    "strikes_rocked",
    "talks_stalled",
    "launch_rocked",
    "cease",
    "drill",
]
SINGLE = (
    "missile missiles launch launched launches launching condemn condemned condemns sanction sanctions "
    "sanctioned oil tanker tankers prime minister ministers visit visited visits summit summits talk talks "
    "nuclear troops from North Korea DPRK Pyongyang South Seoul deploy deployed deploys warn warned warns "
    "test tests tested strike strikes struck rocked rocks capital city cities stalled stall envoy envoys "
    "ceasefire truce drill drills drilling the a of and in said on state statement oil-tanker"
).split()
NEAR = [  # the phrases' words side by side, in several forms, so conjunctions are often near
    "missile launch",
    "missiles launched",
    "strikes rocked capital",
    "struck rocked capitals",
    "prime minister",
    "prime ministers visited",
    "oil tanker",
    "oil tankers sanctioned",
    "troops from North Korea",
    "troops from DPRK deployed",
    "stalled talks",
    "capital city",
    "nuclear summit talks",
    "warheads tested",
    "warhead tests",
]
WORDS = [*SINGLE, *NEAR]


@pytest.fixture(scope="module")
def extractors(tmp_path_factory: pytest.TempPathFactory) -> tuple[Extractor, Extractor]:
    path: Path = tmp_path_factory.mktemp("screen") / "screened.yaml"
    detections = "".join(
        f"  - {{id: d-{i}, title: t{i}, severity: low, pattern: {{any: {name}}}}}\n" for i, name in enumerate(SIGNALS)
    )
    path.write_text(PACK + detections)
    _loaded, rules = load_rules([str(path)])
    assert rules.screen is not None  # most signals are conjunctions: the pack is screened
    return Extractor(rules), Extractor(dataclasses.replace(rules, screen=None, probes={}))


sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(" ".join)
text = st.lists(sentence, min_size=1, max_size=4).map(lambda s: ". ".join(x.capitalize() for x in s) + ".")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=text)
def test_screen_decides_as_the_full_automaton(extractors: tuple[Extractor, Extractor], body: str) -> None:
    screened, full = extractors
    d = doc(body)
    assert screened.scan(d)[1] == full.scan(d)[1]
    got = [(s.name, s.sentence_index, s.modality) for s in screened.extract(d)]
    assert got == [(s.name, s.sentence_index, s.modality) for s in full.extract(d)]


@pytest.mark.parametrize(
    ("body", "made"),
    [
        ("The missile launches were condemned by Seoul.", ["launch_condemned"]),
        ("Missile launch. Nobody condemned anything.", []),  # viable, but never in one sentence
        ("Sanctioned oil tankers sailed on.", ["tanker_sanctions"]),
        ("The prime minister visited Pyongyang.", ["minister_visit"]),
        ("The prime minister visited Tokyo.", []),
        ("Troops from North Korea were deployed.", ["troops_deployed"]),
        ("Strikes rocked the capital city.", ["strikes_rocked"]),
        ("Strikes rocked the capital.", []),
        ("Strikes rocked capital cities after warheads tested.", ["launch_rocked", "strikes_rocked"]),
        ("A statement on oil.", []),
    ],
)
def test_screened_signals(extractors: tuple[Extractor, Extractor], body: str, made: list[str]) -> None:
    screened, full = extractors
    assert [s.name for s in screened.extract(doc(body))] == made
    assert [s.name for s in full.extract(doc(body))] == made
