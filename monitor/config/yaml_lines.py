"""YAML text -> plain data, with the line of every mapping key and list element.

PyYAML's constructors forget where a value came from, so we compose the node tree (safe loader,
no arbitrary tags) and build the data ourselves, recording lines by key path as we go. The key
paths are the ones pydantic reports (`("feeds", 0, "interval")`), so a validation error can be
traced back to its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.config.schema import KeyPath

_YAML_TAG = "tag:yaml.org,2002:"
_NULL = _YAML_TAG + "null"
_MAP = _YAML_TAG + "map"
_SEQ = _YAML_TAG + "seq"
_MERGE = _YAML_TAG + "merge"


class YamlSyntaxError(Exception):
    """The text is not YAML. `line` is 1-based; `problem` is one line."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class ParsedYaml:
    """`data` holds dicts, lists, str and None only. `lines` maps each key path (a mapping key,
    a list element, and `()` for the document) to its 1-based line. `problems` are structural
    mistakes YAML itself accepts, such as a key given twice: (key path, line, message)."""

    data: object
    lines: Mapping[KeyPath, int]
    problems: tuple[tuple[KeyPath, int, str], ...]


# libyaml's parser when PyYAML was built with it: several times faster on the large watchlist
# files start-up reads (docs/design.md §4, performance). Its error messages differ from the
# pure-Python parser's, so a text it refuses is parsed again by the latter to report the error.
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document safely. Raises YamlSyntaxError when the text is not YAML."""
    if _FAST_LOADER is not None:
        try:
            return _parse(text, _FAST_LOADER)
        except (YamlSyntaxError, yaml.YAMLError):
            pass
    return _parse(text, yaml.SafeLoader)


def _parse(text: str, loader_class: type[yaml.SafeLoader]) -> ParsedYaml:
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as error:  # a control character YAML does not allow
        line = text.count("\n", 0, error.position) + 1
        raise YamlSyntaxError(line, f"character #x{error.character:04x} is not allowed") from None
    builder = _TreeBuilder(loader)
    try:
        root = loader.get_single_node()
        data = None if root is None else builder.build(root, ())
    except yaml.MarkedYAMLError as error:
        raise YamlSyntaxError(*_describe(error)) from None
    finally:
        loader.dispose()
    if root is None:  # an empty file, or only comments
        return ParsedYaml(None, {(): 1}, ())
    return ParsedYaml(data, builder.lines, tuple(builder.problems))


def _describe(error: yaml.MarkedYAMLError) -> tuple[int, str]:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = error.problem or error.context or "not valid YAML"
    if error.problem and error.context:
        where = f" on line {error.context_mark.line + 1}" if error.context_mark else ""
        problem = f"{problem} ({error.context}{where})"
    return line, problem


class _TreeBuilder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self._loader = loader
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[tuple[KeyPath, int, str]] = []
        self._open: set[int] = set()  # nodes being built: an alias back to one is a cycle
        self._checked: set[int] = set()  # mappings already checked and merged (aliases reuse them)

    def build(self, node: Node, path: KeyPath) -> object:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)  # a mapping key has set its own line already
        if id(node) in self._open:
            self.problems.append((path, line, "an alias refers back to itself"))
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, MappingNode) and node.tag == _MAP:
                return self._mapping(node, path)
            if isinstance(node, SequenceNode) and node.tag == _SEQ:
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            if isinstance(node, ScalarNode) and node.tag.startswith(_YAML_TAG):
                return self._scalar(node)
            self.problems.append((path, line, f"unsupported YAML tag {node.tag!r}"))
            return None
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: ScalarNode) -> str | None:
        # Scalars stay text: YAML 1.1 would read `language: no` (Norwegian) as false and
        # `1.10` as 1.1. The schema knows each field's type and converts "true", "5" itself.
        return None if node.tag == _NULL else str(node.value)

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, object]:
        if id(node) not in self._checked:
            self._checked.add(id(node))
            self._report_duplicate_keys(node, path)
            # Keys merged in with `<<: *anchor` come first, so the mapping's own keys win.
            self._loader.flatten_mapping(node)
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problems.append((path, line, "expected a key name, got a list or mapping"))
                continue
            key = str(key_node.value)
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result

    def _report_duplicate_keys(self, node: MappingNode, path: KeyPath) -> None:
        # PyYAML silently keeps the last of two equal keys; a copy-paste slip would then
        # drop half a watchlist without a word.
        first_lines: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in first_lines:
                message = f"duplicate key; first given on line {first_lines[key]}"
                self.problems.append(((*path, key), line, message))
            else:
                first_lines[key] = line
