"""A signal's `gdelt:` conditions a GDELT desk could not write (outside trial 70, M4): NumSources and NumArticles
(`min_sources`, `min_articles`), AvgTone (`avg_tone: {at_least, at_most}`), countries left out (`{none: [...]}`, as a
signal's `mentions` writes it) and actors GDELT coded no country for (`unknown`). Read over our own rows
(tests/fixtures/gdelt/coded_counts.export.CSV); checked at load, each bad value at its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from tests.fixtures.gdelt_coded import ROWS
from tests.fixtures.gdelt_coded import coded_events as _events
from tests.fixtures.gdelt_coded import coded_matched as _matched
from tests.fixtures.gdelt_coded import coded_pack as _pack
from watchfloor.cli import app
from watchfloor.cli.backtest import _filters
from watchfloor.config import ConfigError, load_config
from watchfloor.producers.gdelt import read_gdelt
from watchfloor.producers.poller import gdelt_options
from watchfloor.schemas.config import GdeltSource
from watchfloor.schemas.events import Document
from watchfloor.stream_processors.engine.compiled import GdeltTest
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.gdelt import gdelt_miss


def test_the_rows_coded_fields() -> None:
    """What the conditions below are read against: (sources, articles, tone, Actor1's, Actor2's, the action's
    country), "" where GDELT coded none."""
    coded = {
        k.removeprefix("gdelt:13000000"): (
            g["sources"],
            g["articles"],
            g["avg_tone"],
            g["actor1"]["country"],
            g["actor2"]["country"],
            g["action_geo"]["country"],
        )
        for k, d in _events().items()
        for g in [d.metadata["gdelt"]]
    }
    assert coded == {
        "01": (6, 12, -7.5, "RUS", "UKR", "UP"),
        "02": (1, 4, -4.2, "USA", "RUS", "US"),
        "03": (2, 3, -9.1, "", "UKR", "UP"),  # rebels: an actor with no country
        "04": (1, 2, -3.0, "", "RUS", "RS"),  # no Actor1 at all
        "05": (9, 20, 2.5, "PRK", "RUS", "RS"),
        "06": (3, 6, -2.1, "USA", "USA", "US"),
        "07": (5, 5, -1.0, "UKR", "RUS", ""),  # an action GDELT placed nowhere
    }


@pytest.mark.parametrize(
    ("gdelt", "expected"),
    [
        ({"min_sources": 5}, ["01", "05", "07"]),
        ({"min_articles": 10}, ["01", "05"]),
        ({"min_sources": 2, "min_articles": 5}, ["01", "05", "06", "07"]),
        ({"avg_tone": {"at_most": -4}}, ["01", "02", "03"]),
        ({"avg_tone": {"at_least": 0}}, ["05"]),
        ({"avg_tone": {"at_least": -5, "at_most": -2}}, ["02", "04", "06"]),
        # any actor but the USA: neither actor's country is USA
        ({"countries": {"none": ["USA"]}}, ["01", "03", "04", "05", "07"]),
        ({"actor2_countries": {"none": ["RUS"]}}, ["01", "03", "06"]),
        ({"countries": {"any": ["RUS"], "none": ["usa"]}}, ["01", "04", "05", "07"]),
        ({"action_countries": {"none": ["UP", "US"]}}, ["04", "05", "07"]),
        # the actors (and the place) GDELT coded no country for: asked for, or left out
        ({"actor1_countries": ["unknown"]}, ["03", "04"]),
        ({"actor1_countries": ["RUS", "Unknown"]}, ["01", "03", "04"]),
        ({"actor1_countries": {"none": ["unknown"]}}, ["01", "02", "05", "06", "07"]),
        ({"countries": ["unknown"]}, ["03", "04"]),
        ({"countries": {"none": ["unknown", "USA"]}}, ["01", "05", "07"]),
        ({"action_countries": ["unknown"]}, ["07"]),
        ({"event_codes": ["19"], "actor1_countries": {"none": ["unknown"]}, "min_sources": 2}, ["01"]),
    ],
)
def test_conditions_on_counts_tone_and_countries(gdelt: dict[str, Any], expected: list[str]) -> None:
    assert _matched(gdelt) == expected
    assert len(_matched({"min_mentions": 0})) == 7  # without a condition that leaves one out: every row


def test_explain_says_which_of_them_the_event_misses() -> None:
    rules = compile_packs([_pack({"min_sources": 3, "avg_tone": {"at_most": -5}, "countries": {"none": ["USA"]}})])
    exp = explain_extraction(rules, _events()["gdelt:1300000002"])
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "coded"]
    assert checks and not checks[0].matched
    assert checks[0].reason == (
        "gdelt: 1 source, fewer than min_sources 3; average tone -4.2 is above at_most -5; "
        "Actor1's country USA is left out by countries: {none: [USA]}"
    )


def test_what_gdelt_miss_says() -> None:
    both_us = {"gdelt": {"actor1": {"country": "USA"}, "actor2": {"country": "USA"}, "articles": 6, "avg_tone": -2.1}}
    assert gdelt_miss(GdeltTest(not_countries=("USA",)), both_us) == (
        "Actor1's country USA is left out by countries: {none: [USA]}"  # said once, though both actors are
    )
    no_actor1 = {"gdelt": {"actor1": {"country": ""}, "actor2": {"country": "RUS"}}}
    assert gdelt_miss(GdeltTest(not_actor1_countries=("",)), no_actor1) == (
        "Actor1's country unknown is left out by actor1_countries: {none: [unknown]}"
    )
    assert (
        gdelt_miss(GdeltTest(actor2_countries=("UKR", "")), no_actor1) == "Actor2's country RUS is not UKR or unknown"
    )
    assert gdelt_miss(GdeltTest(min_articles=7), both_us) == "6 articles, fewer than min_articles 7"
    assert gdelt_miss(GdeltTest(min_sources=1), both_us) == "the event has no number of sources"
    assert gdelt_miss(GdeltTest(tone_at_least=-1), both_us) == "average tone -2.1 is below at_least -1"
    assert gdelt_miss(GdeltTest(tone_at_least=-1), no_actor1) == "the event has no average tone"
    # (a pack without these conditions checks none of them: one flag on the hit path)
    assert not GdeltTest(min_mentions=3, countries=("RUS",)).more
    assert GdeltTest(tone_at_most=0).more and GdeltTest(not_action_countries=("US",)).more


def test_compiled_from_the_rule() -> None:
    pack = _pack(
        {
            "min_sources": 2,
            "min_articles": 4,
            "avg_tone": {"at_least": -10, "at_most": 0},
            "countries": {"any": ["prk", "RUS"], "none": ["unknown"]},
            "actor1_countries": ["unknown", "RUS"],
            "action_countries": {"none": ["up"]},
        }
    )
    [sig] = compile_packs([pack]).signals.values()
    assert sig.gdelt == GdeltTest(
        min_sources=2,
        min_articles=4,
        tone_at_least=-10,
        tone_at_most=0,
        countries=("PRK", "RUS"),
        not_countries=("",),
        actor1_countries=("", "RUS"),
        not_action_countries=("UP",),
    )


@pytest.mark.parametrize(
    ("gdelt", "said"),
    [
        ({"min_sources": -1}, "greater than or equal to 0"),
        ({"min_articles": 2.5}, "valid integer"),
        ({"avg_tone": {"at_most": -101}}, "greater than or equal to -100"),
        ({"avg_tone": {"at_least": 2, "at_most": -2}}, "avg_tone: at_least 2 is more than at_most -2"),
        ({"avg_tone": {}}, "avg_tone takes at_least, at_most or both"),
        ({"countries": {"none": ["USB"]}}, "'USB' is not a CAMEO country code (did you mean 'USA' (United States)"),
        ({"actor1_countries": {"any": ["RUS"], "none": ["rus"]}}, "'RUS' is in both any and none"),
        ({"actor2_countries": {}}, "a country condition as a mapping takes any, none or both"),
        ({"countries": {"not": ["USA"]}}, "Extra inputs"),
        ({"countries": "USA"}, "a country condition is a list of codes ([RUS, PRK]) or a mapping"),
        ({"action_countries": {"none": ["SYR"]}}, "'SYR' is CAMEO for Syria, whose FIPS 10-4 code is 'SY'"),
        ({"actor1_countries": ["unkown"]}, "did you mean 'unknown', an actor GDELT coded no country for?"),
    ],
)
def test_bad_values_are_refused_at_load(gdelt: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as e:
        _pack(gdelt)
    assert said in str(e.value)


GOOD = """\
version: 2
name: coded
signals:
  not_us:
    match: GDELT event
    gdelt:
      min_sources: 2
      min_articles: 4
      avg_tone: {at_most: -2}
      countries: {none: [USA, unknown]}
      action_countries: {any: [UP, RS], none: [US]}
