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
    setattr_ = object.__setattr__

    def make(values: dict[str, Any]) -> M:
        m = model.__new__(model)
        setattr_(m, "__dict__", values)
        setattr_(m, "__pydantic_fields_set__", set(fields))
        setattr_(m, "__pydantic_extra__", None)
        setattr_(m, "__pydantic_private__", None)
        return m

    def construct(values: dict[str, Any]) -> M:
        return model.model_construct(**values)

    if set(probe) != fields:
        raise ValueError(f"probe for {model.__name__} must hold exactly its fields")
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
