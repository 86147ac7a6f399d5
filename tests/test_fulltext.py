"""Full text (`fulltext: true`): a teaser feed whose watched words are only on the article page.
Real loopback feed and page server, real SMTP server, trafilatura."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from monitor.cli import CONFIG_CHECKS
from monitor.config import ConfigError, load_config
from tests.daemon_cli import one_feed_config, poll_all
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import BOTANIQUE_ITEM, body_text, pub_date

pytest.importorskip("trafilatura", reason="the optional fulltext extra is not installed")

ARTICLE = """<!doctype html><html><head><title>Bruxelles</title></head><body>
<nav><a href="/">Accueil</a> <a href="/monde">Monde</a></nav>
<article><h1>Le sommet de Bruxelles</h1>
<p>Le secrétaire général de l’OTAN a déclaré mercredi que l’Alliance n’enverra pas de troupes en
Ukraine et qu’une zone d’exclusion aérienne n’est pas envisagée.</p>
<p>Les chefs d’État se retrouveront jeudi pour un sommet extraordinaire consacré à la sécurité
du flanc est de l’Europe, a-t-il précisé devant la presse.</p>
</article><footer>Mentions légales — Tous droits réservés</footer></body></html>"""


def write_fulltext_config(directory: Path, url: str, smtp: SmtpServer) -> Path:
    return one_feed_config(directory, url, smtp.mailto_url(), "fulltext: true")


def poll(config: Path) -> None:
    assert poll_all(config) == 0


def teaser(link: str) -> dict[str, str]:
    return {
        "guid": "sommet",
        "title": "Le sommet de Bruxelles",
        "link": link,
        "description": "Lire la suite sur notre site.",
        "pubDate": pub_date(),
    }


def test_the_article_page_text_is_matched_and_kept(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    page = feed_server.serve("/article.html", ARTICLE, "text/html; charset=utf-8")
    url = feed_server.serve("/teasers.xml", rss("Teasers", [BOTANIQUE_ITEM]))
    config = write_fulltext_config(tmp_path, url, smtp)
    poll(config)  # seeding: no page fetched for the backlog
    assert "/article.html" not in feed_server.requests
    feed_server.serve("/teasers.xml", rss("Teasers", [teaser(page), BOTANIQUE_ITEM]))
    poll(config)
    [message] = smtp.messages
    body = body_text(message)
    assert "OTAN" in body and "envisagée" in body  # the matched sentence is the page's
    poll(config)  # the same document again (its ETag changed nothing): no second page fetch
    feed_server.serve("/teasers.xml", rss("Teasers", [teaser(page), BOTANIQUE_ITEM]) + " ")
    poll(config)
    assert feed_server.requests.count("/article.html") == 1
    with sqlite3.connect(tmp_path / "monitor.db") as database:
        (content,) = database.execute(
            "SELECT content FROM items WHERE title = 'Le sommet de Bruxelles'"
        ).fetchone()
    assert "secrétaire général de l’OTAN" in content
    assert "Accueil" not in content and "Mentions légales" not in content


def test_a_page_that_cannot_be_fetched_leaves_the_feed_text(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    url = feed_server.serve("/teasers.xml", rss("Teasers", [BOTANIQUE_ITEM]))
    config = write_fulltext_config(tmp_path, url, smtp)
    poll(config)
    missing = feed_server.url("/gone.html")
    item = {**teaser(missing), "description": "L’OTAN se réunit. Lire la suite."}
    feed_server.serve("/teasers.xml", rss("Teasers", [item, BOTANIQUE_ITEM]))
    poll(config)
    [message] = smtp.messages
    assert "OTAN" in body_text(message)


@pytest.mark.slow
def test_pages_are_read_two_at_a_time_within_three_fetch_timeouts(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = feed_server.serve("/teasers.xml", rss("Teasers", [BOTANIQUE_ITEM]))
    config = one_feed_config(tmp_path, url, smtp.mailto_url(), "fulltext: true")
    config.write_text(
        config.read_text(encoding="utf-8").replace("fetch:\n", "fetch:\n  timeout: 2s\n"),
        encoding="utf-8",
    )
    poll(config)  # seeding
    pages = [
        feed_server.serve(f"/page{n}.html", ARTICLE, "text/html; charset=utf-8", delay=1.6)
        for n in range(10)
    ]
    items = [{**teaser(page), "guid": f"sommet-{n}"} for n, page in enumerate(pages)]
    feed_server.serve("/teasers.xml", rss("Teasers", [*items, BOTANIQUE_ITEM]))
    started = time.monotonic()
    poll(config)
    elapsed = time.monotonic() - started
    fetched = [path for path in feed_server.requests if path.startswith("/page")]
    assert feed_server.most_in_flight["127.0.0.1"] <= 2
    assert 4 <= len(fetched) < 10  # the budget (3 × 2 s) ran out before the last pages
    assert elapsed < 12
    assert "article pages not read within 6 s; their teasers are kept" in caplog.text


def test_fulltext_without_the_extractor_is_a_configuration_error(
    tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.feeds.fulltext

    monkeypatch.setattr(monitor.feeds.fulltext, "fulltext_available", lambda: False)
    config = write_fulltext_config(tmp_path, "https://example.org/rss", smtp)
    with pytest.raises(ConfigError) as caught:
        load_config(config, checks=CONFIG_CHECKS)
    line = config.read_text().splitlines().index("    fulltext: true") + 1
    assert f"{config}:{line}: feeds[0].fulltext: needs the optional" in str(caught.value)
