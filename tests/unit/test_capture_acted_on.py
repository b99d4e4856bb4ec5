"""English captures of what an act was done to (outside trial 61, H2 and M3): a name that qualifies the deal the
signal's words act on ("Ukraine grain deal", "renewal of vital Ukraine crop deal") is not the actor, nor is a
mention among the signal's words "the first mention after" them; a verb among them names its subject ("Russia
refuses to extend"); the target of an attack's "on"/"against"/"at" and the object of a verb whose subject is the
signal's words ("Attack Leaves Ukrainians Bereft"), the country of a place ("Ukraine's Odesa") and a mention in a
relative clause after the words are not the attacker. The trial's real headlines (Bloomberg, Le
Monde, 2023) and variants written for these tests."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

DEALS = ["grain deal", "grain-export deal", "crop deal"]
PACK = {
    "version": 2,
    "name": "grain",
    "language": "en",
    "entities": {
        "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia", "Russian", "Moscow", "Kremlin"]},
        "UKR": {"name": "Ukraine", "kind": "country", "aliases": ["Ukraine", "Ukrainian", "Ukrainians", "Kyiv"]},
        "TUR": {"name": "Turkey", "kind": "country", "aliases": ["Turkey", "Turkish"]},
        "UNO": {"name": "United Nations", "kind": "organization", "aliases": ["United Nations", "UN"]},
        "ODESA": {"name": "Odesa", "kind": "place", "aliases": ["Odesa"]},
    },
    "signals": {
        "extended": {
            "match": {"all": [{"any": ["extend", "renew", "extension", "renewal"]}, {"any": DEALS}]},
            "near": 10,
            "capture": {"party": {"entities": ["RUS", "UKR", "TUR", "UNO"]}},
        },
        "deal_named": {"match": {"any": DEALS}, "capture": {"party": {"entities": ["RUS", "UKR"]}}},
        "strike": {
            "match": {"all": [{"any": ["strike", "attack", "hit", "missile"]}, {"any": ["port", "@ODESA"]}]},
            "near": 12,
            "capture": {"attacker": {"entities": ["RUS", "UKR"]}},
        },
    },
    "detections": [
        {
            "id": "deal-refused",
            "title": "{party} refused the grain deal",
            "severity": "high",
            "group_by": ["party"],
            "pattern": {"any": [{"signal": "extended", "modality": "negated"}]},
        }
    ],
}
RULES = compile_packs([RulePack.model_validate(PACK)])


def _capture(signal: str, name: str, title: str) -> tuple[str | None, str]:
    exp = explain_extraction(RULES, doc("", title=title))
    got = [c for s in exp.sentences for c in s.signals if c.signal == signal and c.matched]
    assert got, title
    cap = next(c for c in got[0].captures if c.name == name)
    return cap.value, cap.reason


@pytest.mark.parametrize(
    ("title", "party", "why"),
    [
        # H2, the real first report of Russia's exit: "Ukraine" qualifies the deal; Russia refuses.
        ("Ukraine Grain Deal Collapses as Russia Refuses to Extend It", "RUS",
         "the subject of 'refuses' within the signal's words"),
        ("Ukraine grain deal ends as Moscow declines to extend it", "RUS",
         "the subject of 'declines' within the signal's words"),
        # A name inside the signal's words is not "the first mention after" them.
        ("Grain Traders Bank On Renewal of Vital Ukraine Crop Deal", None,
         "every mention named is what the act was done to ('ukraine': names the 'crop deal' acted on)"),
        ("The latest talks on extending Ukraine's grain-export deal ended without a deal", None,
         "every mention named is what the act was done to ('ukraine': names the 'grain export deal' acted on)"),
        ("Extension of Ukraine's grain deal agreed, Russia says", "RUS", "the first mention after the signal's words"),
        # Right before the deal's words: the one before it names the subject.
        ("Russia, UN set for Ukraine grain deal renewal talks", "UNO", "the nearest mention before"),
        ("Turkey says Ukraine grain deal renewal is near", "TUR", "the nearest mention before"),
    ],
)  # fmt: skip
def test_a_name_of_the_deal_is_not_its_party(title: str, party: str | None, why: str) -> None:
    value, reason = _capture("extended", "party", title)
    assert value == party and reason.startswith(why), (title, value, reason)


@pytest.mark.parametrize(
    ("title", "party"),
    [
        ("Russia refuses to extend the grain deal", "RUS"),
        ("Russia refuses to extend Ukraine grain deal", "RUS"),
        # "brokered" qualifies the deal: the UN is not the subject of a verb among the signal's words
        ("The Russian president has not extended the Turkey and United Nations-brokered grain deal", "RUS"),
        ("Grain deal in doubt as the Kremlin will not renew it", "RUS"),
    ],
)
def test_the_subject_stays(title: str, party: str) -> None:
    assert _capture("extended", "party", title)[0] == party, _capture("extended", "party", title)


def test_a_signal_of_the_deal_words_alone_keeps_the_name_before_them() -> None:
    # no act among the signal's words: the name is the nearest mention, as before
    assert _capture("deal_named", "party", "Ukraine grain deal talks resume")[0] == "UKR"


@pytest.mark.parametrize(
    ("title", "attacker", "why"),
    [
        # M3, real: the target of "strikes on", and Kyiv, the object of "hit" among the signal's words.
        ("Mass strikes on Ukraine hit Kyiv and knock out power in Odesa and Kharkiv", None,
         "the only mention is inside the signal's words ('kyiv'), not their subject (skipped 'ukraine': the target"
         " of 'strikes on')"),
        # M3, real: the object of a verb whose subject is the signal's words.
        ("Odesa Cathedral Missile Attack Leaves Ukrainians Bereft", None,
         "the first mention after the signal's words ('ukrainians') is the object of 'leaves'"),
        ("Russian strikes on Ukraine hit Odesa port", "RUS", "the nearest mention before"),
        ("Attacks against Kyiv and Ukraine's ports hit Odesa", None, "every mention named is what the act was done to"),
        ("Missile strike hits Ukraine's main port of Odesa", None, "the only mention is inside the signal's words"),
        ("Odesa port attack kills three Ukrainians", None, "the first mention after the signal's words"),
        # The owner of an attack among the signal's words struck; a subject before them stays.
        ("Blaze engulfs Odesa port after Russian attack", "RUS", "the owner of 'attack' within the signal's words"),
        ("Russia hammered the port of Odesa after a Ukrainian attack on the bridge", "RUS",
         "the nearest mention before"),
        ("Odesa port hit by Russian missiles", "RUS", "the agent of a passive"),
        ("Strike on Odesa port, Ukraine says", "UKR", "the first mention after"),
        # The trial's other two: the country of a place, and a relative clause after the words, name where.
        ("Ukraine's Odesa is alive and joking despite missile attacks", None,
         "every mention named is what the act was done to ('ukraine': the country of the place 'odesa')"),
        ("The strikes hit the port in Odesa, which lies far from Ukraine's front line", None,
         "the first mention after the signal's words ('ukraine') is in a relative clause (', which')"),
        ("Russia's strikes on Ukraine's Odesa port", "RUS", "the nearest mention before"),
    ],
)  # fmt: skip
def test_the_target_is_not_the_attacker(title: str, attacker: str | None, why: str) -> None:
    value, reason = _capture("strike", "attacker", title)
    assert value == attacker and reason.startswith(why), (title, value, reason)


def test_rules_explain_names_the_refusing_party_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack.yaml"
    pack.write_text(json.dumps(PACK), encoding="utf-8")  # JSON is YAML
    title = "Ukraine Grain Deal Collapses as Russia Refuses to Extend It"
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--title", title])
    assert res.exit_code == 0, res.output
    assert "capture party = RUS (Russia) — the subject of 'refuses' within the signal's words" in res.output
    assert "deal-refused fired: Russia refused the grain deal" in res.output
    assert "Ukraine refused" not in res.output
