"""Build the labelled evaluation set for story clustering: stories/*.md -> items.jsonl.

Each story file is one hand-written article. This script publishes it as its original item, then
makes the syndicated copies real republication produces (other titles, other outlets' URLs with
tracking parameters, boilerplate, masked numbers, typography, dropped/split/merged paragraphs,
HTML markup, RSS summaries), and writes every item in arrival order with its label.

    python tests/dedup_eval/build.py            # rewrite items.jsonl
    python tests/dedup_eval/build.py --check    # exit 1 if items.jsonl is not what this builds
    python tests/dedup_eval/build.py --stats    # counts per kind, language and transformation

Deterministic: every story draws from its own generator seeded with SEED and the story id, so
editing one story changes only that story's items (and the ids after it). Only random.random()
is used, whose sequence for an integer seed is the same on every CPython version. Standard
library only.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.entities import codepoint2name
from pathlib import Path
from typing import Any, TypeVar

SEED = 20220323
HERE = Path(__file__).resolve().parent
STORIES_DIR = HERE / "stories"
ITEMS_PATH = HERE / "items.jsonl"

T = TypeVar("T")

# ----------------------------------------------------------------------------------------------
# Outlets. All fictional, all under the reserved .example top-level domain (RFC 2606).


@dataclass(frozen=True)
class Outlet:
    key: str
    name: str
    host: str
    language: str  # the language of what it publishes
    declared_language: str | None  # its feed's tag: "fr", "fr-FR", or none (content farms)
    url_style: str  # article URL shape: regional, portal, farm, wire, aggregator
    habits: frozenset[str]  # what this outlet does to what it republishes


# key, name, host, declared language, URL style, habits
_OUTLET_TABLE = [
    ("lejournal", "Le Journal", "www.lejournal.example", "fr", "portal", "national"),
    ("depechecentre", "La Dépêche du Centre", "www.depechecentre.example", "fr-FR", "regional",
     "regional"),
    ("gazetteducentre", "La Gazette du Centre", "www.gazetteducentre.example", "fr", "regional",
     "regional"),
    ("matindelouest", "Le Matin de l’Ouest", "www.matindelouest.example", "fr-FR", "regional",
     "regional"),
    ("sudsoir", "Sud Soir", "www.sudsoir.example", "fr", "regional", "regional"),
    ("reveildelest", "Le Réveil de l’Est", "www.reveildelest.example", "fr", "regional",
     "regional"),
    ("alpesinfo", "Alpes Info", "alpesinfo.example", "fr", "wire", "regional"),
    ("radiocentre", "Radio Centre Info", "www.radiocentre.example", "fr", "portal", "portal"),
    ("infoencontinu", "L’Info en continu", "www.infoencontinu.example", "fr-FR", "portal",
     "portal"),
    ("ecohebdo", "L’Éco Hebdo", "www.ecohebdo.example", "fr", "portal", "paywall"),
    ("marchesbourse", "Marchés & Bourse", "www.marchesbourse.example", "fr", "wire", "national"),
    # A WordPress farm with the "Social Media Auto Publish" plugin: the seed article's look.
    ("actudumonde24", "Actu du Monde 24", "actudumonde24.example", "fr", "farm",
     "farm wp-autopublish plain"),
    ("lesnouvellesdujour", "Les Nouvelles du Jour", "lesnouvellesdujour.example", "fr:", "farm",
     "farm"),
    ("lefilactu", "Le Fil Actu", "lefilactu.example", "fr", "aggregator", "aggregator"),
    ("dailycourier", "The Daily Courier", "www.dailycourier.example", "en", "portal", "national"),
    ("morningherald", "The Morning Herald", "www.morningherald.example", "en-GB", "portal",
     "portal"),
    ("citypost", "The City Post", "www.citypost.example", "en", "wire", "regional"),
    ("northerngazette", "Northern Gazette", "www.northerngazette.example", "en-GB", "regional",
     "regional"),
    ("coasttimes", "The Coast Times", "www.coasttimes.example", "en", "regional", "regional"),
    ("techledger", "Tech Ledger", "techledger.example", "en", "wire", "paywall"),
    ("breakingnews247", "Breaking News 247", "breakingnews247.example", "en:", "farm", "farm"),
    ("wiredigest", "World Wire Digest", "wiredigest.example", "en", "aggregator", "aggregator"),
]  # fmt: skip
# "fr:" above: publishes French, declares no language.
OUTLETS = {
    key: Outlet(key, name, host, tag[:2], None if tag.endswith(":") else tag, style,
                frozenset(habits.split()))
    for key, name, host, tag, style, habits in _OUTLET_TABLE
}  # fmt: skip


def outlets_of(language: str) -> list[Outlet]:
    return [outlet for outlet in OUTLETS.values() if outlet.language == language]


# ----------------------------------------------------------------------------------------------
# Stories.


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    titles: tuple[str, ...]  # other headlines the same text was published under
    language: str
    published: datetime
    outlet: Outlet
    section: str
    paragraphs: tuple[str, ...]
    independent_of: str | None  # the story this one is a separate write-up of
    template: str | None  # stories sharing an outlet's template and boilerplate
    copy_outlets: tuple[str, ...]  # outlets that must republish it (the seed's case)


def parse_story(path: Path) -> Story:
    """`# Title`, a blank line, `key: value` lines, a blank line, then paragraphs."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")  # a CRLF checkout
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    title_line, meta_block, *paragraphs = blocks
    if not title_line.startswith("# "):
        raise ValueError(f"{path.name}: the first line must be '# Title'")
    meta = dict(line.split(": ", 1) for line in meta_block.splitlines())
    if any(p.startswith("#") or "\n" in p for p in paragraphs):
        raise ValueError(f"{path.name}: paragraphs are single lines separated by blank lines")

    def listed(key: str, separator: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in meta.get(key, "").split(separator) if part.strip())

    return Story(
        id=path.stem,
        title=title_line[2:].strip(),
        titles=listed("titles", " | "),
        language=meta["language"],
        published=datetime.fromisoformat(meta["published"]),
        outlet=OUTLETS[meta["outlet"]],
        section=meta["section"],
        paragraphs=tuple(paragraphs),
        independent_of=meta.get("independent-of"),
        template=meta.get("template"),
        copy_outlets=listed("copy-outlets", ","),
    )


