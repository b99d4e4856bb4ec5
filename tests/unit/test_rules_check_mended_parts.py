"""`rules check` says a part's schema errors and the semantic errors of the rest of that part in one run (outside trial
29, F4): a signal or detection the schema refused in one field is checked without that field (its default, or a
neutral stand-in) instead of being left out, so its unknown signals, entities and placeholders and its phrases'
warnings come with the schema error; nothing that follows from the refused field is said (a detection whose group_by
was refused gets no title check; one taking a signal whose captures were refused, no check of its keys). Packs
written here (invented countries)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

PACK = """version: 2
name: borders
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closed:
    match: {all: [closed, border]}
    capture: {country: {entities: [A]}}
detections:
  - id: closure
    title: "{contry} closed its border"
    pattern: {any: clsed}
    window: 2h
"""


def _check(tmp_path: Path, text: str) -> tuple[int, list[tuple[str, str]], str]:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["rules", "check", str(path)], env={"COLUMNS": "400"})
    got = []
    for line in res.output.splitlines():
        assert line.startswith(f"{path}:"), res.output
        place, message = line.removeprefix(f"{path}:").split(": ", 1)
        got.append((place, message))
    return res.exit_code, got, res.output


def test_a_detection_with_an_unknown_key_still_has_its_signal_and_title_checked(tmp_path: Path) -> None:
    code, got, out = _check(tmp_path, PACK)
    assert code == 1
    assert [p for p, _m in got] == ["11:12", "12:20", "13:5"], out
    assert got[0][1].startswith("title '{contry} closed its border': unknown placeholder {contry} (no signal captures")
    assert got[1][1] == "unknown signal 'clsed' (did you mean 'closed'?)"
    assert got[2][1] == "unknown key 'window' (did you mean 'within'?)"


def test_a_bad_value_leaves_the_rest_of_the_detection_checked(tmp_path: Path) -> None:
    text = PACK.replace("    window: 2h\n", "    within: 2 days\n    severity: huge\n    group_by: [country]\n")
    text = text.replace("{any: clsed}", "{count: {signal: {signal: closed, where: {cuntry: A}}, at_least: 0}}")
    code, got, out = _check(tmp_path, text)
    assert code == 1
    said = dict(got)
    assert said["12:15"] == "signal 'closed' captures no 'cuntry' (did you mean 'country'?)", out
    assert said["12:79"].startswith("at_least: Input should be greater than or equal to 1"), out
    assert said["13:13"].startswith("bad duration '2 days'"), out
    assert said["14:15"].startswith("severity: Input should be"), out
    assert said["11:12"].startswith("title '{contry} closed its border': unknown placeholder {contry} (this"), out
    assert len(got) == 5, out


def test_a_signal_with_one_bad_field_still_has_its_phrases_and_entities_checked(tmp_path: Path) -> None:
    text = (
        PACK.replace(
            "    match: {all: [closed, border]}\n",
            "    match: {all: [{any: [clos*, shut]}, {any: [closed, border]}, '']}\n    near: zero\n"
            "    mentions: {all: [B]}\n",
        )
        .replace("{any: clsed}", "{any: closed}")
        .replace("    window: 2h\n", "    group_by: [country]\n")
    )
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert [p for p, _m in got] == ["7:48", "7:66", "8:11", "9:22"], out
    assert got[0][1].startswith("warning: phrase 'closed' (item 2) and 'clos*' in item 1 of this `all` can read")
    assert got[1][1] == "empty phrase"
    assert got[2][1].startswith("near: Input should be a valid integer")
    assert got[3][1] == "unknown entity 'B' (define it under 'entities')"
    # (the detection taking it is judged as before, without the signal: its title is not judged here)


def test_nothing_that_follows_from_the_refused_field_is_said(tmp_path: Path) -> None:
    """A refused capture: the signal's phrases are checked, but what names the capture is not judged (the detection
    groups by it, names it in its title and its `where`); a refused group_by: the title is not judged."""
    text = PACK.replace("{country: {entities: [A]}}", "{country: {entities: A}}").replace(
        "    window: 2h\n", "    group_by: [country]\n"
    )
    text = text.replace("{any: clsed}", "{any: {signal: closed, where: {country: A}}}").replace("{contry}", "{country}")
    text += "  - {id: other, title: '{country} x', pattern: {any: ofensive}, group_by: country}\n"
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert [m for _p, m in got] == [
        "entities: Input should be a valid list (got 'A')",
        "unknown signal 'ofensive' (define it under 'signals')",
        "group_by: Input should be a valid list (got 'country')",
    ], out


def test_an_id_that_is_no_slug_keeps_its_detection_checked_under_its_own_id(tmp_path: Path) -> None:
    text = PACK.replace("id: closure", "id: Closure Check").replace("    window: 2h\n", "")
    text += "  - {id: over, title: t, pattern: {any: {detection: Closure Check, where: {country: A}}}}\n"
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert [p for p, _m in got] == ["10:9", "11:12", "12:20"], out
    assert got[0][1].startswith("id: 'Closure Check' is not a lower-case slug")
    assert got[2][1] == "unknown signal 'clsed' (did you mean 'closed'?)"


# A Russian-language pack whose detection has a bad `within` ("3 суток": a Russian unit) and an example with two
# problems of its own: a group value that names no entity and a document dated without a UTC offset (trial 35, M1).
RU_PACK = """version: 2
name: plotina
language: ru
entities:
  SYL: {name: Сильдавия, kind: country, aliases: [Сильдавия]}
  KLOW: {name: Клоусхольм, kind: place, aliases: [Клоусхольм]}
