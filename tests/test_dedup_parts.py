"""The parts of story folding: cleaning, fingerprints, the copy decision."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from monitor.dedup.clean import RepeatedLines, story_lines, story_words
from monitor.dedup.decide import Candidate, best_match, story_similarity
from monitor.dedup.fingerprint import Fingerprint, fingerprint
from monitor.model import ItemText

STORY = (
    "Le secrétaire général de l’Otan a déclaré mercredi à Bruxelles que l’Alliance "
    "n’enverra pas de troupes en Ukraine.\n"
    "Une zone d’exclusion aérienne signifierait une guerre avec la Russie, a-t-il ajouté, "
    "et les alliés veulent l’éviter à tout prix, a répété Jens Stoltenberg devant la presse.\n"
    "Le sommet extraordinaire de jeudi réunira les trente chefs d’État et de gouvernement, "
    "qui devraient annoncer quatre nouveaux groupements tactiques dans l’est de l’Europe."
)


@pytest.mark.parametrize(
    "junk",
    [
        "Spread the love",
        "Leave A Reply",
        "Social Media Auto Publish Powered By : XYZScripts.com",
        "Partager cet article",
        "Lire aussi : Le prix du gaz s’envole",
        "(Avec AFP)",
        "Nous utilisons des cookies pour améliorer votre expérience.",
        "Abonnez-vous à notre newsletter",
    ],
)
def test_boilerplate_lines_are_not_story(junk: str) -> None:
    assert story_lines(f"{junk}\n{STORY}\n{junk}") == story_lines(STORY)


def test_masked_numbers_and_typography_do_not_change_the_words() -> None:
    original = story_words(story_lines("Il y a 24 heures, « l’OTAN » a frappé… 40 000 fois"))
    copy = story_words(story_lines('Il y a XNUMX heures, "l\'Otan" a frappé... XNUMX fois'))
    assert original == copy


def test_lines_repeated_across_a_feed_are_learned() -> None:
    counter = RepeatedLines()
    for n in range(4):
        counter.add([f"histoire {n}", "cet article est paru dans le journal du soir"])
    assert counter.lines() == frozenset({"cet article est paru dans le journal du soir"})


def item(content: str, title: str = "Titre") -> ItemText:
    return ItemText(title=title, content=content)


def test_a_copy_with_junk_and_a_dropped_paragraph_is_the_same_story() -> None:
    paragraphs = STORY.split("\n")
    copy = "Spread the love\n" + "\n".join(paragraphs[:2]).replace("’", "'") + "\nLeave A Reply"
    assert story_similarity(fingerprint(item(copy)), fingerprint(item(STORY))) is not None


def test_a_lead_summary_finds_and_joins_its_full_text() -> None:
    summary = fingerprint(ItemText(title="Otan", summary=STORY.split("\n")[0]))
    full = fingerprint(item(STORY))
    assert set(summary.probes) & set(full.leads)
    match = best_match(summary, [Candidate.of(1, 10, full)])
    assert match is not None
    assert match.cluster_id == 10


def test_an_independent_write_up_sharing_names_and_a_quote_is_another_story() -> None:
    other = (
        "Jens Stoltenberg a fermé la porte mercredi à Bruxelles à toute intervention de "
        "l’Alliance en Ukraine. « L’Otan n’enverra pas de troupes en Ukraine », a-t-il dit.\n"
        "Pour la Pologne, qui réclamait une mission de paix, c’est un revers : Varsovie "
        "espérait convaincre ses partenaires avant le sommet de jeudi, où trente dirigeants "
        "doivent se retrouver pour renforcer le flanc oriental."
    )
    assert story_similarity(fingerprint(item(other)), fingerprint(item(STORY))) is None


def test_empty_texts_never_match() -> None:
    assert story_similarity(fingerprint(item("")), fingerprint(item(""))) is None


@pytest.mark.parametrize(
    "start",
    [
        "BRUXELLES, 2 mars 2022 (AFP) – ",  # a dateline before the same text
        "Exclusif. Notre correspondant permanent auprès des institutions européennes à Bruxelles "
        "a suivi pour vous toute la conférence de presse de ce mercredi après-midi. ",
    ],
)
def test_a_summary_meets_its_full_text_on_a_lead_key_whatever_comes_first(start: str) -> None:
    full = fingerprint(item(STORY))
    summary = " ".join(STORY.split()[:45])
    for new, old in (
        (fingerprint(ItemText(title="Otan", summary=start + summary)), full),
        (full, fingerprint(ItemText(title="Otan", summary=start + summary))),
        (fingerprint(ItemText(title="Otan", summary=summary)), fingerprint(item(start + STORY))),
    ):
        assert set(new.probes) & set(old.leads)


def test_the_signature_alone_rules_out_an_unrelated_candidate() -> None:
    """Containment needs the candidate's shingles, recomputed from its stored text: only
    candidates whose signature leaves it possible are loaded."""
    more = " ".join(
        f"Le paragraphe p{n} développe la suite s{n} de cette longue dépêche." for n in range(30)
    )
    full = fingerprint(item(f"{STORY}\n{more}"))
    other = fingerprint(
        item(" ".join(f"mot{n} sans aucun rapport avec la conférence {n}" for n in range(20)))
    )
    summary = fingerprint(ItemText(title="Otan", summary=" ".join(STORY.split()[:45])))
    stored = [
        Candidate(2, 20, other.signature, other.words, other.shingle_count),
        Candidate(1, 10, full.signature, full.words, full.shingle_count),
    ]
    asked: list[list[int]] = []

    def load(candidates: Sequence[Candidate]) -> dict[int, Fingerprint]:
        asked.append([candidate.item_id for candidate in candidates])
        return {1: full, 2: other}

    match = best_match(summary, stored, load=load)
    assert match is not None and match.cluster_id == 10
    assert asked == [[1]]