def load_stories() -> list[Story]:
    stories = [parse_story(path) for path in sorted(STORIES_DIR.glob("*.md"))]
    ids = {story.id for story in stories}
    for story in stories:
        if story.independent_of is not None and story.independent_of not in ids:
            raise ValueError(f"{story.id}: independent-of names no story")
    return stories


# ----------------------------------------------------------------------------------------------
# Portable random helpers (random.random() only).


class Dice:
    def __init__(self, *key: str) -> None:
        digest = hashlib.sha256("/".join((str(SEED), *key)).encode()).digest()
        self._random = random.Random(int.from_bytes(digest[:8], "big"))

    def chance(self, probability: float) -> bool:
        return self._random.random() < probability

    def between(self, low: int, high: int) -> int:
        return low + int(self._random.random() * (high - low + 1))

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self._random.random() * len(options))]

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        point = self._random.random() * sum(weight for _, weight in options)
        for option, weight in options:
            point -= weight
            if point < 0:
                return option
        return options[-1][0]

    def shuffled(self, options: Sequence[T]) -> list[T]:
        pool, out = list(options), []
        while pool:
            out.append(pool.pop(int(self._random.random() * len(pool))))
        return out

    def token(self, alphabet: str, length: int) -> str:
        return "".join(self.pick(alphabet) for _ in range(length))


# ----------------------------------------------------------------------------------------------
# Text transformations. Each returns the new text; the caller records the transformation name.

_FR_DATELINE = re.compile(r"^[A-ZÀ-Ý][^,\n]{1,60}(?:\([^)]*\))?, \d{1,2}(?:er)? \w+ \d{4} - ")
_EN_DATELINE = re.compile(r"^[A-Z][A-Z ,.'-]+, \w+ \d{1,2}, \d{4} - ")
_SENTENCE_END = re.compile(r"(?<=[.!?»\"”])\s+(?=[A-ZÀ-Ý«\"“])")
_DIGITS = re.compile(r"(?<![^\W\d_])\d+")  # a digit run not glued to a letter (G7 stays)


def drop_dateline(paragraph: str) -> str:
    for pattern in (_FR_DATELINE, _EN_DATELINE):
        match = pattern.match(paragraph)
        if match:
            rest = paragraph[match.end() :]
            return rest[:1].upper() + rest[1:]
    return paragraph


