"""parse_feed over the feed validator and gofeed test suites: every kind of broken feed people
have reported, plus JSON, OPML and HTML files that are not feeds at all. It must never raise."""

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.feeds.parse import parse_feed
from monitor.model import ParsedFeed
from tests.feed_server import FeedServer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
SUITES = ("w3c-feedvalidator/testcases", "gofeed/testdata")


def corpus_files() -> list[Path]:
    return sorted(
        path for suite in SUITES for path in (CORPUS / suite).rglob("*") if path.is_file()
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS}")
@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS}")
def test_every_corpus_file_polled_as_a_feed_gets_a_status(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole path (fetch, parse, store, dedup, match) over every corpus file served as a
    feed by a loopback server: no poll may crash, and every feed gets a status."""
    files = corpus_files()
    urls = []
    for number, path in enumerate(files):
        content_type = "application/json" if path.suffix == ".json" else "application/xml"
        urls.append(feed_server.serve(f"/{number}", path.read_bytes(), content_type))
    config = tmp_path / "monitor.yaml"
    feeds = "\n".join(f"  - url: {url}" for url in urls)
    config.write_text(
        f"""database: sqlite:///{tmp_path / "monitor.db"}
fetch:
  allow_private_networks: true
  max_connections: 8
feeds:
{feeds}
watchlists:
  - name: everything
    terms: [the, le, a]
""",
        encoding="utf-8",
    )
    for _ in range(2):  # the first poll seeds; the second may alert and meets 304s
        assert main(["--config", str(config), "poll", "--once", "--all"]) == 0
        lines = capsys.readouterr().out.splitlines()
        summary = ("polled ", "outbox: ")
        statuses = [line.split()[0] for line in lines if not line.startswith(summary)]
        assert len(statuses) == len(files)
        assert "error:internal" not in statuses
        assert set(statuses) <= {"ok", "not_modified", "unchanged"} | {
            status for status in statuses if status.startswith("error:")
        }
