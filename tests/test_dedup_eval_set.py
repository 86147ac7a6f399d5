"""The story-clustering evaluation set (tests/dedup_eval) is well-formed and reproducible."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from tests.dedup_eval.build import ITEMS_PATH, build_items, load_items, load_stories, render

ITEM_FIELDS = ["id", "feed", "url", "title", "summary", "content", "published", "language"]
LABEL_FIELDS = ["story", "kind", "transforms"]


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return load_items()


@pytest.fixture(scope="module")
def by_story(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        stories[item["story"]].append(item)
    return stories


def test_size(items: list[dict[str, Any]], by_story: dict[str, list[dict[str, Any]]]) -> None:
    assert len(items) >= 100
    assert len(by_story) >= 30
    assert sum(story.endswith("-indep") for story in by_story) >= 10


def test_every_item_has_the_item_fields_then_the_labels(items: list[dict[str, Any]]) -> None:
    for item in items:
        assert list(item) == ITEM_FIELDS + LABEL_FIELDS, item["id"]
        assert item["kind"] in {"original", "copy", "summary", "independent"}


def test_ids_are_unique(items: list[dict[str, Any]]) -> None:
    assert len({item["id"] for item in items}) == len(items)


def test_arrival_order_is_strictly_chronological(items: list[dict[str, Any]]) -> None:
    times = [datetime.fromisoformat(item["published"]) for item in items]
    assert all(earlier < later for earlier, later in pairwise(times))


def test_each_story_starts_with_its_original_and_has_only_one(
    by_story: dict[str, list[dict[str, Any]]],
) -> None:
    for story, story_items in by_story.items():
        first_kind = "independent" if story.endswith("-indep") else "original"
        kinds = [item["kind"] for item in story_items]
        assert kinds[0] == first_kind, story
        assert set(kinds[1:]) <= {"copy", "summary"}, story


def test_originals_have_two_to_six_republications_including_a_full_copy(
    by_story: dict[str, list[dict[str, Any]]],
) -> None:
    for story, story_items in by_story.items():
        kinds = Counter(item["kind"] for item in story_items)
        if not story.endswith("-indep"):
            assert 2 <= kinds["copy"] + kinds["summary"] <= 6, story
            assert kinds["copy"] >= 1, story


def test_summaries_carry_no_content(items: list[dict[str, Any]]) -> None:
    for item in items:
        if item["kind"] == "summary":
            assert item["content"] == "" and item["summary"], item["id"]
        else:
            assert item["content"], item["id"]


def test_hard_negatives_are_present(by_story: dict[str, list[dict[str, Any]]]) -> None:
    stories = {story.id: story for story in load_stories()}
    templates = Counter(s.template for s in stories.values() if s.template is not None)
    assert len(templates) >= 3 and all(n >= 2 for n in templates.values())
    independents = [s for s in stories.values() if s.independent_of is not None]
    assert any(len(by_story[s.id]) > 1 for s in independents), "some write-ups are copied too"
    for story in independents:
        event = stories[str(story.independent_of)]
        assert story.id == f"{event.id}-indep"
        # Written about the same event: published the same day or the next.
        gap = story.published - event.published
        assert abs(gap) < timedelta(days=1), story.id


@pytest.mark.parametrize(
    "transform",
    [
        "boilerplate:spread-the-love",
        "boilerplate:leave-a-reply",
        "boilerplate:xyzscripts",
        "boilerplate:read-also",
        "boilerplate:agency",
        "boilerplate:cookies",
        "boilerplate:newsletter",
        "boilerplate:share",
        "numbers-masked:all",
        "numbers-masked:some",
        "typography:straight-quotes",
        "typography:french-spacing-nbsp",
        "typography:curly-quotes",
        "paragraph-dropped",
        "paragraph-split",
        "paragraphs-merged",
        "html:p",
        "html:entities",
        "summary:lead",
        "summary:first-words",
        "title:rewritten",
        "title:shortened",
        "title:prefixed",
        "title:suffixed",
        "url:tracking",
    ],
)
def test_each_transformation_occurs(items: list[dict[str, Any]], transform: str) -> None:
    assert any(transform in item["transforms"] for item in items)


def test_the_seed_style_copy_is_there(by_story: dict[str, list[dict[str, Any]]]) -> None:
    copies = by_story["otan-stoltenberg-zone-exclusion"][1:]
    farm = next(item for item in copies if "actudumonde24" in item["url"])
    lines = [line for line in farm["content"].splitlines() if line]
    assert lines[0] == "Spread the love"
    assert lines[-2:] == ["Leave A Reply", "Social Media Auto Publish Powered By : XYZScripts.com"]
    assert "XNUMX" in farm["content"]


def test_builder_reproduces_the_committed_file_exactly() -> None:
    assert render(build_items()) == ITEMS_PATH.read_text(encoding="utf-8")


def test_builder_script_check_mode_agrees() -> None:
    script = ITEMS_PATH.parent / "build.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
