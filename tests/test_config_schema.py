"""`monitor config-schema` (docs/design.md §3): the JSON Schema editors check monitor.yaml with
accepts what the loader accepts, as written in YAML (durations, `${ENV}`, `url_file:`,
includes, OPML entries), and refuses unknown keys."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from monitor.cli import main
from monitor.config import load_config
from monitor.config.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(_printed_schema())


def _printed_schema() -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["config-schema"]) == 0
    schema = json.loads(out.getvalue())
    assert isinstance(schema, dict)
    return schema


def problems(validator: Draft202012Validator, text: str) -> list[str]:
    return [error.message for error in validator.iter_errors(yaml.safe_load(text))]


def test_the_printed_schema_is_a_valid_2020_12_schema() -> None:
    schema = _printed_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["log_format"]["default"] == "text"
    assert schema["properties"]["poll_tick"]["default"] == "15s"  # as monitor.yaml writes it


def test_config_schema_needs_no_configuration_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    assert main(["config-schema"]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "object"


def test_the_example_configuration_validates(validator: Draft202012Validator) -> None:
    example = (REPO / "config" / "example.yaml").read_text(encoding="utf-8")
    assert problems(validator, example) == []


def test_unknown_keys_are_refused_at_any_depth(validator: Draft202012Validator) -> None:
    assert problems(validator, "colour: red\n")
    assert problems(validator, "feeds:\n  - url: https://a.example/rss\n    colour: red\n")
    assert problems(validator, "fetch:\n  timeout_s: 10\n")
    assert problems(validator, "channels:\n  desk:\n    url: console://\n    urgent: true\n")


# Written as users write them, accepted by the loader: the schema must accept each too.
ACCEPTED = {
    "durations": "poll_tick: 10m\nmax_age: 2d\nfetch: {timeout: 30s, max_interval: 1.5h}\n",
    "env references": (
        "poll_tick: ${POLL_TICK}\nfetch: {max_connections: '${CONNECTIONS}',"
        " allow_private_networks: '${PRIVATE}'}\nlog_format: ${LOG_FORMAT}\n"
        "channels:\n  mail:\n    url: mailtos://u:${SMTP_PASSWORD}@smtp.example.org\n"
    ),
    "url_file": "channels:\n  desk:\n    url_file: slack_url\n    rate_limit: 20/min\n",
    "includes": "include: [more.yaml]\nwatchlists_dir: watchlists.d\n",
    "one include": "include: more.yaml\n",
    "opml entry": "feeds:\n  - opml: feeds.opml\n    interval: 15m\n    tags: [presse]\n",
    "terms as text or mappings": (
        "watchlists:\n  - name: otan\n    terms: [OTAN, {term: Stoltenberg, fuzzy: 1}]\n"
        "  - name: q\n    query: 'OTAN NEAR/5 Ukraine'\n"
    ),
    "delivery policy": (
        "channels:\n  desk:\n    url: console://\n    digest: {at: ['08:00', '17:30']}\n"
        "    quiet_hours: {from: '22:00', to: '07:00'}\n"
    ),
    "json logs": "log_format: json\n",
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_the_loader_accepts_the_schema_accepts(
    validator: Draft202012Validator, tmp_path: Path, text: str
) -> None:
    (tmp_path / "slack_url").write_text("console://\n", encoding="utf-8")
    (tmp_path / "more.yaml").write_text("- name: extra\n  terms: [x]\n", encoding="utf-8")
    (tmp_path / "watchlists.d").mkdir()
    (tmp_path / "feeds.opml").write_text(
        '<opml version="2.0"><body><outline type="rss" xmlUrl="https://a.example/rss"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    config = tmp_path / "monitor.yaml"
    config.write_text(text, encoding="utf-8")
    environ = {
        "POLL_TICK": "30s",
        "CONNECTIONS": "8",
        "PRIVATE": "true",
        "LOG_FORMAT": "json",
        "SMTP_PASSWORD": "pw",
    }
    load_config(config, environ)  # raises if the loader refuses it
    assert problems(validator, text) == []


# Refused by the loader: the schema refuses each too, so the editor says so first.
REFUSED = {
    "a bare number of seconds": "poll_tick: 60\n",
    "a duration in words": "poll_tick: 10 minutes\n",
    "an unknown log format": "log_format: xml\n",
    "url and url_file": "channels:\n  desk:\n    url: console://\n    url_file: slack_url\n",
    "neither url nor url_file": "channels:\n  desk:\n    rate_limit: 20/min\n",
    "a rate as a mapping": "channels:\n  desk:\n    url: console://\n    rate_limit: {count: 1}\n",
    "a time of day without minutes": (
        "channels:\n  desk:\n    url: console://\n    quiet_hours: {from: '22', to: '07:00'}\n"
    ),
    "a watchlist without terms or query": "watchlists:\n  - name: otan\n",
    "every and at": (
        "channels:\n  d:\n    url: console://\n    digest: {every: 1h, at: ['08:00']}\n"
    ),
    "an unknown id policy": "feeds:\n  - url: https://a.example/rss\n    id_policy: title\n",
    "a feed with neither url nor url_file": "feeds:\n  - name: x\n",
    "a feed with url and url_file": (
        "feeds:\n  - url: https://a.example/rss\n    url_file: slack_url\n"
    ),
    "a listen address without a host": "http:\n  listen: '9464'\n",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_what_the_loader_refuses_the_schema_refuses(
    validator: Draft202012Validator, tmp_path: Path, text: str
) -> None:
    (tmp_path / "slack_url").write_text("console://\n", encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(config, {})
    assert problems(validator, text)


def test_the_readme_configuration_validates(validator: Draft202012Validator) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```yaml\n")[1:]
    [full] = [block.split("```", 1)[0] for block in blocks if block.startswith("database:")]
    assert "log_format:" in full
    assert problems(validator, full) == []