def sentence_breaks(paragraph: str) -> list[int]:
    return [match.start() for match in _SENTENCE_END.finditer(paragraph)]


def mask_numbers(text: str, dice: Dice, rate: float) -> str:
    """What content farms do: digit runs become "XNUMX" (some of them: the seed article keeps
    "24 mars" and "2014" but prints "XNUMX heures")."""
    return _DIGITS.sub(lambda m: "XNUMX" if dice.chance(rate) else m.group(), text)


def straight_quotes_fr(text: str) -> str:
    text = text.replace("’", "'").replace("« ", '"').replace(" »", '"')
    return text.replace("«", '"').replace("»", '"').replace("…", "...")


def french_spacing(text: str, space: str) -> str:
    """Typeset French: a (narrow) no-break space before : ; ? ! », after «, in 40 000."""
    text = re.sub(r" ([:;?!»])", space + r"\1", text)
    text = text.replace("« ", "«" + space)
    return re.sub(r"(?<=\d) (?=\d{3}\b)", space, text)


def curly_quotes_en(text: str) -> str:
    text = re.sub(r'(^|[\s(\[])"', "\\1\u201c", text)
    return text.replace('"', "\u201d").replace("'", "\u2019")


def long_dashes(text: str, dash: str) -> str:
    return text.replace(" - ", f" {dash} ")


def html_entities(text: str, numeric: bool) -> str:
    """Named entities for every non-ASCII character that has one (&eacute; &rsquo; &nbsp;),
    numeric ones for the rest (or for all: &#233;), as older CMSs write them."""

    def entity(char: str) -> str:
        name = codepoint2name.get(ord(char))
        if ord(char) < 128:
            return char
        return f"&#{ord(char)};" if numeric or name is None else f"&{name};"

    return "".join(entity(char) for char in text)


# ----------------------------------------------------------------------------------------------
# Boilerplate, per language.

BOILERPLATE = {
    "fr": {
        "cookies": [
            "Nous utilisons des cookies pour vous garantir la meilleure expérience sur notre site. "
            "En poursuivant votre navigation, vous acceptez leur utilisation. OK",
            "Ce site utilise des cookies à des fins de mesure d’audience et de publicité. "
            "Paramétrer les cookies | Tout accepter",
        ],
        "newsletter": [
            "Abonnez-vous à notre newsletter pour recevoir l’essentiel de l’actualité "
            "chaque matin.",
            "Newsletter : recevez chaque soir le meilleur de l’info dans votre boîte mail. "
            "Je m’inscris",
        ],
        "share": ["Partager cet article", "Partager sur Facebook Partager sur Twitter Envoyer"],
        "read_also": ["Lire aussi : {title}", "À lire aussi : {title}", "LIRE AUSSI. {title}"],
        "agency": ["(Avec AFP)", "(Avec AFP et Reuters)"],
        "photo": ["Photo d’illustration © DR", "Crédit photo : archives / illustration"],
        "ad": ["Publicité"],
        "paywall": [
            "La suite de cet article est réservée aux abonnés. Déjà abonné ? Se connecter",
            "Il vous reste 60 % de cet article à lire. Abonnez-vous pour lire la suite.",
        ],
        "more": ["Lire la suite sur {outlet}", "Lire la suite", "Continuer la lecture"],
        "source": ["Source : {outlet}"],
        "prefix": ["EXCLUSIF : ", "INFO {upper}. ", "VIDÉO. ", "ALERTE - "],
    },
    "en": {
        "cookies": [
            "We use cookies to improve your experience on our site. By continuing to browse, "
            "you agree to our use of cookies. Accept",
            "This website uses cookies. Manage preferences | Accept all",
        ],
        "newsletter": [
            "Sign up for our morning newsletter and get the day's top stories in your inbox.",
            "Subscribe to our newsletter for breaking news alerts.",
        ],
        "share": ["Share this article", "Share on Facebook Share on Twitter Email"],
        "read_also": ["Read more: {title}", "READ MORE: {title}", "Related: {title}"],
        "agency": ["(With AFP)", "(Additional reporting by agencies)"],
        "photo": ["File photo", "Photo: Stock image"],
        "ad": ["Advertisement"],
        "paywall": [
            "This article is for subscribers only. Already a subscriber? Log in",
            "Continue reading with a subscription.",
        ],
        "more": ["The post {title} appeared first on {outlet}.", "Read more", "Continue reading"],
        "source": ["Source: {outlet}"],
        "prefix": ["EXCLUSIVE: ", "BREAKING: ", "WATCH: ", "UPDATE - "],
    },
}
SPREAD_THE_LOVE = "Spread the love"
LEAVE_A_REPLY = "Leave A Reply"
XYZSCRIPTS = "Social Media Auto Publish Powered By : XYZScripts.com"

