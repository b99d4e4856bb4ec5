"""A capture's `fallback` (outside trials 66 and 68, MED-6 G1): when the signal's sentence names none of the
capture's candidates, `headline` takes the first one the document's headline names, `document` the first one of the
first sentence, headline first, that names one. The trial's case: the threat is made in the body, the country is named
only in the headline, and a detection grouped by it dropped the signal. Texts written for these tests, after the
trial's item."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import CaptureDef
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.explain_detections import Explainer

from .engine_helpers import Timeline, doc, engine_for

HEADLINE = "Niger capital gripped by uncertainty as invasion deadline draws closer"
BODY = "Neighbours led by Nigeria have threatened military action unless coup leaders restore democracy by Sunday."

PACK = """\
version: 2
name: fallback
entities:
  NER: {name: Niger, kind: country, aliases: [Niger]}
  GAB: {name: Gabon, kind: country, aliases: [Gabon]}
  NGA: {name: Nigeria, kind: country, aliases: [Nigeria]}
signals:
  threat:
    match: {any: ["threatened military action", "threatens military action"]}
    capture:
      country: {entities: [NER, GAB]%s}
      mover: {kind: country}
detections:
  - id: threat-by-country
    title: "Military action threatened over {country}"
    severity: high
    pattern: {any: threat}
    group_by: [country]
"""


def _engine(tmp_path: Path, fallback: str | None) -> Timeline:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK % (f", fallback: {fallback}" if fallback else ""))
    return Timeline(engine_for(str(path)))


def _capture(tl: Timeline, body: str, title: str = "") -> tuple[str | None, str]:
    exp = explain_extraction(tl.engine.rules, doc(body, title=title))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "threat" and c.matched]
    assert got, (title, body)
    [country] = [c for c in got[0].captures if c.name == "country"]
    return country.value, country.reason


def test_the_headline_fills_a_capture_the_sentence_names_none_of(tmp_path: Path) -> None:
    tl = _engine(tmp_path, "headline")
    [sig] = tl.engine.extract(doc(BODY, title=HEADLINE))
    assert sig.sentence_index == 1 and sig.captures["country"] == "NER", sig
    assert sig.captures["mover"] == "NGA"  # a capture without a fallback reads its own sentence only
    value, reason = _capture(tl, BODY, HEADLINE)
    assert value == "NER"
    assert reason.startswith("none in the sentence; the headline names it (fallback: headline"), reason


def test_the_sentences_own_candidate_wins(tmp_path: Path) -> None:
    tl = _engine(tmp_path, "headline")
    body = "Gabon has threatened military action against the junta."
    [sig] = tl.engine.extract(doc(body, title=HEADLINE))
    assert sig.captures["country"] == "GAB"
    # Named but not taken by the grammar (in another clause): the sentence's reading stands, no fallback.
    apart = "Neighbours have threatened military action, and Gabon may follow."
    [sig] = tl.engine.extract(doc(apart, title=HEADLINE))
    assert "country" not in sig.captures, sig
    value, reason = _capture(tl, apart, HEADLINE)
    assert value is None and "another clause" in reason and "fallback" not in reason, reason


def test_no_fallback_without_the_option(tmp_path: Path) -> None:
    tl = _engine(tmp_path, None)
    [sig] = tl.engine.extract(doc(BODY, title=HEADLINE))
    assert "country" not in sig.captures
    assert _capture(tl, BODY, HEADLINE)[0] is None


def test_headline_reads_only_the_headline_document_reads_every_sentence(tmp_path: Path) -> None:
    body = "Residents stocked up on food. " + BODY + " Gabon urged restraint."
    lead = "Fears grow in the region"
    assert "country" not in _engine(tmp_path, "headline").engine.extract(doc(body, title=lead))[0].captures
    value, reason = _capture(_engine(tmp_path, "headline"), body, lead)
    assert value is None and reason.endswith("none in the sentence, nor in the headline (fallback: headline)"), reason
    tl = _engine(tmp_path, "document")
    [sig] = tl.engine.extract(doc(body, title=lead))
    assert sig.captures["country"] == "GAB"
    value, reason = _capture(tl, body, lead)
    assert value == "GAB" and reason.startswith("none in the sentence; sentence 3 names it (fallback: document"), reason
    # Headline first: the document fallback takes the headline's over a later sentence's.
    assert tl.engine.extract(doc(body, title=HEADLINE))[0].captures["country"] == "NER"


def test_a_grouped_detection_keeps_the_signal(tmp_path: Path) -> None:
    """Without the fallback the detection drops the signal ("groups by country; the sentence names no country");
    with it, it fires, titled with the headline's country."""
    before = _engine(tmp_path, None)
    assert before.feed(doc(BODY, title=HEADLINE)) == []
    ex = Explainer(before.engine)
    [check] = [c for c in ex.document(doc(BODY, title=HEADLINE)).detections if c.detection == "threat-by-country"]
    assert check.kind == "group" and "the sentence names no country" in check.reason, check
    after = _engine(tmp_path, "headline")
    [fired] = after.feed(doc(BODY, title=HEADLINE))
    assert fired.rule == "threat-by-country" and fired.title == "Military action threatened over Niger"
    # A headline that names none either: the reason says the fallback found none too.
    ex = Explainer(_engine(tmp_path, "headline").engine)
    [check] = [c for c in ex.document(doc(BODY, title="Deadline draws closer")).detections]
    assert check.kind == "group"
    assert "the sentence names no country, nor does the headline (fallback: headline)" in check.reason, check


def test_a_gdelt_capture_or_an_unknown_fallback_is_an_error_at_load(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no entities, kind, role or fallback"):
        CaptureDef.model_validate({"gdelt": "actor1_country", "fallback": "headline"})
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 2\nname: p\nentities:\n  NER: {name: Niger, kind: country, aliases: [Niger]}\nsignals:\n"
        "  coup:\n    match: {any: [coup]}\n    capture:\n      country: {entities: [NER], fallback: title}\n"
        "      code: {gdelt: actor1_country, fallback: headline}\n"
    )
    res = CliRunner().invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1
    assert f"{pack}:9:44: fallback: Input should be 'headline' or 'document' (got 'title')" in res.output, res.output
    assert (
        f"{pack}:10:7: a gdelt capture takes its value from the event's codes: no entities, kind, role or fallback"
        in (res.output)
    )
