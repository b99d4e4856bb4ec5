"""Build models from values that were already checked, without pydantic's per-field loop (hot paths)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def trusted_maker(model: type[M], probe: dict[str, Any]) -> Callable[[dict[str, Any]], M]:
    """A function making `model` from a dict holding every field, exactly as `model_construct` would.

    Checked once against `model_construct` on `probe` (a dict with every field); if this pydantic builds
    models differently (a post-init hook, private attributes), `model_construct` is used instead. The
    values are trusted: callers validate first."""
    fields = frozenset(model.model_fields)
    if set(probe) != fields:
        raise ValueError(f"probe for {model.__name__} must hold exactly its fields")

    def construct(values: dict[str, Any]) -> M:
        return model.model_construct(**values)

    # The setters of BaseModel's own slots, called directly: object.__setattr__ looks each name up through
    # the class's MRO first (a third of the cost of making a model this way).
    slots = BaseModel.__dict__
    names = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
    if not all(k in slots for k in names):
        return construct  # a pydantic that keeps them elsewhere
    set_dict = slots["__dict__"].__set__
    set_fields = slots["__pydantic_fields_set__"].__set__
    set_extra = slots["__pydantic_extra__"].__set__
    set_private = slots["__pydantic_private__"].__set__
    new = model.__new__

    def make(values: dict[str, Any]) -> M:
        m = new(model)
        set_dict(m, values)
        set_fields(m, set(fields))
        set_extra(m, None)
        set_private(m, None)
        return m

    a, b = construct(dict(probe)), make(dict(probe))
    same = (
        model.__pydantic_post_init__ is None
        and list(a.__dict__.items()) == list(b.__dict__.items())
        and a.model_fields_set == b.model_fields_set
        and a.__pydantic_extra__ is None
        and a.__pydantic_private__ is None
        and a == b
    )
    return make if same else construct
