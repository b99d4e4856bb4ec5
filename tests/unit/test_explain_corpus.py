"""`rules explain` over a corpus (audit F10): only the documents with something to say of are explained, those no
signal can match cost what the engine's screen costs, and the explanation of the others is the same as without the
screen; a summary by count at the end, and a cap on what a terminal view prints."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import Document
from watchfloor.stream_processors.engine.explain_detections import (
    Explainer,
    event_time_order,
    explain_corpus,
    explain_documents,
)

from .engine_helpers import doc, engine_for

PACK = "builtin:dprk_russia"

# A pack of our own: two phrase signals and an absence, which fires as event time passes (on whatever document
# moves it, here one no signal can match).
ABSENCE = """\
version: 2
name: test-explain-corpus
settings: {lateness: 1h}
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  border_closed:
    match: {all: [{any: [closed, "shut*"]}, border]}
    near: 6
    mentions: {all: [ALPHA]}
    capture:
      country: {entities: [ALPHA]}
  border_reopened:
    match: {all: ["reopen*", border]}
    near: 6
    capture:
      country: {entities: [ALPHA]}
detections:
  - id: closure
    title: "{country} closed its border"
    severity: low
    pattern: {any: border_closed}
    group_by: [country]
  - id: closure-not-lifted
    title: "{country} border still closed"
    severity: high
    pattern: {absence: {first: border_closed, then_not: border_reopened}}
    group_by: [country]
    within: 1d
