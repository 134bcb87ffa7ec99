"""JSON request bodies, bounded: strict JSON nested at most `JSON_MAX_DEPTH` levels.

Python's json module recurses once per nesting level, so ~1,000 `[` (2 KB) raise RecursionError,
which no parser expects: a 500 with a traceback on every JSON endpoint. `json_loads` turns that,
and anything nested deeper than the limit, into a `ValueError` (`JSONTooDeep`); `BoundedJSONParser`
(DRF's DEFAULT_PARSER_CLASSES) answers it as a 400 `parse_error` and logs one INFO line. The
payment webhook reads its raw body through `json_loads` too.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

logger = logging.getLogger(__name__)

# Deeper than any request or provider event this API reads (provider events are about 10 levels).
JSON_MAX_DEPTH = 64


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than allowed."""


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def json_nodes(value: Any) -> Iterator[tuple[Any, int]]:
    """Every value, key and container in a decoded JSON document with its depth (the root is 1).

    Iterative, so it walks documents of any depth without recursing.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        if isinstance(node, Mapping):
            stack.extend((key, depth + 1) for key in node)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


# An escaped UTF-16 surrogate (`\\ud800`..`\\udfff`): the only way a lone surrogate gets into
# strictly decoded UTF-8 text. (It also matches an escaped backslash followed by "ud8…": then the
# document is simply walked.)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _plainly_bounded(text: str, max_depth: int) -> bool:
    """Whether no walk is needed: fewer `{` and `[` in the whole text (strings included) than the
    limit allows containers on one path, and no escape that could decode to a lone surrogate.
    Two passes in C over the text instead of a Python step per value (a provider event has a few
    hundred values; the walk was a tenth of a webhook delivery's CPU)."""
    if text.count("{") + text.count("[") >= max_depth or _SURROGATE_ESCAPE.search(text):
        return False
    try:
        text.encode("utf-8")  # a str handed in with a raw lone surrogate
    except UnicodeEncodeError:
        return False
    return True


def json_loads(data: str | bytes, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Strict JSON (no NaN, Infinity or lone surrogate) nested at most `max_depth` levels; else ValueError."""
    if isinstance(data, bytes):
        # Strict UTF-8 refuses encoded surrogates; anything else (UTF-16, …) goes to json as bytes.
        with contextlib.suppress(UnicodeDecodeError):
            data = data.decode("utf-8")
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels") from None
    if isinstance(data, str) and _plainly_bounded(data, max_depth):
        return value
    for node, depth in json_nodes(value):
        if depth > max_depth:
            raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels")
        if isinstance(node, str):
            # A lone surrogate escape ("\ud800") decodes to a str that is not Unicode: it cannot be
            # encoded, hashed or stored. UnicodeEncodeError is a ValueError.
            node.encode("utf-8")
    return value


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser through `json_loads`: a malformed or too deep body is a 400 parse_error."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json_loads(text)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            logger.info("unparsable JSON request body: %s", type(exc).__name__)
            raise ParseError(f"JSON parse error - {exc}") from None
