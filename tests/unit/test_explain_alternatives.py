"""`rules explain` says which alternative of an `any` lacks what (outside trial 57, LOW-3: two alternatives missing
the same part read "none of '@RUS (Россия)', 'наших' and none of '@RUS (Россия)', 'наших' and no 'обмен пленными'",
one condition said twice, with no way to tell which alternative was meant)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

PACK = Path(__file__).resolve().parents[1] / "data" / "rules" / "explain_alternatives.yaml"


def test_each_alternative_is_numbered_with_what_it_lacks() -> None:
    title = "Военные так и не вернулись из украинского плена домой"
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(PACK), "--title", title])
    assert res.exit_code == 0, res.output
    assert (
        "✗ pow_returned: no alternative holds: (1) none of '@RUS (Россия)', 'наших'; "
        "(2) none of '@RUS (Россия)', 'наших'; (3) no 'обмен пленными'"
    ) in res.output, res.output
