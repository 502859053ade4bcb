"""Engine-neutral query tree: api.py builds it from analysed text, each backend translates it.

Keeping the tree tiny (terms, fuzzy, prefix, any/all) is what lets both engines run the same
relevance tests: ranking decisions live here and in api.py, not in engine-specific query syntax."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Fuzzy:
    field: str
    text: str
    distance: int = 1
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class AnyOf:
    """Best-matching clause scores (disjunction max with a small tie breaker)."""
    clauses: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    """Every clause must match; scores add up."""
    clauses: tuple[Node, ...]


@dataclass(frozen=True)
class SomeOf:
    """At least one clause must match; scores add up (the relaxed fallback)."""
    clauses: tuple[Node, ...]


@dataclass(frozen=True)
class Const:
    """Matches like `inner` but scores a fixed amount."""
    inner: Node
    score: float


@dataclass(frozen=True)
class WithOptional:
    """`required` must match; each optional clause adds to the score when it matches too."""
    required: Node
    optional: tuple[Node, ...]


@dataclass(frozen=True)
class MatchAll:
    pass


Node = Term | Fuzzy | Prefix | AnyOf | AllOf | SomeOf | WithOptional | Const | MatchAll


@dataclass(frozen=True)
class Filters:
    """Exact-value filters: OR within one key, AND across keys; plus an optional lat/lon box."""
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)   # keys: type woj powiat gmina ...
    bbox: tuple[float, float, float, float] | None = None              # min_lat, max_lat, min_lon, max_lon

    def without(self, key: str) -> Filters:
        return Filters({k: v for k, v in self.values.items() if k != key}, self.bbox)


@dataclass
class Match:
    """One matching document as a backend sees it (handle is engine-specific)."""
    score: float
    handle: object
    lat: float | None = None
    lon: float | None = None
