"""Full text for feeds that publish only teasers (`fulltext: true`): the article page is fetched
through the same gate and caps as feeds, and its main text extracted with trafilatura, an
optional dependency (`pip install 'monitor[fulltext]'`)."""

from __future__ import annotations

import html
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from monitor.feeds.fetch import fetch_feed
from monitor.feeds.parse_job import ParseProcesses, failure_reason
from monitor.feeds.policy import FetchPolicy
from monitor.feeds.urls import redact_url
from monitor.model import FetchError, Validators
from monitor.sandbox import Sandbox, SandboxError

log = logging.getLogger("monitor.fulltext")

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
PAGE_JOB = "page"


def fulltext_available() -> bool:
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        return False
    return True


def extract_main_text(page: bytes, url: str) -> str | None:
    """The article's main text, paragraphs on their own lines; None when none was found."""
    import trafilatura

    text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False)
    return text.strip() or None if text else None


def answer_page(params: Mapping[str, Any], content: bytes) -> bytes:
    """The `page` job, in a child: extract_main_text(content, url) as JSON."""
    try:
        text = extract_main_text(content, params["url"])
    except Exception as exc:  # an extractor crash on a hostile page: no text, not a crash
        print(f"monitor sandbox: extraction failed: {exc!r}", file=sys.stderr)
        text = None
    return json.dumps({"text": text}, ensure_ascii=True).encode("ascii")


async def main_text_in_sandbox(
    sandbox: Sandbox, page: bytes, *, url: str, deadline: float
) -> str | None:
    """The main text of an article page, by the `page` job of `sandbox`; None, logged, when
    there is none or it could not be had within `deadline` seconds."""
    try:
        answer = await sandbox.run(PAGE_JOB, {"url": url}, page, deadline=deadline)
    except SandboxError as error:  # ours, not the page's: the item keeps its teaser
        log.error("full text of %s: not extracted: %s", redact_url(url), error)
        return None
    if not isinstance(answer, bytes):
        log.warning("full text of %s: page %s", redact_url(url), failure_reason(answer))
        return None
    try:
        text = json.loads(answer)["text"]
    except (ValueError, KeyError, TypeError):
        text = None
    return text if isinstance(text, str) else None


def as_html(text: str) -> str:
    """Extracted plain text as the HTML an item's content holds: escaped, one <p> a line."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


async def fetch_main_text(
    client: httpx.AsyncClient,
    parser: ParseProcesses,
    url: str,
    policy: FetchPolicy,
) -> str | None:
    """The main text of the page at `url`, or None (logged) when it cannot be had: the item
    then keeps the feed's own text. The extraction runs in a parse process, under the same
    deadline as the fetch, like a feed document: the page is the server's as much as the feed."""
    try:
        result = await fetch_feed(client, url, Validators(), policy, accept=PAGE_ACCEPT)
    except FetchError as error:
        log.info("full text of %s: %s", redact_url(url), error.message)
        return None
    return await main_text_in_sandbox(
        parser.sandbox, result.content, url=result.final_url, deadline=policy.timeout
    )
