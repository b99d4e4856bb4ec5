"""English captures (outside trial 28, F1): rule 2, the nearest mention before the signal's words, passes over a
mention that does not name the subject: the other side of a relational head ("an ally of Moscow", "Russia's
allies", "the neighbour of Azerbaijan", "the US envoy to the EU"), and one inside an appositive or a relative clause
set off by commas after the subject (", a country bordering Russia,", ", which borders Turkey,"). "The parliament of
Armenia, an ally of Moscow, ratified the Rome Statute" was read as Russia ratifying. Bodies of a country, places
and passive agents stay as they were. Sentences written for these tests."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

ENTITIES = {
    "ARM": {"name": "Armenia", "kind": "country", "aliases": ["Armenia", "Armenian", "Yerevan"]},
    "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia", "Russian", "Moscow", "Kremlin"]},
    "AZE": {"name": "Azerbaijan", "kind": "country", "aliases": ["Azerbaijan", "Baku"]},
    "CHN": {"name": "China", "kind": "country", "aliases": ["China", "Chinese", "Beijing"]},
    "TUR": {"name": "Turkey", "kind": "country", "aliases": ["Turkey", "Ankara"]},
    "USA": {"name": "United States", "kind": "country", "aliases": ["United States", "US"]},
    "EU": {"name": "European Union", "kind": "organization", "aliases": ["European Union", "EU"]},
}
PACK = {
    "version": 2,
    "name": "capture-subject",
    "language": "en",
    "entities": ENTITIES,
    "signals": {
        "ratified": {
            "match": {"all": [{"any": ["ratif*"]}, {"any": ["treaty", "charter"]}]},
            "near": 8,
            "capture": {"party": {"entities": list(ENTITIES)}},
        },
        "warned": {"match": "=warned", "capture": {"party": {"entities": list(ENTITIES)}}},
    },
    "detections": [
        {
            "id": "treaty-ratified",
            "title": "{party} ratified the treaty",
            "severity": "medium",
            "pattern": {"any": "ratified"},
            "group_by": ["party"],
        }
    ],
}
RULES = compile_packs([RulePack.model_validate(PACK)])


def _capture(text: str) -> tuple[str | None, str]:
    exp = explain_extraction(RULES, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.matched]
    assert got, text
    cap = next(c for c in got[0].captures if c.name == "party")
    return cap.value, cap.reason


@pytest.mark.parametrize(
    ("text", "party", "why"),
    [
        # The F1 shape: a body of a country, then an appositive naming its ally.
        ("The legislature of Armenia, a close ally of Moscow, ratified the treaty on Friday.", "ARM",
         "skipped 'moscow': the object of 'ally of'"),
        ("Armenia, a longtime partner of Beijing, ratified the treaty.", "ARM", "the object of 'partner of'"),
        ("Armenia, which shares a border with Turkey, ratified the treaty.", "ARM",
         "skipped 'turkey': inside the relative clause ', which shares a border with turkey,'"),
        ("Armenia, a country bordering Azerbaijan, ratified the treaty.", "ARM",
         "skipped 'azerbaijan': inside the appositive ', a country bordering azerbaijan,'"),
        ("Azerbaijan, once a Russian satellite, ratified the treaty.", "AZE",
         "skipped 'russian': inside the appositive"),
        ("On Monday, Armenia, which borders Turkey, ratified the treaty.", "ARM", "inside the relative clause"),
        ("The US, a long-standing critic of Beijing, warned of delays.", "USA", "the object of 'critic of'"),
        ("The US envoy to the EU warned of delays.", "USA", "skipped 'eu': the object of 'envoy to'"),
        ("The US, Armenia's closest partner, warned of delays.", "USA", "skipped 'armenia': the owner of 'partner'"),
    ],
)  # fmt: skip
def test_a_mention_that_only_describes_the_subject_is_passed_over(text: str, party: str, why: str) -> None:
    value, reason = _capture(text)
    assert value == party, (text, reason)
    assert reason.startswith("the nearest mention before the signal's words (skipped"), reason
    assert why in reason, reason


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("A close ally of Moscow ratified the treaty.", "skipped 'moscow': the object of 'ally of'"),
        ("Deputies in the neighbour of Azerbaijan ratified the treaty.", "the object of 'neighbour of'"),
        ("Allies of Russia and China ratified the treaty.", "skipped 'china': the object of 'allies of'"),
        ("Moscow's closest allies ratified the treaty.", "skipped 'moscow': the owner of 'allies', who acted"),
        ("Turkey's neighbours later ratified the treaty.", "the owner of 'neighbours'"),
        ("The Caucasian republic, which borders Turkey, ratified the treaty.", "inside the relative clause"),
        # Not rule 3: the subject is named, and it is none of the candidates.
        ("A close ally of Moscow ratified the treaty, Armenian officials said.", "the object of 'ally of'"),
        # A mention farther back, in another clause, is not the subject either.
        ("Ankara says Armenia's allies ratified the treaty.", "'ankara' is before 'says'"),
        ("Turkey needs the treaty, Senator Smith, who once lived in Azerbaijan, warned.",
         "skipped 'turkey': before the subject that the appositive describes"),
    ],
)  # fmt: skip
def test_no_capture_when_only_such_mentions_are_before_the_words(text: str, why: str) -> None:
    value, reason = _capture(text)
    assert value is None, (text, reason)
    assert reason.startswith("no mention before the signal's words names the actor"), reason
    assert why in reason, reason


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("The legislature of Armenia ratified the treaty.", "ARM"),  # a body of a country is the country
        ("Armenia's legislature ratified the treaty.", "ARM"),
        ("Armenia ratified the treaty.", "ARM"),
        ("Deputies in Azerbaijan ratified the treaty.", "AZE"),  # a place's "in": not a relational head
        ("Its neighbour, Armenia, ratified the treaty.", "ARM"),  # the appositive names the subject
        ("Hakob, an Armenian deputy, warned of delays.", "ARM"),  # the mention qualifies the appositive's head
        ("Turkey's rival parties ratified the treaty.", "TUR"),  # "rival" qualifies "parties"
        # An adverbial before the first comma: what follows is a clause, not an appositive.
        ("On Monday, a committee of the Russian parliament met, and deputies ratified the treaty.", "RUS"),
    ],
)
def test_the_subject_and_its_bodies_are_unchanged(text: str, party: str) -> None:
    assert _capture(text) == (party, "the nearest mention before the signal's words"), text


@pytest.mark.parametrize(
    ("text", "party", "why"),
    [
        ("The treaty was ratified by Armenia.", "ARM", "the agent of a passive ('by' after 'ratified')"),
        ("The treaty was ratified by a close ally of Moscow.", None,
         "the agent of a passive ('by' after 'ratified') names no entity ('ally' of the one it names)"),
        ("The treaty was ratified by Moscow's allies.", None,
         "the agent of a passive ('by' after 'ratified') names no entity ('allies' of the one it names)"),
    ],
)  # fmt: skip
def test_passive_agents(text: str, party: str | None, why: str) -> None:
    assert _capture(text) == (party, why), text


def test_rules_explain_says_which_mention_was_skipped_and_why(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack.yaml"
    pack.write_text(json.dumps(PACK), encoding="utf-8")  # JSON is YAML
    text = "The legislature of Armenia, a close ally of Moscow, ratified the treaty on Friday."
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text])
    assert res.exit_code == 0, res.output
    assert (
        "capture party = ARM (Armenia) — the nearest mention before the signal's words (skipped 'moscow': the object"
        " of 'ally of')" in res.output
    ), res.output
    assert "treaty-ratified fired: Armenia ratified the treaty" in res.output


@pytest.mark.parametrize(
    ("text", "aside"),
    [
        # Outside trial 28: an aside that compares the subject with another party, or sets one beside it.
        ("Armenia, like Russia, ratified the treaty on Tuesday.", "like russia"),
        ("Armenia, unlike Russia, ratified the treaty.", "unlike russia"),
        ("Armenia, much like Moscow, ratified the treaty.", "much like moscow"),
        ("Armenia, as did Turkey, ratified the treaty.", "as did turkey"),
        ("Armenia, not Azerbaijan, ratified the treaty.", "not azerbaijan"),
        ("Armenia, rather than Azerbaijan, ratified the treaty.", "rather than azerbaijan"),
        ("Armenia, along with China, ratified the treaty.", "along with china"),
    ],
)
def test_a_comparing_aside_does_not_name_the_subject(text: str, aside: str) -> None:
    value, reason = _capture(text)
    assert value == "ARM", (text, value, reason)
    assert f"inside the aside ', {aside},'" in reason, reason


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("Like Russia, Armenia ratified the treaty.", "ARM"),  # fronted: no aside after a subject
        ("On Monday, like Russia, the treaty was ratified by Armenia.", "ARM"),  # the passive's agent
        ("Russia, not Armenia's parliament, ratified the treaty.", "RUS"),  # the aside's own owner is no subject
    ],
)
def test_what_an_aside_rule_leaves_alone(text: str, party: str) -> None:
    value, reason = _capture(text)
    assert value == party, (text, value, reason)
