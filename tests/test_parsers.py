"""shopapi/parsers.py `json_loads`: the same verdict whether the document is walked or not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shopapi import parsers
from shopapi.parsers import JSON_MAX_DEPTH, JSONTooDeep, json_loads


def nested(levels: int) -> str:
    """`levels` nested arrays around a number: its deepest value is at depth levels + 1."""
    return "[" * levels + "1" + "]" * levels


@pytest.mark.parametrize(
    ("document", "accepted"),
    [
        (nested(JSON_MAX_DEPTH - 1), True),  # 63 containers: the number is at depth 64
        (nested(JSON_MAX_DEPTH), False),  # 64 containers: the number is at depth 65
        ('{"a": ' * (JSON_MAX_DEPTH - 1) + "1" + "}" * (JSON_MAX_DEPTH - 1), True),
        ('{"a": ' * JSON_MAX_DEPTH + "1" + "}" * JSON_MAX_DEPTH, False),
        ('{"s": "\\ud800"}', False),  # a lone surrogate, escaped
        ('{"\\udfff": 1}', False),  # ... as a key
        ('{"s": "\\ud83d\\ude00"}', True),  # a pair is a character (U+1F600)
        ('{"s": "\\\\ud800"}', True),  # an escaped backslash, then text: walked, and fine
        ('{"s": "[[[[{{{{"}', True),  # brackets in strings only count against the fast path
        ('{"a": NaN}', False),
    ],
)
def test_the_verdict(document: str, accepted: bool) -> None:
    for data in (document, document.encode()):
        if accepted:
            assert json_loads(data) == json.loads(document)
        else:
            with pytest.raises(ValueError, match=r"deep|surrogate|NaN|encode"):
                json_loads(data)


def test_a_lone_surrogate_encoded_in_the_bytes_is_refused() -> None:
    # json decodes bytes with "surrogatepass": UTF-8 bytes of U+D800 would pass as a str
    with pytest.raises(ValueError, match=r"surrogate|encode"):
        json_loads(b'{"s": "\xed\xa0\x80"}')


def test_a_str_holding_a_raw_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match=r"surrogate|encode"):
        json_loads('{"s": "\ud800"}')


def test_the_walk_is_skipped_only_when_the_text_settles_it(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[Any] = []
    real = parsers.json_nodes

    def counting(value: Any) -> Any:
        walked.append(value)
        return real(value)

    monkeypatch.setattr(parsers, "json_nodes", counting)
    event = {"id": "evt_1", "data": {"object": {"lines": [{"n": i} for i in range(20)]}}}
    assert json_loads(json.dumps(event).encode()) == event
    assert walked == []  # 22 openers, nothing escaped: no walk
    assert json_loads("[" + ",".join(["{}"] * 70) + "]") == [{}] * 70
    assert len(walked) == 1  # 71 openers, though shallow: walked (and accepted)
    with pytest.raises(JSONTooDeep):
        json_loads(nested(JSON_MAX_DEPTH))
