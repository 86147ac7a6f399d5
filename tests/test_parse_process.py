"""Feed documents parsed, and article pages' text extracted, by their jobs in the sandbox: a
hostile document costs its child (stopped at the deadline or by its memory cap), never the
daemon, and fails with the reason in the users' words.

The sandbox itself (deadline, caps, replacement of children) is tested in test_sandbox.py; where
a job must be stuck here, a stuck job stands in for the real one, by construction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.feeds.fulltext import PAGE_JOB, answer_page, main_text_in_sandbox
from monitor.feeds.parse import PARSE
from monitor.feeds.parse_job import (
    FEED_JOB,
    ParseProcesses,
    answer_feed,
    parsed_from_json,
    parsed_to_json,
)
from monitor.model import FeedEntry, ParsedFeed
from monitor.sandbox import JobFunction, Sandbox
from tests.daemon_cli import feed_reports, poll_all, write_config
from tests.feed_server import FeedServer
from tests.sandbox_jobs import exit_at_once, never_answer

NEWS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Le Fil</title>'
    b"<ttl>15</ttl><item><guid>https://fil.example/1</guid><title>L\xe2\x80\x99OTAN</title>"
    b"<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)
# Millions of empty elements in 10 MB: a tree of hundreds of megabytes for the C parser.
FLAT = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
    + b"<a/>" * 2_600_000
    + b"</item></channel></rss>"
)
# Long enough never to be reached by real work, however busy the machine.
PATIENCE = 600.0


@asynccontextmanager
async def parse_processes(
    feed_job: JobFunction = answer_feed, **limits: Any
) -> AsyncIterator[ParseProcesses]:
    async with Sandbox({FEED_JOB: feed_job, PAGE_JOB: answer_page}, **limits) as sandbox:
        yield ParseProcesses(sandbox)


def parse(document: bytes, *, deadline: float = PATIENCE, **setup: Any) -> ParsedFeed:
    async def run() -> ParsedFeed:
        async with parse_processes(**setup) as parser:
            return await parser.parse(
                document, base_url="https://fil.example/", content_type=None, deadline=deadline
            )

    return asyncio.run(run())


def test_a_document_is_parsed_as_in_the_daemons_process() -> None:
    assert parse(NEWS) == ParsedFeed(
        title="Le Fil",
        entries=(
            FeedEntry(
                key="https://fil.example/1",
                url="https://fil.example/1",
                title="L’OTAN",
                summary="",
                content="",
                published=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
            ),
        ),
        ttl=900.0,
    )


def test_a_document_not_parsed_by_its_deadline_is_too_complex() -> None:
    parsed = parse(NEWS, deadline=1.0, feed_job=never_answer)
    assert parsed.error == "document too complex: not parsed within 1 s (parser stopped)"
    assert parsed.error_kind == PARSE
    assert parsed.entries == ()


def test_a_document_over_the_memory_cap_is_refused() -> None:
    parsed = parse(FLAT, memory_bytes=256 * 1024 * 1024, processes=1)
    assert parsed.error is not None
    assert parsed.error.startswith("document too large to parse"), parsed.error
    assert parsed.error_kind == PARSE


def test_a_document_whose_items_are_too_large_is_refused_unread() -> None:
    parsed = parse(NEWS, max_answer_bytes=100)
    assert parsed.error is not None
    assert parsed.error.startswith("document too large to parse: its items came to ")


def test_a_document_whose_parser_process_died_fails() -> None:
    parsed = parse(NEWS, feed_job=exit_at_once)
    assert parsed.error == "document not parsed: the parser process failed (exit 3)"
    assert parsed.error_kind == PARSE


def test_a_parsed_feed_travels_as_json_and_comes_back_equal() -> None:
    parsed = ParsedFeed(
        title=None,
        entries=(
            FeedEntry("k", None, "titre \ud800 «»", "<p>résumé</p>", "", None),
            FeedEntry("k2", "https://a.example/", "", "", "x" * 1000, datetime.now(UTC)),
        ),
        error=None,
        warning="malformed feed: mismatched tag",
        ttl=60.0,
    )
    assert parsed_from_json(parsed_to_json(parsed)) == parsed
    with pytest.raises(ValueError, match="not a parsed feed"):
        parsed_from_json(b'{"title": "no entries"}')


def test_an_article_pages_main_text_is_extracted_in_a_child() -> None:
    pytest.importorskip("trafilatura", reason="the fulltext extra is not installed")
    from tests.test_fulltext import ARTICLE

    async def run() -> tuple[str | None, str | None]:
        async with Sandbox({PAGE_JOB: answer_page}, processes=1) as sandbox:
            text = await main_text_in_sandbox(
                sandbox, ARTICLE.encode(), url="https://fil.example/a", deadline=PATIENCE
            )
            nothing = await main_text_in_sandbox(
                sandbox, b"<html></html>", url="https://fil.example/b", deadline=PATIENCE
            )
            return text, nothing

    text, nothing = asyncio.run(run())
    assert text is not None and "zone d’exclusion aérienne" in text
    assert "Mentions légales" not in text
    assert nothing is None


def test_a_page_not_extracted_by_its_deadline_leaves_no_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run() -> str | None:
        async with Sandbox({PAGE_JOB: never_answer}, processes=1) as sandbox:
            return await main_text_in_sandbox(
                sandbox, b"<html></html>", url="https://fil.example/b", deadline=0.5
            )

    with caplog.at_level(logging.WARNING, logger="monitor.fulltext"):
        assert asyncio.run(run()) is None
    assert (
        "full text of https://fil.example/b: page too complex: not parsed within 0.5 s"
        in caplog.text
    )


def test_parse_processes_that_cannot_start_fail_no_feed(
    tmp_path: Path,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Children inherit the environment: with no Python home, no interpreter starts, three
    # times over. The feed is not to blame: nothing is recorded against it.
    url = feed_server.serve("/fil.xml", NEWS.decode("utf-8"))
    config = write_config(tmp_path, f"feeds:\n  - url: {url}\n")
    monkeypatch.setenv("PYTHONHOME", str(tmp_path / "no-python-here"))
    poll_all(config)
    assert capsys.readouterr().out.startswith("error:internal")
    monkeypatch.delenv("PYTHONHOME")
    report = feed_reports(config, capsys)[url]
    assert (report["status"], report["error_count"]) == ("new", 0)
    assert poll_all(config) == 0
    assert feed_reports(config, capsys)[url]["status"] == "ok"


def test_a_page_whose_extractor_cannot_start_keeps_its_teaser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONHOME", str(tmp_path / "no-python-here"))

    async def extract() -> str | None:
        async with Sandbox({PAGE_JOB: answer_page}, processes=1) as sandbox:
            page = b"<html><body><article><p>L'OTAN refuse.</p></article></body></html>"
            return await main_text_in_sandbox(
                sandbox, page, url="https://fil.example/1", deadline=30
            )

    assert asyncio.run(extract()) is None
