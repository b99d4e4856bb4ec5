"""Timelines (outside audit): one alert counts for one expected event (nearest in time first, then the
earliest free warning); a group names what the rule's alerts can carry (FILE:LINE for a misspelt name);
`name=value` and bare values match attributes (a place outside the group) as well as the group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchfloor.scoring import AlertRef, RuleVocabulary, TruthError, evaluate_timeline, load_timeline

T0 = datetime(2025, 4, 1, tzinfo=UTC)
VOCAB = RuleVocabulary(
    {"vote-passed": frozenset({"chamber", "place"}), "ships-sighted": frozenset({"place", "fleet"})},
    {"PORT_A": "Port Alma"},
)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def alert(aid: str, rule: str, at: float, group: dict[str, str] | None = None, **attrs: list[str]) -> AlertRef:
    return AlertRef(
        aid, rule, group or {}, "medium", None, day(at), ("x",), attributes={k: tuple(v) for k, v in attrs.items()}
    )


def timeline(tmp_path: Path, rows: str) -> Path:
    p = tmp_path / "timeline.csv"
    p.write_text("event,time,rule,group\n" + rows, encoding="utf-8")
    return p


def test_one_alert_counts_for_one_expected_event_nearest_first(tmp_path: Path) -> None:
    # Two votes of the same chamber thirteen days apart; the first alert must not also "find" the second vote.
    p = timeline(
        tmp_path,
        f"lower house votes,{day(0).isoformat()},vote-passed,chamber=UPPER\n"
        f"upper house votes,{day(13).isoformat()},vote-passed,chamber=UPPER\n",
    )
    tl = load_timeline(p, VOCAB)
    first = alert("v1", "vote-passed", 0.4, {"chamber": "UPPER"})
    got = evaluate_timeline(tl, [first], timedelta(days=14))
    assert [(o.event, o.status, o.alert) for o in got] == [
        ("lower house votes", "found", "v1"),
        ("upper house votes", "missed", None),
    ]
    second = alert("v2", "vote-passed", 13.4, {"chamber": "UPPER"})
    got = evaluate_timeline(tl, [first, second], timedelta(days=14))
    assert [(o.event, o.alert) for o in got] == [("lower house votes", "v1"), ("upper house votes", "v2")]


def test_a_found_event_keeps_its_first_warning_when_no_other_event_needs_it(tmp_path: Path) -> None:
    p = timeline(tmp_path, f"fleet arrives,{day(3).isoformat()},ships-sighted,\n")
    tl = load_timeline(p, VOCAB)
    got = evaluate_timeline(
        tl, [alert("early", "ships-sighted", 1), alert("late", "ships-sighted", 3)], timedelta(days=7)
    )
    assert [(o.alert, o.lead_time_s) for o in got] == [("early", -2 * 86400.0)]


def test_as_many_events_are_found_as_the_alerts_can_cover(tmp_path: Path) -> None:
    # Review finding 2: window 10d; A on day 0, B on day 10; X on day 9 fits both, Y on day 20 only B.
    # Nearest first paired B-X and left A missed and Y unused, though A-X and B-Y find both.
    p = timeline(
        tmp_path,
        f"A,{day(0).isoformat()},ships-sighted,\nB,{day(10).isoformat()},ships-sighted,\n",
    )
    tl = load_timeline(p, VOCAB)
    got = evaluate_timeline(tl, [alert("X", "ships-sighted", 9), alert("Y", "ships-sighted", 20)], timedelta(days=10))
    assert [(o.event, o.status, o.alert) for o in got] == [("A", "found", "X"), ("B", "found", "Y")]


def test_a_longer_chain_of_moves_is_followed(tmp_path: Path) -> None:
    # Window 10d. A day 0, B day 10, C day 20; X day 9 (A, B), Y day 19 (B, C), Z day 30 (C only).
    # Nearest first: B-X (1d), C-Y (1d), A none; moving B to Y and C to Z frees X for A.
    p = timeline(
        tmp_path,
        f"A,{day(0).isoformat()},ships-sighted,\nB,{day(10).isoformat()},ships-sighted,\n"
        f"C,{day(20).isoformat()},ships-sighted,\n",
    )
    tl = load_timeline(p, VOCAB)
    alerts = [alert("X", "ships-sighted", 9), alert("Y", "ships-sighted", 19), alert("Z", "ships-sighted", 30)]
    got = evaluate_timeline(tl, alerts, timedelta(days=10))
    assert [(o.event, o.alert) for o in got] == [("A", "X"), ("B", "Y"), ("C", "Z")]


def test_group_names_and_bare_values_match_attributes_too(tmp_path: Path) -> None:
    p = timeline(
        tmp_path,
        f"ships at the port,{day(0).isoformat()},ships-sighted,place=PORT_A\n"
        f"ships anywhere near it,{day(5).isoformat()},ships-sighted,PORT_A\n",
    )
    tl = load_timeline(p, VOCAB)
    # attributes hold display names; the timeline writes the entity id (or the name, any case)
    alerts = [
        alert("s1", "ships-sighted", 0.2, place=["Port Alma"]),
        alert("s2", "ships-sighted", 5.1, place=["port alma", "Cape Ro"]),
    ]
    got = evaluate_timeline(tl, alerts, timedelta(days=2))
    assert [(o.status, o.alert) for o in got] == [("found", "s1"), ("found", "s2")]
    got = evaluate_timeline(tl, [alert("s3", "ships-sighted", 0.2, place=["Cape Ro"])], timedelta(days=2))
    assert [o.status for o in got] == ["missed", "missed"]


@pytest.mark.parametrize(
    "row,message",
    [
        ("ships-sighted,plce=PORT_A", ":2: column 'group': ships-sighted's alerts carry no 'plce'"),
        ("vote-passed,fleet=NORTH", ":2: column 'group': vote-passed's alerts carry no 'fleet'"),
    ],
)
def test_a_group_name_the_rule_cannot_carry_is_an_error_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    p = timeline(tmp_path, f"something,{day(0).isoformat()},{row}\n")
    with pytest.raises(TruthError) as e:
        load_timeline(p, VOCAB)
    assert str(e.value).startswith(f"{p}{message}"), str(e.value)


@pytest.mark.parametrize("name", ["labels", "timeline"])
def test_an_unclosed_quote_is_an_error_naming_the_line_it_opened_on(tmp_path: Path, name: str) -> None:
    from watchfloor.scoring import load_labels

    p = tmp_path / f"{name}.csv"
    if name == "labels":
        p.write_text('id,label\nd-1,NONE\nd-2,"SHIPS\nd-3,NONE\nd-4,SHIPS\n', encoding="utf-8")
        load: object = load_labels
    else:
        p.write_text(
            f'event,time,rule\n"fleet arrives,{day(0).isoformat()},ships-sighted\n'
            f"fleet leaves,{day(1).isoformat()},ships-sighted\n",
            encoding="utf-8",
        )

        def load(x: Path) -> object:
            return load_timeline(x, VOCAB)

    with pytest.raises(TruthError) as e:
        load(p)  # type: ignore[operator]
    line = 3 if name == "labels" else 2
    assert str(e.value).startswith(f"{p}:{line}: a quoted cell"), str(e.value)
    assert "unclosed quote" in str(e.value)


def test_a_quoted_cell_on_one_line_is_read_as_ever(tmp_path: Path) -> None:
    from watchfloor.scoring import load_labels

    p = tmp_path / "labels.csv"
    p.write_text('id,label,note\nd-1,"SHIPS;CONVOY","seen, twice"\nd-2,NONE,\n', encoding="utf-8")
    items = load_labels(p).items
    assert items["d-1"].labels == {"SHIPS", "CONVOY"} and items["d-1"].line == 2 and items["d-2"].line == 3
    assert items["d-1"].label_key == "d-1"
