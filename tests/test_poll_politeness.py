"""Polling politely, against a real loopback server: per-host and global concurrency."""

from __future__ import annotations

from pathlib import Path

from monitor.cli import main
from tests.feed_server import FeedServer, rss


def write_config(directory: Path, urls: list[str], fetch: str) -> Path:
    feeds = "\n".join(f"  - url: {url}" for url in urls)
    path = directory / "monitor.yaml"
    path.write_text(
        f"""
database: sqlite:///{directory / "monitor.db"}
fetch:
  allow_private_networks: true
  timeout: 10s
{fetch}
feeds:
{feeds}
watchlists:
  - name: otan
    terms: [OTAN]
""",
        encoding="utf-8",
    )
    return path


def test_feeds_of_one_host_are_fetched_at_most_max_per_host_at_a_time(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    paths = [f"/feed{n}.xml" for n in range(6)]
    for path in paths:
        feed_server.serve(path, rss("Lent", []), delay=0.2)
    port = feed_server.port
    # Two host names for the same server: each is a host of its own for the limits.
    urls = [f"http://127.0.0.1:{port}{path}" for path in paths[:3]]
    urls += [f"http://localhost:{port}{path}" for path in paths[3:]]
    config = write_config(tmp_path, urls, "  max_per_host: 1\n  max_connections: 8")
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert feed_server.most_in_flight == {"127.0.0.1": 1, "localhost": 1}


def test_the_global_limit_holds_across_hosts(tmp_path: Path, feed_server: FeedServer) -> None:
    paths = [f"/feed{n}.xml" for n in range(6)]
    for path in paths:
        feed_server.serve(path, rss("Lent", []), delay=0.2)
    port = feed_server.port
    urls = [f"http://127.0.0.1:{port}{path}" for path in paths[:3]]
    urls += [f"http://localhost:{port}{path}" for path in paths[3:]]
    config = write_config(tmp_path, urls, "  max_per_host: 3\n  max_connections: 1")
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert max(feed_server.most_in_flight.values()) == 1
    assert sum(feed_server.most_in_flight.values()) == 2  # both hosts, one after the other
