"""Rule-pack models (DESIGN §5): entities, signals and detections, validated when a pack is loaded."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    model_validator,
)

from .events import MODALITIES, Modality, Severity
from .gdelt_codes import check_cameo_country, check_event_code, check_fips_country

# A number and a unit; spaces around and between them are read too ("3 d"), a bare number never is. Russian units
# too ("2ч", "24 ч", "30 мин", "3 дн"): a desk types what the Russian buttons show (outside trial 62, M6: "2ч" was
# a bad duration). No bare "м": минута or месяц.
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|сек|с|мин|ч|дн|д|сут|нед)\.?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {
    "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
    "с": 1, "сек": 1, "мин": 60, "ч": 3600, "д": 86400, "дн": 86400, "сут": 86400, "нед": 604800,
}  # fmt: skip


def parse_duration(value: Any) -> timedelta:
    """'90s', '30m', '72h', '180d', '2w' -> timedelta. Bare numbers are refused: units avoid mistakes."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=int(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()])
    hint = "write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w"
    if isinstance(value, str) and re.search("[а-яё]", value, re.IGNORECASE):
        # A Russian writer ("3 дня", "3 суток") is told the Russian units that are read (outside trial 66, LOW-1).
        hint += "; in Russian: 30 сек, 30 мин, 2ч, 3дн (or 3 сут), 2 нед"
    raise ValueError(f"bad duration {value!r}: {hint}")


def format_duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if secs and secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def format_elapsed(seconds: float) -> str:
    """How long something has lasted, as an operator reads it in a log line: `45s`, `5m`, `2h10m`."""
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    # The pattern the loader reads, so that an editor checking a pack by the exported schema agrees with it.
    Field(json_schema_extra={"type": "string", "pattern": _DURATION.pattern}),
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


class ContextReq(MentionReq):
    """What the whole document must hold: entities (any/all/none, as for `mentions`) and `words`, a
    condition (phrases, any/all/none, regex) over all of the document's sentences together."""

    words: Condition | None = None


class GoldsteinBounds(_Strict):
    """Bounds on GDELT's Goldstein scale (-10, the most conflictual, to +10): at least, at most, or both."""

    at_least: float | None = Field(default=None, ge=-10, le=10)
    at_most: float | None = Field(default=None, ge=-10, le=10)

    @model_validator(mode="after")
    def _bounds(self) -> GoldsteinBounds:
        if self.at_least is None and self.at_most is None:
            raise ValueError("goldstein takes at_least, at_most or both (numbers from -10 to 10)")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"goldstein: at_least {self.at_least:g} is more than at_most {self.at_most:g}")
        return self


class ToneBounds(_Strict):
    """Bounds on GDELT's AvgTone (the average tone of the articles that mention the event, -100 to +100; most are
    between -10 and +10): at least, at most, or both."""

    at_least: float | None = Field(default=None, ge=-100, le=100)
    at_most: float | None = Field(default=None, ge=-100, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> ToneBounds:
        if self.at_least is None and self.at_most is None:
            raise ValueError("avg_tone takes at_least, at_most or both (numbers from -100 to 100)")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"avg_tone: at_least {self.at_least:g} is more than at_most {self.at_most:g}")
        return self


# Each code checked alone, as a country is, so that every bad one of a list is said at its own place.
CameoCodes = list[Annotated[str, BeforeValidator(check_event_code)]]


def _digits_as_int(value: Any) -> Any:
    """A number written in quotes ("4") as the number, as pydantic reads one for an int field."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


# ("4" is read as 4, as `min_mentions: "5"` is 5: outside trial 70, L1 refused only this one)
QuadClass = Annotated[Literal[1, 2, 3, 4], BeforeValidator(_digits_as_int)]
# One country code of a signal's condition, checked alone so that a bad one is placed at its own line and column;
# `unknown` is the actor (or place) GDELT coded no country for.
CameoCountry = Annotated[str, BeforeValidator(check_cameo_country)]
FipsCountry = Annotated[str, BeforeValidator(check_fips_country)]


class _CountrySet(_Strict):
    """A country condition written as a mapping, as a signal's `mentions` is: `any` of these, `none` of these."""

    any: list[Any] = Field(default_factory=list)
    none: list[Any] = Field(default_factory=list)
    _noun: ClassVar[str] = "a country"

    @model_validator(mode="after")
    def _given(self) -> _CountrySet:
        if not self.any and not self.none:
            raise ValueError(f"{self._noun} condition as a mapping takes any, none or both (lists of codes)")
        # An empty list given beside the other: `any: []` read as every code, `none: []` left nothing out, unsaid
        # (outside trial 85, F2); leaving the key out says the same plainly.
        for key in ("any", "none"):
            if key in self.model_fields_set and not getattr(self, key):
                raise ValueError(
                    f"{key}: [] is empty: {'every one is taken' if key == 'any' else 'nothing is left out'} without "
                    f"it; write codes in it or leave {key} out"
                )
        both = [c for c in self.any if c in self.none]
        if both:
            raise ValueError(f"{both[0]!r} is in both any and none: an event cannot be of it and not of it")
        return self


