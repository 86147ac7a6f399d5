"""Watchlists scoped to sources and languages (docs/design.md §4, scope): `sources: {tags, feeds,
exclude_tags, exclude_feeds}` and `languages:` — checked by check-config, honoured by the daemon,
`monitor replay`, `match` and `explain`, and decided once per feed, not per item."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

import monitor.config
from monitor.cli import CONFIG_CHECKS, main
from monitor.config import ConfigError
from monitor.config.schema import WatchlistSpec
from monitor.match import FeedIdentity, compile_watchlists
from monitor.match.scope import FeedScopes, WatchlistScope
from monitor.model import ItemText
from tests.daemon_cli import poll_all, write_config
from tests.feed_server import FeedServer, rss

FEEDS = """
feeds:
  - url: https://presse.example.fr/rss
    name: Presse FR
    language: fr
    tags: [presse-fr]
  - url: https://foreign.example.org/rss
    name: Foreign
    language: en
    tags: [etranger]
  - url: https://agregateur.example.net/rss
    name: Agrégateur
    tags: [presse-fr, agregateur]
"""
WATCHLISTS = """
watchlists:
  - name: etranger
    terms: [Macron]
    sources: {tags: [etranger]}
  - name: sauf-agregateur
    terms: [Macron]
    sources: {exclude_feeds: ["Agrégateur"]}
  - name: sauf-tag
    terms: [Macron]
    sources: {exclude_tags: [agregateur]}
  - name: par-url
    terms: [Macron]
    sources: {feeds: ["https://foreign.example.org/rss", "Presse FR"]}
  - name: tag-et-exclusion
    terms: [Macron]
    sources: {tags: [presse-fr], exclude_feeds: ["Agrégateur"]}
  - name: francais
    terms: [Macron]
    languages: [fr]
  - name: partout
    terms: [Macron]
"""
PRESSE_FR = FeedIdentity("https://presse.example.fr/rss", "Presse FR", ("presse-fr",))
FOREIGN = FeedIdentity("https://foreign.example.org/rss", "Foreign", ("etranger",))
AGREGATEUR = FeedIdentity(
    "https://agregateur.example.net/rss", "Agrégateur", ("presse-fr", "agregateur")
)
# The watchlists of WATCHLISTS an item of each feed (in the feed's language, else French) fires.
IN_SCOPE = {
    PRESSE_FR: {
        "sauf-agregateur",
        "sauf-tag",
        "par-url",
        "tag-et-exclusion",
        "francais",
        "partout",
    },
    FOREIGN: {"etranger", "sauf-agregateur", "sauf-tag", "par-url", "partout"},
    AGREGATEUR: {"francais", "partout"},
}
FRENCH = ItemText(
    title="Macron est à Berlin", content="Le président et la chancelière", language="fr"
)
ENGLISH = ItemText(
    title="Macron in Berlin", content="The president met the chancellor", language="en"
)


def load(tmp_path: Path, text: str) -> monitor.config.LoadedConfig:
    path = tmp_path / "monitor.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return monitor.config.load_config(path, {}, checks=CONFIG_CHECKS)


def errors_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    prefix = f"{tmp_path / 'monitor.yaml'}:"
    return [error.removeprefix(prefix) for error in caught.value.errors]


# -- check-config ------------------------------------------------------------------------------


def test_sources_and_languages_load(tmp_path: Path) -> None:
    config = load(tmp_path, FEEDS + WATCHLISTS + "  - {name: en, terms: [x], languages: [EN-gb]}\n")
    by_name = {spec.name: spec for spec in config.config.watchlists}
    assert by_name["etranger"].sources is not None
    assert by_name["etranger"].sources.tags == ("etranger",)
    assert by_name["francais"].languages == ("fr",)
    assert by_name["en"].languages == ("en",)  # compared by primary subtag, lowercase
    assert by_name["partout"].sources is None and by_name["partout"].languages is None


def test_every_unknown_feed_or_tag_in_sources_is_named_at_once(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        FEEDS
        + """
watchlists:
  - name: a
    terms: [x]
    sources:
      tags: [presse-fr, presse-de]
      feeds: ["Presse FR", "Presse DE", "https://foreign.example.org/rss"]
  - name: b
    terms: [x]
    sources: {exclude_tags: [sport], exclude_feeds: ["https://nowhere.example/rss"]}
