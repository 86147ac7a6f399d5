"""Feed documents parsed in the sandbox, never in the daemon's own process: the `feed` job (run
in a child) and its codec (a ParsedFeed as JSON, and back).

A feed's bytes come from a server we do not control. A document of a few megabytes can hold
millions of elements: feedparser then calls Python code for each (a minute of CPU), and the C
XML parser builds a tree of hundreds of megabytes. The sandbox stops such a document at its
deadline or by its memory cap, and the feed fails with the reason in its users' words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.feeds.parse import PARSE, parse_failure, parse_feed
from monitor.model import FeedEntry, ParsedFeed
from monitor.sandbox import AnswerTooLarge, ChildDied, DeadlinePassed, JobFailure, Sandbox

FEED_JOB = "feed"
# The sandbox's default limits hold for this job: a 10 MiB news or podcast feed parses in well
# under half of a child's 768 MiB address space, and its entries, as JSON, stay within a small
# multiple of the document (links and keys being capped), far below the 64 MiB answer cap.


def answer_feed(params: Mapping[str, Any], content: bytes) -> bytes:
    """The `feed` job, in a child: parse_feed(content, ...) as JSON."""
    try:
        parsed = parse_feed(
            content, base_url=params["base_url"], content_type=params["content_type"]
        )
        return parsed_to_json(parsed)
    except MemoryError:  # the entries fitted, their JSON did not
        return parsed_to_json(parse_failure(PARSE, "document too large to parse: out of memory"))


@dataclass(frozen=True)
class ParseProcesses:
    """Feed documents parsed by the `feed` job of a sandbox (whose owner starts and stops it)."""

    sandbox: Sandbox

    async def parse(
        self, content: bytes, *, base_url: str, content_type: str | None, deadline: float
    ) -> ParsedFeed:
        """parse_feed(content, ...) in a child; a document not parsed within `deadline`
        seconds, or whose child died, is an error ParsedFeed like any unreadable feed."""
        params = {"base_url": base_url, "content_type": content_type}
        answer = await self.sandbox.run(FEED_JOB, params, content, deadline=deadline)
        if not isinstance(answer, bytes):
            return parse_failure(PARSE, f"document {failure_reason(answer)}")
        try:
            return parsed_from_json(answer)
        except ValueError as exc:
            return parse_failure(PARSE, f"document not parsed: {exc}")


def failure_reason(failure: JobFailure) -> str:
    """What became of a document (a feed, an article page) that the sandbox gave no answer for."""
    match failure:
        case DeadlinePassed(deadline):
            return f"too complex: not parsed within {deadline:g} s (parser stopped)"
        case AnswerTooLarge(length):
            return f"too large to parse: its items came to {length} bytes"
        case ChildDied(exit_status):
            return f"not parsed: the parser process failed (exit {exit_status})"


def parsed_to_json(parsed: ParsedFeed) -> bytes:
    entries = [
        [e.key, e.url, e.title, e.summary, e.content, e.published and e.published.isoformat()]
        for e in parsed.entries
    ]
    document = {
        "title": parsed.title,
        "entries": entries,
        "error": parsed.error,
        "error_kind": parsed.error_kind,
        "warning": parsed.warning,
        "ttl": parsed.ttl,
    }
    # ensure_ascii: a lone surrogate from a character reference travels as \ud800, not as
    # bytes UTF-8 refuses.
    return json.dumps(document, ensure_ascii=True).encode("ascii")


def parsed_from_json(data: bytes) -> ParsedFeed:
    """A child's answer back into a ParsedFeed; ValueError when it is not one."""
    try:
        document: dict[str, Any] = json.loads(data)
        entries = tuple(
            FeedEntry(
                key=str(key),
                url=None if url is None else str(url),
                title=str(title),
                summary=str(summary),
                content=str(content),
                published=None if published is None else datetime.fromisoformat(published),
            )
            for key, url, title, summary, content, published in document["entries"]
        )
        ttl = document["ttl"]
        return ParsedFeed(
            title=document["title"],
            entries=entries,
            error=document["error"],
            error_kind=document["error_kind"],
            warning=document["warning"],
            ttl=None if ttl is None else float(ttl),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a parsed feed: {exc!r}") from None
