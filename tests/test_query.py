from dataclasses import replace

import pytest

from monitor.match.evaluate import CompiledWatchlist
from monitor.match.query import QueryError, all_atoms, parse_query, positive_atoms
from monitor.match.query_ast import And, Atom, Near, Node, Not, Or
from monitor.model import FIELDS


def word(text: str, field: str | None = None) -> Atom:
    return Atom(text, 0, field=field)


def phrase(text: str, field: str | None = None) -> Atom:
    return Atom(text, 0, field=field, phrase=True)


def prefix(text: str, field: str | None = None) -> Atom:
    return Atom(text, 0, field=field, wildcard=True)


def near(left: Atom | tuple[Atom, ...], right: Atom | tuple[Atom, ...], distance: int) -> Near:
    """A NEAR of two atoms, or of OR groups of atoms given as tuples."""
    return Near(
        left if isinstance(left, tuple) else (left,),
        right if isinstance(right, tuple) else (right,),
        distance,
        0,
    )


def no(child: Node) -> Not:
    return Not(child, 0)


def and_(*children: Node) -> And:
    return And(children)


def or_(*children: Node) -> Or:
    return Or(children)


def without_positions(node: Node) -> Node:
    """The tree with every position set to 0, to compare shapes."""
    if isinstance(node, Atom):
        return replace(node, position=0)
    if isinstance(node, Near):
        left = tuple(replace(atom, position=0) for atom in node.left)
        right = tuple(replace(atom, position=0) for atom in node.right)
        return Near(left, right, node.distance, 0)
    if isinstance(node, Not):
        return Not(without_positions(node.child), 0)
    return type(node)(tuple(without_positions(child) for child in node.children))


