"""A labels file that contradicts itself: an id given a label and NONE is accepted (a positive), with a warning
naming FILE:LINE of both (outside audit, analyst, LOW-8). Fixtures are ids and labels of our own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.scoring.truth import BAD_LINES_SHOWN, CONTRADICTIONS_SHOWN, TruthError, load_labels


def labels_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text("id,label,time\n" + body, encoding="utf-8")
    return path


def test_an_id_labelled_and_none_is_a_positive_with_a_warning_naming_both_lines(tmp_path: Path) -> None:
    path = labels_file(
        tmp_path,
        "port-1,HARBOUR_CLOSED,\n"  # line 2
        "port-2,NONE,\n"  # line 3
        "port-1,NONE,\n"  # line 4: contradicts line 2
        "port-3,,\n"  # line 5: an empty cell is a negative too
        "port-3,HARBOUR_CLOSED,\n"  # line 6
        "port-4,HARBOUR_CLOSED;NONE,\n"  # line 7: both in one cell
        "port-5,HARBOUR_CLOSED;,\n",  # line 8: an empty part is no contradiction
    )
    labels = load_labels(path)
    assert set(labels.positives()) == {"port-1", "port-3", "port-4", "port-5"}
    assert list(labels.warnings) == [
        f"{path}:4: id 'port-1' is labelled NONE, but {path}:2 labels it HARBOUR_CLOSED: it is scored as a positive",
        f"{path}:5: id 'port-3' has an empty label (a negative), but {path}:6 labels it HARBOUR_CLOSED: it is scored "
        "as a positive",
        f"{path}:7: id 'port-4' is labelled both NONE and HARBOUR_CLOSED: it is scored as a positive",
    ]


def test_a_consistent_file_has_no_warning(tmp_path: Path) -> None:
    path = labels_file(tmp_path, "port-1,HARBOUR_CLOSED,\nport-1,CONVOY_SEEN,\nport-2,NONE,\nport-2,-,\n")
    assert load_labels(path).warnings == ()


def test_many_contradictions_are_counted_past_the_first_few(tmp_path: Path) -> None:
    n = CONTRADICTIONS_SHOWN + 3
    path = labels_file(tmp_path, "".join(f"port-{i},HARBOUR_CLOSED,\nport-{i},NONE,\n" for i in range(n)))
    warnings = load_labels(path).warnings
    assert len(warnings) == CONTRADICTIONS_SHOWN + 1
    assert warnings[-1].startswith(f"{path}: 3 more ids are labelled both a negative and a positive"), warnings[-1]
    assert "lines 13, 15, 17" in warnings[-1], warnings[-1]


def test_an_event_column_names_each_items_story_once(tmp_path: Path) -> None:
    from watchfloor.scoring import TruthError, load_labels

    p = tmp_path / "labels.csv"
    p.write_text("id,label,event\na1,STRIKE,wave A\na2,STRIKE,wave A\nb1,STRIKE,wave B\nx,NONE,\na1,STRIKE,\n")
    labels = load_labels(p)
    assert {k: v.event for k, v in labels.items.items()} == {"a1": "wave A", "a2": "wave A", "b1": "wave B", "x": None}
    p.write_text("id,label,event\na1,STRIKE,wave A\na1,STRIKE,wave B\n")
    with pytest.raises(
        TruthError, match=r"labels.csv:3: id 'a1' has the event 'wave B' for the label 'STRIKE', and 'wave A' on line 2"
    ):
        load_labels(p)


def test_an_item_reporting_two_stories_has_an_event_per_label_and_each_rule_counts_its_own(tmp_path: Path) -> None:
    # Outside trial 28, F10: one event per id. A report of two stories (a flight of residents and the dissolution of
    # their government) was refused with an event per label; given one, the other rule was scored over two events
    # and read "1 of 2 caught" with every story caught.
    from watchfloor.scoring import LabelMap, score
    from watchfloor.scoring.scores import AlertRef
    from watchfloor.scoring.truth import load_labels

    p = tmp_path / "labels.csv"
    p.write_text(
        "id,label,event\nboth,FLIGHT,flight\nboth,DISSOLVED,dissolution\nf2,FLIGHT,flight\nd2,DISSOLVED,dissolution\n"
    )
    labels = load_labels(p)
    assert dict(labels.items["both"].events) == {"FLIGHT": "flight", "DISSOLVED": "dissolution"}
    assert labels.items["both"].event == "dissolution;flight" and labels.items["f2"].event == "flight"
    t = datetime(2023, 9, 28, tzinfo=UTC)
    alerts = [
        AlertRef("A", "residents-flee", {}, "high", None, t, ("f2", "both"), (t, t)),
        AlertRef("B", "republic-dissolved", {}, "high", None, t, ("both",), (t,)),
    ]
    label_map = LabelMap("map.yaml", {"FLIGHT": ("residents-flee",), "DISSOLVED": ("republic-dissolved",)})
    got = score(alerts, labels, label_map)
    assert {r: (c.events, c.events_caught) for r, c in got.per_rule.items()} == {
        "residents-flee": (1, 1),
        "republic-dissolved": (1, 1),
    }
    assert (got.overall.events, got.overall.events_caught) == (2, 2)


def test_a_label_without_an_event_takes_the_items_one_event_and_never_a_joined_one(tmp_path: Path) -> None:
    """Review 24, M2: a label row with no event fell back to the item's events joined by ";" (a story nobody wrote,
    "dissolution;flight"), and an event whose name holds ";" was split back into pieces ("Gaza; wave 2")."""
    p = tmp_path / "labels.csv"
    p.write_text(
        'id,label,event\nx,STRIKE,"Gaza; wave 2"\nx,PROTEST,\n'
        "both,FLIGHT,flight\nboth,DISSOLVED,dissolution\nboth,PROTEST,\n"
    )
    items = load_labels(p).items
    assert items["x"].event_for(["PROTEST"]) == "Gaza; wave 2"  # the one event the file names for x
    assert items["x"].named_events == ("Gaza; wave 2",)
    assert items["both"].event_for(["PROTEST"]) is None  # two stories: neither is the protest's (scored as itself)
    assert items["both"].event_for(["FLIGHT"]) == "flight"


def test_scoring_counts_no_made_up_event_for_a_label_without_one(tmp_path: Path) -> None:
    from watchfloor.scoring import LabelMap, score
    from watchfloor.scoring.scores import AlertRef

    p = tmp_path / "labels.csv"
    # x reports a strike (its event on the first row) and a protest on a second row with no event: the item's event,
    # as before trial 28's change; y reports the same protest story.
    p.write_text('id,label,event\nx,STRIKE,"Gaza; wave 2"\nx,PROTEST,\ny,PROTEST,"Gaza; wave 2"\n')
    labels = load_labels(p)
    t = datetime(2023, 9, 28, tzinfo=UTC)
    alerts = [AlertRef("A", "protests", {}, "high", None, t, ("y",), (t,))]
    got = score(alerts, labels, LabelMap("m.yaml", {"PROTEST": ("protests",)}))
    c = got.per_rule["protests"]
    assert (c.events, c.events_caught) == (1, 1)


def test_every_bad_line_is_told_in_one_error(tmp_path: Path) -> None:
    # Outside trial 53, LOW-4: bad times on lines 2, 3 and 4, and only line 2 was told (a run per mistake).
    path = labels_file(
        tmp_path,
        "m1,MUTINY,2023-06-23 21:00\n"  # line 2: no offset
        "m2,MUTINY,yesterday\n"  # line 3
        "m3,MUTINY,2023-06-23T20:00:00+00:00\n"  # line 4: good
        ",MUTINY,\n"  # line 5: no id
        "m4,MUTINY,2023-06-23T20:00:00+00:00,extra\n"  # line 6: a cell too many
        "m3,MUTINY,2023-06-24T20:00:00+00:00\n",  # line 7: another time for m3
    )
    with pytest.raises(TruthError) as e:
        load_labels(path)
    told = str(e.value).splitlines()
    assert told[0] == f"{path}: 5 bad lines:"
    assert [t.strip().split(": ", 1)[0] for t in told[1:]] == [f"{path}:{n}" for n in (2, 3, 5, 6, 7)]
    assert "no UTC offset" in told[1] and "'yesterday'" in told[2] and "another time on line 4" in told[5]


def test_past_twenty_bad_lines_the_rest_are_counted(tmp_path: Path) -> None:
    path = labels_file(tmp_path, "".join(f"m{k},MUTINY,soon\n" for k in range(BAD_LINES_SHOWN + 7)))
    with pytest.raises(TruthError) as e:
        load_labels(path)
    told = str(e.value).splitlines()
    assert len(told) == 1 + BAD_LINES_SHOWN + 1 and told[-1].strip() == "… and 7 more bad lines"
    assert told[0] == f"{path}: {BAD_LINES_SHOWN + 7} bad lines:"