"""


def _corpus() -> list[Document]:
    return [
        doc("Russian lawmakers ratified the partnership treaty with North Korea.", at=0, doc_id="signal"),
        doc("Russia and Ukraine traded strikes overnight.", at=1, doc_id="phrase-only"),  # names, no signal possible
        doc("The weather is fine today.", at=2, doc_id="nothing"),
        doc(  # every word a signal needs, not where it needs them: a near miss, explained
            "North Korea marked a holiday. Russia's parliament met. The treaty was ratified by the senate of Chile.",
            at=3,
            doc_id="near-miss",
        ),
        doc("North Korean troops were sent to Russia, officials said.", at=4, doc_id="troops"),
        doc("Markets rallied on Friday.", at=5, doc_id="markets"),
    ]


def _json(exps) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e.document_id: e.to_json() for e in exps}


def test_the_screen_changes_the_cost_not_the_explanations() -> None:
    engine = engine_for(PACK)
    screened, closing, summary = explain_corpus(engine, _corpus())
    full, closing_full, summary_full = explain_corpus(engine_for(PACK), _corpus(), screen=False)
    assert list(_json(screened)) == ["signal", "near-miss", "troops"]
    assert _json(screened) == _json(full) and closing == closing_full and summary == summary_full
    # Each the same as the whole explanation of every document, the way explain read them before.
    every, _closing = explain_documents(engine_for(PACK), _corpus())
    assert _json(screened) == {k: v for k, v in _json(every).items() if k in _json(screened)}
    assert {e.document_id for e in every if not e.may_match} == {"phrase-only", "nothing", "markets"}
    assert (summary.read, summary.explained, summary.cannot_match) == (6, 3, 3)
    assert summary.signals == {"treaty_ratification": 1, "troop_deployment": 1}
    assert summary.fired == {"treaty-ratified": 1, "troops-deployed": 1}
    assert summary.held_back == {"treaty-ratified-by-both": {"all_of": 1}}
    # --all: every document, in full.
    allof, _c, summary_all = explain_corpus(engine_for(PACK), _corpus(), every=True)
    assert _json(allof) == _json(every) and (summary_all.explained, summary_all.cannot_match) == (6, 3)


def test_a_detection_fired_as_event_time_passes_shows_the_document_that_moved_it(tmp_path: Path) -> None:
    pack = tmp_path / "absence.yaml"
    pack.write_text(ABSENCE, encoding="utf-8")
    docs = [
        doc("Alphaland closed the border.", at=0, doc_id="closed"),
        doc("The weather is fine today.", at=30, doc_id="weather"),  # no signal can match it; the window closes
        doc("Markets rallied on Friday.", at=31, doc_id="markets"),
    ]
    screened, _c, summary = explain_corpus(engine_for(str(pack)), docs)
    full, _c2, _s = explain_corpus(engine_for(str(pack)), docs, screen=False)
    assert list(_json(screened)) == ["closed", "weather"] and _json(screened) == _json(full)
    weather = screened[1]
    assert not weather.may_match and [(c.detection, c.fired) for c in weather.detections] == [
        ("closure-not-lifted", True)
    ]
    assert summary.fired == {"closure": 1, "closure-not-lifted": 1} and summary.cannot_match == 2


def test_checked_inputs_are_built_only_where_needed_and_read_as_documents(tmp_path: Path) -> None:
    from watchfloor.backtest import read_events
    from watchfloor.schemas.inputs import CheckedInput

    lines = [
        {"type": "news.article", "published_at": "2024-10-24T10:00:00+00:00", "source": "W", "title": t}
        for t in (
            "Russian lawmakers ratify the partnership treaty with North Korea",
            "Weather is fine today",
            "Russia and Ukraine traded strikes",
        )
    ]  # (the same time: ordered by id, as explain_documents orders them)
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    items = read_events([str(path)]).documents
    docs = [x.build() for x in items]  # type: ignore[union-attr]
    ordered = event_time_order(items)  # type: ignore[arg-type]
    assert [x.document_id() for x in ordered] == [d.id for d in sorted(docs, key=lambda d: (d.published_at, d.id))]  # type: ignore[union-attr]
    built: list[str] = []

    class Counted(CheckedInput):
        """A checked input that notes each build of it."""

        __slots__ = ()

        def build(self) -> Document:
            built.append(self.title)
            return super().build()

    counted = [
        Counted(x.obj, x.type, x.published_at, x.source_name, x.title, x.body, x.issuer, x.record, x.ts)  # type: ignore[union-attr]
        for x in items
    ]
    got, _c, _s = explain_corpus(engine_for(PACK), counted)
    assert built and "Weather is fine today" not in built  # no signal can match it: never built, only its time read
    want, _c2 = explain_documents(engine_for(PACK), docs)
    assert [e.to_json() for e in got] == [e.to_json() for e in want if e.made]


def test_only_asks_the_screen_for_the_signals_asked_for() -> None:
    ex = Explainer(engine_for(PACK), only={"treaty-signed"})
    ok, _doc = ex.may_match(doc("North Korean troops were sent to Russia, officials said."))
    assert not ok
    ok, _doc = Explainer(engine_for(PACK), only={"troops-deployed"}).may_match(
        doc("North Korean troops were sent to Russia, officials said.")
    )
    assert ok


def test_cli_shows_what_may_match_then_a_summary_and_caps_a_long_view(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rows = [
        {
            "type": "news.article",
            "published_at": f"2024-10-{day:02d}T10:00:00+00:00",
            "source": "W",
            "title": title,
        }
        for day, title in enumerate(
            [
                "Russian lawmakers ratify the partnership treaty with North Korea",
                "Russia and Ukraine traded strikes",
                "North Korean troops were sent to Russia, officials said",
                "Weather is fine today",
            ],
            start=1,
        )
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in rows), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(path)])
    assert res.exit_code == 0, res.output
    assert "Russia and Ukraine traded strikes" not in res.output
    assert "4 documents read, 2 explained; 2 not shown: no phrase or name of any signal in them" in res.output
    assert "signals made: treaty_ratification 1, troop_deployment 1" in res.output
    assert "treaty-ratified-by-both: fired 0; held back 1 (all_of 1)" in res.output
    assert "troops-deployed: fired 1" in res.output
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(path), "--limit", "1"])
    assert res.exit_code == 0, res.output
    assert "North Korean troops were sent" not in res.output
    assert "… 1 more document explained, not printed: --limit N prints more (0: all), --json" in res.output
    assert "4 documents read, 2 explained" in res.output  # the summary counts them all
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(path), "--all", "--json"])
    data = json.loads(res.output)
    assert len(data["documents"]) == 4 and data["summary"]["explained"] == 4
    assert data["summary"]["cannot_match"] == 2 and data["summary"]["signals"] == {
        "treaty_ratification": 1,
        "troop_deployment": 1,
    }
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(path), "--json", "--limit", "1"])
    data = json.loads(res.output)
    assert len(data["documents"]) == 1 and data["summary"]["explained"] == 2
    # Text typed on the command line is always explained, whatever it holds.
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, "--text", "Weather is fine today"])
    assert res.exit_code == 0 and "1 document read, 1 explained" in res.output


def test_only_a_detection_over_detections_still_runs_the_signals_that_feed_it() -> None:
    # `--id both-closed`: its inputs are plain-closure's alerts, made of signals it does not name. Documents that
    # make them are run in full (not screened out as "not asked for"), so it fires as a backtest has it fire.
    from .engine_helpers import DATA

    composed = str(DATA / "rules" / "composed.yaml")
    docs = [
        doc("Alphaland closed the border.", at=0, source="Wire A", doc_id="a"),
        doc("The weather is fine today.", at=1, doc_id="weather"),
        doc("Betastan closed the border.", at=2, source="Wire B", doc_id="b"),
    ]
    got, _c, summary = explain_corpus(engine_for(composed), docs, only={"both-closed"})
    full, _c2, summary_full = explain_corpus(engine_for(composed), docs, only={"both-closed"}, screen=False)
    assert _json(got) == _json(full) and summary == summary_full
    # Explained through its inputs (outside trial 21, #11): their signals are counted, labelled as theirs, and
    # their firings shown before its own.
    assert summary.fired == {"both-closed": 1, "plain-closure": 2} and summary.signals == {"closed": 2}
    assert summary.inputs == {"both-closed": ["plain-closure"]}
    fired = [c.detection for e in got for c in e.detections if c.fired]
    assert fired == ["plain-closure", "plain-closure", "both-closed"]


def test_near_misses_are_shown_on_a_small_corpus_and_on_request(tmp_path: Path) -> None:
    """A hard negative (some of a signal's phrases, not all it needs) is what a rule author looks for in a labelled
    sample: shown by default up to NEAR_MISS_CORPUS documents, with why the signal did not match; hidden past it
    (a year of news) unless asked, and with --no-near-misses."""
    from watchfloor.cli.rules import NEAR_MISS_CORPUS

    path = tmp_path / "n.jsonl"
    rows = [
        {"type": "news.article", "published_at": "2024-10-01T10:00:00+00:00", "source": "W", "title": title}
        for title in (
            "North Korean troops were sent to Russia, officials said",
            "Parliament to ratify the budget before the recess",  # "ratify", no treaty: a near miss
            "Weather is fine today",
        )
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in rows), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(path)])
    assert res.exit_code == 0, res.output
    assert "Parliament to ratify the budget" in res.output and "Weather is fine" not in res.output
    assert "3 documents read, 2 explained; 1 not shown: no phrase or name of any signal" in res.output
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(path), "--no-near-misses"])
    assert "Parliament to ratify the budget" not in res.output
    assert "1 explained; 2 not shown: no signal can match them (the engine's screen; --near-misses" in res.output
    # Past the threshold the default is the screen alone.
    big = tmp_path / "big.jsonl"
    many = [{**rows[1], "title": f"{rows[1]['title']} ({i})"} for i in range(NEAR_MISS_CORPUS + 1)]
    big.write_text("".join(json.dumps(x) + "\n" for x in many), encoding="utf-8")
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(big), "--json", "--limit", "1"])
    assert json.loads(res.output)["summary"]["near_misses"] is False


def test_each_detection_check_is_printed_under_the_sentence_it_judged() -> None:
    """Research-analyst audit (LOW-8): every check came after the document's last sentence, so the check of
    sentence 0's signal read as if about sentence 1's."""
    text = (
        "North Korea and Russia signed a mutual defence treaty in Pyongyang. "
        "The treaty Russia and North Korea signed at the summit binds both sides to help each other."
    )
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", PACK, "--text", text, "--id", "treaty-signed"])
    assert res.exit_code == 0, res.output
    lines = [line.strip() for line in res.output.splitlines()]
    second = next(i for i, line in enumerate(lines) if line.startswith("sentence 1:"))
    fired = next(i for i, line in enumerate(lines) if line.startswith("▶ treaty-signed fired"))
    held = next(i for i, line in enumerate(lines) if line.startswith("· treaty-signed not fired (realert)"))
    assert fired < second < held, res.output


def test_a_title_alone_is_explained_as_a_headline() -> None:
    """Outside trial 8 (L4): a headline needed `--title "…" --text ""`; `--title` alone explains it, as a title."""
    headline = "Moscow and Pyongyang to exchange ratification instruments next month"
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", PACK, "--title", headline, "--json"])
    assert res.exit_code == 0, res.output
    (document,) = json.loads(res.output)["documents"]
    assert document["title"] == headline
    shown = json.dumps(document)
    assert '"future"' in shown and "to exchange" in shown, shown
    bare = CliRunner().invoke(app, ["rules", "explain", "--rules", PACK])
    assert bare.exit_code == 1 and "give FILE(s), --text or --title" in bare.output
