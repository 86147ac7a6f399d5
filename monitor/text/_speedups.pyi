# The C loops' signatures (monitor/text/_speedups.pyx), for type checkers.
from collections.abc import Mapping
from typing import Any, TypeVar

_Tuple = TypeVar("_Tuple", bound=tuple[Any, ...])

def markup_text(
    markup: str, tag_replacements: Mapping[str, str], references: Mapping[str, str]
) -> str | None: ...
def folded_text(
    text: str,
    table: bytes,
    gaps: bytes,
    separators: str,
    mapping: dict[str, str],
    without_links: bool,
) -> str | tuple[str, tuple[int, ...], tuple[int, ...]] | None: ...
def new_tuple(cls: type[_Tuple], fields: tuple[Any, ...]) -> _Tuple: ...
