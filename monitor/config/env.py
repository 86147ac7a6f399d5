"""`${ENV_VAR}` substitution in the string values of parsed configuration data.

Substitution runs on parsed scalars, never on the YAML text, so a variable's value can never add
keys or list entries. `$$` stands for a literal `$` (only needed right before `{`).

Under systemd, `${NAME}` is first looked up as the credential file `$CREDENTIALS_DIRECTORY/NAME`
(`LoadCredential=`), then as an environment variable: secrets arrive as files there, readable by
the service alone, rather than in an environment any process of the user may read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from monitor.config.schema import KeyPath

_REFERENCE = re.compile(r"\$(?:\$|\{([^}]*)\})")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Expansion:
    """What substitution found: `problems` as (key path, message); `replaced` as
    (value after, value as written) pairs, so error messages can show the written form
    instead of a secret that came from the environment; `values` as (value, `${NAME}`) pairs,
    to hide each value wherever it shows inside a longer text (a URL's privacy form)."""

    problems: list[tuple[KeyPath, str]] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


# A value shorter than this is no secret (a port, a flag), and hiding it would garble the
# text around it: every "10" of a summary shown as `${N}`.
_MIN_MASKED_CHARS = 4


def mask_values(text: str, values: Iterable[tuple[str, str]]) -> str:
    """`text` with each value of `values` ((value, `${NAME}`) pairs) shown as its name, longest
    first (a value may hold another)."""
    for value, name in sorted(values, key=lambda pair: len(pair[0]), reverse=True):
        if len(value) >= _MIN_MASKED_CHARS and value in text:
            text = text.replace(value, name)
    return text


def expand_tree(value: object, path: KeyPath, environ: Mapping[str, str], out: Expansion) -> object:
    """Return `value` with every string expanded; dict keys are names and stay as written."""
    if isinstance(value, str):
        if "$" not in value:  # most values: no substitution to look for
            return value
        expanded = _expand(value, path, environ, out)
        if expanded != value:
            out.replaced.append((expanded, value))
        return expanded
    if isinstance(value, dict):
        return {key: expand_tree(item, (*path, key), environ, out) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_tree(item, (*path, index), environ, out) for index, item in enumerate(value)]
    return value


def _expand(text: str, path: KeyPath, environ: Mapping[str, str], out: Expansion) -> str:
    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:  # `$$`
            return "$"
        if not _NAME.fullmatch(name):
            out.problems.append(
                (path, f"expected ${{NAME}} with letters, digits and _, got {found.group(0)!r}")
            )
        else:
            try:
                value = _credential(name, environ)
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or "not UTF-8 text"
                out.problems.append((path, f"cannot read the credential {name!r}: {reason}"))
                return found.group(0)
            if value is None and name in environ:
                value = environ[name]
            if value is not None:
                out.values.setdefault(value, found.group(0))
                return value
            if environ.get("CREDENTIALS_DIRECTORY"):
                message = f"{name!r} is neither a credential of the service nor an environment"
                message += " variable"
            else:
                message = f"environment variable {name!r} is not set"
            out.problems.append((path, message))
        return found.group(0)

    return _REFERENCE.sub(replace, text)


def _credential(name: str, environ: Mapping[str, str]) -> str | None:
    """The credential `name` systemd handed the service, without its final line break; None
    when there is no such file (then the environment is asked)."""
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    file = os.path.join(directory, name)
    if not os.path.isfile(file):
        return None
    with open(file, encoding="utf-8") as source:
        return source.read().rstrip("\r\n")
