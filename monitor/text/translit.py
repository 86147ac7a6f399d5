"""Transliteration skeletons (docs/design.md §4 rule 9, `fuzzy: translit`): two folded words are
the same name written through different transliterations when their skeletons are equal.

A word is cut into spelling units, longest first (`sch`, `sh`, `ch`, `kh`, `ck`, `ff`, `ou`, then
single letters); each unit stands for its sound class, and a run of one class counts once, which
is the doubled/single swap. The classes are the swaps the rule lists and nothing else:
i/y/j (`ï` folds to `i`; `ii`, `iy`, `ij` at a word's end are runs of the class), v/w/ff,
k/c/ck/q, s/z, sh/ch/sch, kh/h, ou/u (e/é/è fold alike before this). So `Peskov`, `Peskow` and
`Peskoff` share the skeleton `peskov`, while `Petkov` (an s/t edit) does not.

`ff` spells two things: the v/w/ff swap, and a doubled `f`. A word holding it has a skeleton for
each reading, and two words are one name when they share a skeleton: `Kadaffi` is `Kaddafi`
(a doubled f) as `Peskoff` is `Peskov`, while `Peskof` is not `Peskov` (swaps do not chain).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import groupby, product
from math import prod

# Longest units first: the regular expression takes the first alternative that fits.
_UNIT = re.compile(r"sch|sh|ch|kh|ck|ff|ou|.", re.DOTALL)
# Unit -> its class; a unit not listed is its own class. Classes are written in capitals, which
# folded text never holds, where the class has no letter of its own.
_CLASS = {
    "sch": "S",
    "sh": "S",
    "ch": "S",
    "kh": "h",
    "ck": "k",
    "c": "k",
    "q": "k",
    "ff": "v",
    "w": "v",
    "ou": "u",
    "y": "i",
    "j": "i",
    "z": "s",
}


def _spellings() -> dict[str, tuple[str, ...]]:
    """Class -> the units that spell it (a class in small letters is also its own letter)."""
    spellings: dict[str, tuple[str, ...]] = {}
    for unit, sound in _CLASS.items():
        spellings.setdefault(sound, (sound,) if sound.islower() else ())
        spellings[sound] += (unit,)
    return spellings


_SPELLINGS = _spellings()
# The scanner's anchors spell out the start of a word: as many of its sound classes as can be
# written in at most this many ways (see `anchor_prefixes`). The longer the start, the fewer
# words of the text begin with it and need their skeleton checked.
_MAX_ANCHORS = 256
# The i/y/j class is the one real spellings write several times over (`Dmitriy`, `Kyjiw`).
_LONG_RUN_CLASS, _LONG_RUN = "i", 3


# Units read two ways (their other class), and how many of them a word reads both ways: past
# that, the rest keep their first reading (a name with five `ff` is not news).
_ALSO = {"ff": "f"}
_MAX_AMBIGUOUS = 4


def _readings(word: str) -> list[list[tuple[str, str]]]:
    """For each reading of `word`, (class, the letters that spell it) for each run of one
    class: one reading, or two for each `ff` (`_ALSO`)."""
    choices: list[tuple[tuple[str, str], ...]] = []
    ambiguous = 0
    for unit in _UNIT.findall(word):
        sound = _CLASS.get(unit, unit)
        other = _ALSO.get(unit)
        if other is not None and ambiguous < _MAX_AMBIGUOUS:
            ambiguous += 1
            choices.append(((sound, unit), (other, unit)))
        else:
            choices.append(((sound, unit),))
    return [
        [
            (sound, "".join(unit for _, unit in run))
            for sound, run in groupby(units, key=lambda pair: pair[0])
        ]
        for units in product(*choices)
    ]


def _skeleton(runs: list[tuple[str, str]]) -> str:
    return "".join(sound for sound, _ in runs)


@lru_cache(maxsize=4096)
def skeletons(word: str) -> frozenset[str]:
    """The skeletons of a folded word, one per reading: two spellings are one name when they
    share one."""
    return frozenset(_skeleton(runs) for runs in _readings(word))


def same_name(written: str, word: str) -> bool:
    """Whether two folded words are one name through transliteration swaps."""
    return not skeletons(written).isdisjoint(skeletons(word))


def _run_spellings(sound: str) -> set[str]:
    """How a run of one class is written: one unit or the same unit doubled (`ss`, `ck`), and
    for i/y/j any mix of up to three (`iy`, `yji`)."""
    units = _SPELLINGS.get(sound, (sound,))
    if sound == _LONG_RUN_CLASS:
        return {
            "".join(row) for size in range(1, _LONG_RUN + 1) for row in product(units, repeat=size)
        }
    return {*units, *(unit + unit for unit in units)}


def anchor_prefixes(word: str) -> frozenset[str]:
    """Ways a word with the skeleton of `word` can start: its first sound classes written every
    way `_run_spellings` knows, the last one by its first unit only (what follows is free). As
    many classes as keep the ways few: `dmit`, `dmyt`, `ddmiit`, ... for `dmitri`."""
    prefixes: set[str] = set()
    for runs in _readings(word):
        for count in range(len(runs), 0, -1):
            *whole, (last, _) = runs[:count]
            choices = [_run_spellings(sound) for sound, _ in whole]
            choices.append(set(_SPELLINGS.get(last, (last,))))
            if count == 1 or prod(len(choice) for choice in choices) <= _MAX_ANCHORS:
                break
        prefixes.update("".join(parts) for parts in product(*choices))
    return frozenset(prefixes)


def swaps(written: str, word: str) -> list[str]:
    """The swaps that turn `word` into `written` (both folded, one name), as `w/v`: read the
    ways that give them one skeleton."""
    pairs = [(theirs, ours) for theirs in _readings(written) for ours in _readings(word)]
    theirs_runs, our_runs = next(
        (pair for pair in pairs if _skeleton(pair[0]) == _skeleton(pair[1])), pairs[0]
    )
    return [
        f"{theirs}/{ours}"
        for (_, theirs), (_, ours) in zip(theirs_runs, our_runs, strict=False)
        if theirs != ours
    ]