PARSED: dict[str, tuple[str, Node]] = {
    "one word": ("OTAN", word("OTAN")),
    "explicit AND": ("Stoltenberg AND Ukraine", and_(word("Stoltenberg"), word("Ukraine"))),
    "implicit AND": ("Stoltenberg Ukraine", and_(word("Stoltenberg"), word("Ukraine"))),
    "OR": ("Ukraine OR Kyiv", or_(word("Ukraine"), word("Kyiv"))),
    "design example": (
        "Stoltenberg AND (Ukraine OR Kyiv)",
        and_(word("Stoltenberg"), or_(word("Ukraine"), word("Kyiv"))),
    ),
    "AND binds tighter than OR": ("a OR b c", or_(word("a"), and_(word("b"), word("c")))),
    "explicit AND binds tighter than OR": (
        "a AND b OR c",
        or_(and_(word("a"), word("b")), word("c")),
    ),
    "NOT binds tighter than AND": ("NOT a b", and_(no(word("a")), word("b"))),
    "NOT after a word is AND NOT": ("a NOT b", and_(word("a"), no(word("b")))),
    "AND NOT": ("a AND NOT b", and_(word("a"), no(word("b")))),
    "double NOT": ("a NOT NOT b", and_(word("a"), no(no(word("b"))))),
    "NOT of a group": ("a NOT (b OR c)", and_(word("a"), no(or_(word("b"), word("c"))))),
    "NEAR binds tighter than NOT": (
        "x NOT a NEAR/2 b",
        and_(word("x"), no(near(word("a"), word("b"), 2))),
    ),
    "NEAR binds tighter than AND": (
        "x a NEAR/2 b",
        and_(word("x"), near(word("a"), word("b"), 2)),
    ),
    "lowercase operators are words": (
        "war and peace or not",
        and_(word("war"), word("and"), word("peace"), word("or"), word("not")),
    ),
    "mixed-case operators are words": ("Or And", and_(word("Or"), word("And"))),
    "AND chains flatten": (
        "a AND (b AND c) d",
        and_(word("a"), word("b"), word("c"), word("d")),
    ),
    "OR chains flatten": ("(a OR b) OR (c OR d)", or_(word("a"), word("b"), word("c"), word("d"))),
    "a group of one collapses": ("((a))", word("a")),
    "operators glued to parentheses": ("(a)OR(b)", or_(word("a"), word("b"))),
    "straight quotes": ('"zone d\'exclusion aérienne"', phrase("zone d'exclusion aérienne")),
    "French quotes with spaces inside": (
        "« zone d’exclusion aérienne »",
        phrase("zone d’exclusion aérienne"),
    ),
    "French quotes with no-break spaces": ("«\u00a0Otan\u202f»", phrase("Otan")),
    "curly quotes": ("“no-fly zone” Libye", and_(phrase("no-fly zone"), word("Libye"))),
    "operators inside quotes are words": ('"AND OR NOT"', phrase("AND OR NOT")),
    "elided word": ("l'Otan", word("l'Otan")),
    "wildcard": ("sanction*", prefix("sanction")),
    "wildcard of exactly four letters": ("arme*", prefix("arme")),
    "wildcard with accents": ("évén*", prefix("évén")),
    "wildcard after an elision": ("l'arme*", prefix("l'arme")),
    "wildcard with digits": ("covid19*", prefix("covid19")),
    "title scope": ("title:OTAN", word("OTAN", "title")),
    "scope of a phrase": ('summary:"zone d\'exclusion"', phrase("zone d'exclusion", "summary")),
    "scope of a wildcard": ("content:sanction*", prefix("sanction", "content")),
    "scope with French quotes": ("title:«Otan»", phrase("Otan", "title")),
    "scope names are case-insensitive": ("Title:OTAN", word("OTAN", "title")),
    "scope of a group": (
        "title:(a OR b NOT c)",
        or_(word("a", "title"), and_(word("b", "title"), no(word("c", "title")))),
    ),
    "the same scope nested": ("title:(a title:b)", and_(word("a", "title"), word("b", "title"))),
    "scope applies to one atom only": ("title:a b", and_(word("a", "title"), word("b"))),
    "a time is a word": ("10:30 réunion", and_(word("10:30"), word("réunion"))),
    "a URL is a word": ("http://example.org", word("http://example.org")),
    "a word ending in a colon": ("Note: Otan", and_(word("Note:"), word("Otan"))),
    "scope of a time": ("title:10:30", word("10:30", "title")),
    "NEAR": ("Peskov NEAR/5 Kremlin", near(word("Peskov"), word("Kremlin"), 5)),
    "NEAR/0": ("a NEAR/0 b", near(word("a"), word("b"), 0)),
    "NEAR of phrases and wildcards": (
        '"zone d\'exclusion" NEAR/3 sanction*',
        near(phrase("zone d'exclusion"), prefix("sanction"), 3),
    ),
    "NEAR with both sides scoped alike": (
        "title:a NEAR/2 title:b",
        near(word("a", "title"), word("b", "title"), 2),
    ),
    "NEAR with one side scoped scopes both": (
        "a NEAR/2 content:b",
        near(word("a", "content"), word("b", "content"), 2),
    ),
    "NEAR inside a scoped group": (
        "summary:(a NEAR/2 b)",
        near(word("a", "summary"), word("b", "summary"), 2),
    ),
    # docs/design.md §4 rule 10: either side of NEAR may be an OR group of words and phrases.
    "NEAR of two OR groups": (
        "(gaz OR gas) NEAR/8 (Russie OR Russia)",
        near((word("gaz"), word("gas")), (word("Russie"), word("Russia")), 8),
    ),
    "NEAR of a group and a word": (
        '(gaz OR "gaz naturel") NEAR/3 Russie',
        near((word("gaz"), phrase("gaz naturel")), word("Russie"), 3),
    ),
    "NEAR of a word and a group": (
        "Russie NEAR/3 (gaz OR pétrole*)",
        near(word("Russie"), (word("gaz"), prefix("pétrole")), 3),
    ),
    "NEAR of a one-word group": ("(gaz) NEAR/3 Russie", near(word("gaz"), word("Russie"), 3)),
    "NEAR of a scoped group scopes both sides": (
        "title:(gaz OR gas) NEAR/3 Russie",
        near((word("gaz", "title"), word("gas", "title")), word("Russie", "title"), 3),
    ),
    "NEAR of a group with one scoped word scopes all": (
        "(gaz OR title:gas) NEAR/3 Russie",
        near((word("gaz", "title"), word("gas", "title")), word("Russie", "title"), 3),
    ),
    "NEAR groups beside other clauses": (
        "Europe (gaz OR gas) NEAR/8 (Russie OR Russia) OR (a OR b)",
        or_(
            and_(
                word("Europe"),
                near((word("gaz"), word("gas")), (word("Russie"), word("Russia")), 8),
            ),
            word("a"),
            word("b"),
        ),
    ),
    "a group not before NEAR stays a group": (
        "(a OR b) c NEAR/2 d",
        and_(or_(word("a"), word("b")), near(word("c"), word("d"), 2)),
    ),
    "NEAR clauses joined by AND": (
        "a NEAR/2 b AND c NEAR/3 d",
        and_(near(word("a"), word("b"), 2), near(word("c"), word("d"), 3)),
    ),
    "positive AND with a non-positive group": (
        "a (b OR NOT c)",
        and_(word("a"), or_(word("b"), no(word("c")))),
    ),
}


@pytest.mark.parametrize(("query", "expected"), PARSED.values(), ids=PARSED.keys())
def test_queries_parse_to_their_tree(query: str, expected: Node) -> None:
    assert without_positions(parse_query(query)) == expected


