"""The pure engine: compile rules, extract signals from text, correlate signals into detections."""

from .compiler import CompiledRules, CompileErrors, RuleError, compile_packs
from .engine import Engine, Output, detections_of

__all__ = ["CompileErrors", "CompiledRules", "Engine", "Output", "RuleError", "compile_packs", "detections_of"]
