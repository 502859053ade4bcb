"""How far to look for help around a place: the one widening policy of home search and of
geo.resolve's "nearby" units.

Help is local: look close first and widen only when nothing (or too little) is found; a 400 km
"nearest" CIS helps no one when the one in the next gmina is simply spelled differently. None is the
last step: anywhere."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

WIDENING_RADII_KM: tuple[float | None, ...] = (25.0, 75.0, 250.0, None)


def widen(find: Callable[[float | None], T], enough: Callable[[T], bool]) -> tuple[T, float | None]:
    """`find(radius)` for each radius of the policy until `enough(found)`; the last answer otherwise.
    Returns the answer and the radius it came from (None: anywhere)."""
    found: T | None = None
    for radius in WIDENING_RADII_KM:
        found = find(radius)
        if enough(found):
            return found, radius
    assert found is not None
    return found, None
