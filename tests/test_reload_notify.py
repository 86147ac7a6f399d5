"""A reload as systemd sees it: `monitor run` as a real process with a real $NOTIFY_SOCKET says
RELOADING=1 (with MONOTONIC_USEC=) on SIGHUP and READY=1 when the reload ends, applied or
refused; a new poll_tick takes effect, and keys that need a restart are named."""

from __future__ import annotations

import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_cli import Daemon


@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    # A short path: AF_UNIX addresses are at most 107 bytes, pytest's folders can be longer.
    with tempfile.TemporaryDirectory(prefix="sd-") as folder:
        path = str(Path(folder) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
            receiver.bind(path)
            receiver.settimeout(0.5)
            monkeypatch.setenv("NOTIFY_SOCKET", path)  # the daemon inherits it
            yield receiver


def next_message(receiver: socket.socket, starting: str, timeout: float = 60) -> str:
    """The next datagram that starts with `starting` (others, STATUS= lines, are skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = receiver.recv(4096).decode("utf-8")
        except TimeoutError:
            continue
        if message.startswith(starting):
            return message
    raise AssertionError(f"no {starting!r} from the daemon in {timeout:g} s")


def write(config: Path, *, poll_tick: str = "1s", database: str = "monitor.db") -> None:
    config.write_text(
        f"database: sqlite:///{config.parent / database}\npoll_tick: {poll_tick}\n"
        "channels:\n  terminal: {url: 'console://'}\n"
        "watchlists:\n  - {name: otan, terms: [OTAN]}\n",
        encoding="utf-8",
    )


@pytest.mark.slow
def test_a_reload_is_bracketed_by_reloading_and_ready(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    config = tmp_path / "monitor.yaml"
    write(config)
    daemon = Daemon(config)
    try:
        next_message(notify_socket, "READY=1")
        daemon.wait_for("monitor running")

        write(config, poll_tick="2s", database="other.db")
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        daemon.process.send_signal(signal.SIGHUP)
        reloading = next_message(notify_socket, "RELOADING=1")
        name, _, stamp = reloading.split("\n")[1].partition("=")
        assert name == "MONOTONIC_USEC" and int(stamp) >= before
        next_message(notify_socket, "READY=1")
        daemon.wait_for("polling now every 2 s (poll_tick)")
        restart = daemon.wait_for("take effect at the next restart")
        assert restart.endswith("not now: database")
        daemon.wait_for("configuration reloaded")

        config.write_text("watchlist: []\n", encoding="utf-8")
        daemon.process.send_signal(signal.SIGHUP)
        next_message(notify_socket, "RELOADING=1")
        next_message(notify_socket, "READY=1")  # refused: the running configuration goes on
        daemon.wait_for("reload refused")
    finally:
        status = daemon.stop()
    assert status == 0


def test_a_changed_http_listen_is_named_as_needing_a_restart(tmp_path: Path) -> None:
    from monitor.config.schema import Config
    from monitor.daemon.runtime import keys_needing_restart

    running = Config.model_validate({"http": {"listen": "127.0.0.1:0"}})
    loaded = Config.model_validate({"http": {"listen": "127.0.0.1:9999"}})
    assert keys_needing_restart(running, loaded) == ["http"]
    assert keys_needing_restart(running, running) == []
