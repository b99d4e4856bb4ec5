"""A pack's own capture named `place` is the alert's `place` (outside trial 66, HIGH-1): the places the report's
sentence names are not added to it. A news rundown ("In this edition: …; …; …") is one sentence whose stories are
cut at each ";": the capture took no place from another story, yet the alert's title and attributes named one, so
`rules explain` and the alert disagreed. A pack without such a capture keeps the built-in `place`. Sentences written
for these tests."""

from __future__ import annotations

from pathlib import Path

from .engine_helpers import Timeline, doc, engine_for

PACK = """version: 2
name: air-defence
language: en
entities:
  NORTHSHIRE: {name: Northshire, kind: place, aliases: [Northshire]}
  EASTVALE: {name: Eastvale, kind: place, aliases: [Eastvale]}
signals:
  downed: {match: {all: [drones, shot down]}, capture: {CAPTURE}}
detections:
  - id: drones-downed
    title: "Drones shot down{place_suffix}"
    pattern: {any: downed}
"""
RUNDOWN = "In this edition: a depot burns near Northshire; drones shot down over the sea; the weather"


def _alerts(tmp_path: Path, capture: str, title: str) -> list[tuple[str, dict[str, list[str]]]]:
    path = tmp_path / "p.yaml"
    path.write_text(PACK.replace("{CAPTURE}", capture), encoding="utf-8")
    return [(d.title, dict(d.attributes)) for d in Timeline(engine_for(str(path))).feed(doc("", title=title))]


def test_an_own_place_capture_that_took_none_leaves_the_title_without_a_place(tmp_path: Path) -> None:
    got = _alerts(tmp_path, "{place: {kind: place}}", RUNDOWN)
    assert got == [("Drones shot down", {})]


def test_an_own_place_capture_is_the_alerts_place_alone(tmp_path: Path) -> None:
    title = "Drones shot down over Eastvale, as a depot burns near Northshire"
    got = _alerts(tmp_path, "{place: {kind: place}}", title)
    assert got == [("Drones shot down (Eastvale)", {"place": ["Eastvale"]})]


def test_without_an_own_place_capture_the_places_the_sentence_names_are_the_place(tmp_path: Path) -> None:
    got = _alerts(tmp_path, "{area: {kind: place}}", RUNDOWN)
    assert got == [("Drones shot down (Northshire)", {"place": ["Northshire"]})]
