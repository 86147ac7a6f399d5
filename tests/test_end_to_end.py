"""The whole daemon, end to end, against real loopback servers: a feed server, an SMTP server,
a SQLite file (and the real PostgreSQL). The story of the foundation issue, step by step."""

from __future__ import annotations

import email.message
import io
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.cli import main
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer, running_smtp_server

REPO = Path(__file__).resolve().parents[1]


def pub_date(age: timedelta = timedelta(minutes=5)) -> str:
    return format_datetime(datetime.now(UTC) - age)


OLD_NEWS = {
    "guid": "old-1",
    "title": "L’OTAN se réunit à Bruxelles",
    "link": "https://presse.example.fr/otan-bruxelles?utm_source=rss",
    "description": "Les alliés de l’OTAN se sont réunis.",
    "pubDate": pub_date(timedelta(hours=3)),
}
OTAN_ITEM = {
    "guid": "story-2",
    "title": "Ukraine : pas de zone d’exclusion aérienne, répète Stoltenberg",
    "link": "https://presse.example.fr/ukraine-zone?utm_medium=feed&id=2#haut",
    "description": (
        "<p>Le secrétaire général s’est exprimé à Bruxelles.</p>"
        "<p>Il a déclaré que l’Otan n’enverra pas de troupes en Ukraine. La Russie a réagi.</p>"
    ),
    "pubDate": pub_date(),
}
OLD_OTAN_ITEM = {  # appears late, but was published three days ago: history, not news
    "guid": "story-old",
    "title": "Archives : l’OTAN en 1999",
    "link": "https://presse.example.fr/archives-1999",
    "description": "L’OTAN intervient au Kosovo.",
    "pubDate": pub_date(timedelta(days=3)),
}
BOTANIQUE_ITEM = {
    "guid": "story-3",
    "title": "Le jardin botanique rouvre ses serres",
    "link": "https://presse.example.fr/jardin",
    "description": "Les serres du jardin botanique accueillent de nouveau le public.",
    "pubDate": pub_date(),
}


def write_config(
    directory: Path,
    feeds: list[str],
    smtp: SmtpServer,
    database: str | None = None,
    *,
    named: bool = True,
    timezone: str = "UTC",
) -> Path:
    """Feeds polled every second, one SMTP channel, the `otan` watchlist. `named=False`: the
    feeds have no `name:`, so a message shows each feed's own title as its source."""
    feed_lines = "\n".join(
        f"  - url: {url}\n" + (f"    name: Outlet {i}\n" if named else "") + "    interval: 1s"
        for i, url in enumerate(feeds)
    )
    path = directory / "monitor.yaml"
    path.write_text(
        f"""
database: {database or f"sqlite:///{directory / 'monitor.db'}"}
timezone: {timezone}
poll_tick: 1s
fetch:
  allow_private_networks: true
  timeout: 5s
delivery:
  retry_initial: 1m
feeds:
{feed_lines}
channels:
  redaction:
    url: {smtp.mailto_url()}
watchlists:
  - name: otan
    terms:
      - term: OTAN
        aliases: [NATO, "Alliance atlantique"]
      - "zone d'exclusion aérienne"
""",
        encoding="utf-8",
    )
    return path


def poll(config: Path, *flags: str) -> int:
    return main(["--config", str(config), "poll", "--once", *flags])


def body_text(message: email.message.Message) -> str:
    assert isinstance(message, email.message.EmailMessage)
    part = message.get_body(preferencelist=("html", "plain"))
    assert part is not None
    return str(part.get_content())


def run_story(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, database: str | None
) -> Path:
    feed_url = feed_server.serve("/rss.xml", rss("Presse Exemple", [OLD_NEWS]))
    copy_url = feed_server.serve("/copie.xml", rss("Copie", []))
    config = write_config(tmp_path, [feed_url, copy_url], smtp, database)

    # A new feed is seeded silently, even though its backlog mentions OTAN.
    assert poll(config) == 0
    assert smtp.messages == []

    # A new item mentioning « l’Otan » appears, with an item about the « jardin botanique ».
    feed_server.serve(
        "/rss.xml", rss("Presse Exemple", [BOTANIQUE_ITEM, OTAN_ITEM, OLD_OTAN_ITEM, OLD_NEWS])
    )
    assert poll(config, "--all") == 0
    assert len(smtp.messages) == 1
    [message] = smtp.messages
    assert "zone d’exclusion aérienne" in message["Subject"]
    body = body_text(message)
    assert "https://presse.example.fr/ukraine-zone?id=2" in body  # canonical: no utm_*, no fragment
    assert "n’enverra pas de troupes en Ukraine" in body  # the sentence that matched
    assert "Otan" in body and "Outlet 0" in body
    assert "botanique" not in body
    assert "1999" not in body

    # The same story (same link) in a second outlet is one story: no second email.
    copy = dict(OTAN_ITEM, guid="copie-9", title="Pas de zone d’exclusion, dit l’OTAN")
    feed_server.serve("/copie.xml", rss("Copie", [copy]))
    assert poll(config, "--all") == 0
    # Polling again sends nothing more.
    assert poll(config, "--all") == 0
    assert len(smtp.messages) == 1
    return config


