"""The query language's syntax tree (docs/design.md §4 rule 10). Built by `monitor.match.query`,
evaluated by the matcher. Frozen, so a compiled watchlist can be shared freely."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Atom:
    """A word (`Stoltenberg`), a quoted phrase (`"zone d'exclusion aérienne"`, words as written)
    or a suffix wildcard (`sanction*`: `text` holds the prefix, without the star). `field` is
    the scope (`title:`, `summary:`, `content:`) or None for every searched field. `position`
    is the character offset of the atom in the query, for error messages and `explain`."""

    text: str
    position: int
    field: str | None = None
    phrase: bool = False
    wildcard: bool = False


@dataclass(frozen=True)
class Near:
    """`left NEAR/distance right`: both in one field, at most `distance` other words between
    them, in either order. Each side is an OR group of words and phrases (usually one):
    `(gaz OR gas) NEAR/8 (Russie OR Russia)` holds when any atom of the left group and any
    atom of the right one are that close."""

    left: tuple[Atom, ...]
    right: tuple[Atom, ...]
    distance: int
    position: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node
    position: int


Node = Atom | Near | And | Or | Not