def test_positions_are_character_offsets_of_each_part() -> None:
    assert parse_query('a NOT title:"b c" NEAR/2 dmitr*') == And(
        (
            Atom("a", 0),
            Not(
                Near(
                    (Atom("b c", 12, field="title", phrase=True),),
                    (Atom("dmitr", 25, field="title", wildcard=True),),
                    distance=2,
                    position=18,
                ),
                position=2,
            ),
        )
    )


# (query, 0-based position, fragment of the message)
ERRORS: dict[str, tuple[str, int, str]] = {
    "empty": ("", 0, "expected at least one word"),
    "blank": ("  \n ", 0, "expected at least one word"),
    "NEAR/ without a number": ("Peskov NEAR/ Kremlin", 7, "expected a number after NEAR/"),
    "NEAR without a slash": ("a NEAR b", 2, "expected a number after NEAR/ (e.g. NEAR/5)"),
    "NEAR/ with a word": ("a NEAR/five b", 2, "expected a number after NEAR/"),
    "NEAR with a negative number": ("a NEAR/-1 b", 2, "expected a number after NEAR/"),
    "near in lowercase": ("a near/3 b", 2, "expected NEAR/3 in capitals"),
    "NEAR chain": ("a NEAR/3 b NEAR/3 c", 11, "expected AND between NEAR clauses"),
    "NEAR of NOT": ("a NEAR/3 NOT b", 9, "expected a word, phrase or (… OR …) group after"),
    "NEAR at the end": ("a NEAR/3", 2, "expected a word, phrase or (… OR …) group after NEAR/3"),
    "NEAR at the start": ("NEAR/3 b", 0, "expected a word, phrase or (… OR …) group before"),
    "AND inside a NEAR group": (
        "(gaz AND gas) NEAR/3 c",
        5,
        "expected OR or ) in a NEAR group, found AND (only OR joins",
    ),
    "implicit AND inside a NEAR group": (
        "c NEAR/3 (gaz gas)",
        14,
        "expected OR or ) in a NEAR group, found gas",
    ),
    "NOT inside a NEAR group": (
        "(gaz OR NOT gas) NEAR/3 c",
        8,
        "expected a word or phrase in a NEAR group, found NOT",
    ),
    "nested group inside a NEAR group": (
        "((a OR b) OR c) NEAR/3 d",
        1,
        "expected a word or phrase in a NEAR group, found (",
    ),
    "NEAR inside a NEAR group": (
        "(a NEAR/2 b) NEAR/3 d",
        3,
        "expected OR or ) in a NEAR group, found NEAR/2",
    ),
    "unclosed NEAR group": ("a NEAR/3 (b OR c", 9, "expected ) to close this ("),
    "NEAR group across fields": (
        "(title:a OR summary:b) NEAR/3 c",
        23,
        "expected both sides of NEAR in one field, found title and summary",
    ),
    "NEAR of a group scoped inside another field": (
        "title:(a NEAR/3 summary:(b OR c))",
        16,
        "expected no other field inside title:( ), found summary:",
    ),
    "NEAR across fields": (
        "title:a NEAR/3 summary:b",
        8,
        "expected both sides of NEAR in one field, found title and summary",
    ),
    "missing )": ("a AND (b OR c", 6, "expected ) to close this ("),
    "missing ) of an outer group": ("(a (b) c", 0, "expected ) to close this ("),
    "( at the end": ("a (", 2, "expected ) to close this ("),
    "stray )": ("a OR b)", 6, "expected an opening ( for this )"),
    "stray ) first": (") a", 0, "expected an opening ( for this )"),
    "empty parentheses": ("a ( ) b", 2, "expected a query inside the parentheses"),
    "AND at the end": ("a AND", 2, "expected a word, phrase or ( after AND"),
    "OR at the start": ("OR b", 0, "expected a word, phrase or ( before OR"),
    "AND at the start of a group": ("a (AND b)", 3, "expected a word, phrase or ( before AND"),
    "two operators": ("a AND OR b", 6, "expected a word, phrase or ( after AND, found OR"),
    "operator before )": ("(a OR) b", 5, "expected a word, phrase or ( after OR, found )"),
    "NOT at the end": ("a NOT", 2, "expected a word, phrase or ( after NOT"),
    "unterminated quote": ("a \"zone d'exclusion", 2, 'expected a closing " for the phrase'),
    "unterminated French quote": ("« zone", 0, "expected a closing » for the phrase"),
    "French quote closed by a straight one": ('«zone"', 0, "expected a closing »"),
    "stray closing quote": ("zone »", 5, "expected an opening « before »"),
    "empty phrase": ('a ""', 2, "expected at least one word between the quotes"),
    "blank phrase": ("« »", 0, "expected at least one word between the quotes"),
    "wildcard of three letters": ("a arm*", 2, "expected at least 4 letters before *"),
    "wildcard after a short last word": ("no-fly*", 0, "expected at least 4 letters before *"),
    "wildcard of digits": ("2024*", 0, "expected at least 4 letters before *"),
    "star alone": ("a *", 2, "expected at least 4 letters before *"),
    "star in the middle": ("sanc*tion", 4, "expected * only at the end of a word"),
    "two stars": ("sanction**", 8, "expected * only at the end of a word"),
    "star inside a phrase": ('"sanction* économique"', 9, "expected whole words inside quotes"),
    "punctuation alone": ("Tom & Jerry", 4, "expected a word with letters or digits, found '&'"),
    "minus to exclude": ("Otan -football", 5, "expected NOT to exclude a word: write NOT football"),
    "unknown field": ("author:x", 0, "unknown field 'author'; expected title, summary or content"),
    "unknown field before a group": ("a via:(b)", 2, "unknown field 'via'"),
    "field followed by a space": ("title: Otan", 0, "expected a word, phrase or ( right after"),
    "field at the end": ("a title:", 2, "right after title:"),
    "field of an operator": ("title:AND x", 6, "expected a word, phrase or ( after title:"),
    "field of a field": ("title:summary:x", 6, "after title:, found summary:"),
    "other field in a scoped group": (
        "title:(a summary:b)",
        9,
        "expected no other field inside title:( ), found summary:",
    ),
    "only NOT": ("NOT a", 0, "the query can hold without any of its words occurring"),
    "OR NOT": ("a OR NOT b", 5, "add a positive term (NOT only removes matches)"),
    "only NOTs": ("NOT a NOT b", 0, "can hold without any of its words"),
    "NOT of a group only": ("(NOT a) OR b", 1, "can hold without any of its words"),
    "double NOT only": ("NOT NOT a", 0, "can hold without any of its words"),
    "nested OR NOT": ("(a OR NOT b) (c OR NOT d)", 6, "can hold without any of its words"),
}


