"""zenpy objects to send, made without their constructors' round trip through JSON.

A zenpy constructor (`Ticket(**attributes)`, `Organization(**attributes)`) assigns every
attribute of its class, the ones not given as None, then calls `self.to_dict()` (json.dumps
and json.loads of the whole object) only to find those Nones and mark them clean again. A
first run writing 15k organisations or 10k tickets spent more in that than in the rest of
building its requests. What an update sends is `_to_dict(serialize=True)` of the object: its
id and the attributes marked dirty, which are exactly the ones given with a value. `make`
builds the same object as far as that goes: the class's own `__new__` (its dirty tracking)
and `__setattr__` (properties and dirty marks as the constructor would set them), attributes
given as None left clean, as the constructor leaves them. Attributes not given are absent
rather than None (nothing reads them on an object we only send), but for `id`: zenpy sends an
object's id whether set or not, so a nested comment goes with `"id": null` either way
(tests/test_zenpy_objects.py compares the payloads with the constructors').
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def make(kind: type[T], attributes: Mapping[str, Any]) -> T:
    """`kind(**attributes)` for sending: the same payload, without the JSON round trip."""
    made = kind.__new__(kind)
    if "id" not in attributes and _has_id(kind):
        made.id = None  # type: ignore[attr-defined]
        made._dirty_attributes.discard("id")  # type: ignore[attr-defined]
    for name, value in attributes.items():
        setattr(made, name, value)
        if value is None:
            made._dirty_attributes.discard(name)  # type: ignore[attr-defined]
    return made


def _has_id(kind: type) -> bool:
    """The constructor sets `id` (to None when not given), and zenpy always sends it."""
    known = _HAS_ID.get(kind)
    if known is None:
        known = _HAS_ID[kind] = "id" in inspect.signature(kind).parameters
    return known


_HAS_ID: dict[type, bool] = {}
