"""Check a JSON object against the pinned `stripe` SDK's typed classes: the contract fakestripe keeps.

`contract_problems(cls, data)` walks `data` alongside `cls`'s annotations (nested classes,
expanded ids, lists and `ListObject`s included) and reports, by path: a field the SDK does not
know, a field the SDK types as always present that is missing, a null where the SDK allows none,
and a string outside the SDK's `Literal` values. Bumping `stripe` in requirements re-runs these
checks against the new types, so the tests say what changed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, ForwardRef

import stripe
from stripe._list_object import ListObject
from stripe._stripe_object import StripeObject

# Annotated fields that are the SDK's own bookkeeping, not part of the JSON.
_INTERNAL = {"OBJECT_NAME"}


def annotations_of(cls: type) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(getattr(klass, "__annotations__", {}))
    return {name: hint for name, hint in merged.items() if not name.startswith("_") and name not in _INTERNAL}


def _options(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def required_fields(cls: type) -> set[str]:
    """Fields typed without `None`: Stripe sends them on every object."""
    return {name for name, hint in annotations_of(cls).items() if type(None) not in _options(hint)}


def object_class(name: str) -> type | None:
    """The SDK class for a JSON `object` value ("checkout.session" → stripe.checkout.Session)."""
    from stripe._object_classes import get_object_class

    found: type | None = get_object_class(api_mode="V1", object_name=name)
    return found


def _resolve(hint: Any) -> Any:
    if isinstance(hint, ForwardRef):
        return getattr(stripe, hint.__forward_arg__, None)
    if isinstance(hint, str):
        return getattr(stripe, hint, None)
    return hint


def _check_value(hint: Any, value: Any, path: str) -> list[str]:
    options = [_resolve(option) for option in _options(hint)]
    if value is None:
        return [] if type(None) in options else [f"{path}: null, but the SDK allows no null"]
    literals = [
        arg
        for option in options
        if typing.get_origin(option) is typing.Literal
        for arg in typing.get_args(option)
    ]
    if literals and isinstance(value, str) and value not in literals:
        return [f"{path}: {value!r} is not one of the SDK's values {sorted(map(str, literals))}"]
    if isinstance(value, Mapping):
        for option in options:
            origin = typing.get_origin(option) or option
            if isinstance(origin, type) and issubclass(origin, ListObject):
                (item_hint,) = typing.get_args(option) or (Any,)
                return [
                    problem
                    for index, item in enumerate(value.get("data") or [])
                    for problem in _check_value(item_hint, item, f"{path}.data[{index}]")
                ]
            if isinstance(option, type) and issubclass(option, StripeObject) and annotations_of(option):
                return contract_problems(option, value, path)
    if isinstance(value, list):
        for option in options:
            if typing.get_origin(option) in (list, typing.List):  # noqa: UP006 - the SDK's own spelling
                (item_hint,) = typing.get_args(option)
                return [
                    problem
                    for i, item in enumerate(value)
                    for problem in _check_value(item_hint, item, f"{path}[{i}]")
                ]
    return []


def contract_problems(cls: type, data: Mapping[str, Any], path: str = "") -> list[str]:
    """Every way `data` disagrees with `cls`'s annotations (see the module docstring)."""
    where = path or cls.__name__
    known = annotations_of(cls)
    problems = [
        f"{where}.{name}: not a field of {cls.__name__} in the SDK" for name in sorted(set(data) - set(known))
    ]
    problems += [
        f"{where}.{name}: missing (the SDK types it as always present)"
        for name in sorted(required_fields(cls) - set(data))
    ]
    for name, value in data.items():
        if name in known:
            problems += _check_value(known[name], value, f"{where}.{name}")
    return problems