@pytest.mark.parametrize(("query", "position", "fragment"), ERRORS.values(), ids=ERRORS.keys())
def test_mistakes_are_located_and_explained(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert (caught.value.position, query) == (position, query)
    assert fragment in caught.value.message


def test_error_text_counts_positions_from_one() -> None:
    # QueryError is a ValueError, so pydantic validators may let it through unchanged.
    with pytest.raises(ValueError, match=r"^at position") as caught:
        parse_query("Peskov NEAR/ Kremlin")
    assert str(caught.value) == "at position 8: expected a number after NEAR/ (e.g. NEAR/5)"


def test_positive_and_all_atoms_follow_query_order() -> None:
    node = parse_query('Otan NOT (football OR "coupe du monde") title:a NEAR/2 b OR sanction*')
    assert [atom.text for atom in all_atoms(node)] == [
        "Otan",
        "football",
        "coupe du monde",
        "a",
        "b",
        "sanction",
    ]
    assert [atom.text for atom in positive_atoms(node)] == ["Otan", "a", "b", "sanction"]
    assert positive_atoms(node)[1].field == "title"


@pytest.mark.parametrize(
    ("query", "needs"),
    [
        ("a AND b", [{"a", "b"}]),
        ("a OR b", [{"a"}, {"b"}]),
        ("a AND (b OR c)", [{"a", "b"}, {"a", "c"}]),
        ("(a OR b) AND (a OR c)", [{"a"}, {"b", "c"}]),
        ("a NOT b", [{"a"}]),
        ("a OR (b NOT c)", [{"a"}, {"b"}]),
        ("(a OR b) NEAR/3 c", [{"a", "c"}, {"b", "c"}]),
        ("title:a OR b", [{"a"}, {"b"}]),
        # Past 16 sets they merge into the words all share: `a` alone, a looser need.
        (" AND ".join(f"(a{n} OR b{n})" for n in range(5)) + " AND a", [{"a"}]),
    ],
)
def test_a_query_needs_one_set_of_its_words_all_found(query: str, needs: list[set[str]]) -> None:
    """Matching walks a query only when one of these sets of words is all in the item."""
    tree = parse_query(query)
    texts = sorted({atom.text for atom in all_atoms(tree)})
    atom_units = {atom: texts.index(atom.text) for atom in all_atoms(tree)}
    watchlist = CompiledWatchlist("w", FIELDS, {}, {}, tree, query, atom_units)
    found = [{texts[unit] for unit in units} for units in watchlist.query_needs]
    assert sorted(found, key=sorted) == sorted(needs, key=sorted)
