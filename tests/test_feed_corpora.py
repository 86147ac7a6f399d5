"""parse_feed over the feed validator and gofeed test suites: every kind of broken feed people
have reported, plus JSON, OPML and HTML files that are not feeds at all. It must never raise."""

from pathlib import Path

import pytest

from monitor.feeds.parse import parse_feed
from monitor.model import ParsedFeed

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
SUITES = ("w3c-feedvalidator/testcases", "gofeed/testdata")


def corpus_files() -> list[Path]:
    return sorted(
        path for suite in SUITES for path in (CORPUS / suite).rglob("*") if path.is_file()
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS}")
def test_parse_feed_never_raises_on_the_corpus() -> None:
    files = corpus_files()
    assert len(files) > 2000
    outcomes = {"entries": 0, "empty": 0, "error": 0}
    for path in files:
        try:
            parsed = parse_feed(path.read_bytes(), base_url=f"https://corpus.example/{path.name}")
        except Exception as exc:
            pytest.fail(f"parse_feed raised on {path}: {exc!r}")
        assert isinstance(parsed, ParsedFeed), path
        assert all(entry.key for entry in parsed.entries), path
        assert parsed.error is None or "\n" not in parsed.error, path
        outcome = "entries" if parsed.entries else "error" if parsed.error else "empty"
        outcomes[outcome] += 1
    # Most of the suites are feeds with items; a parser that silently failed would show here.
    assert outcomes["entries"] > len(files) // 3, outcomes
