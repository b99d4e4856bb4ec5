"""A key a desk brings from another alerting tool (outside trial 82): `throttle:` or `cooldown:` for the pack's
`realert`, Sigma's `level` for `severity`, `window` or ElastAlert's `timeframe` for `within`, `threshold` for
`at_least`. Spelling finds none of them, so `rules check` says the pack's key from one table (rulefile.KEY_SYNONYMS),
at the key's own FILE:LINE:COL, and where it belongs when that is another level. Packs written here (invented
countries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.rulefile import KEY_SYNONYMS, known_keys

from .test_rules_check_misplaced_keys import PACK, _check

DETECTION = "    pattern: {any: grain_seized}\n"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            DETECTION,
            DETECTION + "    throttle: 6h\n",
            "13:5: unknown key 'throttle' (did you mean 'realert'?; a channel's `throttle` in the config caps its "
            "messages per window)",
        ),
        (DETECTION, DETECTION + "    cooldown: 6h\n", "13:5: unknown key 'cooldown' (did you mean 'realert'?)"),
        (DETECTION, DETECTION + "    level: high\n", "13:5: unknown key 'level' (did you mean 'severity'?)"),
        (DETECTION, DETECTION + "    window: 2d\n", "13:5: unknown key 'window' (did you mean 'within'?)"),
        (DETECTION, DETECTION + "    timeframe: 2d\n", "13:5: unknown key 'timeframe' (did you mean 'within'?)"),
        (DETECTION, DETECTION + "    query_key: [x]\n", "13:5: unknown key 'query_key' (did you mean 'group_by'?)"),
        # the key is one level off: said where it belongs, as a misplaced key is
        (
            DETECTION,
            DETECTION + "    threshold: 3\n",
            "13:5: unknown key 'threshold' (did you mean 'at_least'? `at_least` belongs under `corroborate:` "
            "(corroborate.at_least) or, for a count, under `pattern: {count: …}` (pattern.count.at_least))",
        ),
        # at the level that takes it
        (
            DETECTION,
            "    pattern: {count: {signal: grain_seized, threshold: 3}}\n    within: 2d\n",
            "12:15: missing required key 'at_least'\n12:45: unknown key 'threshold' (did you mean 'at_least'?)",
        ),
        (
            DETECTION,
            DETECTION + "    corroborate: {within: 2d, severity: high, level: high}\n",
            "13:47: unknown key 'level' (did you mean 'severity'?)",
        ),
    ],
)
def test_another_tools_word_for_a_key_is_told_the_packs_key(tmp_path: Path, old: str, new: str, said: str) -> None:
    assert old in PACK
    code, got = _check(tmp_path, PACK.replace(old, new))
    assert code == 1
    assert got == said.split("\n")


def test_a_word_where_its_key_has_no_meaning_is_not_told_it(tmp_path: Path) -> None:
    # A signal has no severity: "did you mean 'severity'?" there would send the writer to another error.
    code, got = _check(tmp_path, PACK.replace("    mentions: {any: [N]}\n", "    mentions: {any: [N]}\n    level: 2\n"))
    assert code == 1
    assert got == ["9:5: unknown key 'level'"]


def test_every_synonym_is_no_key_of_a_pack_and_names_one() -> None:
    keys = known_keys(RulePack)
    assert not set(KEY_SYNONYMS) & keys  # a word a pack takes is no synonym: it is said where it belongs
    assert {real for real, _note in KEY_SYNONYMS.values()} <= keys
