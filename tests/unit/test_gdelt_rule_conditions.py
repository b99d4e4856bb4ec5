"""A signal's `gdelt:` conditions on a GDELT event's coded fields (outside trial 65, MED-2; trial 59, LOW-2): the
Goldstein scale, QuadClass, NumMentions, EventCode prefixes and the actors' and action's countries, read from the
document's `metadata.gdelt` by the engine; a document that is no GDELT event never meets them; bad values are
refused at load, at their place. Rows of the repository's example export (examples/gdelt, our own rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.producers.gdelt import read_gdelt
from watchfloor.schemas.events import Document
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiled import GdeltTest
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.extract import Extractor
from watchfloor.stream_processors.engine.gdelt import gdelt_miss

from .engine_helpers import doc

EXPORT = Path(__file__).resolve().parents[2] / "examples" / "gdelt" / "20241021-20241028.export.CSV"


def _events() -> dict[str, Document]:
    return {x.id: x for _n, x in read_gdelt(EXPORT) if isinstance(x, Document)}


def _pack(gdelt: dict[str, Any], match: str = "GDELT event") -> RulePack:
    return RulePack.model_validate(
        {
            "version": 2,
            "name": "coded",
            "signals": {"coded": {"match": match, "gdelt": gdelt}},
            "detections": [{"id": "coded", "title": "Coded", "pattern": {"any": "coded"}}],
        }
    )


def _matched(gdelt: dict[str, Any]) -> list[str]:
    extractor = Extractor(compile_packs([_pack(gdelt)]))
    return sorted(d.id for d in _events().values() if any(s.name == "coded" for s in extractor.extract(d)))


def test_the_example_rows_coded_fields() -> None:
    """What the conditions below are read against (so the expectations can be checked by eye)."""
    coded = {
        k: (g["event_code"], g["quad_class"], g["goldstein"], g["mentions"], g["actor1"]["country"])
        for k, d in _events().items()
        for g in [d.metadata["gdelt"]]
    }
    assert coded["gdelt:1194000003"] == ("062", 2, 7.4, 8, "RUS")
    assert coded["gdelt:1194000001"] == ("036", 1, 4.0, 6, "USA")


@pytest.mark.parametrize(
    ("gdelt", "expected"),
    [
        ({"goldstein": {"at_least": 7.4}}, ["02", "03", "06", "09"]),
        ({"goldstein": {"at_least": 7, "at_most": 7.5}}, ["03", "06", "09"]),
        ({"goldstein": {"at_most": -5}, "quad_classes": [4]}, ["08"]),
        ({"quad_classes": [2], "min_mentions": 8}, ["03"]),
        ({"event_codes": ["06"]}, ["03", "06", "09"]),
        ({"event_codes": ["03"], "actor1_countries": ["usa"]}, ["01"]),  # 0312 is Russia's
        ({"event_codes": ["19", "121"]}, ["07", "08"]),
        ({"actor2_countries": ["CHN"]}, ["01"]),
        ({"countries": ["CHN", "UKR"]}, ["01", "08"]),
        ({"action_countries": ["KN"]}, ["06"]),
        ({"min_mentions": 1000}, []),
        ({"event_codes": ["06"], "actor1_countries": ["RUS"], "goldstein": {"at_least": 5}}, ["03", "09"]),
    ],
)
def test_conditions_on_the_coded_fields(gdelt: dict[str, Any], expected: list[str]) -> None:
    """Every key given must hold; a list is any of its items."""
    assert _matched(gdelt) == [f"gdelt:11940000{n}" for n in expected]
    assert len(_matched({"min_mentions": 0})) == 7  # without a condition that leaves one out: every row


def test_a_document_that_is_no_gdelt_event_never_meets_them() -> None:
    """The same words in an article (no metadata.gdelt), or metadata of another shape, make no signal."""
    extractor = Extractor(compile_packs([_pack({"min_mentions": 0})]))
    event = _events()["gdelt:1194000003"]
    assert [s.name for s in extractor.extract(event)] == ["coded"]
    article = doc(event.body, title=event.title)
    assert extractor.extract(article) == []
    assert gdelt_miss(GdeltTest(min_mentions=0), {}) == "the document is no GDELT event (it has no metadata.gdelt)"
    forged = {"gdelt": {"goldstein": True, "mentions": "9", "actor1": "RUS"}}
    assert gdelt_miss(GdeltTest(goldstein_at_least=0), forged) == "the event has no Goldstein scale"
    assert gdelt_miss(GdeltTest(min_mentions=1), forged) == "the event has no number of mentions"
    # (an empty field is said "unknown", as the rules write it; "none" read as a code: outside trial 85, F4)
    assert gdelt_miss(GdeltTest(actor1_countries=("RUS",)), forged) == "Actor1's country unknown is not RUS"


def test_explain_says_which_condition_the_event_misses() -> None:
    rules = compile_packs([_pack({"goldstein": {"at_most": -5}})])
    exp = explain_extraction(rules, _events()["gdelt:1194000003"])
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "coded"]
    assert checks and not checks[0].matched
    assert checks[0].reason == "gdelt: Goldstein scale 7.4 is above at_most -5"


@pytest.mark.parametrize(
    ("gdelt", "said"),
    [
        ({"goldsten": {"at_most": -5}}, "goldsten"),
        ({"goldstein": {"at_most": "low"}}, "valid number"),
        ({"goldstein": {"at_most": -11}}, "greater than or equal to -10"),
        ({"goldstein": {"at_least": 3, "at_most": -5}}, "at_least 3 is more than at_most -5"),
        ({"goldstein": {}}, "goldstein takes at_least, at_most or both"),
        ({"min_mentions": 2.5}, "valid integer"),
        ({"quad_classes": [5]}, "1, 2, 3 or 4"),
        ({"event_codes": [19]}, 'write each CAMEO code in quotes ("057", "19"), not 19'),
        ({"actor1_countries": ["USB"]}, "'USB' is not a CAMEO country code (did you mean 'USA' (United States)"),
        ({"action_countries": ["SYR"]}, "'SYR' is not a FIPS 10-4 country code"),
        ({}, "gdelt: give at least one of"),
    ],
)
def test_bad_values_are_refused_at_load(gdelt: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as e:
        _pack(gdelt)
    assert said in str(e.value)


def test_rules_check_places_a_bad_code_at_its_line(tmp_path: Path) -> None:
    pack = tmp_path / "coded.yaml"
    pack.write_text(
        "version: 2\nname: coded\nsignals:\n  force:\n    match: military force\n"
        "    gdelt:\n      actor1_countries: [RUS]\n      action_countries: [UP, UKR]\n"
        "detections:\n  - {id: force, title: Force, pattern: {any: force}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1
    assert f"{pack}:8:" in res.output and "'UKR' is not a FIPS 10-4 country code" in res.output, res.output


GROUPED = """\
version: 2
name: grouped
entities:
  RUS: {name: Russia, kind: country, aliases: [Russia]}
