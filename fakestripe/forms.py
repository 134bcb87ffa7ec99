"""Decode Stripe's form-encoded bracket parameters (``a[b][0][c]=v``) into nested data."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"\[([^\[\]]*)\]")


def _split_key(key: str) -> list[str]:
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    rest = key[len(head) :]
    tokens = _TOKEN.findall(rest)
    if "".join(f"[{t}]" for t in tokens) != rest:
        return [key]  # malformed: keep verbatim
    return [head, *tokens]


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v) for k, v in node.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


def decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``[("line_items[0][quantity]", "2"), ...]`` into nested dicts and lists.

    Dicts whose keys are all decimal indexes become lists; ``x[]`` appends.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        tokens = _split_key(key)
        node: dict[str, Any] = root
        for i, tok in enumerate(tokens):
            last = i == len(tokens) - 1
            if tok == "" and i > 0:
                tok = str(len(node))
            if last:
                node[tok] = value
            else:
                child = node.get(tok)
                if not isinstance(child, dict):
                    child = {}
                    node[tok] = child
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def parse(body: str) -> dict[str, Any]:
    """Parse a urlencoded query string or body."""
    return decode(parse_qsl(body, keep_blank_values=True))
