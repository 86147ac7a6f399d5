"""The curated public surface of feeds/, notify/, pipeline/ and store/: every listed name
resolves, and using one name imports only its own module (the start-up time of `monitor match`
depends on it)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["monitor.feeds", "monitor.notify", "monitor.pipeline", "monitor.store"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    module = importlib.import_module("monitor.feeds")
    with pytest.raises(AttributeError, match="has no attribute 'fetch_everything'"):
        _ = module.fetch_everything


def test_one_name_imports_only_its_module() -> None:
    code = (
        "import sys\n"
        "from monitor.pipeline import item_text_from_json\n"
        "from monitor.feeds import redact_url\n"
        "heavy = ('httpx', 'sqlalchemy', 'apprise', 'feedparser')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_offline_commands_import_no_daemon_library() -> None:
    # `monitor match` and `explain` read JSON lines and match, `check-config` describes the
    # channels' policies: the database, HTTP, Apprise and story folding's numpy would cost them
    # most of their start-up time.
    code = (
        "import sys\n"
        "import monitor.cli, monitor.offline, monitor.notify.policy\n"
        "heavy = ('httpx', 'sqlalchemy', 'alembic', 'apprise', 'feedparser', 'numpy', 'asyncio')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_every_package_ships_in_the_distribution() -> None:
    # A package missing from pyproject.toml works in the editable install of development and
    # CI, and is absent from the one a user installs.
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "monitor").rglob("__init__.py")
    }
    assert found <= listed


def test_a_name_listed_in_two_modules_is_refused() -> None:
    from monitor.exports import lazy_exports

    with pytest.raises(ValueError, match=r"pkg.name is listed in one and two"):
        lazy_exports("pkg", {"one": ["name"], "two": ["name"]})
