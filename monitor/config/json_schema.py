"""The JSON Schema of monitor.yaml for editors (`monitor config-schema`, docs/design.md §3).

Generated from the pydantic models, then completed with what the loader reads before they see
the data: `include:` and `watchlists_dir:`, `- opml:` entries among the feeds, and `${ENV}`
references wherever a value is written (an integer or a switch too: the substituted text is
validated as the value). The rules the models check in code (exactly one of `url` or `url_file`,
of `every` or `at`; terms or a query) are stated as the schema's own `oneOf`/`anyOf`.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from monitor.config.load import LOADER_KEYS
from monitor.config.schema import ENV_REFERENCE, Config
from monitor.config.summary import format_duration

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_ENV_TEXT: JsonSchemaValue = {"type": "string", "pattern": f"^{ENV_REFERENCE}$"}


def _given(key: str) -> JsonSchemaValue:
    # An empty YAML value (`url:`) is null, which the models read as absent.
    return {"required": [key], "properties": {key: {"not": {"type": "null"}}}}


# The models' own checks of several keys at once, as schema keywords (by $defs name).
_TOGETHER: dict[str, JsonSchemaValue] = {
    "ChannelSpec": {"oneOf": [_given("url"), _given("url_file")]},
    "FeedSpec": {"oneOf": [_given("url"), _given("url_file")]},
    "DigestSpec": {"oneOf": [_given("every"), _given("at")]},
    "WatchlistSpec": {"anyOf": [_given("terms"), _given("query")]},
}

_LOADER_PROPERTIES: dict[str, JsonSchemaValue] = {
    "include": {
        "description": "Watchlist files, read in this order after the watchlists of this file"
        " (a list of watchlists, or a mapping with `watchlists:`).",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    },
    "watchlists_dir": {
        "description": "A directory whose *.yaml and *.yml files, sorted by name, add"
        " watchlists after those of `include:`.",
        "type": "string",
    },
}

_OPML_ENTRY: JsonSchemaValue = {
    "type": "object",
    "description": "The feeds of an OPML file, with these settings.",
    "properties": {
        "opml": {"type": "string", "description": "The OPML file, next to this one."},
        "interval": {"$ref": "#/$defs/FeedSpec/properties/interval"},
        "language": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["opml"],
    "additionalProperties": False,
}


class _AsWritten(GenerateJsonSchema):
    """Defaults shown as monitor.yaml writes them (`10m`, `08:00`), and `${ENV}` accepted in
    place of a number, a switch or a choice."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        if isinstance(dft, time):
            return dft.strftime("%H:%M")
        return super().encode_default(dft)

    def int_schema(self, schema: core_schema.IntSchema) -> JsonSchemaValue:
        return _or_env(super().int_schema(schema))

    def float_schema(self, schema: core_schema.FloatSchema) -> JsonSchemaValue:
        return _or_env(super().float_schema(schema))

    def bool_schema(self, schema: core_schema.BoolSchema) -> JsonSchemaValue:
        return _or_env(super().bool_schema(schema))

    def literal_schema(self, schema: core_schema.LiteralSchema) -> JsonSchemaValue:
        return _or_env(super().literal_schema(schema))


def _or_env(value: JsonSchemaValue) -> JsonSchemaValue:
    return {"anyOf": [value, _ENV_TEXT]}


def config_json_schema() -> JsonSchemaValue:
    """The JSON Schema (2020-12) of a monitor.yaml file."""
    schema = Config.model_json_schema(schema_generator=_AsWritten)
    definitions = schema["$defs"]
    for name, rule in _TOGETHER.items():
        definitions[name] |= rule
    properties = schema["properties"]
    properties |= {key: _LOADER_PROPERTIES[key] for key in LOADER_KEYS}
    feeds = properties["feeds"]
    feeds["items"] = {"anyOf": [feeds["items"], _OPML_ENTRY]}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "monitor configuration (monitor.yaml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }
