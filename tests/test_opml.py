"""OPML: importing feed lists in the configuration, exporting the configured feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, load_config
from monitor.config.opml import OpmlError, parse_opml

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Presse</title></head>
  <body>
    <outline text="France">
      <outline text="Le Monde" title="Le Monde — International" type="rss"
               xmlUrl="https://www.lemonde.fr/international/rss_full.xml"/>
      <outline text="Politique">
        <outline text="RFI" xmlUrl="https://www.rfi.fr/fr/rss" category="/radio,public"/>
      </outline>
    </outline>
    <outline text="Sans titre" xmlUrl="https://example.org/feed.xml"/>
    <outline text="A folder without feeds"/>
  </body>
</opml>
"""


def test_outlines_with_a_feed_url_are_feeds_the_folders_around_them_categories() -> None:
    feeds = parse_opml(OPML.encode())
    assert [(feed.url, feed.title, feed.categories) for feed in feeds] == [
        ("https://www.lemonde.fr/international/rss_full.xml", "Le Monde — International",
         ("France",)),
        ("https://www.rfi.fr/fr/rss", "RFI", ("France", "Politique", "radio", "public")),
        ("https://example.org/feed.xml", "Sans titre", ()),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<opml><body><outline", "not valid XML"),
        (b"<rss><channel/></rss>", "not OPML (the root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "no <body> element"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]>'
            b"<opml><body><outline text='&a;' xmlUrl='https://x.org/'/></body></opml>",
            "refused: OPML with a DOCTYPE",
        ),
    ],
)
def test_bad_opml_is_a_one_line_error(raw: bytes, message: str) -> None:
    with pytest.raises(OpmlError) as caught:
        parse_opml(raw, "feeds.opml")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def write(directory: Path, config: str, opml: str = OPML) -> Path:
    (directory / "feeds.opml").write_text(opml, encoding="utf-8")
    path = directory / "monitor.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def test_an_opml_entry_imports_its_feeds_with_the_entry_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """feeds:
  - url: https://first.example/rss
  - opml: feeds.opml
    interval: 30m
    language: fr
    tags: [presse]
  - url: https://www.rfi.fr/fr/rss
    name: RFI (listed by hand)
watchlists:
  - name: otan
    terms: [OTAN]
""",
    )
    feeds = load_config(path).config.feeds
    assert [feed.url for feed in feeds] == [
        "https://first.example/rss",
        "https://www.lemonde.fr/international/rss_full.xml",
        "https://example.org/feed.xml",
        "https://www.rfi.fr/fr/rss",  # listed by hand too: that entry wins
    ]
    lemonde = feeds[1]
    assert lemonde.name == "Le Monde — International"
    assert lemonde.interval.total_seconds() == 1800 and lemonde.language == "fr"
    assert lemonde.tags == ("presse", "France")
    assert feeds[3].name == "RFI (listed by hand)"


def test_errors_in_imported_feeds_point_at_the_opml_entry(tmp_path: Path) -> None:
    bad = OPML.replace("https://example.org/feed.xml", "ftp://example.org/feed.xml")
    path = write(
        tmp_path,
        """feeds:
  - url: https://first.example/rss
  - opml: feeds.opml
  - url: not a url
""",
        bad,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{path}:3: feeds[") and "ftp://" in line for line in lines)
    assert any(line.startswith(f"{path}:4: feeds[") and "not a url" in line for line in lines)


def test_an_unreadable_opml_file_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("feeds:\n  - opml: missing.opml\n  - opml: x.opml\n    every: 5m\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert f"{path}:2: feeds[0].opml: cannot read" in text
    assert f"{path}:4: feeds[1].every: unknown key" in text


def test_export_writes_the_configured_feeds_as_opml_that_imports_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        f"""database: sqlite:///{tmp_path / "monitor.db"}
feeds:
  - url: https://a.example/rss?x=1&y=2
    name: A & <B>
    tags: [presse, fr]
  - opml: feeds.opml
watchlists:
  - name: otan
    terms: [OTAN]
""",
    )
    assert main(["--config", str(path), "feeds", "--export-opml"]) == 0
    exported = parse_opml(capsys.readouterr().out.encode())
    configured = load_config(path).config.feeds
    assert [(feed.url, feed.title) for feed in exported] == [
        (feed.url, feed.name) for feed in configured
    ]
    assert exported[0].categories == ("presse", "fr")
