# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""C loops for the two passes every character of every item goes through: HTML to text
(`monitor.text.html`) and folding (`monitor.text.wordfold`). Each is a fast path for the common
case of its Python module, which stays the reference: a function here returns exactly what the
Python code returns for the same input, or None for input it leaves to it (anything unusual).
tests/test_speedups.py holds them to that, on real feeds and on random text and markup.

Why C loops: the Python code makes a dozen passes over each text (searches, splits, joins,
encodings, translations), each in C but each over every character, with an object per piece;
a loop that reads each character once costs a fraction (docs/design.md §4, performance). The
loops are written once for the three widths of a Python string (`_Unit`), so the compiler makes
a loop for each without a test of the width per character. Without a C compiler (or with
MONITOR_PURE_PYTHON=1) this module is absent, and the Python code does all the work.

It also holds `new_tuple`, which makes the named tuples of the engine (a fold per field, a span
per candidate, a hit per match) in one allocation (`monitor/text/tuples.py`).
"""

from cpython.dict cimport PyDict_GetItemWithError
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport Py_UNICODE_ISSPACE
from cpython.ref cimport PyObject
from libc.string cimport memchr, memcpy

cdef extern from "Python.h":
    ctypedef unsigned char Py_UCS1
    ctypedef unsigned short Py_UCS2
    object PyUnicode_FromKindAndData(int kind, const void *buffer, Py_ssize_t size)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    unsigned char *PyUnicode_1BYTE_DATA(object text)
    void *PyUnicode_DATA(object text)
    int PyUnicode_KIND(object text)
    enum:
        PyUnicode_1BYTE_KIND
        PyUnicode_2BYTE_KIND
        PyUnicode_4BYTE_KIND

ctypedef fused _Unit:
    Py_UCS1
    Py_UCS2
    Py_UCS4

# `monitor.text.html`'s block break (NUL never survives from the input there).
cdef Py_UCS4 _BREAK = 0
cdef Py_UCS4 _LONG_S = 0x017F
cdef Py_UCS4 _SPACE = 32


cdef inline bint _ascii_whitespace(Py_UCS4 char) noexcept:
    return char == 32 or char == 9 or char == 10 or char == 13 or char == 12


cdef inline bint _ascii_letter(Py_UCS4 char) noexcept:
    return (65 <= char <= 90) or (97 <= char <= 122)


cdef inline bint _ascii_digit(Py_UCS4 char) noexcept:
    return 48 <= char <= 57


cdef inline bint _hex_digit(Py_UCS4 char) noexcept:
    return _ascii_digit(char) or (65 <= char <= 70) or (97 <= char <= 102)


cdef inline bint _tag_start(Py_UCS4 char) noexcept:
    """What follows `<` in `html._TAG_START`."""
    return _ascii_letter(char) or char == 47 or char == 33 or char == 63


# --- HTML to text ---------------------------------------------------------------------------


cdef Py_ssize_t _tag_end(const _Unit *chars, Py_ssize_t start, Py_ssize_t length,
                         Py_ssize_t *name_end) noexcept:
    """The end of `html._TAG` matched at `start` (a `<`), and the end of its name; -1 where it
    does not match, or holds what the fast path leaves alone (a NUL, a long s). The pattern
    `<(/?[A-Za-z][A-Za-z0-9]*)(?:\\s[^<>]*)?/?>` leaves no choice: the name runs as far as it
    can, then `>`, `/>`, or whitespace and everything up to the next `<` or `>`, which must be
    `>`."""
    cdef Py_ssize_t at = start + 1
    cdef Py_UCS4 char
    if at < length and chars[at] == 47:
        at += 1
    if at >= length or not _ascii_letter(chars[at]):
        return -1
    at += 1
    while at < length and (_ascii_letter(chars[at]) or _ascii_digit(chars[at])):
        at += 1
    name_end[0] = at
    if at >= length:
        return -1
    char = chars[at]
    if char == 62:  # >
        return at + 1
    if char == 47:  # />
        return at + 2 if at + 1 < length and chars[at + 1] == 62 else -1
    if not Py_UNICODE_ISSPACE(char):
        return -1
    at += 1
    while at < length:
        char = chars[at]
        if char == 62:
            return at + 1
        if char == 60 or char == _BREAK or char == _LONG_S:
            return -1
        at += 1
    return -1


cdef inline str _cached(object cache, str key):
    """`cache[key]` (a `BoundedCache`, which computes a missing value), with the dict's own
    look-up first: subscripting a dict subclass goes through Python's slot, several times
    dearer."""
    cdef PyObject *value = PyDict_GetItemWithError(cache, key)
    return <str?> value if value is not NULL else cache[key]


cdef Py_ssize_t _without_tags(const _Unit *chars, Py_ssize_t length, int kind,
                              object replacements, Py_UCS4 *text, bint *less_than) except -2:
    """`html._without_tags` of `chars` into `text`: how many characters it holds, or -1 for
    markup the fast path leaves alone; `less_than` tells whether a `<` stays. Checked here too:
    no tag at all (text without markup is returned as given, not rendered), a NUL or a long s
    anywhere."""
    cdef Py_ssize_t at = 0, kept = 0, end, name_end = 0, tags = 0
    cdef Py_UCS4 char
    cdef str replacement
    less_than[0] = False
    while at < length:
        char = chars[at]
        if char <= 60:
            if char == 60 and at + 1 < length and _tag_start(chars[at + 1]):
                end = _tag_end(chars, at, length, &name_end)
                if end < 0:
                    return -1  # `<!--`, `<p-x>`, `<b` at the very end: not for the fast path
                replacement = _cached(
                    replacements, PyUnicode_FromKindAndData(kind, chars + at + 1, name_end - at - 1)
                )
                if replacement:
                    if replacement[0] == u"<":
                        return -1  # an element whose contents are dropped: the parser's
                    text[kept] = replacement[0]
                    kept += 1
                tags += 1
                at = end
                continue
            if char == _BREAK:
                return -1
            if char == 60:
                less_than[0] = True
        elif char == _LONG_S:
            return -1
        text[kept] = char
        kept += 1
        at += 1
    return kept if tags else -1


cdef Py_ssize_t _reference_end(const Py_UCS4 *text, Py_ssize_t start, Py_ssize_t length) noexcept:
    """The end of `html._CHARREF` matched at `start` (an `&`), or -1 where it does not match:
    `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)`, its alternatives in order."""
    cdef Py_ssize_t at = start + 1
    cdef Py_ssize_t first
    cdef Py_UCS4 char
    if at >= length:
        return -1
    if text[at] == 35:  # #
        at += 1
        first = at
        while at < length and _ascii_digit(text[at]):
            at += 1
        if at == first:
            if at < length and (text[at] == 120 or text[at] == 88):  # x X
                at += 1
                first = at
                while at < length and _hex_digit(text[at]):
                    at += 1
            if at == first:
                return -1
        return at + 1 if at < length and text[at] == 59 else at
    first = at
    while at < length and at - first < 32:
        char = text[at]
        if char == 9 or char == 10 or char == 12 or char == 32 or char == 60 or char == 38 \
                or char == 35 or char == 59:
            break
        at += 1
    if at == first:
        return -1
    return at + 1 if at < length and text[at] == 59 else at


# What is pending before the next character written: a space, or a blank line.
cdef enum:
    _NOTHING = 0
    _A_SPACE = 1
    _A_BREAK = 2


cdef inline Py_ssize_t _written(Py_UCS4 *out, Py_ssize_t length, int pending,
                                Py_UCS4 char) noexcept:
    """`char` written after what is pending (none at the very start)."""
    if pending and length:
        if pending & _A_BREAK:
            out[length] = 10
            out[length + 1] = 10
            length += 2
        else:
            out[length] = 32
            length += 1
    out[length] = char
    return length + 1


cdef inline int _pending(int pending, Py_UCS4 char) noexcept:
    """What is pending after `char`, or -1 when it is a character to write."""
    if char == _BREAK:
        return pending | _A_BREAK
    if _ascii_whitespace(char):
        return pending | _A_SPACE
    return -1


cdef inline int _rendered(Py_UCS4 *out, Py_ssize_t *written, int pending,
                         Py_UCS4 char) noexcept:
    """`char` written after what is pending, or added to it (whitespace, a block break): what
    is pending after it."""
    cdef int step = _pending(pending, char)
    if step >= 0:
        return step
    written[0] = _written(out, written[0], pending, char)
    return _NOTHING


def markup_text(str markup, tag_replacements, references):
    """`html.html_to_text(markup)` for markup of simple tags (the fast path of that module),
    `tag_replacements` and `references` being its caches (tag name -> what the tag becomes,
    reference -> its text); None for any other markup: no tag, a NUL, a long s, a comment or a
    declaration, an element whose contents are dropped, a `<` that starts a tag the pattern does
    not match (an unfinished one at the end among them)."""
    cdef Py_ssize_t length = len(markup), kept, at, end, written, capacity
    cdef int kind = PyUnicode_KIND(markup), pending
    cdef bint less_than
    cdef void *data = PyUnicode_DATA(markup)
    cdef Py_UCS4 char
    cdef Py_UCS4 *text = NULL
    cdef Py_UCS4 *out = NULL
    cdef Py_UCS4 *grown
    cdef str piece
    try:
        text = <Py_UCS4 *> PyMem_Malloc((length + 1) * sizeof(Py_UCS4))
        if text is NULL:
            raise MemoryError()
        # Tags out, as `html._without_tags` takes them out.
        if kind == PyUnicode_1BYTE_KIND:
            kept = _without_tags(<Py_UCS1 *> data, length, kind, tag_replacements, text, &less_than)
        elif kind == PyUnicode_2BYTE_KIND:
            kept = _without_tags(<Py_UCS2 *> data, length, kind, tag_replacements, text, &less_than)
        else:
            kept = _without_tags(<Py_UCS4 *> data, length, kind, tag_replacements, text, &less_than)
        if kept < 0:
            return None
        # A tag start the removal of tags brought together (`<<p>b>`) is the parser's.
        if less_than:
            for at in range(kept - 1):
                if text[at] == 60 and _tag_start(text[at + 1]):
                    return None
        # References decoded as `html._unescape` decodes them, and the whitespace rendered as
        # `html._rendered_whitespace` renders it: runs of ASCII whitespace one space, runs with
        # a block break one blank line, none at either end. Each character written takes at
        # most three places (a blank line before it) and comes from one that is not written.
        capacity = 2 * kept + 16
        out = <Py_UCS4 *> PyMem_Malloc(capacity * sizeof(Py_UCS4))
        if out is NULL:
            raise MemoryError()
        written = 0
        pending = _NOTHING
        at = 0
        while at < kept:
            char = text[at]
            at += 1
            if char > 38:  # most characters: past `&` and the whitespace
                written = _written(out, written, pending, char)
                pending = _NOTHING
                continue
            if char == 38:  # &
                end = _reference_end(text, at - 1, kept)
                if end >= 0:
                    piece = _cached(
                        references,
                        PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, text + at, end - at),
                    )
                    # Room for the piece, and again for the rest as above.
                    if written + 3 * len(piece) + 2 * (kept - end) + 16 > capacity:
                        capacity = written + 3 * len(piece) + 2 * (kept - end) + 16
                        grown = <Py_UCS4 *> PyMem_Realloc(out, capacity * sizeof(Py_UCS4))
                        if grown is NULL:
                            raise MemoryError()
                        out = grown
                    for char in piece:
                        pending = _rendered(out, &written, pending, char)
                    at = end
                    continue
            pending = _rendered(out, &written, pending, char)
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, written)
    finally:
        PyMem_Free(text)
        PyMem_Free(out)


# --- Folding --------------------------------------------------------------------------------


cdef inline bint _one_of(Py_UCS4 char, const Py_UCS4 *chars, Py_ssize_t count) noexcept:
    cdef Py_ssize_t index
    for index in range(count):
        if chars[index] == char:
            return True
    return False


cdef Py_ssize_t _fold_latin1(const _Unit *chars, Py_ssize_t length, const unsigned char *table,
                             const Py_UCS4 *separators, Py_ssize_t separator_count,
                             unsigned char *folded, unsigned char *latin1) noexcept:
    """Each character of `chars` folded by the byte `table` into `folded`, and as Latin-1 into
    `latin1`, a common wide separator as a space in both: the bits of any folded byte (128 for
    one beyond ASCII), or -1 at a character beyond Latin-1 that is none of them."""
    cdef Py_ssize_t at
    cdef Py_UCS4 char
    cdef unsigned char bits = 0
    for at in range(length):
        char = chars[at]
        if _Unit is not Py_UCS1:
            if char > 255:
                if not _one_of(char, separators, separator_count):
                    return -1
                char = _SPACE
        folded[at] = table[char]
        bits |= folded[at]
        latin1[at] = <unsigned char> char
    return bits


cdef bint _may_hold_link(const unsigned char *latin1, Py_ssize_t length) noexcept:
    """`wordfold._may_hold_link_latin1`: `://`, or `www.` in any case."""
    cdef const unsigned char *found
    cdef Py_ssize_t at = 0
    while at < length:
        found = <const unsigned char *> memchr(latin1 + at, 47, length - at)  # /
        if found is NULL:
            break
        at = found - latin1 + 1
        if at >= 3 and latin1[at - 2] == 47 and latin1[at - 3] == 58:
            return True
    at = 0
    while at < length:
        found = <const unsigned char *> memchr(latin1 + at, 46, length - at)  # .
        if found is NULL:
            break
        at = found - latin1 + 1
        if at >= 4 and (latin1[at - 2] | 32) == 119 and (latin1[at - 3] | 32) == 119 \
                and (latin1[at - 4] | 32) == 119:
            return True
    return False


cdef bint _may_hold_gap(const unsigned char *folded, const unsigned char *latin1,
                        Py_ssize_t length, const unsigned char *gaps) noexcept:
    """Whether the Python code would look closer at the fold's long runs of spaces
    (`wordfold.fold_words`): three folded spaces at the start (four with the leading one), or
    four characters in a row that can be a phrase gap (each folds to a space)."""
    cdef Py_ssize_t at, gap_run = 0
    if length >= 3 and folded[0] == 32 and folded[1] == 32 and folded[2] == 32:
        return True
    for at in range(length):
        if gaps[latin1[at]] == 32:
            gap_run += 1
            if gap_run == 4:
                return True
        else:
            gap_run = 0
    return False


cdef object _shifted_fold(const _Unit *chars, Py_ssize_t length, const unsigned char *table,
                          const Py_UCS4 *separators, Py_ssize_t separator_count,
                          dict mapping, bint without_links):
    """`wordfold._fold_with_shifts` where every folded character is Latin-1: (text, shift_at,
    shift_by), or None for text whose fold holds a character beyond Latin-1 (Greek, Cyrillic),
    `µ` beside a letter beyond Latin-1 (there the Python code folds it to Greek mu), or `://`
    or `www.` when `without_links`. Its long runs of spaces are for the caller to judge."""
    cdef Py_ssize_t at, offset, written = 1, capacity = 2 * length + 16, needed
    cdef Py_UCS4 char
    cdef unsigned char folded
    cdef bint micro = False, wide_letter = False
    cdef unsigned char *out = NULL
    cdef unsigned char *latin1 = NULL
    cdef unsigned char *grown
    cdef str replacement
    cdef list shift_at = [0], shift_by = [-1]
    try:
        out = <unsigned char *> PyMem_Malloc(capacity)
        latin1 = <unsigned char *> PyMem_Malloc(length + 1)
        if out is NULL or latin1 is NULL:
            raise MemoryError()
        out[0] = 32
        for at in range(length):
            char = chars[at]
            if char < 256:
                latin1[at] = <unsigned char> char
                micro = micro or char == 0xB5
                folded = table[char]
                if folded:
                    out[written] = folded
                    written += 1
                    continue
                replacement = mapping[chr(char)]  # folds to zero or several characters
            else:
                latin1[at] = 255  # never part of `://` or `www.`
                if _one_of(char, separators, separator_count) or char > 0xFFFF:
                    # A common separator; or an emoji or the like: one character, one space.
                    out[written] = 32
                    written += 1
                    continue
                wide_letter = True
                replacement = mapping.get(chr(char), chr(char))
                if len(replacement) == 1:
                    if ord(replacement) > 255:
                        return None
                    out[written] = ord(replacement)
                    written += 1
                    continue
            # Every character of an expansion (`œ` -> `oe`) comes from the same source one.
            # Room for it, and for one character per source character left and the closing
            # space: the writes above need no test of their own.
            needed = written + len(replacement) + (length - at - 1) + 1
            if needed > capacity:
                capacity = max(2 * capacity, needed)
                grown = <unsigned char *> PyMem_Realloc(out, capacity)
                if grown is NULL:
                    raise MemoryError()
                out = grown
            for offset in range(len(replacement)):
                if ord(replacement[offset]) > 255:
                    return None
                shift_at.append(written + offset)
                shift_by.append(at - written - offset)
                out[written + offset] = ord(replacement[offset])
            written += len(replacement)
            shift_at.append(written)
            shift_by.append(at + 1 - written)
        out[written] = 32
        written += 1
        if micro and wide_letter:
            return None
        if without_links and _may_hold_link(latin1, length):
            return None
        text = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, out, written)
        return text, tuple(shift_at), tuple(shift_by)
    finally:
        PyMem_Free(out)
        PyMem_Free(latin1)


def folded_text(str text, bytes table, bytes gaps, str separators, dict mapping,
                bint without_links):
    """`wordfold.fold_words(text, without_links=...)` for text whose fold is Latin-1 (the fast
    path of that module). Its `text` where the fold is aligned: text whose characters are
    Latin-1 or one of `separators` (the common wide ones, ’ …), each folded by `table` (the
    Latin-1 byte table; 0 for those that fold to zero or several characters), with a space
    before and after, and no long run of spaces that may be a phrase gap (`gaps` says which
    characters can be). Else (text, shift_at, shift_by), the other characters folded by
    `mapping` (`_shifted_fold`), long runs of spaces left to the caller. None for text left to
    the Python code: `://` or `www.` when `without_links`, an aligned fold with a long run of
    spaces that may be a gap, and what `_shifted_fold` leaves."""
    cdef Py_ssize_t length = len(text), index, count = len(separators)
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_UCS4 wide[32]
    cdef unsigned char *buffer = NULL
    cdef unsigned char *folded
    cdef unsigned char *latin1
    cdef int outcome
    cdef const unsigned char *by_byte = table
    cdef const unsigned char *gap_chars = gaps
    if count > 32:
        raise ValueError("at most 32 separators")
    if len(table) < 256 or len(gaps) < 256:
        raise ValueError("a byte table has 256 entries")
    for index in range(count):
        wide[index] = separators[index]
    try:
        buffer = <unsigned char *> PyMem_Malloc(2 * length + 2)
        if buffer is NULL:
            raise MemoryError()
        folded = buffer + 1
        latin1 = buffer + length + 2
        if kind == PyUnicode_1BYTE_KIND:
            outcome = _fold_latin1(<Py_UCS1 *> data, length, by_byte, wide, count, folded, latin1)
        elif kind == PyUnicode_2BYTE_KIND:
            outcome = _fold_latin1(<Py_UCS2 *> data, length, by_byte, wide, count, folded, latin1)
        else:
            outcome = _fold_latin1(<Py_UCS4 *> data, length, by_byte, wide, count, folded, latin1)
        if outcome < 0 or memchr(folded, 0, length) is not NULL:
            # Beyond Latin-1, or folding to zero or several characters (œ, ß, a combining accent).
            if kind == PyUnicode_1BYTE_KIND:
                return _shifted_fold(<Py_UCS1 *> data, length, by_byte, wide, count, mapping,
                                     without_links)
            if kind == PyUnicode_2BYTE_KIND:
                return _shifted_fold(<Py_UCS2 *> data, length, by_byte, wide, count, mapping,
                                     without_links)
            return _shifted_fold(<Py_UCS4 *> data, length, by_byte, wide, count, mapping,
                                 without_links)
        if without_links and _may_hold_link(latin1, length):
            return None
        if _may_hold_gap(folded, latin1, length, gap_chars):
            return None
        buffer[0] = buffer[length + 1] = 32
        result = PyUnicode_New(length + 2, 255 if outcome & 128 else 127)
        memcpy(PyUnicode_1BYTE_DATA(result), buffer, length + 2)
        return result
    finally:
        PyMem_Free(buffer)


# --- Named tuples ---------------------------------------------------------------------------


cdef extern from "Python.h":
    ctypedef struct PyTypeObject:
        object (*tp_alloc)(PyTypeObject *, Py_ssize_t)
    bint PyType_IsSubtype(PyTypeObject *, PyTypeObject *)
    PyTypeObject PyTuple_Type
    void Py_INCREF(PyObject *)
    # Steals the reference to the item: each is given one first.
    void PyTuple_SET_ITEM(object, Py_ssize_t, PyObject *)
    PyObject *PyTuple_GET_ITEM(object, Py_ssize_t)


def new_tuple(type cls not None, tuple fields not None):
    """`tuple.__new__(cls, fields)` for a subclass of tuple (a named tuple: a `Span`, a `Hit`),
    as `tuple.__new__` makes it in the end (`tuple_subtype_new` in CPython), without the
    argument parsing and the copies of the arguments on the way: matching makes one per
    candidate, per hit and per fired watchlist."""
    cdef PyTypeObject *type_object = <PyTypeObject *> cls
    cdef Py_ssize_t count = len(fields), index
    cdef PyObject *item
    if not PyType_IsSubtype(type_object, &PyTuple_Type):
        raise TypeError(f"new_tuple: {cls.__name__} is not a subclass of tuple")
    made = type_object.tp_alloc(type_object, count)
    for index in range(count):
        item = PyTuple_GET_ITEM(fields, index)
        Py_INCREF(item)
        PyTuple_SET_ITEM(made, index, item)
    return made