""",
    )
    assert errors == [
        "18: watchlists[0].sources.tags[1]: unknown tag 'presse-de'; expected a tag that some"
        " feed has: agregateur, etranger, presse-fr",
        "19: watchlists[0].sources.feeds[1]: unknown feed 'Presse DE'; expected the name or URL"
        " of one of the feeds",
        "22: watchlists[1].sources.exclude_feeds[0]: unknown feed 'https://nowhere.example/rss';"
        " expected the name or URL of one of the feeds",
        "22: watchlists[1].sources.exclude_tags[0]: unknown tag 'sport'; expected a tag that"
        " some feed has: agregateur, etranger, presse-fr",
    ]


@pytest.mark.parametrize(
    ("watchlist", "expected"),
    [
        (
            "sources: {}",
            "watchlists[0].sources: expected at least one of 'tags', 'feeds', 'exclude_tags'"
            " and 'exclude_feeds'",
        ),
        ("sources: [etranger]", "watchlists[0].sources: expected a mapping such as"),
        ("sources: {tag: [etranger]}", "watchlists[0].sources.tag: unknown key"),
        ("languages: [french]", "watchlists[0].languages[0]: expected an ISO 639 language code"),
        # Codes that name no language would put every item out of scope, silently.
        ("languages: [zz]", "watchlists[0].languages[0]: expected an ISO 639 language code"),
        ("languages: [xx-YY-zz]", "watchlists[0].languages[0]: expected an ISO 639 language"),
        ("languages: [und]", "watchlists[0].languages[0]: expected an ISO 639 language code"),
        ("languages: []", "watchlists[0].languages: expected at least one language code"),
    ],
)
def test_malformed_scopes_are_refused(tmp_path: Path, watchlist: str, expected: str) -> None:
    (error,) = errors_of(
        tmp_path, FEEDS + f"watchlists:\n  - name: a\n    terms: [x]\n    {watchlist}\n"
    )
    assert expected in error


@pytest.mark.parametrize(
    "sources",
    [
        "{tags: [presse-fr], exclude_tags: [presse-fr]}",
        '{feeds: ["Presse FR"], exclude_feeds: ["https://presse.example.fr/rss"]}',
        "{exclude_tags: [presse-fr, etranger]}",
    ],
)
def test_sources_that_leave_out_every_feed_are_refused(tmp_path: Path, sources: str) -> None:
    """They would silently watch nothing, as an unknown tag would."""
    (error,) = errors_of(
        tmp_path, FEEDS + f"watchlists:\n  - name: a\n    terms: [x]\n    sources: {sources}\n"
    )
    assert error.endswith(
        "watchlists[0].sources: these sources leave out every feed, so the watchlist would"
        " watch nothing"
    )


@pytest.mark.parametrize("language", ["French", "zz", "und", "f"])
def test_a_feed_language_that_names_no_language_is_refused(tmp_path: Path, language: str) -> None:
    """An item's language is its feed's: one that names no language would put every item of the
    feed out of every `languages:` watchlist without a word."""
    (error,) = errors_of(
        tmp_path,
        f"feeds:\n  - url: https://x.example/rss\n    language: {language}\n"
        "watchlists:\n  - {name: a, terms: [x]}\n",
    )
    assert "feeds[0].language: expected an ISO 639 language code such as fr or en" in error


def test_three_letter_codes_are_read_as_their_two_letter_code(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        feeds:
          - {url: https://x.example/rss, name: X, language: fra}
          - {url: https://y.example/rss, name: Y, language: en-GB}
        watchlists:
          - {name: a, terms: [Macron], languages: [fre, deu]}
        """,
    )
    assert config.config.watchlists[0].languages == ("fr", "de")
    assert [feed.language for feed in config.config.feeds] == ["fra", "en-GB"]  # as written
    fired = compile_watchlists(config.config.watchlists)
    x = FeedIdentity.of(config.config.feeds[0])
    assert [match.watchlist for match in fired.match(ItemText(title="Macron"), x)] == ["a"]


def test_an_item_of_undetermined_language_stays_in_scope(tmp_path: Path) -> None:
    fired, _ = matcher_of(tmp_path)
    assert "francais" in fired(ItemText(title="Macron", language="und"), None)


