"""The HTML report's scores say where the label map came from: a --label-map file by its path, else the packs' own
`labels:` (trial 34, L1: "with the label map `rule packs`" read like a file named so)."""

from __future__ import annotations

from watchfloor.report import _map_said


def test_the_packs_own_labels_are_said_as_such() -> None:
    said = _map_said({"label_map": "rule packs"})
    assert said == "with the labels the rule packs map to their rules (their <code>labels:</code>)"
    assert "the baseline&#x27;s rule packs map" in _map_said({"label_map": "the baseline's rule packs"})


def test_a_label_map_file_is_named_by_its_path() -> None:
    assert _map_said({"label_map": "maps/desk.yaml"}) == "with the label map <code>maps/desk.yaml</code>"
