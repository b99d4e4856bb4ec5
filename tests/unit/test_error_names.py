"""An error's one line names a lower-case exception class by its module (`zlib.error`), never a bare `error`."""

import json
import zlib

from watchfloor.cli._common import error_line, exception_name


def test_lower_case_exception_class_is_named_by_its_module() -> None:
    # Trial 59, LOW-3: `run --once` over a broken deflate stream said "error: error: Error -3 …".
    try:
        zlib.decompress(b"not a deflate stream")
    except zlib.error as e:
        assert exception_name(e) == "zlib.error"
        assert error_line(e).startswith("zlib.error: Error -3")
    else:  # pragma: no cover - zlib always refuses this
        raise AssertionError("zlib accepted garbage")


def test_ordinary_exception_classes_keep_their_names() -> None:
    assert exception_name(ValueError("x")) == "ValueError"
    try:
        json.loads("{")
    except json.JSONDecodeError as e:
        assert exception_name(e) == "JSONDecodeError"
    assert error_line(RuntimeError("boom")) == "RuntimeError: boom"
