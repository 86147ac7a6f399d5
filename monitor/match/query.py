"""The watchlist query language (docs/design.md §4 rule 10): text -> syntax tree, or a
QueryError that says where and what was expected.

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          neighbours without an operator are ANDed
    unary   := "NOT" unary | near
    near    := side "NEAR/n" side | primary     both sides in one field
    side    := atom | [field ":"] "(" atom ("OR" atom)* ")"
    atom    := [field ":"] (word | "phrase")
    primary := [field ":"] (word | "phrase" | "(" or ")")

Operators are recognised only in capitals (`and`, `or`, `not` are ordinary words). Phrases are
quoted with "…", «…» or “…”. A word may end in `*` (a suffix wildcard) when the word just before
the star has 4+ letters: `sanction*`, `l'arme*`; not `ab*`, `no-fly*`. A field scope is a field
name (any case) and a colon right before a word, a quote or a parenthesis: `title:(a OR b)`
scopes every atom inside. A colon elsewhere is part of a word (`10:30`, `http://x`), but an
alphabetic prefix that is not a field (`author:x`) is refused rather than searched for as text.

Positions are 0-based character offsets into the query; `str(QueryError)` shows them 1-based,
as people count. An atom's position is that of its word or opening quote (after any scope).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from monitor.match.query_ast import And, Atom, Near, Node, Not, Or
from monitor.model import FIELDS

_QUOTES = {'"': '"', "«": "»", "“": "”"}  # opening -> closing
_OPENING = {closing: opening for opening, closing in _QUOTES.items() if closing != opening}
_WILDCARD_MIN_LETTERS = 4
_OPERAND = "a word, phrase or ("
_NEAR_NUMBER = "expected a number after NEAR/ (e.g. NEAR/5)"
_NEAR_SIDE = "a word, phrase or (… OR …) group"
_NEAR_ATOMS = "(NEAR joins two words, phrases or OR groups of them)"
_NEAR_GROUP = (
    "(only OR joins the words of a NEAR group: AND, NOT, NEAR and nested groups are refused)"
)


class QueryError(ValueError):
    """A query that cannot be parsed. `position` is a 0-based offset into the query; `message`
    says what was expected there. `str()` gives the position 1-based: `at position 3: ...`."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"at position {position + 1}: {message}")
        self.position = position
        self.message = message


def parse_query(text: str) -> Node:
    """Parse a watchlist query. Raises QueryError on any mistake, including a query that could
    hold without any of its words occurring (`NOT a`, `a OR NOT b`)."""
    tokens = _Tokenizer(text).tokens()
    if not tokens:
        raise QueryError(0, "expected at least one word")
    node = _Parser(tokens).parse()
    if not _positive(node):
        raise QueryError(
            _negated_part(node).position,
            "the query can hold without any of its words occurring; "
            "add a positive term (NOT only removes matches)",
        )
    return node


def positive_atoms(node: Node) -> tuple[Atom, ...]:
    """The atoms outside any NOT, in query order: at least one must occur for the query to hold."""
    return tuple(_atoms(node, include_negated=False))


def all_atoms(node: Node) -> tuple[Atom, ...]:
    """Every atom of the query, negated or not, in query order."""
    return tuple(_atoms(node, include_negated=True))


def _atoms(node: Node, *, include_negated: bool) -> Iterator[Atom]:
    if isinstance(node, Atom):
        yield node
    elif isinstance(node, Near):
        yield from node.left
        yield from node.right
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from _atoms(child, include_negated=include_negated)
    elif include_negated:
        yield from _atoms(node.child, include_negated=include_negated)


def _positive(node: Node) -> bool:
    """True when the query can only hold if at least one of its words occurs."""
    if isinstance(node, Atom | Near):
        return True
    if isinstance(node, And):
        return any(_positive(child) for child in node.children)
    if isinstance(node, Or):
        return all(_positive(child) for child in node.children)
    return False


def _negated_part(node: Node) -> Not:
    """The NOT that makes a non-positive query hold without its words, to point the error at."""
    if isinstance(node, Not):
        return node
    assert isinstance(node, And | Or)  # atoms and NEAR are positive
    return _negated_part(next(child for child in node.children if not _positive(child)))


