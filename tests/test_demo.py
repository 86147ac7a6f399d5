"""`monitor demo`: the daemon on the sample feeds it serves on loopback, run as a real process
in an empty folder, without a configuration, a proxy or the user's home."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.demo.sample import Role, sample_feeds
from monitor.notify.console import SEPARATOR

REPO = Path(__file__).resolve().parents[1]
# The demo waits on conditions, each under its own deadline; this one is only for a demo that
# hangs, far beyond what a loaded machine needs.
DEMO_TIMEOUT = 600


def test_the_sample_feeds_are_package_data() -> None:
    folder = resources.files("monitor.demo").joinpath("feeds")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".xml"))
    assert len(names) == 6
    feeds = sample_feeds()
    assert [f"{feed.slug}.xml" for feed in feeds] == names
    roles = [item.role for feed in feeds for item in feed.items]
    assert roles.count(Role.WIRE) == 5
    assert roles.count(Role.ORIGINAL) == 1
    assert roles.count(Role.BOTANIQUE) == 1
    assert all(item.new for feed in feeds for item in feed.items if item.role is not Role.OTHER)
    assert len({item.title for feed in feeds for item in feed.items}) == len(roles)


def test_the_sample_feeds_ship_in_the_distribution() -> None:
    # Package data missing from pyproject.toml is there in the editable install of development
    # and CI, and absent from the one a user installs.
    import tomllib
    from fnmatch import fnmatch

    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = settings["package-data"]["monitor.demo"]
    package = REPO / "monitor" / "demo"
    shipped = [
        path for path in package.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert shipped
    for path in shipped:
        name = path.relative_to(package).as_posix()
        assert any(fnmatch(name, pattern) for pattern in patterns), name


def test_a_stage_document_is_plain_rss_with_dates_back_from_the_start() -> None:
    started = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    for feed in sample_feeds():
        for stage in (1, 2):
            document = feed.document(stage, started)
            assert b"urn:monitor:demo" not in document
            items = ET.fromstring(document).findall("channel/item")
            expected = [item for item in feed.items if stage == 2 or not item.new]
            assert [item.findtext("title") for item in items] == [i.title for i in expected]
            for item in items:
                published = parsedate_to_datetime(item.findtext("pubDate") or "")
                # Within max_age (2 days): the new items can alert.
                assert timedelta(0) < started - published < timedelta(days=1)


def test_demo_takes_no_configuration() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", "monitor.yaml", "demo"])
    assert exit_info.value.code == 2


def _demo(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """`python -m monitor demo` in an empty folder holding a broken monitor.yaml (the demo
    must not read it), with a home and a temporary folder of its own that it must leave empty,
    no MONITOR_CONFIG, no state directory, and no proxy unless `extra_env` names one."""
    home, temporary, cwd = tmp_path / "home", tmp_path / "tmp", tmp_path / "cwd"
    for folder in (home, temporary, cwd):
        folder.mkdir()
    (cwd / "monitor.yaml").write_text("not: [valid\n", encoding="utf-8")
    unset = {"monitor_config", "state_directory", "xdg_state_home", "xdg_data_home"}
    unset |= {f"{scheme}_proxy" for scheme in ("http", "https", "all", "no")}
    env = {key: value for key, value in os.environ.items() if key.lower() not in unset}
    env.update(
        HOME=str(home), TMPDIR=str(temporary), PYTHONPATH=str(REPO), LC_ALL="C.UTF-8", **extra_env
    )
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=DEMO_TIMEOUT,
    )
    assert list(home.iterdir()) == [], "the demo wrote in the home folder"
    assert list(temporary.iterdir()) == [], "the demo left its temporary folder behind"
    return result


def _alerts(stdout: str) -> list[list[str]]:
    """The console channel's messages: the lines before each separator, from the title on."""
    blocks = stdout.split(SEPARATOR + "\n")[:-1]
    return [
        block[block.index("[otan] ") :].splitlines() if "[otan] " in block else [block]
        for block in blocks
    ]


@pytest.mark.slow
def test_demo_alerts_once_per_story_and_never_on_the_backlog_or_botanique(
    tmp_path: Path,
) -> None:
    result = _demo(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    feeds = sample_feeds()
    wire = {
        feed.title: item.title for feed in feeds for item in feed.items if item.role is Role.WIRE
    }
    (original,) = [i.title for feed in feeds for i in feed.items if i.role is Role.ORIGINAL]
    (botanique,) = [i.title for feed in feeds for i in feed.items if i.role is Role.BOTANIQUE]
    backlog = [item.title for feed in feeds for item in feed.items if not item.new]
    alerts = _alerts(result.stdout)
    assert len(alerts) == 2, result.stdout
    titles = [alert[0].removeprefix("[otan] ") for alert in alerts]
    assert original in titles
    (wire_alert,) = [
        alert for alert, title in zip(alerts, titles, strict=True) if title != original
    ]
    # One of the five copies alerted, whichever the daemon stored first; the four others are
    # the outlets its message lists.
    (alerting,) = [outlet for outlet, title in wire.items() if title in wire_alert[0]]
    source = next(line for line in wire_alert if " · " in line).split(" · ")[0]
    assert source == alerting
    (also,) = [line for line in wire_alert if line.startswith("Also published by")]
    assert also.startswith("Also published by (4): ")
    assert set(also.split(": ", 1)[1].split(", ")) == set(wire) - {alerting}
    for title in (botanique, *backlog):
        assert all(title not in line for alert in alerts for line in alert), title
    assert "2 alerts sent" in result.stdout
    summary = result.stdout[result.stdout.index("summary:") :]
    assert f"{botanique} (La Gazette du Sud): no watched term" in summary
    assert "18 items of the first poll (3 of them on otan)" in summary
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_fetches_its_feeds_directly_when_the_environment_names_a_proxy(
    tmp_path: Path,
) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: a proxy that is not there
    result = _demo(tmp_path, HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 alerts sent" in result.stdout