class CameoCountrySet(_CountrySet):
    any: list[CameoCountry] = Field(default_factory=list, description="any of these CAMEO countries (or unknown)")
    none: list[CameoCountry] = Field(default_factory=list, description="none of these CAMEO countries (or unknown)")


class FipsCountrySet(_CountrySet):
    any: list[FipsCountry] = Field(default_factory=list, description="any of these FIPS 10-4 countries (or unknown)")
    none: list[FipsCountry] = Field(default_factory=list, description="none of these FIPS 10-4 countries (or unknown)")


class EventCodeSet(_CountrySet):
    """`event_codes` as a mapping: codes starting with any of `any`, and with none of `none` (prefixes, as a list's)."""

    any: CameoCodes = Field(default_factory=list, description="CAMEO EventCode prefixes, any of them")
    none: CameoCodes = Field(default_factory=list, description="CAMEO EventCode prefixes, none of them")
    _noun: ClassVar[str] = "an event code"

    @model_validator(mode="after")
    def _reachable(self) -> EventCodeSet:
        # A code of `any` that starts with one `none` leaves out matches nothing: {any: ["190"], none: ["19"]} kept
        # no event at all and `rules check` said ok (outside trial 85, F1). The same code in both is said above.
        for a in self.any:
            n = next((n for n in self.none if a != n and a.startswith(n)), None)
            if n is not None:
                raise ValueError(
                    f"{a!r} starts with {n!r}, which none leaves out: no event of {a!r} can match (to leave out part "
                    f"of a code, put the part in none: {{any: [{n!r}], none: [{a!r}]}})"
                )
        return self


class QuadClassSet(_CountrySet):
    """`quad_classes` as a mapping: any of `any`, none of `none`."""

    any: list[QuadClass] = Field(default_factory=list, description="QuadClass, any of them")
    none: list[QuadClass] = Field(default_factory=list, description="QuadClass, none of them")
    _noun: ClassVar[str] = "a quad class"

    @model_validator(mode="after")
    def _reachable(self) -> QuadClassSet:
        if {1, 2, 3, 4} <= set(self.none):  # (outside trial 85, F1: passed as ok, and kept no event)
            raise ValueError("none leaves out every quad class (1, 2, 3 and 4): no event can match")
        return self


# The two forms of a country condition, as pydantic's error places name them (no identifier: the rule file's error
# messages say the field, not the form).
COUNTRY_LIST, COUNTRY_SET = "list of codes", "{any, none}"


def _list_or_mapping(value: Any) -> str:
    """Which form a country condition is written in (so an error is said for that form alone, not per branch)."""
    return COUNTRY_SET if isinstance(value, dict | _CountrySet) else COUNTRY_LIST


