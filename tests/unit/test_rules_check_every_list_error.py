"""Every bad item of a list is said, each at its own FILE:LINE:COL (outside trial 82): `event_codes: ["999", 19]`
said the first alone, as did a gdelt source's `event_codes` and `countries` in the config and a reference's
`except_cues`; a pack's countries, entities and signals already said each. A file's errors are bounded: past 20,
one line says how many more. Packs written here (invented countries, CAMEO codes from the codebook)."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.config import ConfigError, load_config
from watchfloor.stream_processors.rulefile import MAX_ERRORS_PER_FILE, RuleLoadError, RuleProblem, load_rules, shown

from .test_rules_check_misplaced_keys import _check

PACK = """version: 2
name: clashes
signals:
  clash:
    match: GDELT event
    gdelt:
      event_codes: ["999", 19, "190"]
detections:
  - id: clash
    title: "Clash"
    pattern: {any: clash}
"""


def test_every_bad_event_code_of_a_list_is_said_at_its_place(tmp_path: Path) -> None:
    code, got = _check(tmp_path, PACK)
    assert code == 1
    assert got == [
        "7:21: '999' is no CAMEO event code nor the start of one (root codes are 01 to 20: \"19\" is fighting, "
        '"190" use conventional military force)',
        '7:28: write each CAMEO code in quotes ("057", "19"), not 19',
    ]


@pytest.mark.parametrize(
    ("written", "places"),
    [
        ('{any: ["999", 19], none: ["x", "888"]}', ["7:27", "7:34", "7:46", "7:51"]),
        ("[19, 20, 21]", ["7:21", "7:25", "7:29"]),
    ],
)
def test_every_bad_code_of_either_form_is_said(tmp_path: Path, written: str, places: list[str]) -> None:
    code, got = _check(tmp_path, PACK.replace('["999", 19, "190"]', written))
    assert code == 1
    assert [line.split(": ", 1)[0] for line in got] == places


def test_every_empty_except_cue_is_said(tmp_path: Path) -> None:
    text = PACK.replace('["999", 19, "190"]', '["190"]').replace(
        "{any: clash}", '{any: {signal: clash, except_cues: ["", threat*, " "]}}'
    )
    code, got = _check(tmp_path, text)
    assert code == 1
    assert got == ["11:50: except_cues: an empty cue", "11:63: except_cues: an empty cue"]


def test_every_bad_code_of_a_gdelt_sources_filters_is_said(tmp_path: Path) -> None:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        'sources:\n  - kind: gdelt\n    path: x\n    event_codes: ["999", 19]\n    countries: [NKR, QQQ, unkown]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    said = [line.removeprefix(f"{path}:").split(": ", 1) for line in str(info.value).splitlines()]
    assert [place for place, _m in said] == ["4:19", "4:26", "5:17", "5:22", "5:27"]
    assert said[1][1] == 'write each CAMEO code in quotes ("057", "19"), not 19'
    assert (
        said[4][1]
        == "'unkown' is not a CAMEO country code (did you mean 'unknown', an actor GDELT coded no country for?)"
    )


def test_a_files_errors_stop_at_twenty_with_how_many_more(tmp_path: Path) -> None:
    codes = ", ".join(str(900 + i) for i in range(30))
    code, got = _check(tmp_path, PACK.replace('["999", 19, "190"]', f"[{codes}]"))
    assert code == 1
    assert len(got) == MAX_ERRORS_PER_FILE + 1
    assert got[-1].endswith("… and 10 more errors, not shown: fix these and check again")
    # and so does the error `run` and `backtest` say
    with pytest.raises(RuleLoadError) as info:
        load_rules([str(tmp_path / "p.yaml")])
    assert str(info.value).splitlines()[-1].endswith("… and 10 more errors, not shown: fix these and check again")


def test_warnings_are_not_counted_nor_left_out() -> None:
    problems = [RuleProblem("a.yaml", i, 1, "bad") for i in range(1, 4)]
    problems += [RuleProblem("a.yaml", 9, 1, "warning: odd"), RuleProblem("b.yaml", 1, 1, "bad")]
    assert shown(problems, limit=2) == [
        "a.yaml:1:1: bad",
        "a.yaml:2:1: bad",
        "a.yaml: … and 1 more error, not shown: fix these and check again",
        "a.yaml:9:1: warning: odd",
        "b.yaml:1:1: bad",
    ]
