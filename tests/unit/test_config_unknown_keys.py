"""A config key the schema does not know is refused at its place, with the closest key it does know."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.config import ConfigError, load_config

CONFIG = """\
store: sqlite:///var/wf.db
channels:
  - {type: console, name: desk}
subscriptions:
  - {channel: desk, rule: [treaty-signed]}
"""


def test_a_mistyped_key_is_refused_with_the_key_meant(tmp_path: Path) -> None:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:5:21: unknown key 'rule' (did you mean 'rules'?)"
    # Nothing close: no guess.
    path.write_text(CONFIG.replace("rule:", "colour:"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).endswith("unknown key 'colour'")


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        # Outside trial 9, F7: this read "unknown key 'poll' (did you mean 'poll'?)".
        (
            "sources: [{kind: jsonl, path: ./a.jsonl, poll: 3s}]",
            "2:42: unknown key 'poll' in a `kind: jsonl` source (a key of rss and gdelt sources); "
            "JSON Lines files are read every `poll_interval` (a top-level key)",
        ),
        (
            "sources: [{kind: rss, url: ./f.xml, pol: 3s}]",
            "2:37: unknown key 'pol' in a `kind: rss` source (did you mean 'poll'?)",
        ),
        (
            "channels: [{type: console, name: c, channel: '#x'}]",
            "2:37: unknown key 'channel' in a `type: console` channel (a key of slack channels)",
        ),
    ],
)
def test_a_key_of_another_kind_of_source_or_channel_says_which_kinds_take_it(
    tmp_path: Path, entry: str, said: str
) -> None:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(f"store: memory://\n{entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:{said}"
