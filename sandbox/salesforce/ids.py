"""Salesforce record ids: 15-character case-sensitive form and 18-character case-safe form."""

from __future__ import annotations

import re

from sandbox.generate_values import case_safe_suffix

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_SHAPE = re.compile(r"[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?")
# The emulation's own records use a pod the generator does not ("Hs0"), so new ids never
# collide with loaded ones.
_POD = "Sb0"


def normalise(record_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character id; None when it is not id-shaped."""
    if not ID_SHAPE.fullmatch(record_id):
        return None
    short = record_id[:15]
    return short + case_safe_suffix(short)


def new_id(key_prefix: str, serial: int) -> str:
    digits = []
    for _ in range(9):
        serial, digit = divmod(serial, 62)
        digits.append(_BASE62[digit])
    short = key_prefix + _POD + "".join(reversed(digits))
    return short + case_safe_suffix(short)
