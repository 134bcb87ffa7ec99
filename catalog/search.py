"""Product search: what `?search=` matches, and the SQL that one trigram index can serve.

Semantics (unchanged since the first release): every word must occur, case-insensitively, as a
substring of the product's name or of its description. DRF's smart split makes the words, so a
quoted phrase is one word; whitespace inside a phrase matches a single space.

The SQL: each word with three letters or digits in a row (or two beside punctuation inside the
word, as in "Wi-Fi"; `is_indexed`) is one `UPPER(name || chr(31) || description) LIKE
UPPER('%word%')` (Django's `icontains` on `SearchDocument`), which the trigram GIN index
`product_search_document_trgm` (migration 0003) serves; all the words of a search go to that one
index together, and PostgreSQL intersects them inside a single index scan. The unit separator
`chr(31)` cannot occur in a word (the split removes it), so no word matches across the end of
the name and the start of the description.

A shorter word gives pg_trgm no trigram to look up: "pc" or "4k" can only be checked row by
row. Such words are kept (they still narrow the results) but as plain per-column conditions, so
they never make the index scan read every entry; and a search made only of such words is
refused (400), because on a large catalog it is a scan of the whole table (about 0.7 s for a
million products) that anyone could ask for in a loop.

How a search page is fetched quickly whatever the words are is in `catalog/pagination.py`
(`fetch_bounded`): a bounded walk in page order first, the trigram index for what is left.
"""

from __future__ import annotations

import operator
import unicodedata
from functools import reduce
from typing import Any

from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import IContains

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_TERMS = 8
# Fewer consecutive letters/digits than this give pg_trgm nothing to look up.
SEARCH_MIN_INDEXED_RUN = 3
# How many products, in page order, a search walks before it asks the trigram index instead
# (see `fetch_bounded`). Measured on 1,000,000 products (docs/benchmarks.md): 1,500 sends too many
# common words to the index, 8,000 makes rare words walk for longer; 3,000–5,000 are equal.
SEARCH_WINDOW_ROWS = 3000
DOCUMENT_SEPARATOR = 31  # chr(31), the ASCII unit separator


class SearchDocument(Func):
    """`name || CHR(31) || description`: the text one trigram index holds for each product."""

    template = "(%(expressions)s)"
    arg_joiner = f" || CHR({DOCUMENT_SEPARATOR}) || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("name"), F("description"))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        joiner = f" || CHAR({DOCUMENT_SEPARATOR}) || "
        return self.as_sql(compiler, connection, arg_joiner=joiner, **extra_context)


def normalize_terms(terms: list[str]) -> list[str]:
    """Whitespace runs (inside quoted phrases too) become one space; empty words are dropped."""
    normalized = (" ".join(term.split()) for term in terms)
    return [term for term in normalized if term]


def is_indexed(term: str) -> bool:
    """True when pg_trgm can extract a useful trigram from `LIKE '%term%'`.

    pg_trgm works on runs of word characters (letters, combining marks, digits on a UTF-8
    database; `_word_runs`). A run of 3 gives a trigram of its own. A run of 2 gives one when
    the pattern shows where the word ends or starts — punctuation or a space next to it inside
    the term, as in "Wi-Fi" (`wi `, ` fi`); at the term's edges the `%` wildcard hides that.
    A single character never gives a selective trigram.
    """
    for start, end in _word_runs(term):
        if end - start >= SEARCH_MIN_INDEXED_RUN:
            return True
        if end - start == SEARCH_MIN_INDEXED_RUN - 1 and (start > 0 or end < len(term)):
            return True
    return False


def _word_runs(term: str) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for index, char in enumerate(term):
        if unicodedata.category(char)[0] in "LMN":
            start = index if start is None else start
        elif start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(term)))
    return runs


def search_condition(terms: list[str]) -> Q:
    """Every word in the name or the description; long words through the index, short ones not."""
    conditions = [
        Q(IContains(SearchDocument(), term))
        if is_indexed(term)
        else Q(name__icontains=term) | Q(description__icontains=term)
        for term in terms
    ]
    return reduce(operator.and_, conditions)
