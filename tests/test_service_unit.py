"""systemd/monitor.service tells the truth: systemd-analyze accepts it, `ExecReload` refuses an
invalid configuration before any signal, and what the unit promises (credential names, exit
status 2, the stop timeout, its documentation) matches the code and the example."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import EXIT_USAGE
from monitor.config import load_config
from monitor.config.schema import FetchSpec
from tests.daemon_cli import REPO

UNIT = REPO / "systemd" / "monitor.service"
INSTALLED_BINARY = "/opt/monitor/.venv/bin/monitor"


def settings(key: str) -> list[str]:
    """Every value of `key` in the unit, in order (keys such as ExecReload= repeat)."""
    values = []
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        name, found, value = line.partition("=")
        if found and name.strip() == key and not line.lstrip().startswith("#"):
            values.append(value.strip())
    return values


def monitor_binary() -> str:
    """The `monitor` script of the environment running the tests."""
    beside = Path(sys.executable).parent / "monitor"
    found = str(beside) if beside.exists() else shutil.which("monitor")
    if found is None:
        pytest.skip("no `monitor` script installed beside the interpreter")
    return found


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify checks that ExecStart's program exists: the same unit, with this machine's.
    text = UNIT.read_text(encoding="utf-8").replace(INSTALLED_BINARY, monitor_binary())
    copy = tmp_path / "monitor.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # An unknown key or a value it cannot parse is only a warning for systemd: none either.
    assert "monitor.service" not in done.stderr, done.stderr


def _exec_reload(config: Path, main_pid: int) -> list[list[str]]:
    """The unit's ExecReload= command lines as systemd would run them for this service."""
    commands = []
    for line in settings("ExecReload"):
        assert not line.startswith("-"), "a failure of any reload step must fail the reload"
        line = line.replace("${CONFIGURATION_DIRECTORY}/monitor.yaml", str(config))
        line = line.replace("$MAINPID", str(main_pid))
        words = shlex.split(line)
        if words[0] == INSTALLED_BINARY:
            words[0] = monitor_binary()
        commands.append(words)
    return commands


def _run_reload(config: Path, main_pid: int) -> int:
    """systemd's way: the lines one after the other, stopping at the first that fails."""
    for command in _exec_reload(config, main_pid):
        status = subprocess.run(command, capture_output=True, timeout=120).returncode
        if status != 0:
            return status
    return 0


_SIGHUP_TARGET = """
import signal, sys, time
signal.signal(signal.SIGHUP, lambda *_: open(sys.argv[1], "w").close())
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


@pytest.mark.slow
def test_exec_reload_refuses_an_invalid_configuration_and_sends_no_signal(tmp_path: Path) -> None:
    marker = tmp_path / "got-sighup"
    target = subprocess.Popen(
        [sys.executable, "-c", _SIGHUP_TARGET, str(marker)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert target.stdout is not None and target.stdout.readline() == "ready\n"
        config = tmp_path / "monitor.yaml"
        config.write_text("watchlist: []\n", encoding="utf-8")  # an unknown key
        assert _run_reload(config, target.pid) == EXIT_USAGE
        assert target.poll() is None and not marker.exists()

        config.write_text(
            "channels:\n  terminal: {url: 'console://'}\n"
            "watchlists:\n  - {name: otan, terms: [OTAN]}\n",
            encoding="utf-8",
        )
        assert _run_reload(config, target.pid) == 0
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "a valid configuration is signalled to the daemon"
    finally:
        target.send_signal(signal.SIGKILL)
        target.wait(timeout=30)


def test_the_example_url_file_names_a_credential_the_unit_creates(tmp_path: Path) -> None:
    # LoadCredential=ID:DIRECTORY makes every file F of DIRECTORY the credential ID_F.
    [credential] = settings("LoadCredential")
    identifier, directory = credential.split(":", 1)
    example = (REPO / "config" / "example.yaml").read_text(encoding="utf-8")
    found = re.search(r"#   url_file: \$\{CREDENTIALS_DIRECTORY\}/(\S+)", example)
    assert found is not None
    name = found.group(1)
    assert name.startswith(f"{identifier}_")
    file_in_etc = Path(directory) / name.removeprefix(f"{identifier}_")
    assert file_in_etc.parent == Path("/etc/monitor/credentials")
    # The example with its `desk` channel uncommented, loaded as the service would load it.
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / name).write_text("json://127.0.0.1:9/hook\n", encoding="utf-8")
    lines = example.splitlines()
    start = lines.index("  # desk:                                # the URL in " + str(file_in_etc))
    lines[start : start + 2] = ["  desk:", f"    url_file: ${{CREDENTIALS_DIRECTORY}}/{name}"]
    config = tmp_path / "monitor.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_config(config, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert loaded.config.channels["desk"].url == "json://127.0.0.1:9/hook"


def test_the_unit_does_not_restart_an_invalid_configuration() -> None:
    assert settings("RestartPreventExitStatus") == [str(EXIT_USAGE)]
    assert settings("EnvironmentFile") == ["-/etc/monitor/env"]


def test_the_stop_timeout_covers_the_longest_poll_in_flight() -> None:
    # A feed's fetch, its parse (same deadline) and its article pages (three timeouts).
    longest = FetchSpec().timeout * (1 + 1 + 3)
    [stop] = settings("TimeoutStopSec")
    assert stop.endswith("s")
    assert timedelta(seconds=int(stop[:-1])) > longest


def test_the_documentation_is_where_the_readme_installs_it() -> None:
    [documentation] = settings("Documentation")
    installed = documentation.removeprefix("file://")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"README.md {installed}" in readme