signals:
  cooperation:
    match: GDELT event
    gdelt: {event_codes: ["06"]}
    capture:
      actor: {gdelt: actor1_country}
      place: {gdelt: action_country}
      code: {gdelt: event_code}
detections:
  - id: cooperation
    title: "Material cooperation by {actor} ({code}, in {place})"
    pattern: {any: cooperation}
    group_by: [actor]
    realert: 30d
"""


def test_group_by_a_gdelt_capture_keeps_each_country_apart(tmp_path: Path) -> None:
    """A `gdelt` capture takes the event's code as its value: grouped by Actor1's country, North Korea's cooperation
    is an alert of its own, not silenced by Russia's (outside trial 65, MED-2: one group for the world). A code
    that is an entity's id shows its name."""
    pack = tmp_path / "grouped.yaml"
    pack.write_text(GROUPED, encoding="utf-8")
    out = tmp_path / "bt.json"
    res = CliRunner().invoke(app, ["backtest", str(EXPORT), "--rules", str(pack), "--json", str(out)])
    assert res.exit_code == 0, res.output
    alerts = json.loads(out.read_text())["alerts"]
    assert sorted((a["group"]["actor"], a["title"]) for a in alerts) == [
        # a code no entity of the pack names shows GDELT's own name of it (outside trial 70, M2: "by PRK", "in KN")
        ("PRK", "Material cooperation by North Korea (Cooperate militarily, in North Korea)"),
        ("RUS", "Material cooperation by Russia (Cooperate militarily, in Russia)"),
    ]


@pytest.mark.parametrize(
    ("capture", "said"),
    [
        ({"gdelt": "actor_country"}, "actor1_country"),
        ({"gdelt": "actor1_country", "kind": "country"}, "a gdelt capture takes its value from the event's codes"),
    ],
)
def test_a_bad_gdelt_capture_is_refused(capture: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as e:
        RulePack.model_validate(
            {"name": "x", "signals": {"s": {"match": "GDELT event", "capture": {"actor": capture}}}}
        )
    assert said in str(e.value)


def test_rules_explain_says_a_gdelt_capture_and_its_field(tmp_path: Path) -> None:
    pack = tmp_path / "grouped.yaml"
    pack.write_text(GROUPED, encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), str(EXPORT)])
    assert res.exit_code == 0, res.output
    assert "capture actor = RUS (Russia) — the GDELT event's actor1_country" in res.output, res.output
    assert "capture place = RS (Russia) — the GDELT event's action_country" in res.output, res.output
    assert "capture actor = PRK (North Korea) — the GDELT event's actor1_country" in res.output, res.output


def test_max_event_age_leaves_out_an_old_event_coded_again() -> None:
    # Outside trial 70, M4: an event of 2006 GDELT coded again from a 2024 article raised alerts as news.
    test = GdeltTest(max_event_age_days=30)
    fresh = {"gdelt": {"sql_date": "20241020", "date_added": "20241021081500"}}
    old = {"gdelt": {"sql_date": "20060412", "date_added": "20241021081500"}}
    undated = {"gdelt": {"sql_date": "20241020", "date_added": ""}}
    assert gdelt_miss(test, fresh) is None
    assert gdelt_miss(test, old) == "the event is 6767 days older than GDELT's adding of it, more than max_event_age"
    assert gdelt_miss(test, undated) == "the event's date or the date GDELT added it is not coded: its age is not known"
    # compiled from the rule: a part of a day asks for the whole day
    pack = _pack({"max_event_age": "36h"})
    [sig] = compile_packs([pack]).signals.values()
    assert sig.gdelt == GdeltTest(max_event_age_days=2)


def test_explain_says_every_coded_condition_the_event_misses() -> None:
    # Outside trial 70, L3: only the first (quad class) was said when Goldstein and mentions missed too.
    test = GdeltTest(quad_classes=(4,), goldstein_at_most=-5.0, min_mentions=10)
    coded = {"gdelt": {"quad_class": 1, "goldstein": 3.4, "mentions": 2}}
    assert gdelt_miss(test, coded) == (
        "quad class 1 is not 4; Goldstein scale 3.4 is above at_most -5; 2 mentions, fewer than min_mentions 10"
    )


def test_a_quad_class_in_quotes_is_read_as_its_number() -> None:
    # Outside trial 70, L1: `min_mentions: "5"` was taken, `quad_classes: ["4"]` refused.
    assert _matched({"quad_classes": ["4"], "goldstein": {"at_most": -5}}) == _matched(
        {"quad_classes": [4], "goldstein": {"at_most": -5}}
    )