# ----------------------------------------------------------------------------------------------
# URLs.


def slugify(title: str) -> str:
    folded = title.lower().replace("’", "-").replace("'", "-").replace("œ", "oe")
    folded = "".join(
        {"à": "a", "â": "a", "ç": "c", "é": "e", "è": "e", "ê": "e", "ë": "e", "î": "i", "ï": "i",
         "ô": "o", "ù": "u", "û": "u", "ü": "u"}.get(char, char) for char in folded
    )  # fmt: skip
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:90].rstrip("-")


def article_url(outlet: Outlet, section: str, title: str, when: datetime, dice: Dice) -> str:
    slug, host, day = slugify(title), outlet.host, when.strftime("%Y/%m/%d")
    number = dice.between(1_000_000, 9_999_999)
    if outlet.url_style == "regional":
        return f"https://{host}/{section}/{slug}-{number}.html"
    if outlet.url_style == "portal":
        return f"https://{host}/{section}/article/{day}/{slug}_{number}_{number % 9973}.html"
    if outlet.url_style == "farm":
        return f"https://{host}/{day}/{slug}/"
    if outlet.url_style == "aggregator":
        return f"https://{host}/r/{dice.token('0123456789abcdef', 12)}"
    return f"https://{host}/{section}/{when.strftime('%Y-%m-%d')}/{slug}"


_CLICK_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def with_tracking(url: str, dice: Dice) -> str:
    parameters = dice.shuffled(
        [
            f"utm_source={dice.pick(['rss', 'twitter', 'facebook', 'newsletter'])}",
            f"utm_medium={dice.pick(['feed', 'social', 'email'])}",
            f"utm_campaign={dice.pick(['une', 'syndication', 'partage', 'daily'])}",
            f"fbclid=IwAR{dice.token(_CLICK_ID_ALPHABET, 40)}",
            f"xtor=RSS-{dice.between(100, 9999)}",
        ]
    )[: dice.between(1, 3)]
    if dice.chance(0.15):  # some French sites put xtor in the fragment
        return f"{url}#xtor=RSS-{dice.between(100, 9999)}"
    return f"{url}?{'&'.join(sorted(parameters, key=lambda p: p.startswith('utm_')))}"


def feed_url(outlet: Outlet, section: str) -> str:
    if outlet.url_style == "farm":
        return f"https://{outlet.host}/feed/"
    if outlet.url_style == "aggregator":
        return f"https://{outlet.host}/rss/all.xml"
    return f"https://{outlet.host}/rss/{section}.xml"


# ----------------------------------------------------------------------------------------------
# One republication.

Item = dict[str, Any]
_ELLIPSES = ("…", " […]", "...", " [...]")


@dataclass
class Retyping:
    """The typography and number masking one outlet's pipeline applies to everything it prints.
    It remembers which of its changes actually altered some text, and how many numbers it masked
    or kept, so an item lists only the transformations it really went through."""

    style: str | None
    dash: str | None
    mask_rate: float | None
    dice: Dice
    changed: set[str] = field(default_factory=set)
    masked: int = 0
    kept: int = 0

    def __call__(self, text: str) -> str:
        steps: list[tuple[str, Callable[[str], str]]] = []
        if self.style == "straight-quotes":
            steps.append((self.style, straight_quotes_fr))
        elif self.style == "french-spacing-nbsp":
            steps.append((self.style, lambda t: french_spacing(t, "\u00a0")))
        elif self.style == "french-spacing-narrow-nbsp":
            steps.append((self.style, lambda t: french_spacing(t, "\u202f")))
        elif self.style == "curly-quotes":
            steps.append((self.style, curly_quotes_en))
        elif self.style == "double-space-nbsp":
            steps.append((self.style, lambda t: t.replace(". ", ".\u00a0 ")))
        dash = self.dash
        if dash is not None:
            steps.append(("long-dash", lambda t: long_dashes(t, dash)))
        for name, step in steps:
            before, text = text, step(text)
            if text != before:
                self.changed.add(f"typography:{name}")
        if self.mask_rate is not None:
            masked = mask_numbers(text, self.dice, self.mask_rate)
            self.masked += masked.count("XNUMX") - text.count("XNUMX")
            self.kept += len(_DIGITS.findall(masked))
            text = masked
        return text

    def names(self) -> list[str]:
        names = sorted(self.changed)
        if self.masked:
            names.append("numbers-masked:some" if self.kept else "numbers-masked:all")
        return names