def test_feeds_imported_from_opml_carry_their_tags_for_sources(tmp_path: Path) -> None:
    (tmp_path / "feeds.opml").write_text(
        '<opml version="2.0"><body><outline text="Le Soir" xmlUrl="https://lesoir.example/rss"'
        ' category="belgique"/></body></opml>',
        encoding="utf-8",
    )
    config = load(
        tmp_path,
        """
        feeds:
          - opml: feeds.opml
            tags: [presse-be]
        watchlists:
          - name: a
            terms: [x]
            sources: {tags: [presse-be, belgique], feeds: [Le Soir]}
        """,
    )
    assert config.config.watchlists[0].sources is not None


# -- the matcher -------------------------------------------------------------------------------


def matcher_of(tmp_path: Path) -> tuple[Callable[..., set[str]], monitor.config.LoadedConfig]:
    config = load(tmp_path, FEEDS + WATCHLISTS)
    matcher = compile_watchlists(config.config.watchlists)

    def fired(item: ItemText, feed: FeedIdentity | None) -> set[str]:
        return {match.watchlist for match in matcher.match(item, feed)}

    return fired, config


@pytest.mark.parametrize("feed", list(IN_SCOPE), ids=lambda feed: feed.shown)
def test_a_watchlist_out_of_scope_for_the_feed_never_fires(
    tmp_path: Path, feed: FeedIdentity
) -> None:
    fired, _ = matcher_of(tmp_path)
    assert fired(ENGLISH if feed is FOREIGN else FRENCH, feed) == IN_SCOPE[feed]


def test_languages_follow_the_items_language_declared_or_detected(tmp_path: Path) -> None:
    fired, _ = matcher_of(tmp_path)
    assert "francais" not in fired(ENGLISH, None)
    assert "francais" in fired(FRENCH, None)
    assert "francais" in fired(ItemText(title="Macron", language="fr-FR"), None)
    detected_english = ItemText(content="Macron said that the president is in the city of Berlin")
    detected_french = ItemText(content="Macron a dit que le président est dans la ville pour une")
    assert "francais" not in fired(detected_english, None)
    assert "francais" in fired(detected_french, None)
    # A language that cannot be told (a short headline) keeps the item in scope.
    assert "francais" in fired(ItemText(title="Macron"), None)


def test_without_a_feed_sources_are_not_applied(tmp_path: Path) -> None:
    fired, _ = matcher_of(tmp_path)
    assert fired(FRENCH, None) == IN_SCOPE[PRESSE_FR] | {"etranger"}


def test_a_feed_not_configured_is_known_by_its_reference_alone(tmp_path: Path) -> None:
    fired, _ = matcher_of(tmp_path)
    other = FeedIdentity("https://other.example/rss")
    assert fired(FRENCH, other) == {"sauf-agregateur", "sauf-tag", "francais", "partout"}


def test_scopes_are_decided_once_per_feed_and_language(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    feed_refusal, language_refusal = WatchlistScope.feed_refusal, WatchlistScope.language_refusal

    def counted_feed(self: WatchlistScope, feed: FeedIdentity) -> str | None:
        calls.append("feed")
        return feed_refusal(self, feed)

    def counted_language(self: WatchlistScope, language: str | None) -> str | None:
        calls.append("language")
        return language_refusal(self, language)

    monkeypatch.setattr(WatchlistScope, "feed_refusal", counted_feed)
    monkeypatch.setattr(WatchlistScope, "language_refusal", counted_language)
    spec = WatchlistSpec(
        name="w", terms=("Macron",), sources={"tags": ("etranger",)}, languages=("en",)
    )
    matcher = compile_watchlists([spec])
    for _ in range(50):
        matcher.match(ENGLISH, FOREIGN)
        matcher.match(FRENCH, FOREIGN)
    assert calls.count("feed") == 1
    assert calls.count("language") == 2  # en, fr


def test_without_scopes_nothing_is_judged_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_args: object) -> frozenset[int]:
        raise AssertionError("a configuration without scopes judged an item's scope")

    monkeypatch.setattr(FeedScopes, "out_of_scope", never)
    matcher = compile_watchlists([WatchlistSpec(name="w", terms=("Macron",))])
    assert [match.watchlist for match in matcher.match(FRENCH, PRESSE_FR)] == ["w"]


