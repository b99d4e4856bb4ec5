"""`rules explain`: why a sentence made a signal or not, its modality and captures, and why each detection
fired or not (filters, groups, lateness, realert, counts, corroboration, all_of, sequence, absence)."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.explain_detections import Explainer, explain_documents
from watchfloor.stream_processors.replay import replay

from .engine_helpers import DATA, T0, doc, engine_for

PACK = "builtin:dprk_russia"
PATTERNS = str(DATA / "rules" / "patterns.yaml")


def _check(exp, signal):  # type: ignore[no-untyped-def]
    return next(c for s in exp.sentences for c in s.signals if c.signal == signal)


def test_sentence_level_reasons() -> None:
    rules = engine_for(PACK).rules
    exp = explain_extraction(
        rules,
        doc(
            "Officials dismissed reports that North Korean troops had been sent to Russia, calling them fake. "
            "Russia's parliament ratified the treaty with North Korea.",
            title="Treaty news",
        ),
    )
    dep = _check(exp, "troop_deployment")
    assert dep.matched and dep.modality == "negated" and dep.cue == "dismissed"
    assert {(c.words, c.direction, c.applied) for c in dep.cues} >= {
        ("dismissed", "before", True),
        ("calling them fake", "after", True),
    }
    rat = next(c for s in exp.sentences if s.index == 2 for c in s.signals if c.signal == "treaty_ratification")
    assert rat.matched and rat.modality == "asserted"
    assert [(c.name, c.value, "nearest mention before" in c.reason) for c in rat.captures] == [("party", "RUS", True)]
    title = exp.sentences[0]
    assert title.text == "Treaty news." and [p.words for p in title.phrases] == ["treaty"]
    assert _check(exp, "treaty_signing").reason.startswith("mentions: the sentence must name all of PRK")
    eng = _check(exp, "troop_engagement")
    assert not eng.matched and eng.reason.startswith("no alternative holds: (1) none of 'fought'")


def test_near_and_excluded_reasons() -> None:
    rules = engine_for(PATTERNS).rules
    far = explain_extraction(
        rules, doc("Alphaland closed the ports, the airports, the railways, the roads and then the border.")
    )
    assert _check(far, "border_closed").reason.startswith("near: its words span")
    rules = engine_for(PACK).rules
    ex = explain_extraction(
        rules,
        doc("North Korea and Russia exchanged instruments of ratification; Russia's parliament ratified the treaty."),
    )
    assert _check(ex, "treaty_ratification").reason == "excluded by 'instruments of ratification'"


def test_detection_reasons_over_a_timeline() -> None:
    engine = engine_for(PACK)
    docs = [
        doc("Russia's parliament ratified the treaty with North Korea.", at=0, doc_id="a"),
        doc("Russia's lower house ratified the treaty with North Korea.", at=2, doc_id="b", source="Wire B"),
        doc("North Korea may ratify its treaty with Russia.", at=3, doc_id="c"),
        doc("Hundreds of North Korean troops killed in Kursk, officials say.", at=4, doc_id="d"),
        doc("North Korean troops killed in Kursk, a second outlet reports.", at=5, doc_id="e", source="Wire B"),
        doc("More North Korean troops killed in Kursk, a third says.", at=6, doc_id="f", source="Wire C"),
    ]
    explained, _closing = explain_documents(engine, docs)
    by_doc = {e.document_id: {(c.detection, c.kind): c for c in e.detections} for e in explained}
    assert by_doc["a"][("treaty-ratified", "fired")].alert["title"] == "Russia ratified the DPRK–Russia treaty"
    assert "waiting for treaty_ratification, party=PRK" in by_doc["a"][("treaty-ratified-by-both", "all_of")].reason
    throttled = by_doc["b"][("treaty-ratified", "realert")]
    assert "party=RUS alerted at" in throttled.reason and "quiet for 1d" in throttled.reason
    assert "takes asserted" in by_doc["c"][("treaty-ratified", "modality")].reason
    first = by_doc["d"][("troop-engagement", "fired")]
    assert first.alert["confidence"] == "unconfirmed"
    second = by_doc["e"][("troop-engagement", "fired")]
    assert second.alert["severity"] == "high" and second.alert["confidence"] == "confirmed"
    # Confirmed already (3 sources, 2 needed): the throttle holds it back, not the corroboration (trial 13, M2).
    third = by_doc["f"][("troop-engagement", "realert")]
    assert "quiet for 1d (until" in third.reason and "unless more severe" in third.reason
    assert "met (3 distinct sources within" in third.reason and "2 needed" in third.reason


def test_late_and_group_reasons() -> None:
    engine = engine_for(PATTERNS)  # lateness 1h
    ex = Explainer(engine)
    ex.document(doc("Talks between Alphaland and Betastan resumed.", at=10, doc_id="new"))
    late = ex.document(doc("Alphaland closed the border.", at=0, doc_id="old"))
    assert late.late and any(c.kind == "late" for c in late.detections)
    # A count without enough sources, and an absence that is open.
    ex2 = Explainer(engine)
    e = ex2.document(doc("Alphaland closed the border.", at=0, doc_id="x"))
    kinds = {c.detection: c for c in e.detections}
    assert (
        kinds["closure-corroborated"].kind == "count"
        and "1 of 2 distinct sources" in kinds["closure-corroborated"].reason
    )
    assert (
        kinds["closure-not-lifted"].kind == "absence"
        and "unless border_reopened follows" in kinds["closure-not-lifted"].reason
    )
    # At the end of the stream the window is still open: a backtest of these documents does not raise it (outside
    # audit: explain said it fired), and explain says when it would, and why not yet.
    [open_] = ex2.finish()
    assert (open_.detection, open_.fired, open_.kind) == ("closure-not-lifted", False, "absence")
    assert "still open at the end of the stream" in open_.reason and "does not raise it" in open_.reason
    assert ex2.finish() == [open_]  # worked out on a copy: the stream itself did not move
    backtest = replay([doc("Alphaland closed the border.", at=0, doc_id="x")], engine).alerts
    assert "closure-not-lifted" not in [d.rule for d in backtest]
    # Event time moved on (as a quiet live system's would): it fires.
    [fired] = ex2.finish(T0 + timedelta(days=30))
    assert (fired.detection, fired.fired) == ("closure-not-lifted", True)


def test_cli_explain_text_file_id_and_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "rules",
            "explain",
            "--rules",
            PACK,
            "--text",
            "Moscow and Pyongyang to exchange instruments of ratification next month",
            "--id",
            "ratification-exchange",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "future" in res.output and "not fired (modality)" in res.output
    events = tmp_path / "e.jsonl"
    events.write_text(
        json.dumps(
            {
                "type": "news.article",
                "published_at": "2024-10-24T10:00:00+00:00",
                "source": "W",
                "title": "Russian lawmakers ratify the partnership treaty with North Korea",
            }
        )
        + "\n"
        + json.dumps(
            {
                "type": "news.article",
                "published_at": "2024-10-24T11:00:00+00:00",
                "source": "W",
                "title": "Weather is fine today",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(events), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data["documents"]) == 1  # the weather item has no phrase of the rules
    fired = [d for d in data["documents"][0]["detections"] if d["fired"]]
    assert fired and fired[0]["alert"]["group"] == {"party": "RUS"}
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, str(events), "--all", "--json"])
    assert len(json.loads(res.output)["documents"]) == 2
    res = runner.invoke(app, ["rules", "explain", "--rules", PACK, "--id", "nope", "--text", "x"])
    assert res.exit_code == 1


def test_corroboration_counts_copies_of_one_story_once_as_the_engine_does() -> None:
    # Outside audit: explain said "2 of 2 distinct sources" for two outlets carrying one story, while the alert
    # rightly stayed unconfirmed (the correlator counts the copies once).
    ex = Explainer(engine_for(str(DATA / "rules" / "eventtime.yaml")))
    body = (
        "A strike hit Port Gamma on Tuesday morning, destroying two warehouses near the docks and injuring "
        "several workers, local officials said, adding that the cause was under investigation."
    )
    ex.document(doc(body, at=0, source="Wire A", doc_id="a"))
    second = ex.document(doc(body, at=1, source="Wire B", doc_id="b"))
    [check] = [c for c in second.detections if c.detection == "strike-escalation"]
    assert "1 of 2 distinct sources" in check.reason and "1 outlet carried only a copy" in check.reason
    assert not check.fired


def test_a_detection_over_detections_says_why_it_did_not_fire() -> None:
    # Outside audit: `rules explain --id` on a detection over other detections printed nothing while it waited.
    ex = Explainer(engine_for(str(DATA / "rules" / "composed.yaml")), only={"both-closed", "closure-confirmed"})
    got = ex.document(doc("Alphaland closed the border.", at=0, source="Wire A", doc_id="a"))
    why = {c.detection: c for c in got.detections if c.signal.startswith("alert:")}
    assert not why["both-closed"].fired and why["both-closed"].kind == "all_of"
    assert "takes alerts of plain-closure" in why["both-closed"].reason and "within 3d" in why["both-closed"].reason
    confirmed = why["closure-confirmed"].reason
    assert "(medium, unconfirmed)" in confirmed and "alert:closure, confirmed" in confirmed  # what it needs


def test_two_sentences_of_one_document_fire_one_alert_and_explain_says_it_once() -> None:
    # Outside audit: a headline and a body sentence that both make the signal (mt-738717 of the key days) gave
    # "▶ treaty-signed fired" twice, while the backtest raised one alert. Now the sentence the alert cites says
    # fired, the other why it raised nothing of its own.
    engine = engine_for(PACK)
    text = (
        "Pyongyang and Moscow sign a mutual defence pact during a summit. "
        "The treaty was signed by Kim Jong Un and Vladimir Putin in North Korea."
    )
    one = doc(text, title="Russia and North Korea sign defence treaty", doc_id="pact")
    assert len([d for d in replay([one], engine).alerts if d.rule == "treaty-signed"]) == 1
    [exp], _closing = explain_documents(engine, [one])
    checks = [c for c in exp.detections if c.detection == "treaty-signed"]
    assert len(checks) >= 2  # two signals, each explained
    fired = [c for c in checks if c.fired]
    assert len(fired) == 1
    others = [c for c in checks if not c.fired]
    assert others and all(c.kind == "realert" and c.alert is None for c in others)
    assert all(f"the same alert as sentence {fired[0].sentence_index}'s treaty_signing" in c.reason for c in others)
    assert all("quiet for 30d" in c.reason for c in others)
    # The sentence the alert cites is the one that says fired.
    cited = {e.sentence for d in replay([one], engine).alerts for e in d.evidence}
    [signal] = [
        s for s in exp.signals if s["sentence_index"] == fired[0].sentence_index and s["name"] == "treaty_signing"
    ]
    assert signal["sentence"] in cited
