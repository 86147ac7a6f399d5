"""One story, one alert (docs/design.md §5, §6), end to end: five republications of the seed
article with other boilerplate, titles and links in five feeds give one email naming the five
outlets; an independent article about the same press conference gives its own email."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.feed_server import FeedServer, rss
from tests.smtp_server import running_smtp_server
from tests.test_end_to_end import body_text, poll, pub_date, write_config

SEED = SHARED / "corpus" / "seed" / "otan-zone-exclusion-aerienne.txt"
sys.path.insert(0, str(Path(__file__).parent / "dedup_eval"))
from build import parse_story  # noqa: E402

INDEPENDENT = (
    Path(__file__).parent / "dedup_eval" / "stories" / "otan-stoltenberg-zone-exclusion-indep.md"
)

# How five outlets republish the seed: their own junk around the text, their own headline.
REPUBLICATIONS = [
    ("L’Otan refuse une zone d’exclusion aérienne", "", ""),
    (
        "EXCLUSIF : Stoltenberg dit non à la zone d’exclusion",
        "Partager cet article\n\n",
        "\n\n(Avec AFP)",
    ),
    (
        "Ukraine : l’Alliance ne veut pas de guerre avec la Russie",
        "",
        "\n\nLire aussi : La météo de demain",
    ),
    (
        "Stoltenberg : « pas de troupes de l’Otan en Ukraine »",
        "Nous utilisons des cookies.\n\n",
        "",
    ),
    ("Otan - Le Journal", "", "\n\nAbonnez-vous à notre newsletter"),
]


def as_html(text: str) -> str:
    return "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in text.split("\n\n"))


@pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")
@pytest.mark.slow
def test_five_copies_one_email_and_an_independent_article_its_own(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    seed = SEED.read_text(encoding="utf-8")
    independent = parse_story(INDEPENDENT)
    with running_smtp_server() as smtp:
        urls = [feed_server.serve(f"/outlet{n}.xml", rss(f"Outlet {n}", [])) for n in range(6)]
        config = write_config(tmp_path, urls, smtp)
        assert poll(config) == 0  # every feed seeded, silently

        for n, (title, head, tail) in enumerate(REPUBLICATIONS):
            text = (
                seed if n % 2 == 0 else seed.replace("’", "'").replace("24 heures", "XNUMX heures")
            )
            item = {
                "guid": f"seed-{n}",
                "title": title,
                "link": f"https://outlet{n}.example/otan-{n}?utm_source=rss&n={n}",
                "description": as_html(head + text + tail),
                "pubDate": pub_date(),
            }
            feed_server.serve(f"/outlet{n}.xml", rss(f"Outlet {n}", [item]))
        write_up = {
            "guid": "indep-1",
            "title": independent.title,
            "link": "https://infoencontinu.example/monde/otan",
            "description": as_html("\n\n".join(independent.paragraphs)),
            "pubDate": pub_date(),
        }
        feed_server.serve("/outlet5.xml", rss("Outlet 5", [write_up]))
        assert poll(config, "--all") == 0

        assert len(smtp.messages) == 2, [message["Subject"] for message in smtp.messages]
        bodies = {message["Subject"]: body_text(message) for message in smtp.messages}
        copies = next(body for subject, body in bodies.items() if independent.title not in subject)
        for n in range(5):
            assert f"Outlet {n}" in copies
        assert "Outlet 5" not in copies
        assert any(independent.title in subject for subject in bodies)
