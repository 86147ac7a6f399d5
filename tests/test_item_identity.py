"""Item identity quirks (issue: id_policy): ids that change on every build, ids reused for
another item. Real polls of a loopback feed server, real email to a loopback SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.model import FeedEntry
from monitor.pipeline.prepare import prepare_entry
from tests.daemon_cli import feed_reports, one_feed_config, poll_all
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import BOTANIQUE_ITEM, OTAN_ITEM, body_text


def write_identity_config(directory: Path, url: str, smtp: SmtpServer, id_policy: str) -> Path:
    return one_feed_config(directory, url, smtp.mailto_url(), f"id_policy: {id_policy}")


def poll(config: Path) -> None:
    assert poll_all(config) == 0


def stored_items(config: Path, capsys: pytest.CaptureFixture[str]) -> int:
    (report,) = feed_reports(config, capsys).values()
    return int(report["items"])


@pytest.mark.parametrize(("id_policy", "items_after"), [("guid", 7), ("link", 2)])
def test_ids_that_change_on_every_build_do_not_alert_again(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    id_policy: str,
    items_after: int,
) -> None:
    def build(number: int) -> str:
        return rss(
            "Churn",
            [
                {**BOTANIQUE_ITEM, "guid": f"b-{number}"},
                *([{**OTAN_ITEM, "guid": f"o-{number}"}] if number else []),
            ],
        )

    url = feed_server.serve("/churn.xml", build(0))
    config = write_identity_config(tmp_path, url, smtp, id_policy)
    poll(config)  # seeding
    for number in (1, 2, 3):
        feed_server.serve("/churn.xml", build(number))
        poll(config)
    assert len(smtp.messages) == 1
    # With `link`, the same items are the same rows; with `guid`, each build stores them again
    # (and story folding keeps them from alerting twice).
    assert stored_items(config, capsys) == items_after


def test_an_id_reused_for_another_item_makes_a_new_item_that_alerts(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = feed_server.serve("/reuse.xml", rss("Reuse", [{**BOTANIQUE_ITEM, "guid": "latest"}]))
    config = write_identity_config(tmp_path, url, smtp, "guid")
    poll(config)  # seeding
    feed_server.serve("/reuse.xml", rss("Reuse", [{**OTAN_ITEM, "guid": "latest"}]))
    poll(config)
    assert len(smtp.messages) == 1
    assert "Stoltenberg" in body_text(smtp.messages[0])
    poll(config)  # the same again: known now
    assert len(smtp.messages) == 1
    assert stored_items(config, capsys) == 2


def test_the_same_id_with_new_text_and_the_same_link_is_an_update_not_a_new_item(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = feed_server.serve("/update.xml", rss("Update", [BOTANIQUE_ITEM]))
    config = write_identity_config(tmp_path, url, smtp, "guid")
    poll(config)
    edited = {**BOTANIQUE_ITEM, "description": "Les serres rouvrent ; l'OTAN n'y est pour rien."}
    feed_server.serve("/update.xml", rss("Update", [edited]))
    poll(config)
    assert smtp.messages == []
    assert stored_items(config, capsys) == 1


def entry(key: str, url: str | None, title: str = "Titre") -> FeedEntry:
    return FeedEntry(key, url, title, "résumé", "", None)


def test_id_policies_choose_the_key() -> None:
    first = entry("guid-1", "https://a.example/1")
    rebuilt = entry("guid-2", "https://a.example/1")
    moved = entry("guid-3", "https://a.example/1?amp", "Titre")
    now = datetime.now(UTC)
    assert prepare_entry(first, None, now=now).key != prepare_entry(rebuilt, None, now=now).key
    assert (
        prepare_entry(first, None, "link", now=now).key
        == prepare_entry(rebuilt, None, "link", now=now).key
    )
    assert (
        prepare_entry(first, None, "content", now=now).key
        == prepare_entry(moved, None, "content", now=now).key
    )
    assert prepare_entry(entry("g", None), None, "link", now=now).key == "g"  # no link: the id
