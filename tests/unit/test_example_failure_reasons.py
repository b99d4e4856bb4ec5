"""A failing inline example says what did fire and why its detection did not (outside trial 28, F5): not "(fired:
nothing)" beside another detection's alert, but that alert with its title; and the reason `rules explain` gives
(its Explainer, on the same documents): a signal of the wrong modality, a count short of sources, no signal made
and why its words did not match. Pack and headlines written for these tests (invented countries)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.examples import run_examples
from watchfloor.stream_processors.rulefile import load_rules

runner = CliRunner()


def _doc(title: str) -> str:
    return f'{{type: news.article, published_at: "2024-05-02T08:00:00+00:00", source: Wire, title: "{title}"}}'


PACK = f"""version: 2
name: offensives
entities:
  A: {{name: Alphaland, kind: country, aliases: [Alphaland]}}
signals:
  offensive:
    match: {{all: [launch, offensive]}}
    near: 3
    capture: {{attacker: {{entities: [A]}}}}
detections:
  - id: offensive-launched
    title: "{{attacker}} launched an offensive"
    severity: high
    pattern: {{any: offensive}}
    group_by: [attacker]
    examples:
      - name: too far apart
        documents: [{_doc("Alphaland launches a long and much awaited offensive")}]
      - name: nothing of it
        documents: [{_doc("Rain in Alphaland")}]
  - id: offensive-hedged
    title: "{{attacker}} may launch an offensive"
    severity: low
    pattern: {{any: {{signal: offensive, modality: hedged}}}}
    group_by: [attacker]
    examples:
      - name: a plain report
        documents: [{_doc("Alphaland launches offensive")}]
  - id: many-reports
    title: Offensive widely reported
    pattern: {{count: {{signal: offensive, at_least: 3, distinct: source}}}}
    within: 1d
    examples:
      - name: one source
        documents: [{_doc("Alphaland launches offensive")}]
"""


def _results(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    loaded, compiled = load_rules([str(path)])
    return {r.name: r.message for r in run_examples([lp.pack for lp in loaded], compiled) if not r.passed}


def test_a_failure_says_what_else_fired_and_why_its_detection_did_not(tmp_path: Path) -> None:
    msg = _results(tmp_path)["a plain report"]
    assert msg == (
        "expected offensive-hedged to fire, it did not (offensive-hedged fired nothing; fired: offensive-launched "
        "'Alphaland launched an offensive' {'attacker': 'A'} (high)); not fired (modality): the signal is asserted; "
        "offensive-hedged takes hedged"
    )
    assert "fired: nothing" not in msg


def test_a_count_short_of_sources_says_how_many_it_had(tmp_path: Path) -> None:
    msg = _results(tmp_path)["one source"]
    assert msg.startswith("expected many-reports to fire, it did not (many-reports fired nothing; fired: "), msg
    assert msg.endswith("; not fired (count): 1 of 3 distinct sources within 1d"), msg


def test_no_signal_made_says_why_its_words_did_not_match(tmp_path: Path) -> None:
    results = _results(tmp_path)
    assert results["too far apart"] == (
        "expected offensive-launched to fire, it did not (fired: nothing); no signal offensive: near: its words span "
        "7 words, more than near: 3"
    )
    assert results["nothing of it"] == (
        "expected offensive-launched to fire, it did not (fired: nothing); no signal offensive: none of its phrases "
        "or names is in the documents"
    )


def test_rules_test_prints_it_at_the_examples_place(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    res = runner.invoke(app, ["rules", "test", str(path)], env={"COLUMNS": "400"})
    assert res.exit_code == 1
    [line] = [x for x in res.output.splitlines() if "FAIL offensive-hedged" in x]
    assert line.startswith(f"{path}:27:9: FAIL offensive-hedged: a plain report — expected offensive-hedged"), line
    assert "fired: offensive-launched 'Alphaland launched an offensive'" in line
    assert line.endswith("not fired (modality): the signal is asserted; offensive-hedged takes hedged"), line
    assert "0 passed, 4 failed" in res.output
