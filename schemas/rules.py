"""Rule-pack models (DESIGN §5): entities, signals and detections, validated when a pack is loaded."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from .events import Modality, Severity

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """'90s', '30m', '72h', '180d', '2w' -> timedelta. Bare numbers are refused: units avoid mistakes."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=int(m.group(1)) * _UNIT_SECONDS[m.group(2)])
    raise ValueError(f"bad duration {value!r}: write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w")


def format_duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if secs and secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": r"^\d+(s|m|h|d|w)$"}),
]

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
ENTITY_ID = r"^[A-Za-z0-9_]+$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityDef(_Strict):
    """A gazetteer entry: one canonical id and the words that name it."""

    name: str
    kind: Literal["country", "place", "organization", "person", "other"] = "other"
    aliases: list[str] = Field(min_length=1)


class Clause(_Strict):
    """Conditions that must all hold: any of `any`, all of `all`, none of `none`, and `regex`."""

    any: list[Condition] | None = Field(default=None, min_length=1)
    all: list[Condition] | None = Field(default=None, min_length=1)
    none: list[Condition] | None = Field(default=None, min_length=1)
    regex: str | None = Field(default=None, description="RE2 (linear-time) regex on the lower-cased sentence")

    @model_validator(mode="after")
    def _not_empty(self) -> Clause:
        if self.any is None and self.all is None and self.none is None and self.regex is None:
            raise ValueError("a condition needs at least one of any, all, none, regex")
        return self


Condition = str | Clause
"""A phrase ('ratif*', 'instruments of ratification', '@PRK') or a clause of any/all/none/regex.

In a phrase, a word ending in `*` matches any word that starts with it, and `@ID` stands for any alias
of entity ID. Phrases match whole words, case-insensitively."""

Clause.model_rebuild()


class MentionReq(_Strict):
    """Entities that must (all), may (any) or must not (none) be mentioned."""

    any: list[str] = Field(default_factory=list)
    all: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)


class CaptureDef(_Strict):
    """Names an entity of the sentence as a value, e.g. which party ratified.

    `entities`: the candidates; the one acting in the sentence is taken (the agent after 'by', else
    the nearest mention before the signal's words, else the first after). `kind`: every mentioned
    entity of that kind (e.g. place)."""

    entities: list[str] = Field(default_factory=list)
    kind: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CaptureDef:
        if bool(self.entities) == bool(self.kind):
            raise ValueError("a capture takes either 'entities' or 'kind'")
        return self


class SignalDef(_Strict):
    """Text -> fact, per sentence."""

    description: str = ""
    match: Condition
    near: int | None = Field(default=None, ge=1, description="matched words must lie within this many words")
    mentions: MentionReq | None = None  # entities in the sentence
    context: MentionReq | None = None  # entities anywhere in the document
    capture: dict[str, CaptureDef] = Field(default_factory=dict)


ModalityFilter = Modality | Literal["any"] | list[Modality]


class SignalRef(_Strict):
    """A reference to a signal inside a detection pattern, with optional filters."""

    signal: str
    modality: ModalityFilter = "asserted"
    where: dict[str, str] = Field(default_factory=dict)  # capture name -> entity id


def _signal_ref(v: Any) -> Any:
    return {"signal": v} if isinstance(v, str) else v


SignalRefIn = Annotated[SignalRef, BeforeValidator(_signal_ref)]


class CountPattern(_Strict):
    signal: SignalRefIn
    at_least: int = Field(ge=1)
    distinct: Literal["source", "document"] | None = None


class AbsencePattern(_Strict):
    first: SignalRefIn
    then_not: SignalRefIn


class Pattern(_Strict):
    """Exactly one of: any, count, all_of, sequence, absence."""

    any: SignalRefIn | None = None
    count: CountPattern | None = None
    all_of: list[SignalRefIn] | None = Field(default=None, min_length=2)
    sequence: list[SignalRefIn] | None = Field(default=None, min_length=2)
    absence: AbsencePattern | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Pattern:
        given = [k for k in ("any", "count", "all_of", "sequence", "absence") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a pattern takes exactly one of any, count, all_of, sequence, absence (got {given or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        for k in ("any", "count", "all_of", "sequence", "absence"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("unreachable")

    def refs(self) -> list[SignalRef]:
        if self.any is not None:
            return [self.any]
        if self.count is not None:
            return [self.count.signal]
        if self.all_of is not None:
            return list(self.all_of)
        if self.sequence is not None:
            return list(self.sequence)
        assert self.absence is not None
        return [self.absence.first, self.absence.then_not]


class Corroboration(_Strict):
    """Raise severity when enough distinct sources report the same group within a window."""

    distinct: Literal["source", "document"] = "source"
    at_least: int = Field(default=2, ge=2)
    within: Duration
    severity: Severity


class Example(_Strict):
    """An inline test: these documents must (or must not) make the detection fire."""

    name: str = ""
    fires: bool = True
    group: dict[str, str] | None = None  # when set, the alert must have this group
    documents: list[dict[str, Any]] = Field(min_length=1)


class DetectionDef(_Strict):
    id: str = Field(pattern=SLUG)
    title: str
    description: str = ""
    severity: Severity = "medium"
    tags: list[str] = Field(default_factory=list)
    pattern: Pattern
    group_by: list[str] = Field(default_factory=list)
    within: Duration | None = None
    realert: Duration = timedelta(days=1)
    corroborate: Corroboration | None = None
    examples: list[Example] = Field(default_factory=list)
    labels: list[str] = Field(
        default_factory=list,
        description="ground-truth labels this detection answers: items labelled so are its positives in a scored "
        "backtest (watchfloor backtest --labels)",
    )

    @model_validator(mode="after")
    def _window(self) -> DetectionDef:
        kind = self.pattern.kind
        if kind in ("all_of", "sequence", "absence") and self.within is None:
            raise ValueError(f"a {kind} pattern needs 'within' (how long its parts may be apart)")
        if kind == "count" and self.within is None:
            raise ValueError("a count pattern needs 'within'")
        return self


class ModalityLexicon(_Strict):
    """Cue words that make a signal not asserted. Given lists replace the built-in defaults."""

    hedged: list[str] | None = None
    future: list[str] | None = None
    conditional: list[str] | None = None
    negated: list[str] | None = None
    scope: int = Field(default=8, ge=1, description="a cue governs words up to this many words after it")


class PackSettings(_Strict):
    lateness: Duration = timedelta(days=2)


class RulePack(_Strict):
    """One YAML rule file."""

    version: Literal[1] = 1
    name: str = Field(pattern=SLUG)
    description: str = ""
    settings: PackSettings = PackSettings()
    modality: ModalityLexicon = ModalityLexicon()
    entities: dict[str, EntityDef] = Field(default_factory=dict)
    signals: dict[str, SignalDef] = Field(default_factory=dict)
    detections: list[DetectionDef] = Field(default_factory=list)


def rule_pack_json_schema() -> dict[str, Any]:
    schema = RulePack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "watchfloor rule pack"
    return schema
