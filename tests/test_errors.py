"""Error codes: one enum, used by every raise, published whole in the schema."""

from __future__ import annotations

import ast

import pytest
import yaml
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError, NotFoundError, framework_code
from tests.test_architecture import ROOT, code_files


def test_every_error_code_is_in_the_schema_enum() -> None:
    schema = yaml.safe_load((ROOT / "schema.yml").read_text(encoding="utf-8"))
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"]["code"]["allOf"] == [
        {"$ref": "#/components/schemas/ErrorCodeEnum"}
    ]
    assert components["ErrorCodeEnum"]["enum"] == [member.value for member in ErrorCode]


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def string_codes(source: str) -> list[int]:
    """Lines where a call passes `code=` a plain string (not an ErrorCode member).

    Django's and DRF's `ValidationError` are left out: their codes are per-field codes inside
    `fields` (or a form's own error codes), never the body's `code`.
    """
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and _called_name(node) != "ValidationError"
        for keyword in node.keywords
        if keyword.arg == "code"
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    ]


def test_no_error_is_raised_with_a_code_outside_the_enum() -> None:
    found = {
        name: lines
        for name in code_files()
        if name.endswith(".py")
        and not name.startswith(("tests/", "fakestripe/", "bench/", "scripts/", "devtools/"))
        if (lines := string_codes((ROOT / name).read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_scan_finds_a_plain_string_code() -> None:
    assert string_codes('raise ConflictError("no", code="cart_gone")\nraise ConflictError(code=C.X)\n') == [1]
    assert string_codes('raise serializers.ValidationError("taken", code="unique")\n') == []


def test_a_domain_error_refuses_a_code_outside_the_enum() -> None:
    with pytest.raises(ValueError, match="not_a_code"):
        DomainError("x", code="not_a_code")  # type: ignore[arg-type]
    assert NotFoundError().code is ErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    "exc",
    [
        exceptions.ParseError(),
        exceptions.AuthenticationFailed(),
        exceptions.NotAuthenticated(),
        exceptions.PermissionDenied(),
        exceptions.NotFound(),
        exceptions.MethodNotAllowed("POST"),
        exceptions.NotAcceptable(),
        exceptions.UnsupportedMediaType("text/plain"),
        exceptions.Throttled(),
        InvalidToken(),
        AuthenticationFailed("gone", code="user_not_found"),
        AuthenticationFailed("inactive", code="user_inactive"),
        AuthenticationFailed("changed", code="password_changed"),
        AuthenticationFailed("header", code="bad_authorization_header"),
    ],
)
def test_framework_codes_are_enum_members(
    exc: exceptions.APIException, caplog: pytest.LogCaptureFixture
) -> None:
    detail = exc.detail
    inner = detail["detail"] if isinstance(detail, dict) else None
    code = getattr(inner, "code", None) if inner is not None else exc.get_codes()
    assert framework_code(code, exc.status_code).value == str(code)
    assert "not an ErrorCode member" not in caplog.text


def test_an_unknown_framework_code_answers_a_generic_member(caplog: pytest.LogCaptureFixture) -> None:
    assert framework_code("brand_new", 400) is ErrorCode.INVALID
    assert framework_code("brand_new", 503) is ErrorCode.SERVER_ERROR
    assert "not an ErrorCode member" in caplog.text
