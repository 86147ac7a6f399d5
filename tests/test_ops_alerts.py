"""Operations alerts: a feed failing or silent for longer than its stale_after sends one alert to
the ops channels, and one when it recovers. Real feed server, two real SMTP servers (the desk's
and the administrator's)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config
from tests.daemon_cli import feed_reports, poll_all, write_config
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.test_end_to_end import OTAN_ITEM, body_text


@pytest.fixture
def desk() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def admin() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def write_ops_config(
    directory: Path,
    url: str,
    desk: SmtpServer,
    admin: SmtpServer,
    *,
    desk_url: str | None = None,
    stale_after: str = "1s",
) -> Path:
    """One feed, the desk's channel (`desk_url`, else the desk server's) for stories and the
    administrator's for operations alerts, a watchlist on OTAN."""
    return write_config(
        directory,
        f"""
feeds:
  - url: {url}
    name: Le Quotidien
    stale_after: {stale_after}
channels:
  redaction:
    url: {desk_url or desk.mailto_url()}
  admin:
    url: {admin.mailto_url()}
ops:
  notify: [admin]
watchlists:
  - name: otan
    terms: [OTAN]
""",
    )


def poll(config: Path) -> None:
    poll_all(config)  # the failing polls exit non-zero


def stale_since(config: Path, capsys: pytest.CaptureFixture[str]) -> str | None:
    (report,) = feed_reports(config, capsys).values()
    return report["stale_since"]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_failing_feed_alerts_the_ops_channel_once_then_once_more_when_it_recovers(
    tmp_path: Path,
    feed_server: FeedServer,
    desk: SmtpServer,
    admin: SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = feed_server.url("/quotidien.xml")  # 404 for now
    config = write_ops_config(tmp_path, url, desk, admin)
    poll(config)
    assert admin.messages == []  # added a moment ago: not stale yet
    time.sleep(1.2)
    poll(config)
    [stale] = admin.messages
    assert "Le Quotidien is stale" in str(stale["Subject"]) + body_text(stale)
    body = body_text(stale)
    assert "Failing: no successful poll since it was added" in body and "HTTP 404" in body
    poll(config)
    assert len(admin.messages) == 1  # one alert, not one per poll
    assert stale_since(config, capsys) is not None

    feed_server.serve("/quotidien.xml", rss("Le Quotidien", [OTAN_ITEM]))
    poll(config)  # the first good poll stores the backlog: new items again
    assert len(admin.messages) == 2
    recovered = admin.messages[1]
    assert "Le Quotidien recovered" in str(recovered["Subject"]) + body_text(recovered)
    # Operations alerts go to the ops channels only, and story alerts never go there.
    assert desk.messages == []
    assert stale_since(config, capsys) is None


@pytest.mark.slow
def test_a_silent_feed_is_stale_too(
    tmp_path: Path, feed_server: FeedServer, desk: SmtpServer, admin: SmtpServer
) -> None:
    url = feed_server.serve("/quotidien.xml", rss("Le Quotidien", []))
    config = write_ops_config(tmp_path, url, desk, admin)
    poll(config)
    time.sleep(1.2)
    poll(config)
    [stale] = admin.messages
    assert "Silent: polls succeed, but no item since it was added" in body_text(stale)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("ops:\n  notify: [pager]\n", "ops.notify[0]: unknown channel 'pager'"),
        (
            "watchlists:\n  - name: operations\n    terms: [x]\n",
            "watchlists[0].name: 'operations' is reserved for operations alerts",
        ),
    ],
)
def test_ops_configuration_errors(tmp_path: Path, extra: str, expected: str) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("channels:\n  admin:\n    url: json://localhost/\n" + extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected in str(caught.value)


def test_watchlists_without_notify_skip_the_ops_channels(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "channels:\n  admin:\n    url: json://localhost/a\n  desk:\n    url: json://localhost/d\n"
        "ops:\n  notify: [admin]\nwatchlists:\n  - name: otan\n    terms: [OTAN]\n"
    )
    config = load_config(path).config
    assert config.channels_for(config.watchlists[0]) == ("desk",)


def test_raising_stale_after_unmarks_a_stale_feed_without_a_false_recovery(
    tmp_path: Path, admin: SmtpServer, desk: SmtpServer
) -> None:
    # A feed still failing is not "recovered" because its limit was raised: nothing came.
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from monitor.daemon.runtime import build_runtime
    from monitor.store.tables import alerts, feeds

    now = [datetime(2026, 12, 4, 8, 0, tzinfo=UTC)]
    config = write_ops_config(tmp_path, "http://127.0.0.1:9/gone.xml", desk, admin)
    runtime = build_runtime(load_config(config), clock=lambda: now[0])
    runtime.prepare_database()
    now[0] += timedelta(hours=1)
    assert runtime.check_stale() == 1  # stale after 1s: marked, one alert

    config.write_text(config.read_text().replace("stale_after: 1s", "stale_after: 7d"))
    runtime.reconfigure(load_config(config))
    now[0] += timedelta(minutes=5)
    assert runtime.check_stale() == 1  # unmarked ...
    with runtime.engine.connect() as connection:
        titles = [row.payload["title"] for row in connection.execute(select(alerts.c.payload))]
        assert connection.execute(select(feeds.c.stale_since)).scalar_one() is None
    assert titles == ["Feed Le Quotidien is stale"]  # ... with no "recovered" alert


def test_a_channel_that_refuses_for_good_fails_at_once_with_one_operations_alert(
    tmp_path: Path, feed_server: FeedServer, admin: SmtpServer
) -> None:
    from sqlalchemy import create_engine, select

    from monitor.store.tables import deliveries
    from tests.test_end_to_end import pub_date

    with running_smtp_server(credentials=("veille", "s3cret")) as desk:
        url = feed_server.serve("/quotidien.xml", rss("Le Quotidien", []))
        # Stale only after a day: the feed's silence must not alert the admin here.
        refusing_url = desk.mailto_url(credentials="veille:wrong-password")
        config = write_ops_config(
            tmp_path, url, desk, admin, desk_url=refusing_url, stale_after="1d"
        )
        assert poll_all(config) == 0  # the backlog, stored silently
        stories = [
            {
                "guid": f"story-{n}",
                "title": title,
                "link": f"https://presse.example.fr/{n}",
                "description": f"<p>{title}, a déclaré le porte-parole de l’Otan mardi.</p>",
                "pubDate": pub_date(),
            }
            for n, title in enumerate(
                ["L’Otan renforce son flanc est", "Sommet de l’Otan à Vilnius"]
            )
        ]
        feed_server.serve("/quotidien.xml", rss("Le Quotidien", stories))
        poll_all(config)
        assert poll_all(config) == 0  # the next pass: nothing new, nothing more to say

    assert desk.messages == []
    [refused] = admin.messages  # one, for the channel, not one per alert
    text = str(refused["Subject"]) + body_text(refused)
    assert "Channel redaction refuses alerts" in text
    assert "monitor test-alert redaction" in text and "wrong-password" not in text
    engine = create_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(deliveries.c.status, deliveries.c.attempts).where(
                deliveries.c.channel == "redaction"
            )
        ).all()
    engine.dispose()
    assert sorted(rows) == [("failed", 1), ("failed", 1)]  # at the first attempt, not retried
