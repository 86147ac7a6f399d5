"""Feed documents parsed in child processes: a hostile document costs its child (stopped at the
deadline or by its memory cap), never the daemon; the other feeds' parses go on."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from monitor.feeds import parse_process
from monitor.feeds.parse_process import ParseProcesses, parsed_from_json, parsed_to_json
from monitor.model import FeedEntry, ParsedFeed

NEWS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Le Fil</title>'
    b"<ttl>15</ttl><item><guid>https://fil.example/1</guid><title>L\xe2\x80\x99OTAN</title>"
    b"<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)
# Hundreds of thousands of elements no feed needs: seconds of feedparser's time per 100,000.
NESTED = b'<?xml version="1.0"?><rss version="2.0"><channel><item>' + b"<a>" * 400_000
# Millions of empty elements in 10 MB: a tree of hundreds of megabytes for the C parser.
FLAT = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
    + b"<a/>" * 2_600_000
    + b"</item></channel></rss>"
)


def parse(
    parser: ParseProcesses, document: bytes, deadline: float = 20.0
) -> asyncio.Future[ParsedFeed]:
    return asyncio.ensure_future(
        parser.parse(
            document, base_url="https://fil.example/", content_type=None, deadline=deadline
        )
    )


def test_a_document_is_parsed_as_in_the_daemons_process() -> None:
    async def run() -> ParsedFeed:
        async with ParseProcesses() as parser:
            return await parse(parser, NEWS)

    parsed = asyncio.run(run())
    assert parsed == ParsedFeed(
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


def test_a_document_too_complex_is_stopped_at_its_deadline_and_the_next_one_parses() -> None:
    async def run() -> tuple[ParsedFeed, float, ParsedFeed]:
        async with ParseProcesses(processes=1) as parser:
            started = time.monotonic()
            hostile = await parse(parser, NESTED, deadline=1.0)
            elapsed = time.monotonic() - started
            return hostile, elapsed, await parse(parser, NEWS)

    hostile, elapsed, after = asyncio.run(run())
    assert hostile.error == "document too complex: not parsed within 1 s (parser stopped)"
    assert hostile.entries == ()
    assert elapsed < 3.0
    assert after.title == "Le Fil"


def test_other_documents_are_parsed_while_one_child_is_stuck() -> None:
    async def run() -> tuple[list[str | None], ParsedFeed]:
        async with ParseProcesses(processes=2) as parser:
            stuck = parse(parser, NESTED, deadline=15.0)
            await asyncio.sleep(0.5)  # the first child has the hostile document
            titles = [(await parse(parser, NEWS)).title for _ in range(20)]
            still_stuck = not stuck.done()
            stuck.cancel()
            return titles if still_stuck else [], await parse(parser, NEWS)

    titles, after = asyncio.run(run())
    assert titles == ["Le Fil"] * 20
    assert after.title == "Le Fil"  # a cancelled exchange cost its child, not the pool


def test_a_document_over_the_memory_cap_is_refused() -> None:
    async def run() -> ParsedFeed:
        async with ParseProcesses(processes=1, memory_bytes=256 * 1024 * 1024) as parser:
            return await parse(parser, FLAT)

    parsed = asyncio.run(run())
    assert parsed.error is not None
    assert parsed.error.startswith("document too large to parse"), parsed.error


def test_a_child_that_dies_while_parsing_fails_that_document_only() -> None:
    async def run() -> tuple[ParsedFeed, ParsedFeed]:
        before = _children()
        async with ParseProcesses(processes=1) as parser:
            parsing = parse(parser, NESTED)
            await asyncio.sleep(0.5)
            (pid,) = _children() - before
            os.kill(pid, signal.SIGKILL)
            return await parsing, await parse(parser, NEWS)

    failed, after = asyncio.run(run())
    assert failed.error is not None
    assert failed.error.startswith("document not parsed: the parser process failed (exit ")
    assert after.title == "Le Fil"


def test_an_idle_child_that_died_is_replaced_before_use() -> None:
    async def run() -> ParsedFeed:
        before = _children()
        async with ParseProcesses(processes=1) as parser:
            await parse(parser, NEWS)
            (pid,) = _children() - before
            os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.2)
            return await parse(parser, NEWS)

    assert asyncio.run(run()).title == "Le Fil"


def test_children_end_with_the_parser() -> None:
    before = _children()

    async def run() -> set[int]:
        async with ParseProcesses() as parser:
            await asyncio.gather(parse(parser, NEWS), parse(parser, NEWS))
            assert len(_children() - before) == 2
        return _children() - before

    assert asyncio.run(run()) == set()


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


def _children() -> set[int]:
    """Process ids of this process's living children."""
    return _children_of(os.getpid())


def test_an_article_pages_main_text_is_extracted_in_a_child_under_the_deadline() -> None:
    pytest.importorskip("trafilatura", reason="the fulltext extra is not installed")
    from tests.test_fulltext import ARTICLE

    # Minutes of trafilatura's time at 200,000 paragraphs; seconds at this size.
    paragraphs = b"<p>mot mot mot mot mot mot.</p>" * 50_000
    hostile_page = b"<html><body><article>" + paragraphs + b"</article></body></html>"

    async def run() -> tuple[str | None, str | None, float]:
        async with ParseProcesses(processes=1) as parser:
            text = await parser.main_text(
                ARTICLE.encode(), url="https://fil.example/a", deadline=20
            )
            started = time.monotonic()
            hostile = await parser.main_text(hostile_page, url="https://fil.example/b", deadline=1)
            return text, hostile, time.monotonic() - started

    text, hostile, elapsed = asyncio.run(run())
    assert text is not None and "zone d’exclusion aérienne" in text
    assert "Mentions légales" not in text
    assert hostile is None and elapsed < 3


def test_a_busy_child_dies_with_the_daemon() -> None:
    # However the daemon dies (SIGKILL here), its child does not parse on alone for minutes.
    script = (
        "import asyncio, sys\n"
        "from monitor.feeds.parse_process import ParseProcesses\n"
        "from tests.test_parse_process import NESTED\n"
        "async def main():\n"
        "    async with ParseProcesses(processes=1) as parser:\n"
        "        task = asyncio.ensure_future(parser.parse(NESTED, base_url='https://a/',"
        " content_type=None, deadline=60))\n"
        "        await asyncio.sleep(1.0)\n"
        "        print('busy', flush=True)\n"
        "        await task\n"
        "asyncio.run(main())\n"
    )
    daemon = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert daemon.stdout is not None
        assert daemon.stdout.readline() == "busy\n"
        (child,) = _children_of(daemon.pid)
        daemon.kill()
        daemon.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        daemon.kill()


def test_a_child_that_grew_large_is_replaced_after_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parse_process, "_RECYCLE_BYTES", 1)  # every child counts as grown

    async def run() -> tuple[set[int], set[int]]:
        before = _children()
        async with ParseProcesses(processes=1) as parser:
            await parse(parser, NEWS)
            await asyncio.sleep(0.2)
            first = _children() - before
            await parse(parser, NEWS)
            await asyncio.sleep(0.2)
            return first, _children() - before

    first, second = asyncio.run(run())
    assert first == set() and second == set()  # each stopped once it had answered


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ...), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _children_of(parent: int) -> set[int]:
    """Process ids of the living children of `parent` (Linux)."""
    found = set()
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields is not None and fields[1] == str(parent) and fields[0] != "Z":
            found.add(int(entry))
    return found
