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