# -- tokens ----------------------------------------------------------------------------------

_Kind = Literal["word", "phrase", "scope", "(", ")", "AND", "OR", "NOT", "NEAR"]
_OPERATORS: frozenset[_Kind] = frozenset({"AND", "OR", "NOT", "NEAR"})
_WORD_OPERATORS: dict[str, _Kind] = {"AND": "AND", "OR": "OR", "NOT": "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    written: str  # as in the query, for messages
    position: int
    value: str = ""  # a word (without its star), a phrase's words, or a scope's field
    wildcard: bool = False
    distance: int = 0


class _Tokenizer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[_Token] = []

    def tokens(self) -> list[_Token]:
        index = 0
        while index < len(self.text):
            char = self.text[index]
            if char.isspace():
                index += 1
            elif char in "()":
                self.found.append(_Token("(" if char == "(" else ")", char, index))
                index += 1
            elif char in _QUOTES:
                index = self._phrase(index)
            elif char in _OPENING:
                raise QueryError(index, f"expected an opening {_OPENING[char]} before {char}")
            else:
                index = self._bare(index)
        return self.found

    def _phrase(self, start: int) -> int:
        closing = _QUOTES[self.text[start]]
        end = self.text.find(closing, start + 1)
        if end == -1:
            raise QueryError(start, f"expected a closing {closing} for the phrase opened here")
        inside = self.text[start + 1 : end]
        if "*" in inside:
            raise QueryError(
                start + 1 + inside.index("*"),
                "expected whole words inside quotes (a * works only on a single unquoted word)",
            )
        if not any(char.isalnum() for char in inside):
            raise QueryError(start, "expected at least one word between the quotes")
        written = self.text[start : end + 1]
        self.found.append(_Token("phrase", written, start, inside.strip()))
        return end + 1

    def _bare(self, start: int) -> int:
        end = start
        while end < len(self.text) and not _breaks_word(self.text[end]):
            end += 1
        run = self.text[start:end]
        name = run.partition(":")[0]
        if name != run and self._is_scope(name, start):
            self.found.append(_Token("scope", f"{name}:", start, name.lower()))
            return start + len(name) + 1
        if run in _WORD_OPERATORS:
            self.found.append(_Token(_WORD_OPERATORS[run], run, start))
        elif run == "NEAR" or run.startswith("NEAR/"):
            digits = run[len("NEAR/") :]
            if not (digits.isascii() and digits.isdigit()):
                raise QueryError(start, _NEAR_NUMBER)
            self.found.append(_Token("NEAR", run, start, distance=int(digits)))
        elif run.upper().startswith("NEAR/"):
            raise QueryError(start, f"expected {run.upper()} in capitals, like every operator")
        else:
            self.found.append(_word(run, start))
        return end

    def _is_scope(self, name: str, start: int) -> bool:
        """Whether `name:` at `start` scopes what follows it. Raises QueryError for what looks
        like a scope but cannot be one: an unknown field, or a field without its word."""
        if not name.isalpha():  # `10:30`
            return False
        after = start + len(name) + 1
        following = self.text[after] if after < len(self.text) else ""
        attempt = following.isalnum() or following in _QUOTES or following == "("
        if name.lower() in FIELDS:
            if not attempt:
                raise QueryError(start, f"expected {_OPERAND} right after {name}: (no space)")
            return True
        if attempt:
            expected = f"{', '.join(FIELDS[:-1])} or {FIELDS[-1]}"
            raise QueryError(start, f"unknown field {name!r}; expected {expected}")
        return False


def _breaks_word(char: str) -> bool:
    return char.isspace() or char in "()" or char in _QUOTES or char in _OPENING


def _word(run: str, start: int) -> _Token:
    if run.startswith("-") and run[1:2].isalnum():
        # Search engines read `-football` as "without football"; here it would mean the opposite.
        raise QueryError(start, f"expected NOT to exclude a word: write NOT {run[1:]}")
    star = run.find("*")
    if star == -1:
        if not any(char.isalnum() for char in run):
            raise QueryError(start, f"expected a word with letters or digits, found {run!r}")
        return _Token("word", run, start, run)
    if star != len(run) - 1:
        raise QueryError(start + star, "expected * only at the end of a word (as in sanction*)")
    prefix = run[:-1]
    # Count the word just before the star: the matcher splits `l'arme*` and `no-fly*` into
    # words, and a short last word would expand to too many words.
    if sum(char.isalpha() for char in _last_word(prefix)) < _WILDCARD_MIN_LETTERS:
        raise QueryError(
            start, f"expected at least {_WILDCARD_MIN_LETTERS} letters before * (as in sanction*)"
        )
    return _Token("word", run, start, prefix, wildcard=True)


def _last_word(text: str) -> str:
    start = len(text)
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    return text[start:]


# -- parser ----------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens, one method per precedence level (lowest first)."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.scope: str | None = None  # the field of an enclosing `title:(...)`
        self.depth = 0  # open parentheses

    def parse(self) -> Node:
        node = self._or()
        extra = self._peek()
        if extra is not None:  # only a `)` stops every level
            raise QueryError(extra.position, "expected an opening ( for this )")
        return node

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek_kind() == "OR":
            self._take()
            children.append(self._and())
        return _joined(Or, children)

    def _and(self) -> Node:
        children = [self._unary()]
        while True:
            kind = self._peek_kind()
            if kind == "AND":
                self._take()
            elif kind not in ("word", "phrase", "scope", "(", "NOT"):
                return _joined(And, children)
            children.append(self._unary())

    def _unary(self) -> Node:
        if self._peek_kind() == "NOT":
            operator = self._take()
            return Not(self._unary(), operator.position)
        return self._near()

    def _near(self) -> Node:
        left_index = self.index
        if self._group_before_near():
            left = self._near_group()
        else:
            node = self._primary()
            if self._peek_kind() != "NEAR":
                return node
            # A group before NEAR took the branch above: what _primary read is a word or phrase.
            assert isinstance(node, Atom) and self._starts_atom(left_index)
            left = (node,)
        operator = self._take()
        right_token = self._peek()
        if right_token is None:
            raise QueryError(operator.position, f"expected {_NEAR_SIDE} after {operator.written}")
        if self._group_follows(self.index):
            right = self._near_group()
        elif self._starts_atom(self.index):
            atom = self._primary()
            assert isinstance(atom, Atom)
            right = (atom,)
        else:
            raise QueryError(
                right_token.position,
                f"expected {_NEAR_SIDE} after {operator.written} {_NEAR_ATOMS}",
            )
        following = self._peek()
        if following is not None and following.kind == "NEAR":
            raise QueryError(following.position, f"expected AND between NEAR clauses {_NEAR_ATOMS}")
        fields = list(dict.fromkeys(atom.field for atom in (*left, *right) if atom.field))
        if len(fields) > 1:
            raise QueryError(
                operator.position,
                f"expected both sides of NEAR in one field, found {' and '.join(fields)}",
            )
        # One atom scoped means all: NEAR asks for one field, and the engine need not guess.
        field = fields[0] if fields else None
        return Near(
            tuple(replace(atom, field=field) for atom in left),
            tuple(replace(atom, field=field) for atom in right),
            operator.distance,
            operator.position,
        )

    def _group_follows(self, index: int) -> bool:
        """Whether the tokens from `index` open a group, possibly scoped (`title:(`)."""
        if index < len(self.tokens) and self.tokens[index].kind == "scope":
            index += 1
        return index < len(self.tokens) and self.tokens[index].kind == "("

    def _group_before_near(self) -> bool:
        """Whether a (possibly scoped) parenthesised group starts here and NEAR follows it. An
        unbalanced group is left to the ordinary parse, which says where its ) is missing."""
        if not self._group_follows(self.index):
            return False
        opening = self.index + (self.tokens[self.index].kind == "scope")
        depth = 0
        for index in range(opening, len(self.tokens)):
            kind = self.tokens[index].kind
            depth += (kind == "(") - (kind == ")")
            if depth == 0:
                return index + 1 < len(self.tokens) and self.tokens[index + 1].kind == "NEAR"
        return False

    def _near_group(self) -> tuple[Atom, ...]:
        """A side of NEAR written as a group: words and phrases joined by OR, nothing else
        (docs/design.md §4 rule 10), since NEAR pairs single places in one field."""
        scope = self._peek()
        assert scope is not None
        outer = self.scope
        if scope.kind == "scope":
            if self.scope is not None and scope.value != self.scope:
                raise QueryError(
                    scope.position,
                    f"expected no other field inside {self.scope}:( ), found {scope.written}",
                )
            self._take()
            self.scope = scope.value
        try:
            opening = self._take()
            atoms = [self._near_group_atom(opening)]
            while self._peek_kind() == "OR":
                self._take()
                atoms.append(self._near_group_atom(opening))
            closing = self._peek()
            if closing is None:
                raise QueryError(opening.position, "expected ) to close this (")
            if closing.kind != ")":
                raise QueryError(
                    closing.position,
                    f"expected OR or ) in a NEAR group, found {closing.written} {_NEAR_GROUP}",
                )
            self._take()
        finally:
            self.scope = outer
        return tuple(atoms)

    def _near_group_atom(self, opening: _Token) -> Atom:
        token = self._peek()
        if token is None:
            raise QueryError(opening.position, "expected ) to close this (")
        if not self._starts_atom(self.index):
            raise QueryError(
                token.position,
                f"expected a word or phrase in a NEAR group, found {token.written} {_NEAR_GROUP}",
            )
        atom = self._primary()
        assert isinstance(atom, Atom)
        return atom

    def _primary(self) -> Node:
        token = self._peek()
        if token is None or token.kind not in ("word", "phrase", "scope", "("):
            raise self._missing_operand(token)
        self._take()
        if token.kind == "scope":
            return self._scoped(token)
        if token.kind == "(":
            return self._group(token)
        return Atom(
            token.value,
            token.position,
            field=self.scope,
            phrase=token.kind == "phrase",
            wildcard=token.wildcard,
        )

    def _scoped(self, scope: _Token) -> Node:
        if self.scope is not None and scope.value != self.scope:
            raise QueryError(
                scope.position,
                f"expected no other field inside {self.scope}:( ), found {scope.written}",
            )
        if self._peek_kind() not in ("word", "phrase", "("):
            raise self._missing_operand(self._peek())
        outer, self.scope = self.scope, scope.value
        try:
            return self._primary()
        finally:
            self.scope = outer

    def _group(self, opening: _Token) -> Node:
        if self._peek_kind() == ")":
            raise QueryError(opening.position, "expected a query inside the parentheses")
        self.depth += 1
        node = self._or()
        if self._peek_kind() != ")":
            raise QueryError(opening.position, "expected ) to close this (")
        self._take()
        self.depth -= 1
        return node

    def _missing_operand(self, found: _Token | None) -> QueryError:
        """The error for a place where a word, phrase or group should start but does not."""
        previous = self.tokens[self.index - 1] if self.index else None
        if found is not None and found.kind == ")" and self.depth == 0:
            return QueryError(found.position, "expected an opening ( for this )")
        if previous is not None and (previous.kind in _OPERATORS or previous.kind == "scope"):
            if found is None:  # pointing past the end would help nobody
                return QueryError(
                    previous.position, f"expected {_OPERAND} after {previous.written}"
                )
            return QueryError(
                found.position,
                f"expected {_OPERAND} after {previous.written}, found {found.written}",
            )
        if found is None:  # `(` at the very end
            assert previous is not None
            return QueryError(previous.position, "expected ) to close this (")
        expected = _NEAR_SIDE if found.kind == "NEAR" else _OPERAND
        return QueryError(found.position, f"expected {expected} before {found.written}")

    def _starts_atom(self, index: int) -> bool:
        """Whether the tokens from `index` are a word or phrase, possibly scoped."""
        if index < len(self.tokens) and self.tokens[index].kind == "scope":
            index += 1
        return index < len(self.tokens) and self.tokens[index].kind in ("word", "phrase")

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _peek_kind(self) -> str | None:
        token = self._peek()
        return token.kind if token is not None else None

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token


def _joined(kind: type[And] | type[Or], children: list[Node]) -> Node:
    """`kind` of the children, with nested nodes of the same kind flattened into it; a single
    child stands alone."""
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for child in children:
        if isinstance(child, kind):
            flat.extend(child.children)
        else:
            flat.append(child)
    return kind(tuple(flat))
