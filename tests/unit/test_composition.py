"""Composition: a detection over any of several signals (each with its own filters)."""

from __future__ import annotations

from pathlib import Path

from watchfloor.stream_processors.examples import run_examples
from watchfloor.stream_processors.rulefile import load_rules

ANY_OF = """
version: 2
name: any-of
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closed: {match: {all: [closed, border]}, capture: {country: {entities: [A]}}}
  shut: {match: {all: [shut, crossing]}, capture: {country: {entities: [A]}}}
detections:
  - id: border-closed
    title: "{country} closed its border"
    pattern: {any: [closed, {signal: shut, modality: [asserted, hedged]}]}
    group_by: [country]
    examples:
      - name: the first signal
        group: {country: A}
        documents: [{type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
                     title: "Alphaland closed the border"}]
      - name: the second signal, hedged, which its reference takes
        documents: [{type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
                     title: "Alphaland may have shut the crossing"}]
      - name: the first signal hedged, which its reference does not take
        fires: false
        documents: [{type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
                     title: "Alphaland may have closed the border"}]
"""


def test_any_of_several_signals(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ANY_OF, encoding="utf-8")
    loaded, compiled = load_rules([str(path)])
    (det,) = compiled.detections
    assert [r.signal for r in det.refs] == ["closed", "shut"]
    assert set(compiled.detections_by_signal) == {"closed", "shut"}
    results = run_examples([lp.pack for lp in loaded], compiled)
    assert [r.passed for r in results] == [True, True, True], [r.message for r in results]