@pytest.mark.slow
def test_story_one_email_once_across_polls_and_restarts(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    config = run_story(tmp_path, feed_server, smtp, database=None)

    # Restarting the daemon (the real binary) sends nothing more, and SIGTERM stops it cleanly.
    requests_before = len(feed_server.requests)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(feed_server.requests) < requests_before + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(feed_server.requests) >= requests_before + 2, "the daemon did not poll"
        time.sleep(1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, stderr
    assert "monitor stopped" in stderr
    assert "Traceback" not in stderr
    assert len(smtp.messages) == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_story_on_postgresql(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, postgres_url: str
) -> None:
    run_story(tmp_path, feed_server, smtp, database=postgres_url)


def test_check_config_reports_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "channels:\n  mail:\n    url: console://\n"
        "feeds:\n  - url: https://example.org/rss\n    interval: 5 minutes\n"
        "watchlist:\n  - name: x\n    terms: [OTAN]\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "check-config"]) == 2
    errors = capsys.readouterr().err
    assert f"{config}:6: feeds[0].interval:" in errors
    assert f"{config}:7: watchlist:" in errors


def test_bad_feeds_get_a_status_and_do_not_stop_the_others(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.smtp_server import unused_port

    good = feed_server.serve("/rss.xml", rss("Bon", [OLD_NEWS]))
    html = feed_server.serve(
        "/page.html", "<!doctype html><html><body>Accueil</body></html>", "text/html"
    )
    broken = feed_server.serve(
        "/broken.xml", "<rss><channel><title>x</title><item><title>a", "application/xml"
    )
    missing = feed_server.url("/gone.xml")
    unreachable = f"http://127.0.0.1:{unused_port()}/rss.xml"
    config = write_config(tmp_path, [good, html, broken, missing, unreachable], smtp)
    assert poll(config) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines() if line.split()[1:2]}
    assert lines[good].startswith("ok")
    assert "not a feed" in lines[html]
    assert lines[missing].startswith("error:http_status") and "404" in lines[missing]
    assert lines[unreachable].startswith("error:unreachable")
    assert lines[broken].split()[0] in {"ok", "error:parse"}


@pytest.mark.slow
def test_refused_email_is_retried_and_delivered_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    from monitor.config import load_config
    from monitor.daemon.once import poll_once
    from monitor.daemon.runtime import build_runtime

    now = [datetime.now(UTC)]
    with running_smtp_server(refuse_at="DATA") as smtp:
        feed_url = feed_server.serve("/rss.xml", rss("Presse", []))
        config = write_config(tmp_path, [feed_url], smtp)
        runtime = build_runtime(load_config(config), clock=lambda: now[0])
        assert poll_once(runtime, all_feeds=True, out=io.StringIO()) == 0
        feed_server.serve("/rss.xml", rss("Presse", [OTAN_ITEM]))
        assert poll_once(runtime, all_feeds=True, out=io.StringIO()) == 0
        assert smtp.messages == [] and smtp.data_attempts == 1

        # Not due yet: the retry waits for its backoff.
        assert runtime.dispatcher().dispatch_due().sent == 0
        assert smtp.data_attempts == 1

        # The server accepts again; once the backoff has passed, the alert is delivered, once.
        smtp.refuse_at = None
        now[0] += timedelta(minutes=2)
        report = runtime.dispatcher().dispatch_due()
        assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
        now[0] += timedelta(hours=1)
        assert runtime.dispatcher().dispatch_due().sent == 0
        assert len(smtp.messages) == 1


@pytest.mark.slow
def test_an_alert_that_cannot_be_delivered_is_marked_failed_not_dropped(
    tmp_path: Path,
    feed_server: FeedServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.config import load_config
    from monitor.daemon.once import poll_once
    from monitor.daemon.runtime import build_runtime
    from monitor.store.outbox import outbox_counts

    # Eleven refused sends to one mail server, days apart on the test's clock: Apprise's pause
    # between two sends of one service (1 s, monitor/notify/send.py) would be 10 s of real time
    # that this test, about backoff and giving up, does not look at.
    monkeypatch.setattr("monitor.notify.send._SECONDS_BETWEEN_SENDS", 0.0)
    now = [datetime.now(UTC)]
    with running_smtp_server(refuse_at="RCPT") as smtp:
        feed_url = feed_server.serve("/rss.xml", rss("Presse", []))
        runtime = build_runtime(
            load_config(write_config(tmp_path, [feed_url], smtp)), clock=lambda: now[0]
        )
        poll_once(runtime, all_feeds=True, out=io.StringIO())
        feed_server.serve("/rss.xml", rss("Presse", [OTAN_ITEM]))
        poll_once(runtime, all_feeds=True, out=io.StringIO())
        for _ in range(12):  # hours of retries with backoff, then past give_up_after (2 days)
            now[0] += timedelta(hours=5)
            runtime.dispatcher().dispatch_due()
        with runtime.engine.connect() as connection:
            counts = outbox_counts(connection)
    assert (counts.sent, counts.pending, counts.failed) == (0, 0, 1)
    assert smtp.messages == []
    assert any("FAILED for good" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_one_story_in_six_feeds_polled_together_is_one_email(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    request: pytest.FixtureRequest,
    backend: str,
) -> None:
    database = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    urls = [feed_server.serve(f"/feed{n}.xml", rss(f"Outlet {n}", [])) for n in range(6)]
    config = write_config(tmp_path, urls, smtp, database)
    assert poll(config) == 0
    for n in range(6):
        copy = dict(OTAN_ITEM, guid=f"copy-{n}", title=f"Copie {n} : l’OTAN et la zone")
        feed_server.serve(f"/feed{n}.xml", rss(f"Outlet {n}", [copy]))
    assert poll(config, "--all") == 0
    assert len(smtp.messages) == 1
    assert "Also published by" in body_text(smtp.messages[0])