def choose_retyping(language: str, habits: frozenset[str], dice: Dice) -> Retyping:
    if language == "fr":
        styles: list[tuple[str | None, float]] = [
            (None, 0.45),
            ("straight-quotes", 0.3),
            ("french-spacing-nbsp", 0.15),
            ("french-spacing-narrow-nbsp", 0.1),
        ]
    else:
        styles = [(None, 0.5), ("curly-quotes", 0.35), ("double-space-nbsp", 0.15)]
    style = dice.weighted(styles)
    dash = dice.pick(["–", "—"]) if dice.chance(0.2) else None
    mask_rate = None
    if "wp-autopublish" in habits or ("farm" in habits and dice.chance(0.85)):
        mask_rate = dice.pick([0.35, 0.6, 1.0])
    elif dice.chance(0.05):
        mask_rate = 1.0
    return Retyping(style, dash, mask_rate, dice)


def copy_title(story: Story, outlet: Outlet, retype: Retyping, dice: Dice) -> tuple[str, list[str]]:
    words = story.title.split()
    choices: list[tuple[str, float]] = [("same", 0.3), ("alternate", 0.45 if story.titles else 0)]
    if ": " in story.title:
        choices.append(("after-colon", 0.15))
    if story.template is None and len(words) > 8:
        # Cutting after a few words is what feeds do, but on a templated brief it would leave
        # only the template's words ("Météo du week-end en…"): no reader could tell them apart.
        choices.append(("first-words", 0.15))
    how = dice.weighted(choices)
    title, done = story.title, []
    if how == "alternate":
        title, done = dice.pick(story.titles), ["title:rewritten"]
    elif how == "after-colon":
        rest = re.split(r"\s?: ", story.title, maxsplit=1)[1]
        title, done = rest[:1].upper() + rest[1:], ["title:shortened"]
    elif how == "first-words":
        cut = " ".join(words[: dice.between(5, 7)]).rstrip(",:;")
        title, done = cut + dice.pick(["…", "..."]), ["title:shortened"]
    title = retype(title)
    bp = BOILERPLATE[story.language]
    if dice.chance(0.25 if "farm" in outlet.habits else 0.1):
        prefix = dice.pick(bp["prefix"]).format(upper=outlet.name.upper())
        title, done = prefix + title, [*done, "title:prefixed"]
    if dice.chance(0.5 if outlet.habits & {"national", "portal"} else 0.2):
        title = title + dice.pick([" - {name}", " | {name}"]).format(name=outlet.name)
        done.append("title:suffixed")
    return title, done


