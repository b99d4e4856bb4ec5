"""The pure engine: compile rules, extract signals from text, correlate signals into detections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compiler import CompiledRules, CompileErrors, RuleError, compile_packs

if TYPE_CHECKING:
    from .engine import Engine, Output, detections_of

__all__ = ["CompileErrors", "CompiledRules", "Engine", "Output", "RuleError", "compile_packs", "detections_of"]


def __getattr__(name: str) -> Any:
    # The engine proper (extraction, correlation) is imported on first use: `rules check` compiles rules
    # and never runs them, and its import is a tenth of a second.
    if name in ("Engine", "Output", "detections_of"):
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