detections:
  - {id: not-us, title: Not the USA, pattern: {any: not_us}}
"""

BAD = """\
version: 2
name: coded
signals:
  not_us:
    match: GDELT event
    gdelt:
      countries: {none: [USA, USB]}
      actor2_countries: {not: [USA]}
      action_countries:
        none: [UP, SYR]
      avg_tone: {at_least: 300}
      actor1_countries: [RUS, unkown]
detections:
  - {id: not-us, title: Not the USA, pattern: {any: not_us}}
"""


def test_rules_check_takes_them_and_places_each_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(good)])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert res.exit_code == 1
    out = res.output
    for said in (
        f"{bad}:7:31: 'USB' is not a CAMEO country code (did you mean 'USA' (United States)",
        f"{bad}:8:26: unknown key 'not' (a country condition takes any and none: {{none: [USA]}} leaves them out)",
        f"{bad}:10:20: 'SYR' is not a FIPS 10-4 country code",
        f"{bad}:11:28: at_least: Input should be less than or equal to 100 (got 300)",
        f"{bad}:12:31: 'unkown' is not a CAMEO country code (did you mean 'unknown'",
    ):
        assert said in out, out


@pytest.mark.parametrize(
    ("countries", "said"),
    [(["unknown"], '["unknown"]'), (["RUS", "Unknown"], '["RUS", "unknown"]'), (["usa"], '["USA"]')],
)
def test_a_source_filter_takes_unknown_as_a_rule_does(tmp_path: Path, countries: list[str], said: str) -> None:
    """A gdelt source's `countries` keeps the rows a signal's `countries:` list keeps: `unknown` is the actor GDELT
    coded no country for, in both."""
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"sources:\n  - kind: gdelt\n    path: x\n    countries: {countries}\n", encoding="utf-8")
    [source] = load_config(cfg).sources
    assert isinstance(source, GdeltSource)
    options = gdelt_options(source)
    kept = sorted(
        x.id.removeprefix("gdelt:13000000") for _n, x in read_gdelt(ROWS, options=options) if isinstance(x, Document)
    )
    assert kept == _matched({"countries": countries})
    assert kept, "the rows hold events of each"
    # a backtest's note says the source's filters as the config writes them
    assert _filters(options) == f"countries: {said}"


def test_a_source_filter_refuses_a_misspelt_code(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text("sources:\n  - kind: gdelt\n    path: x\n    countries: [RUS, RSU]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert f"{cfg}:4:22: 'RSU' is not a CAMEO country code" in str(e.value)


@pytest.mark.parametrize("key", ["countries", "event_codes"])
def test_a_source_filter_written_as_a_rule_s_mapping_says_where_that_belongs(tmp_path: Path, key: str) -> None:
    """Outside trial 85, F5: `countries: {none: [USA]}` on a source was refused with "Input should be a valid list"
    alone. It says a source's filter is a list, and that leaving codes out is a rule's condition."""
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"sources:\n  - kind: gdelt\n    path: x\n    {key}: {{none: [USA]}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    said = " ".join(str(e.value).split())
    assert f"a gdelt source's {key} is a list of the codes whose rows it reads" in said, said
    assert "write it in a signal's `gdelt:`" in said
