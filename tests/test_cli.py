"""The command line contracts of docs/design.md §7: outputs and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main

CONFIG = """
channels:
  terminal:
    url: console://
watchlists:
  - name: otan
    terms:
      - term: OTAN
        aliases: [NATO, "Alliance atlantique"]
      - "zone d'exclusion aérienne"
    exclude: [football]
  - name: kremlin
    terms: [Peskov]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run_match(
    config: Path,
    lines: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, list[dict[str, object]], str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    status = main(["--config", str(config), "match"])
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_match_writes_one_line_per_item_with_sorted_watchlists_and_offsets(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [
        {
            "id": 1,
            "title": "Peskov répond à l’Otan",
            "summary": "<p>Rien sur le jardin botanique.</p>",
        },
        {"id": "two", "content": "<p>Le jardin&nbsp;botanique rouvre.</p>"},
        {"id": 3, "title": "NATO", "summary": "Le match de football"},
    ]
    status, records, _ = run_match(
        config, [json.dumps(item) for item in items], monkeypatch, capsys
    )
    assert status == 0
    assert [record["id"] for record in records] == [1, "two", 3]
    assert records[0]["watchlists"] == ["kremlin", "otan"]
    otan_hit = next(hit for hit in records[0]["hits"] if hit["watchlist"] == "otan")  # type: ignore[union-attr]
    assert otan_hit == {
        "watchlist": "otan",
        "term": "OTAN",
        "field": "title",
        "start": 18,
        "end": 22,
        "text": "Otan",
    }
    assert records[1] == {"id": "two", "watchlists": [], "hits": []}
    assert records[2]["watchlists"] == []  # excluded by "football"


def test_match_reports_a_bad_line_and_goes_on(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, records, errors = run_match(
        config,
        ["{not json", '{"title": "no id"}', '{"id": 9, "title": "OTAN"}'],
        monkeypatch,
        capsys,
    )
    assert status == 1
    assert [record["id"] for record in records] == [9]
    assert "stdin:1: invalid JSON" in errors
    assert "stdin:2:" in errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("watchlist:\n  - name: x\n", ":1: watchlist: unknown key"),
        ("feeds:\n  - url: https://example.org/rss\n    interval: 5x\n", ":3: feeds[0].interval:"),
        (
            "channels:\n  a:\n    url: console://\nwatchlists:\n  - name: w\n    terms: [x]\n"
            "    notify: [b]\n",
            ":7: watchlists[0].notify[0]: unknown channel 'b'",
        ),
    ],
)
def test_check_config_exits_2_naming_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["--config", str(path), "check-config"]) == 2
    assert f"{path}{expected}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["check-config"],
        ["run"],
        ["poll", "--once"],
        ["match"],
        ["explain"],
        ["dedup"],
        ["feeds"],
        ["db", "upgrade"],
    ],
)
def test_every_command_checks_queries_channel_urls_and_the_fulltext_extra(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    # The configuration package cannot make these checks itself; the command line gives them.
    import monitor.feeds.fulltext

    monkeypatch.setattr(monitor.feeds.fulltext, "fulltext_available", lambda: False)
    path = tmp_path / "monitor.yaml"
    path.write_text("watchlists:\n  - name: w\n    query: Peskov NEAR/ Kremlin\n", "utf-8")
    assert main(["--config", str(path), *command]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:3: watchlists[0].query: position 8: expected a number after NEAR/ (e.g. NEAR/5)"
    ]
    path.write_text(
        "feeds:\n  - url: https://example.org/rss\n    fulltext: true\n"
        "channels:\n  desk:\n    url: nosuchservice://token@host\n",
        encoding="utf-8",
    )
    assert main(["--config", str(path), *command]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:3: feeds[0].fulltext: needs the optional full-text extractor: "
        "pip install 'monitor[fulltext]'",
        f"{path}:6: channels.desk.url: not a usable Apprise URL (nosuchservice://…); "
        "expected a service URL such as "
        "mailtos://user:password@smtp.example.org?to=alerts@example.org",
    ]


def test_missing_configuration_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "absent.yaml"), "check-config"]) == 2
    err = capsys.readouterr().err.strip()
    assert "absent.yaml" in err
    assert len(err.splitlines()) == 1


def test_python_dash_m_runs_the_same_cli(config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "check-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2 watchlists" in result.stdout


def test_invalid_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2


def test_check_config_warns_about_a_watchlist_without_channels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("watchlists:\n  - name: x\n    terms: [OTAN]\n", encoding="utf-8")
    assert main(["--config", str(path), "check-config"]) == 0
    assert "warning: watchlist 'x' notifies no channel" in capsys.readouterr().out


def test_dedup_writes_the_story_of_each_item_in_arrival_order(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    story = (
        "Le secrétaire général de l’Otan a déclaré mercredi à Bruxelles que l’Alliance "
        "n’enverra pas de troupes en Ukraine, et qu’une zone d’exclusion aérienne signifierait "
        "une guerre avec la Russie, ce que les alliés veulent éviter à tout prix."
    )
    lines = [
        {"id": "a", "feed": "f1", "title": "L’Otan dit non", "content": f"<p>{story}</p>"},
        {"id": "b", "feed": "f2", "title": "Autre titre", "content": f"Spread the love\n\n{story}"},
        {
            "id": "c",
            "feed": "f3",
            "title": "Météo",
            "content": "Beau temps demain sur la Bretagne.",
        },
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(x) for x in lines) + "\n"))
    assert main(["--config", str(config), "dedup"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["cluster"]) for r in records] == [("a", "a"), ("b", "a"), ("c", "c")]
    assert records[0]["similarity"] is None
    assert records[1]["similarity"] >= 0.5


def _dedup_lines() -> str:
    story = (
        "Le secrétaire général de l’Otan a déclaré mercredi à Bruxelles que l’Alliance "
        "n’enverra pas de troupes en Ukraine, et qu’une zone d’exclusion aérienne signifierait "
        "une guerre avec la Russie, ce que les alliés veulent éviter à tout prix."
    )
    lines = [
        {"id": "a", "feed": "f1", "title": "L’Otan dit non", "content": story},
        # One word changed: most of its shingles are the first's, not all.
        {
            "id": "b",
            "feed": "f2",
            "title": "Bruxelles",
            "content": story.replace("mercredi", "hier"),
        },
    ]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def test_dedup_needs_no_configuration_and_follows_the_one_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./monitor.yaml
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(_dedup_lines()))
    assert main(["dedup"]) == 0
    stories = [json.loads(line)["cluster"] for line in capsys.readouterr().out.splitlines()]
    assert stories == ["a", "a"]
    # The daemon's thresholds, from dedup: in the configuration, hold for monitor dedup too.
    strict = tmp_path / "strict.yaml"
    strict.write_text("dedup:\n  similarity: 0.95\n  containment: 0.95\n", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(_dedup_lines()))
    assert main(["--config", str(strict), "dedup"]) == 0
    stories = [json.loads(line)["cluster"] for line in capsys.readouterr().out.splitlines()]
    assert stories == ["a", "b"]
    # A configuration named but missing is still an error.
    assert main(["--config", str(tmp_path / "absent.yaml"), "dedup"]) == 2