def _a_list(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value
    raise ValueError(
        f"a country condition is a list of codes ([RUS, PRK]) or a mapping ({{any: [RUS], none: [USA]}}), not {value!r}"
    )


CameoCountries = Annotated[
    Annotated[list[CameoCountry], BeforeValidator(_a_list), Tag(COUNTRY_LIST)]
    | Annotated[CameoCountrySet, Tag(COUNTRY_SET)],
    Discriminator(_list_or_mapping),
]
FipsCountries = Annotated[
    Annotated[list[FipsCountry], BeforeValidator(_a_list), Tag(COUNTRY_LIST)]
    | Annotated[FipsCountrySet, Tag(COUNTRY_SET)],
    Discriminator(_list_or_mapping),
]


EventCodes = Annotated[
    Annotated[CameoCodes, Tag(COUNTRY_LIST)] | Annotated[EventCodeSet, Tag(COUNTRY_SET)],
    Discriminator(_list_or_mapping),
]
QuadClasses = Annotated[
    Annotated[list[QuadClass], Tag(COUNTRY_LIST)] | Annotated[QuadClassSet, Tag(COUNTRY_SET)],
    Discriminator(_list_or_mapping),
]


def country_sets(value: list[Any] | _CountrySet) -> tuple[list[Any], list[Any]]:
    """(any, none) of a country (event code, quad class) condition: a list is `any` of it."""
    if isinstance(value, _CountrySet):
        return list(value.any), list(value.none)
    return list(value), []


class GdeltReq(_Strict):
    """What a GDELT event's coded fields (the document's `metadata.gdelt`, producers/gdelt.py) must hold; every key
    given must. A document that is no GDELT event never meets it. The keys a gdelt source's filters have mean what
    they mean there."""

    event_codes: EventCodes = Field(
        default_factory=list,
        description='CAMEO EventCode prefixes, in quotes ("19", "163"); any of them; or {any: [...], none: [...]}',
    )
    quad_classes: QuadClasses = Field(
        default_factory=list,
        description="QuadClass, any of: 1 verbal cooperation, 2 material cooperation, 3 verbal conflict, "
        "4 material conflict; or {any: [...], none: [...]}",
    )
    goldstein: GoldsteinBounds | None = None
    min_mentions: int | None = Field(default=None, ge=0, description="NumMentions at least this")
    min_sources: int | None = Field(default=None, ge=0, description="NumSources at least this")
    min_articles: int | None = Field(default=None, ge=0, description="NumArticles at least this")
    avg_tone: ToneBounds | None = None
    countries: CameoCountries = Field(
        default_factory=list,
        description="Actor1 or Actor2 CAMEO country code, any of them (PRK, RUS); or {any: [...], none: [...]}, "
        "none: neither actor of these; unknown: an actor GDELT coded no country for",
    )
    actor1_countries: CameoCountries = Field(
        default_factory=list, description="Actor1's CAMEO country, any of them; or {any: [...], none: [...]}"
    )
    actor2_countries: CameoCountries = Field(
        default_factory=list, description="Actor2's CAMEO country, any of them; or {any: [...], none: [...]}"
    )
    action_countries: FipsCountries = Field(
        default_factory=list,
        description="ActionGeo's country, a FIPS 10-4 code as GDELT writes it (RS Russia, UP Ukraine), any of them; "
        "or {any: [...], none: [...]}",
    )
    max_event_age: Duration | None = Field(
        default=None,
        description="the event's date (SQLDATE) at most this long before GDELT added it (DATEADDED): an old event "
        "GDELT coded again from a new article is no news (30d)",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> GdeltReq:
        lists = (self.event_codes, self.quad_classes)
        countries = (self.countries, self.actor1_countries, self.actor2_countries, self.action_countries)
        scalars = (self.goldstein, self.min_mentions, self.min_sources, self.min_articles, self.avg_tone)
        if not any(lists) and not any(countries) and all(x is None for x in (*scalars, self.max_event_age)):
            raise ValueError(
                "gdelt: give at least one of event_codes, quad_classes, goldstein, min_mentions, min_sources, "
                "min_articles, avg_tone, countries, actor1_countries, actor2_countries, action_countries, "
                "max_event_age"
            )
        return self


# The coded fields of a GDELT event a capture can take as its value (engine/gdelt.py, gdelt_capture).
GdeltField = Literal["actor1_country", "actor2_country", "action_country", "event_code", "root_code", "quad_class"]

# Which entity a capture takes: the acting one, or the first named whatever its role.
CaptureRole = Literal["actor", "any"]
# Where a capture looks when the signal's sentence names none of its candidates.
CaptureFallback = Literal["headline", "document"]


class CaptureDef(_Strict):
    """Names an entity of the sentence as a value, e.g. which party ratified.

    `entities`: the candidates; the one acting in the sentence is taken: the agent of a passive
    ("ratified by Russia", "ратифицирован Россией"; an English passive with no "by" names none, only a place),
    else the subject (in Russian, a mention that can be
    nominative and follows no preposition), else the nearest mention before the signal's words (in English not one
    that only describes the subject: "an ally of Moscow", "Russia's allies", ", which borders Russia,"), else
    the first after. `kind`: the first mentioned entity of that kind (e.g. place).

    `role`: which one is taken. `actor` (the default of `entities`): the acting one, as above. `any` (the default
    of `kind`): the first candidate named in the signal's part of the sentence (between ';'), a headline's lead
    before ':' included, whatever its role: where or to whom an act happened ("Niger: general declares himself
    leader").

    `fallback`: when the signal's sentence names none of the candidates, the first one the document's headline names
    (`headline`), or the first sentence that names one, headline first (`document`), whatever its role there.

    `distinct` (true unless said, but for a `kind` capture of role any: where it happened): the capture takes no
    entity another capture of the signal took (the actor's captures read first), so an actor and its partner are
    never one country; false for one that may be the same (where a domestic act happened: "Niger's junta expels the
    French ambassador")."""

    entities: list[str] = Field(default_factory=list)
    kind: str | None = None
    gdelt: GdeltField | None = Field(
        default=None,
        description="a GDELT event's coded field as the value (actor1_country, actor2_country: CAMEO codes; "
        "action_country: FIPS 10-4; event_code, root_code, quad_class); none for a document that is no GDELT event",
    )
    role: CaptureRole | None = Field(
        default=None,
        description="actor (the default of entities): the acting one; any (the default of kind): the first named, "
        "a headline's lead before ':' included, whatever its role",
    )
    fallback: CaptureFallback | None = Field(
        default=None,
        description="when the signal's sentence names no candidate: the first one the headline names (headline), or "
        "the first sentence naming one, headline first (document), whatever its role there",
    )
    distinct: bool | None = Field(
        default=None,
        description="true (the default, but for a kind capture of role any): takes no entity another capture of the "
        "signal took, the actor role's captures read first; false: may take the same one (where a domestic act "
        "happened)",
    )

    @model_validator(mode="after")
    def _one(self) -> CaptureDef:
        if self.gdelt is not None:
            if self.entities or self.kind or self.role or self.fallback:
                raise ValueError(
                    "a gdelt capture takes its value from the event's codes: no entities, kind, role or fallback"
                )
            if self.distinct is not None:
                raise ValueError("a gdelt capture takes the event's coded field, whatever the others take: no distinct")
            return self
        if bool(self.entities) == bool(self.kind):
            raise ValueError("a capture takes either 'entities' or 'kind' (or, of a GDELT event, 'gdelt')")
        return self


LANGUAGE = r"^[a-z]{2,3}$"
_LANGUAGE = re.compile(LANGUAGE)
# Codes people write for the languages with built-in support (ISO 639-2/3 for 639-1).
LANGUAGE_ALIASES = {"rus": "ru", "eng": "en"}


def language_suggestion(code: str) -> str | None:
    """The code a mistyped language most likely means: "RU", "rus", "ru-RU" -> "ru"; None when unclear."""
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    base = LANGUAGE_ALIASES.get(base, base)
    return base if base != code and _LANGUAGE.match(base) else None


def _language_code(value: str) -> str:
    if _LANGUAGE.match(value):
        return value
    hint = language_suggestion(value)
    raise ValueError(
        f"language {value!r} is not a language code: write a lower-case ISO 639-1 code such as 'en' or 'ru'"
        + (f" (did you mean {hint!r}?)" if hint else "")
    )


Morphology = Literal["forms", "exact"]
LanguageCode = Annotated[str, AfterValidator(_language_code), Field(json_schema_extra={"pattern": LANGUAGE})]
Languages = LanguageCode | list[LanguageCode]
"""One ISO 639-1 code ("en", "ru"), or several (the first of each script decides the forms of its
words; every one brings its built-in modality cues)."""


def languages_of(value: str | list[str] | None, default: tuple[str, ...] = ("en",)) -> tuple[str, ...]:
    if value is None:
        return default
    if isinstance(value, str):
        return (value,)
    return tuple(value) or default


class SignalDef(_Strict):
    """Text -> fact, per sentence."""

    description: str = ""
    match: Condition
    near: int | None = Field(default=None, ge=1, description="matched words must lie within this many words")
    mentions: MentionReq | None = None  # entities in the sentence
    context: ContextReq | None = None  # entities and words anywhere in the document
    gdelt: GdeltReq | None = None  # a GDELT event's coded fields (metadata.gdelt); other documents never meet it
    capture: dict[str, CaptureDef] = Field(default_factory=dict)
    language: Languages | None = Field(
        default=None, description="the language(s) of this signal's phrases (default: the pack's)"
    )
    morphology: Morphology | None = Field(
        default=None, description="forms: words match their inflected forms; exact: as written (default: the pack's)"
    )


ModalityFilter = Modality | Literal["any"] | list[Modality]


def _a_cue(cue: str) -> str:
    if not cue.strip():
        raise ValueError("except_cues: an empty cue")
    return cue


Cue = Annotated[str, AfterValidator(_a_cue)]  # each alone: every empty one of a list is said at its place


class SignalRef(_Strict):
    """A reference inside a detection pattern: a signal (`signal`), with optional filters on its modality and
    captures; or the alerts of another detection (`detection`), with optional filters on their group
    (`where`), least severity and confidence. A detection over detections follows its inputs' revisions and
    retractions."""

    signal: str | None = None
    detection: str | None = None
    modality: ModalityFilter = "asserted"
    where: dict[str, str] = Field(default_factory=dict)  # capture (or the input alert's group key) -> entity id
    severity: Severity | None = Field(default=None, description="detection references: at least this severity")
    confidence: Literal["confirmed", "unconfirmed"] | None = Field(
        default=None, description="detection references: only alerts of this confidence"
    )
    # A threat and an announced decision both read `future` (outside trial 56, H2): a desk that alerts on "U.S. to
    # pause aid" but not on "ECOWAS threatens to impose sanctions" names the cue words it does not take.
    except_cues: list[Cue] = Field(
        default_factory=list,
        description=(
            "signal references: not a signal whose reading a cue holding one of these words or phrases decided "
            "(a trailing * takes a word's forms: [threat*] leaves out 'threatens to', 'threat of')"
        ),
    )

    @model_validator(mode="after")
    def _one_input(self) -> SignalRef:
        if (self.signal is None) == (self.detection is None):
            raise ValueError("a reference names either a signal or a detection")
        if self.signal is not None and (self.severity is not None or self.confidence is not None):
            raise ValueError("severity and confidence filter a detection reference, not a signal")
        if self.detection is not None and self.except_cues:
            raise ValueError("except_cues filters a signal reference's readings, not a detection's alerts")
        return self


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
    """Exactly one of: any (one reference, or a list: any of several signals), count, all_of, sequence,
    absence."""

    any: SignalRefIn | list[SignalRefIn] | None = None
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
            return list(self.any) if isinstance(self.any, list) else [self.any]
        if self.count is not None:
            return [self.count.signal]
        if self.all_of is not None:
            return list(self.all_of)
        if self.sequence is not None:
            return list(self.sequence)
        assert self.absence is not None
        return [self.absence.first, self.absence.then_not]


def modality_set(mod: ModalityFilter) -> frozenset[str]:
    """The modalities a modality filter takes ('any': all five)."""
    if mod == "any":
        return frozenset(MODALITIES)
    return frozenset(mod) if isinstance(mod, list) else frozenset({mod})


class Corroboration(_Strict):
    """Raise severity when enough distinct sources report the same group within a window."""

    distinct: Literal["source", "document"] = "source"
    at_least: int = Field(default=2, ge=2)
    within: Duration
    severity: Severity
    # The reports that count toward confirmation, whatever the pattern takes: asserted ones unless told, since two
    # outlets saying "reportedly" confirm nothing (outside trial 37, M4: two hedged reports made an alert confirmed).
    modality: ModalityFilter = Field(
        default="asserted",
        description="the reports that count toward confirmation (default asserted; any, or a list, to count others)",
    )


CaptureValue = str | list[str] | None
"""What an example asks of one capture: an entity (id, name or alias), several (all of them, no other), or
null / [] (none)."""


class Example(_Strict):
    """An inline test: these documents must (or must not) make the detection fire.

    `group`, `severity`, `confidence`, `captures` and `title` narrow what counts: with `fires: true` one alert
    must have all of them; with `fires: false` no alert may (e.g. `fires: false, severity: high`: a single
    source does not reach high)."""

    name: str = ""
    fires: bool = True
    group: dict[str, str] | None = None  # when set, the alert must have this group
    severity: Severity | None = None
    confidence: Literal["confirmed", "unconfirmed"] | None = None
    captures: dict[str, CaptureValue] | None = Field(
        default=None,
        description="capture name -> the entity the alert's reports captured under it (an id, name or alias), a "
        "list of entities (exactly these), or null / [] (none); any capture of the detection's signals, `place`, "
        "or a group_by key",
    )
    title: str | None = Field(default=None, description="the alert's title, exactly as rendered")
    documents: list[dict[str, Any]] = Field(min_length=1)


class DetectionDef(_Strict):
    id: str = Field(pattern=SLUG)
    title: str
    description: str = ""
    severity: Severity = "medium"
    tags: list[str] = Field(default_factory=list)
    pattern: Pattern
    group_by: list[str] = Field(default_factory=list)
    # One story per country, realert per imposer (outside trial 68, G2): the group_by keys whose values alone decide
    # a thread; windows, realert and corroboration stay per group, and alert ids never see it (presentation only).
    thread_by: list[str] | None = Field(
        default=None,
        description="group_by keys whose values alone decide a channel's thread: the alerts of groups that share "
        "them are one story, each group's own alert a new alert in it (realert, windows and corroboration stay per "
        "group); default: the whole group",
    )
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


class CueLists(_Strict):
    """Cue phrases per modality class."""

    hedged: list[str] | None = None
    future: list[str] | None = None
    conditional: list[str] | None = None
    negated: list[str] | None = None


class ModalityLexicon(CueLists):
    """Cue words that make a signal not asserted. The lists given here are ADDED to the built-in lists
    of the pack's language(s) (English and Russian have built-in lists; see docs/rules.md).

    hedged/future/conditional/negated: cues that stand before the words they govern ("could", "will",
    "if", "denied"). `after`: cues that follow them ("... in the coming weeks", "..., calling them
    fake"). `neutral`: phrases that cancel a cue they overlap ("soon after", "not only")."""

    after: CueLists | None = None
    neutral: list[str] | None = None
    # A cue's form is its meaning (a tense, a person): "одобрит" is a future, "одобрила" a past, "prepares to" a plan,
    # "prepared to" one made. So a pack's cue words match as written, as the built-in ones do, whatever the pack's
    # `morphology`; `forms` asks for each word's inflected forms too (outside trial 17, M1).
    morphology: Morphology = Field(
        default="exact",
        description="exact (default): cue words match as written; forms: they also match their inflected forms",
    )
    scope: int = Field(default=8, ge=1, description="a cue governs words up to this many words after it")
    scope_after: int = Field(
        default=8, ge=1, description="a trailing cue governs words up to this many words before it"
    )


class PackSettings(_Strict):
    # How far behind the watermark a report may arrive and still count exactly; None: the engine's default
    # (7 days: news arrives days late). The engine keeps correlation state for this long.
    lateness: Duration | None = None


class RulePack(_Strict):
    """One YAML rule file.

    version 1: phrases match exact word forms (and `*` prefixes). version 2: phrases and aliases match
    inflected forms in the pack's `language` (morphology: forms), `*` may stand inside phrases, and `=`
    before a word asks for that exact form. `watchfloor rules migrate` rewrites a version 1 pack."""

    version: Literal[1, 2] = 1
    name: str = Field(pattern=SLUG)
    description: str = ""
    language: Languages = Field(default="en", description="ISO 639-1 code(s) of the pack's phrases")
    morphology: Morphology | None = Field(
        default=None,
        description="forms (default for version 2): words match their inflected forms; exact (version 1's)",
    )
    settings: PackSettings = PackSettings()
    modality: ModalityLexicon = ModalityLexicon()
    entities: dict[str, EntityDef] = Field(default_factory=dict)
    signals: dict[str, SignalDef] = Field(default_factory=dict)
    detections: list[DetectionDef] = Field(default_factory=list)

    @property
    def default_morphology(self) -> Morphology:
        if self.morphology is not None:
            return self.morphology
        return "forms" if self.version >= 2 else "exact"


def rule_pack_json_schema() -> dict[str, Any]:
    schema = RulePack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "watchfloor rule pack"
    pack_durations(schema)
    return schema


_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def pack_durations(node: Any) -> Any:
    """Write a duration field's default as packs and configs spell it ("1d", which its own pattern accepts), not as
    pydantic serialises a timedelta ("P1D", which an editor checking the schema would refuse); returns `node`."""
    if isinstance(node, dict):
        default = node.get("default")
        if node.get("format") == "duration" and isinstance(default, str) and default.startswith("P"):
            seconds = int(TypeAdapter(timedelta).validate_python(default).total_seconds())
            unit, size = next((u, n) for u, n in _UNITS if seconds % n == 0) if seconds else ("s", 1)
            node["default"] = f"{seconds // size}{unit}"
        for value in node.values():
            pack_durations(value)
    elif isinstance(node, list):
        for value in node:
            pack_durations(value)
    return node
