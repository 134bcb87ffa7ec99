"""Test helpers for admin pages with inlines: post back what a page showed, as a browser would.

`page_data(response)` reads the rendered admin form and every inline formset of a change or add
page (their management forms, every row, the hidden initial values) into the dict a browser
would submit unchanged; a test then edits the few fields it is about, or adds a row (`add_row`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField


def _value(bound: BoundField, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)


def _add_form(data: dict[str, Any], form: forms.BaseForm) -> None:
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
            continue  # a stored file stays unless a new one is uploaded
        value = bound.value()
        if isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        else:
            data[bound.html_name] = _value(bound, value)
        if bound.field.show_hidden_initial:
            data[bound.html_initial_name] = _value(bound, bound.field.prepare_value(bound.initial))


def page_data(response: Any) -> dict[str, Any]:
    """The data the add or change page in `response` submits when nothing is edited."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = _value(bound, bound.value())
        for form in formset.forms:
            _add_form(data, form)
    return data


def add_row(data: dict[str, Any], prefix: str, **fields: Any) -> int:
    """Append a new row to the inline `prefix` (e.g. "variants"); its index."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        if isinstance(value, bool):
            if value:
                data[f"{prefix}-{index}-{name}"] = "on"
        else:
            data[f"{prefix}-{index}-{name}"] = value
    return index