def restructure(
    story: Story, outlet: Outlet, summary_only: bool, dice: Dice
) -> tuple[list[str], list[str]]:
    paragraphs, done = list(story.paragraphs), []
    if dice.chance(0.5 if "farm" in outlet.habits else 0.12):
        lead = drop_dateline(paragraphs[0])
        if lead != paragraphs[0]:
            paragraphs[0], done = lead, ["dateline-removed"]
    if summary_only:
        return paragraphs, done
    if len(paragraphs) >= 5 and dice.chance(0.3):
        del paragraphs[dice.between(1, len(paragraphs) - 1)]
        done.append("paragraph-dropped")
    if dice.chance(0.22):
        splittable = [i for i, p in enumerate(paragraphs) if sentence_breaks(p)]
        if splittable:
            i = dice.pick(splittable)
            breaks = sentence_breaks(paragraphs[i])
            at = breaks[len(breaks) // 2]
            paragraphs[i : i + 1] = [paragraphs[i][:at], paragraphs[i][at:].lstrip()]
            done.append("paragraph-split")
    if len(paragraphs) >= 3 and dice.chance(0.22):
        i = dice.between(0, len(paragraphs) - 2)
        paragraphs[i : i + 2] = [paragraphs[i] + " " + paragraphs[i + 1]]
        done.append("paragraphs-merged")
    if ("paywall" in outlet.habits and dice.chance(0.6)) or dice.chance(0.04):
        paragraphs = paragraphs[: max(2, len(paragraphs) // 2)]
        done.append("truncated:paywall")
    return paragraphs, done


def excerpt(paragraphs: Sequence[str], words: int, dice: Dice) -> str:
    return " ".join(" ".join(paragraphs).split()[:words]) + dice.pick(_ELLIPSES)


@dataclass(frozen=True)
class Line:
    text: str
    kind: str  # "story", or the boilerplate kind
    link: str | None = None  # a "read also" line: its label is text[:label_end], a link
    label_end: int = 0


def add_boilerplate(
    lines: list[Line],
    story: Story,
    outlet: Outlet,
    truncated: bool,
    related: Callable[[], tuple[str, str] | None],
    dice: Dice,
) -> list[str]:
    bp, habits, done = BOILERPLATE[story.language], outlet.habits, []
    top: list[Line] = []
    bottom: list[Line] = []

    def add(where: list[Line], kind: str, text: str, first: bool = False) -> None:
        where.insert(0 if first else len(where), Line(text, kind))
        done.append(f"boilerplate:{kind}")

    if "farm" in habits:
        # The plugin's lines are on every page of such a site; other farms vary by theme.
        always = "wp-autopublish" in habits
        if always or dice.chance(0.8):
            add(top, "spread-the-love", SPREAD_THE_LOVE)
        if dice.chance(0.3):
            add(bottom, "source", dice.pick(bp["source"]).format(outlet=story.outlet.name))
        if always or dice.chance(0.6):
            add(bottom, "leave-a-reply", LEAVE_A_REPLY)
        if always or dice.chance(0.5):
            add(bottom, "xyzscripts", XYZSCRIPTS)
    link = related() if habits & {"regional", "national", "portal"} else None
    if link is not None and dice.chance(0.5 if "portal" not in habits else 0.3):
        title, url = link
        label = dice.pick(bp["read_also"]).split("{title}")[0]
        at = dice.between(1, min(3, len(lines) - 1))
        lines.insert(at, Line(label + title, "read-also", url, len(label.rstrip())))
        done.append("boilerplate:read-also")
    if habits & {"regional", "national"} and dice.chance(0.35):
        credit = dice.pick(bp["agency"])
        last = max(i for i, line in enumerate(lines) if line.kind == "story")
        if dice.chance(0.6):
            lines[last] = Line(f"{lines[last].text} {credit}", "story")
        else:
            lines.insert(last + 1, Line(credit, "agency"))
        done.append("boilerplate:agency")
    if ("portal" in habits and dice.chance(0.7)) or dice.chance(0.06):
        add(top, "cookies", dice.pick(bp["cookies"]), first=True)
    if dice.chance(0.2 if "farm" not in habits else 0.05):
        add(top, "photo", dice.pick(bp["photo"]))
    if dice.chance(0.25):
        add(dice.pick([top, bottom]), "share", dice.pick(bp["share"]))
    if "portal" in habits and dice.chance(0.3) and len(lines) > 3:
        lines.insert(dice.between(2, len(lines) - 1), Line(bp["ad"][0], "ad"))
        done.append("boilerplate:ad")
    if truncated:
        add(bottom, "paywall", dice.pick(bp["paywall"]))
    if dice.chance(0.5 if "portal" in habits else 0.15):
        add(bottom, "newsletter", dice.pick(bp["newsletter"]))
    lines[:0] = top
    lines.extend(bottom)
    return done


def render_content(lines: Sequence[Line], dice: Dice, force_html: bool) -> tuple[str, list[str]]:
    if not force_html:
        return dice.pick(["\n\n", "\n\n", "\n"]).join(line.text for line in lines), []
    entities, numeric = dice.chance(0.5), dice.chance(0.3)
    bold_lead = dice.chance(0.3)

    def encode(text: str) -> str:
        text = html.escape(text, quote=False)
        return html_entities(text, numeric) if entities else text

    def markup(line: Line, index: int) -> str:
        text = encode(line.text)
        if line.link is not None:
            label, title = encode(line.text[: line.label_end]), encode(line.text[line.label_end :])
            text = (
                f'<strong>{label}</strong> <a href="{html.escape(line.link)}">{title.strip()}</a>'
            )
        if bold_lead and index == first_story:
            text = f"<strong>{text}</strong>"
        return text

    first_story = next(i for i, line in enumerate(lines) if line.kind == "story")
    parts = [markup(line, i) for i, line in enumerate(lines)]
    style = dice.pick(["p", "p", "p-compact", "br"])
    done = ["html:entities"] if entities else []
    if style == "br":
        return "<div>" + "<br />\n<br />".join(parts) + "</div>", ["html:br", *done]
    joiner = "" if style == "p-compact" else "\n"
    return joiner.join(f"<p>{part}</p>" for part in parts), ["html:p", *done]


def make_copy(
    story: Story,
    outlet: Outlet,
    when: datetime,
    original_url: str,
    summary_only: bool,
    related: Callable[[], tuple[str, str] | None],
    dice: Dice,
) -> Item:
    retype = choose_retyping(story.language, outlet.habits, dice)
    title, done = copy_title(story, outlet, retype, dice)
    paragraphs, structure = restructure(story, outlet, summary_only, dice)
    paragraphs = [retype(p) for p in paragraphs]
    done += structure + retype.names()
    as_html = "plain" not in outlet.habits and (
        ("portal" in outlet.habits and dice.chance(0.85)) or dice.chance(0.25)
    )

    if summary_only:
        if story.template is None and dice.chance(0.5):
            summary, how = paragraphs[0], "summary:lead"
        else:
            # A templated brief's lead is all template; its first ~50 words reach the specifics.
            summary, how = excerpt(paragraphs, dice.between(45, 60), dice), "summary:first-words"
        done.append(how)
        if "aggregator" in outlet.habits and dice.chance(0.6):
            more = dice.pick(BOILERPLATE[story.language]["more"])
            summary = f"{summary} {more.format(title=title, outlet=story.outlet.name)}"
            done.append("boilerplate:read-more")
        if as_html:
            summary = f"<p>{html.escape(summary, quote=False)}</p>"
            done.append("html:p")
        content = ""
    else:
        lines = [Line(p, "story") for p in paragraphs]
        done += add_boilerplate(lines, story, outlet, "truncated:paywall" in done, related, dice)
        content, markup = render_content(lines, dice, as_html)
        done += markup
        how = dice.weighted([("empty", 0.25), ("lead", 0.35), ("words", 0.4)])
        summary = {"empty": "", "lead": paragraphs[0]}.get(how) or excerpt(
            paragraphs, dice.between(25, 55), dice
        )
        if as_html and summary and dice.chance(0.5):
            summary = f"<p>{html.escape(summary, quote=False)}</p>"

    if "aggregator" in outlet.habits and dice.chance(0.6):
        url = with_tracking(original_url, dice)
        done.append("url:original-with-tracking")
    else:
        core = re.sub(r"^[A-ZÉ ]+ ?[:.-] ", "", title).split(" - ")[0].split(" | ")[0]
        url = article_url(outlet, story.section, core, when, dice)
        if dice.chance(0.55):
            url = with_tracking(url, dice)
            done.append("url:tracking")
    return {
        "feed": feed_url(outlet, story.section),
        "url": url,
        "title": title,
        "summary": summary,
        "content": content,
        "published": when,
        "language": outlet.declared_language,
        "story": story.id,
        "kind": "summary" if summary_only else "copy",
        "transforms": sorted(set(done)),
    }


# ----------------------------------------------------------------------------------------------
# The whole set.

_COPIES_OF_ORIGINAL = [(2, 0.2), (3, 0.3), (4, 0.25), (5, 0.15), (6, 0.1)]
_COPIES_OF_INDEPENDENT = [(0, 0.3), (1, 0.3), (2, 0.25), (3, 0.15)]


def copy_delay(dice: Dice) -> timedelta:
    """Most copies follow within hours; some a day or two later; a few near the end of the
    default 7-day window."""
    low, high = dice.weighted([((5, 360), 0.65), ((361, 2880), 0.25), ((2881, 8640), 0.1)])
    return timedelta(minutes=dice.between(low, high), seconds=dice.between(0, 59))


def story_items(story: Story, stories: Sequence[Story]) -> list[Item]:
    dice = Dice(story.id)
    original_url = article_url(story.outlet, story.section, story.title, story.published, dice)
    first = {
        "feed": feed_url(story.outlet, story.section),
        "url": original_url,
        "title": story.title,
        "summary": story.paragraphs[0],
        "content": "\n\n".join(story.paragraphs),
        "published": story.published,
        "language": story.outlet.declared_language,
        "story": story.id,
        "kind": "original" if story.independent_of is None else "independent",
        "transforms": [],
    }
    if "portal" in story.outlet.habits:  # their feeds carry the article as HTML
        first["content"] = "\n".join(
            f"<p>{html.escape(p, quote=False)}</p>" for p in story.paragraphs
        )
        first["transforms"] = ["html:p"]

    count = dice.weighted(
        _COPIES_OF_ORIGINAL if story.independent_of is None else _COPIES_OF_INDEPENDENT
    )
    forced = [OUTLETS[key] for key in story.copy_outlets]
    others = [o for o in outlets_of(story.language) if o != story.outlet and o not in forced]
    full_first = [o for o in dice.shuffled(others) if "aggregator" not in o.habits]
    pool = forced + full_first[:1] + dice.shuffled([o for o in others if o not in full_first[:1]])
    delays = sorted(copy_delay(dice) for _ in range(max(count, len(forced))))
    items = [first]
    for index, (outlet, delay) in enumerate(zip(pool, delays, strict=False)):
        when = story.published + delay
        summary_only = index > 0 and ("aggregator" in outlet.habits or dice.chance(0.12))

        def related(when: datetime = when, outlet: Outlet = outlet) -> tuple[str, str] | None:
            """An earlier article in the same language, which the copy links to as "read also"."""
            earlier = [s for s in stories if s.language == story.language and s.id != story.id
                       and s.published <= when]  # fmt: skip
            if not earlier:
                return None
            other = dice.pick(earlier)
            return other.title, article_url(
                outlet, other.section, other.title, other.published, dice
            )

        items.append(make_copy(story, outlet, when, original_url, summary_only, related, dice))
    return items


def build_items() -> list[Item]:
    stories = load_stories()
    items = [item for story in stories for item in story_items(story, stories)]
    items.sort(key=lambda item: (item["published"], item["story"], item["kind"] != "original"))
    previous: datetime | None = None
    numbered: list[Item] = []
    for index, item in enumerate(items, start=1):
        when = item["published"]
        if previous is not None and when <= previous:  # arrival order is strictly chronological
            when = previous + timedelta(seconds=1)
        previous = when
        numbered.append({"id": f"item-{index:04d}", **item, "published": when.isoformat()})
    return numbered


def render(items: Sequence[Item]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def load_items(path: Path = ITEMS_PATH) -> list[Item]:
    """The committed set, in arrival order."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def stats(items: Sequence[Item]) -> str:
    language = {story.id: story.language for story in load_stories()}

    def counted(values: list[str]) -> str:
        return ", ".join(f"{key} {n}" for key, n in sorted(Counter(values).items()))

    transforms = Counter(name for item in items for name in item["transforms"])
    return "\n".join(
        [
            f"items: {len(items)}, stories: {len(language)}",
            f"items per kind: {counted([item['kind'] for item in items])}",
            f"items per language: {counted([language[item['story']] for item in items])}",
            f"stories per language: {counted(list(language.values()))}",
            "transformations (number of items using each):",
            *(f"  {name}: {n}" for name, n in sorted(transforms.items())),
        ]
    )


def main(argv: Sequence[str]) -> int:
    text = render(build_items())
    if "--check" in argv:
        current = ITEMS_PATH.read_text(encoding="utf-8") if ITEMS_PATH.exists() else ""
        if current != text:
            print(f"{ITEMS_PATH} is stale: run python tests/dedup_eval/build.py", file=sys.stderr)
            return 1
        return 0
    if "--stats" in argv:
        print(stats([json.loads(line) for line in text.splitlines()]))
        return 0
    ITEMS_PATH.write_bytes(text.encode("utf-8"))
    print(f"wrote {text.count(chr(10))} items to {ITEMS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