signals:
  обстрел:
    match: {all: [{any: [обстрел]}, {any: [плотины]}]}
    near: 6
    capture: {side: {entities: [SYL]}, place: {kind: place}}
detections:
  - id: shelling
    title: "Обстрел у {place}"
    pattern: {any: обстрел}
    group_by: [place]
    within: 3 суток
    examples:
      - name: один
        group: {place: Клоус}
        documents:
          - {type: news.article, published_at: "2024-05-04 09:30", source: Y, title: "Обстрел плотины у Клоусхольма"}
"""

NO_PLACE = (
    "group place: 'Клоус' names no entity of the rule packs (write an entity's id, name or alias) "
    "(did you mean Клоусхольм?)"
)
NO_OFFSET = (
    "example document: field 'published_at': timestamp has no UTC offset: '2024-05-04 09:30' "
    "(write e.g. 2024-05-04 09:30+00:00)"
)


def test_a_bad_within_does_not_hide_the_examples_problems(tmp_path: Path) -> None:
    """The schema error and the example's problems in one run, each at its place (the run before said only the
    duration; fixing it brought out the rest)."""
    code, got, out = _check(tmp_path, RU_PACK)
    assert code == 1
    assert got == [
        (
            "17:13",
            "bad duration '3 суток': write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w; "
            "in Russian: 30 сек, 30 мин, 2ч, 3дн (or 3 сут), 2 нед",
        ),
        ("20:24", NO_PLACE),
        ("22:13", NO_OFFSET),
    ], out
    # As with a bad title placeholder, which the schema does not refuse: the same example problems.
    code, got, out = _check(tmp_path, RU_PACK.replace("3 суток", "3d").replace("{place}", "{mesto}"))
    assert [m for _p, m in got][1:] == [NO_PLACE, NO_OFFSET], out


def test_a_refused_group_by_leaves_the_example_keys_unjudged_but_not_their_values(tmp_path: Path) -> None:
    text = RU_PACK.replace("within: 3 суток", "within: 3d").replace("group_by: [place]", "group_by: place")
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert got == [
        ("16:15", "group_by: Input should be a valid list (got 'place')"),
        ("20:24", NO_PLACE),
        ("22:13", NO_OFFSET),
    ], out


def test_a_detection_that_cannot_be_mended_has_what_needs_no_detection_checked_and_a_note(tmp_path: Path) -> None:
    """A pattern refused as a whole leaves no detection to stand in: the example's documents and the entities it
    names are still checked; that its captures keys are not is said in one line."""
    text = RU_PACK.replace("{any: обстрел}", "{anyy: обстрел}").replace(
        "group: {place: Клоус}", "captures: {sid: Сильдавия, place: Клоус}"
    )
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert got == [
        ("15:15", "unknown key 'anyy' (did you mean 'any'?)"),
        (
            "17:13",
            "bad duration '3 суток': write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w; "
            "in Russian: 30 сек, 30 мин, 2ч, 3дн (or 3 сут), 2 нед",
        ),
        (
            "18:5",
            "note: detection 'shelling' does not fit the schema: whether its examples' captures keys are its own is "
            "not checked",
        ),
        (
            "20:43",
            "captures place: 'Клоус' names no entity of the rule packs (write an entity's id, name or alias) "
            "(did you mean Клоусхольм?)",
        ),
        ("22:13", NO_OFFSET),
    ], out


def test_an_example_key_is_judged_by_what_of_its_detection_stands(tmp_path: Path) -> None:
    """A refused title leaves the group_by to judge a group key by; a refused capture of the signal taken leaves no
    captures to judge a captures key by (it may be the one refused), but the group_by still judges a group key."""
    text = RU_PACK.replace('title: "Обстрел у {place}"', "title: [x]").replace("{place: Клоус}", "{mesto: KLOW}")
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert ("20:24", "group key 'mesto': detection 'shelling' groups by place") in got, out
    text = RU_PACK.replace("{entities: [SYL]}", "{entities: SYL}").replace(
        "group: {place: Клоус}", "group: {mesto: KLOW}\n        captures: {sid: SYL}"
    )
    code, got, out = _check(tmp_path, text)
    assert [m for _p, m in got] == [
        "entities: Input should be a valid list (got 'SYL')",
        "bad duration '3 суток': write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w; "
        "in Russian: 30 сек, 30 мин, 2ч, 3дн (or 3 сут), 2 нед",
        "group key 'mesto': detection 'shelling' groups by place",
        NO_OFFSET,
    ], out
