"""Full text for feeds that publish only teasers (`fulltext: true`): the article page is fetched
through the same gate and caps as feeds, and its main text extracted with trafilatura, an
optional dependency (`pip install 'monitor[fulltext]'`)."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

import httpx

from monitor.feeds.fetch import fetch_feed
from monitor.feeds.policy import FetchPolicy
from monitor.feeds.urls import redact_url
from monitor.model import FetchError, Validators

if TYPE_CHECKING:
    from monitor.feeds.parse_process import ParseProcesses

log = logging.getLogger("monitor.fulltext")

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


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
    return await parser.main_text(result.content, url=result.final_url, deadline=policy.timeout)