def test_explain_says_why_a_watchlist_is_out_of_scope(tmp_path: Path) -> None:
    config = load(tmp_path, FEEDS + WATCHLISTS)
    matcher = compile_watchlists(config.config.watchlists)
    explained = {entry.watchlist: entry for entry in matcher.explain(FRENCH, AGREGATEUR)}
    assert not explained["etranger"].fired and not explained["etranger"].hits
    assert explained["etranger"].reasons == (
        "out of scope: feed 'Agrégateur' is not in sources (tags: etranger)",
        "it matches the item: it would fire otherwise",
    )
    assert explained["sauf-agregateur"].reasons[0] == (
        "out of scope: feed 'Agrégateur' is in sources.exclude_feeds"
    )
    assert explained["sauf-tag"].reasons[0] == (
        "out of scope: feed 'Agrégateur' has the tag 'agregateur', in exclude_tags"
    )
    assert explained["partout"].fired
    english = {entry.watchlist: entry for entry in matcher.explain(ENGLISH, FOREIGN)}
    assert english["francais"].reasons[0] == (
        "out of scope: the item's language is en, not one of languages: fr"
    )


# -- the command line: explain, match, replay --------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text + f"database: sqlite:///{tmp_path / 'monitor.db'}\n", encoding="utf-8")
    return path


