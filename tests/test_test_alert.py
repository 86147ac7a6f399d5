"""`monitor test-alert CHANNEL`: a sample alert through the channel's real path (render, send,
classify), against a real SMTP server on loopback; the outcome in one line and the exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from tests.smtp_server import running_smtp_server

PASSWORD = "s3cret-pass"


def config_with(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
        f"channels:\n  redaction:\n    url: {url}\n  desk:\n    url: console://\n",
        encoding="utf-8",
    )
    return path


def test_a_working_channel_receives_the_sample_alert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_smtp_server(credentials=("veille", PASSWORD)) as smtp:
        config = config_with(tmp_path, smtp.mailto_url(credentials=f"veille:{PASSWORD}"))
        assert main(["--config", str(config), "test-alert", "redaction"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test alert sent to redaction (mailto://veille:")
    assert PASSWORD not in out
    [message] = smtp.messages
    assert "alerte de test" in str(message["Subject"])
    body = message.get_body(("html", "plain"))
    assert body is not None and "OTAN" in body.get_content()
    assert not (tmp_path / "monitor.db").exists()  # nothing stored


def test_refused_credentials_are_a_permanent_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_smtp_server(credentials=("veille", PASSWORD)) as smtp:
        config = config_with(tmp_path, smtp.mailto_url(credentials="veille:wrong-password"))
        assert main(["--config", str(config), "test-alert", "redaction"]) == 1
    line = capsys.readouterr().out
    assert line.startswith("test alert to redaction (mailto://veille:")
    assert "failed, permanent: fix the channel: " in line
    assert "wrong-password" not in line
    assert smtp.messages == []


def test_a_server_that_refuses_the_message_is_worth_a_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_smtp_server(refuse_at="DATA", refusal="451 Try again later") as smtp:
        config = config_with(tmp_path, smtp.mailto_url())
        assert main(["--config", str(config), "test-alert", "redaction"]) == 1
    assert "failed, worth a retry: " in capsys.readouterr().out


def test_an_unknown_channel_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, "console://")
    assert main(["--config", str(config), "test-alert", "desks"]) == 2
    assert capsys.readouterr().err == (
        f"error: no channel 'desks' in {config} (channels: desk, redaction)\n"
    )