def run(
    config: Path,
    args: list[str],
    lines: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[dict[str, object]]:
    capsys.readouterr()
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main(["--config", str(config), *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_explain_and_match_read_the_items_feed_by_name_or_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, FEEDS + WATCHLISTS)
    item = {"title": "Macron à Berlin", "language": "fr"}
    [record] = run(
        config,
        ["explain", "--json"],
        [{"id": 1, "feed": "Agrégateur", **item}],
        monkeypatch,
        capsys,
    )
    entries = {entry["watchlist"]: entry for entry in record["watchlists"]}
    assert entries["partout"]["fires"] is True
    assert entries["etranger"]["fires"] is False
    assert entries["etranger"]["reasons"][0] == (
        "out of scope: feed 'Agrégateur' is not in sources (tags: etranger)"
    )
    records = run(
        config,
        ["match"],
        [
            {"id": 1, "feed": "https://agregateur.example.net/rss", **item},
            {"id": 2, "feed": "Foreign", "title": "Macron in Berlin", "language": "en"},
            {"id": 3, **item},
        ],
        monkeypatch,
        capsys,
    )
    assert records[0]["watchlists"] == sorted(IN_SCOPE[AGREGATEUR])
    assert records[1]["watchlists"] == sorted(IN_SCOPE[FOREIGN])
    assert "etranger" in records[2]["watchlists"]  # no feed: no sources


def test_match_and_explain_give_an_item_its_feeds_language_as_the_daemon_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item naming no language is in its configured feed's `language:` (French words in an
    English feed are still English items), unless it names its own."""
    config = write(tmp_path, FEEDS + WATCHLISTS)
    item = {"title": "Macron à Berlin avec la chancelière"}
    records = run(
        config,
        ["match"],
        [
            {"id": 1, "feed": "Foreign", **item},
            {"id": 2, "feed": "Foreign", "language": "fr", **item},
            {"id": 3, "feed": "Presse FR", **item},
        ],
        monkeypatch,
        capsys,
    )
    assert "francais" not in records[0]["watchlists"]
    assert "francais" in records[1]["watchlists"]
    assert "francais" in records[2]["watchlists"]
    [record] = run(
        config, ["explain", "--json"], [{"id": 1, "feed": "Foreign", **item}], monkeypatch, capsys
    )
    entries = {entry["watchlist"]: entry for entry in record["watchlists"]}
    assert entries["francais"]["fires"] is False


def test_replay_of_json_lines_honours_scopes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, FEEDS + WATCHLISTS)
    now = datetime.now(UTC).isoformat()
    items = [
        {"id": 1, "feed": "Presse FR", "title": "Macron à Berlin", "language": "fr", "seen": now},
        {"id": 2, "feed": "Foreign", "title": "Macron visits Lagos", "language": "en", "seen": now},
        {"id": 3, "feed": "Agrégateur", "title": "Macron reçoit à l'Élysée", "seen": now},
    ]
    records = run(config, ["replay", "--json", "-"], items, monkeypatch, capsys)
    alerted: dict[object, set[str]] = {}
    for record in records:
        if record["kind"] == "alert":
            alerted.setdefault(record["item"], set()).add(str(record["watchlist"]))
    assert alerted == {1: IN_SCOPE[PRESSE_FR], 2: IN_SCOPE[FOREIGN], 3: IN_SCOPE[AGREGATEUR]}


# -- the daemon, end to end -----------------------------------------------------------------


def news(guid: str, title: str) -> dict[str, str]:
    return {
        "guid": guid,
        "title": title,
        "link": f"https://example.org/{guid}",
        "description": title,
        "pubDate": format_datetime(datetime.now(UTC) - timedelta(minutes=5)),
    }


def test_the_daemon_alerts_only_in_scope_and_replay_agrees(
    tmp_path: Path,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = {"presse": "/presse.xml", "foreign": "/foreign.xml", "agregateur": "/agregateur.xml"}
    urls = {name: feed_server.serve(path, rss(name, [])) for name, path in paths.items()}
    feeds = FEEDS.replace("https://presse.example.fr/rss", urls["presse"])
    feeds = feeds.replace("https://foreign.example.org/rss", urls["foreign"])
    feeds = feeds.replace("https://agregateur.example.net/rss", urls["agregateur"])
    watchlists = WATCHLISTS.replace("https://foreign.example.org/rss", urls["foreign"])
    config = write_config(tmp_path, feeds + watchlists)
    assert poll_all(config) == 0  # seeds the feeds: their backlog never alerts
    titles = {
        "presse": "Macron reçoit le chancelier à l'Élysée",
        "foreign": "Macron meets the German chancellor in Paris",
        "agregateur": "Macron en visite surprise à Kyiv",
    }
    for name, path in paths.items():
        feed_server.serve(path, rss(name, [news(f"{name}-1", titles[name])]))
    assert poll_all(config) == 0
    with sqlite3.connect(tmp_path / "monitor.db") as connection:
        rows = connection.execute(
            "SELECT items.title, alerts.watchlist FROM alerts"
            " JOIN items ON items.id = alerts.item_id"
        ).fetchall()
    alerted: dict[str, set[str]] = {}
    for title, watchlist in rows:
        alerted.setdefault(title, set()).add(watchlist)
    assert alerted == {
        titles["presse"]: IN_SCOPE[PRESSE_FR],
        titles["foreign"]: IN_SCOPE[FOREIGN],
        titles["agregateur"]: IN_SCOPE[AGREGATEUR],
    }

    # Replay over the stored items finds the same alerts, no more.
    records = run(config, ["replay", "--json"], [], monkeypatch, capsys)
    replayed: dict[str, set[str]] = {}
    for record in records:
        if record["kind"] == "alert":
            replayed.setdefault(str(record["title"]), set()).add(str(record["watchlist"]))
    assert replayed == alerted

    # explain --item says why the aggregator's item did not alert for `etranger`.
    with sqlite3.connect(tmp_path / "monitor.db") as connection:
        (item_id,) = connection.execute(
            "SELECT id FROM items WHERE title = ?", (titles["agregateur"],)
        ).fetchone()
    capsys.readouterr()
    assert main(["--config", str(config), "explain", "--item", str(item_id)]) == 0
    out = capsys.readouterr().out
    assert "etranger: does not fire" in out
    assert "out of scope: feed 'Agrégateur' is not in sources (tags: etranger)" in out
    # The verdict says so too, not "does not match": the item matches `etranger`'s terms.
    assert "=> no alert: out of the watchlist's scope (above)" in out
    (record,) = run(config, ["explain", "--item", str(item_id), "--json"], [], monkeypatch, capsys)
    verdicts = {entry["watchlist"]: entry["why_not"] for entry in record["watchlists"]}
    assert verdicts["etranger"] == "out_of_scope"
    assert verdicts["partout"] == "no_channel"  # in scope and matched; this test has no channel


def test_check_config_summarises_each_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, FEEDS + WATCHLISTS)
    assert main(["--config", str(config), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "watchlist etranger: 1 term (tags etranger) -> no channel" in out
    assert "watchlist tag-et-exclusion: 1 term (tags presse-fr; not feeds Agrégateur)" in out
    assert "watchlist francais: 1 term (languages fr)" in out
    assert "watchlist partout: 1 term -> no channel" in out
