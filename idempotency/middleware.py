"""`Idempotency-Key` on every POST, PATCH and DELETE under /api/v1/: a retry gets the first answer.

Why a Django middleware and not a DRF mixin: DRF has no global per-view hook (a mixin or a base
class must be added to every view, and a view that forgets it is silently unprotected); the
middleware covers every write under /api/v1/ by its path (idempotency/keys.py `covered`), so an
endpoint added later is covered without a word. It also sees the finished answer (status,
headers, rendered body) and can answer a replay without touching DRF at all.

It is the innermost middleware (last in MIDDLEWARE): the path has had its slash added
(shopapi.middleware.ApiSlashMiddleware), the body limit applies (shopapi.limits), and a replayed
answer passes back out through the same middleware as the first one (request id, security and
CORS headers are added again, fresh). Its own statements run outside the view's transaction
(idempotency/services.py).

A request with the header:

1. a key that is not 1-255 printable ASCII characters → 400 `invalid_idempotency_key`;
2. claim (scope, key) with a fingerprint of method, path and body (idempotency/keys.py):
   - the insert wins → run the view; keep its answer if it is not a 5xx (nor a 429: nothing ran,
     and the throttle asks to come back later), else delete the row so a retry runs again;
   - the key was answered, same fingerprint → that answer byte for byte, plus
     `Idempotent-Replayed: true`, without running the view;
   - another fingerprint → 422 `idempotency_key_reused`;
   - still running → 409 `idempotency_key_in_progress` with `Retry-After` (a row whose lock is older
     than IDEMPOTENCY_LOCK_TIMEOUT_SECONDS is taken over instead: its process died).

A request without the header costs one dictionary lookup: no database work at all.
"""

from __future__ import annotations

import logging
import uuid
from typing import cast

from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from idempotency import keys
from idempotency.models import IdempotencyKey
from idempotency.sealing import SealBroken, seal, unseal
from idempotency.services import (
    Verdict,
    idempotency_key_claim,
    idempotency_key_complete,
    idempotency_key_release,
)
from shopapi.errors import ErrorCode
from shopapi.exceptions import database_unavailable, error_body, outage_body_and_headers
from shopapi.limits import RequestTooLarge
from shopapi.middleware import GetResponse

logger = logging.getLogger(__name__)

# The headers a view sets that are part of its answer; everything else is added again on the way
# out by the outer middleware (request id, security, CORS, Content-Length).
KEPT_HEADERS = (
    "Content-Type",
    "Location",
    "Retry-After",
    "WWW-Authenticate",
    "Allow",
    "Vary",
    "Content-Language",
    "Content-Disposition",
)
# Answers that are not kept: the key is released, so a retry runs again.
_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500
IN_PROGRESS_RETRY_AFTER_SECONDS = 1


def _invalid_key() -> JsonResponse:
    message = (
        f"The {keys.HEADER} header must be 1-255 printable ASCII characters, "
        "not starting or ending with a space."
    )
    return JsonResponse(
        error_body(ErrorCode.INVALID_IDEMPOTENCY_KEY, message, {keys.HEADER: [message]}), status=400
    )


def _reused() -> JsonResponse:
    return JsonResponse(
        error_body(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"This {keys.HEADER} was already used for another request (method, path or body); "
            "use a new key for a new request.",
        ),
        status=422,
    )


def _in_progress() -> JsonResponse:
    return JsonResponse(
        error_body(
            ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
            f"A request with this {keys.HEADER} is still being processed; retry shortly.",
        ),
        status=409,
        headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)},
    )


def _outage(exc: DatabaseError | InterfaceError) -> JsonResponse:
    body, headers = outage_body_and_headers(exc)
    return JsonResponse(body, status=503, headers=headers)


def _too_large(exc: RequestTooLarge) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message), status=exc.status_code)


def replay(record: IdempotencyKey) -> HttpResponse:
    """The stored answer, byte for byte, marked as a replay (unsealed: idempotency/sealing.py)."""
    try:
        body = unseal(scope=record.scope, key=record.key, sealed=bytes(record.response_body))
    except SealBroken:
        logger.error("idempotency key: a stored answer does not open (SECRET_KEY rotated?); refused")
        return _reused()
    response = HttpResponse(body, status=cast(int, record.status_code))
    stored = {name for name, _ in record.response_headers}
    if "Content-Type" not in stored:
        del response["Content-Type"]  # the first answer had none (a 204)
    for name, value in record.response_headers:
        response[name] = value
    response[keys.REPLAYED_HEADER] = "true"
    return response


def _kept(response: HttpResponseBase) -> bool:
    status = response.status_code
    return not response.streaming and status < _SERVER_ERROR and status != _TOO_MANY_REQUESTS


class IdempotencyMiddleware:
    """Runs each covered write with an Idempotency-Key at most once per caller and key."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        key = request.META.get(keys.META_KEY)
        if key is None or not keys.covered(request.method or "", request.path_info):
            return self.get_response(request)
        if not keys.valid_key(key):
            return _invalid_key()
        try:
            body = request.body
        except RequestTooLarge as exc:  # a chunked body past the limit (shopapi/limits.py)
            return _too_large(exc)

        scope = keys.caller_scope(request)
        try:
            claim = idempotency_key_claim(scope=scope, key=key, fingerprint=keys.fingerprint(request, body))
        except (DatabaseError, InterfaceError) as exc:
            if not database_unavailable(exc):
                raise
            return _outage(exc)  # the same 503 a view answers to an outage; nothing ran
        if claim.verdict is Verdict.REPLAY:
            assert claim.record is not None
            return replay(claim.record)
        if claim.verdict is Verdict.REUSED:
            return _reused()
        if claim.verdict is Verdict.IN_PROGRESS:
            return _in_progress()
        assert claim.lock is not None
        return self._run(request, scope, key, claim.lock)

    def _run(self, request: HttpRequest, scope: str, key: str, lock: uuid.UUID) -> HttpResponseBase:
        """The view's answer; kept under the key, or the key released."""
        try:
            response = self.get_response(request)
        except BaseException:
            self._release(scope, key, lock)
            raise
        if not _kept(response):
            self._release(scope, key, lock)
            return response
        headers = [[name, response[name]] for name in KEPT_HEADERS if response.has_header(name)]
        try:
            kept = idempotency_key_complete(
                scope=scope,
                key=key,
                lock=lock,
                status_code=response.status_code,
                headers=headers,
                body=seal(scope=scope, key=key, body=cast(HttpResponse, response).content),
            )
        except (DatabaseError, InterfaceError):
            logger.exception("idempotency key: the answer could not be stored; it is sent unstored")
            return response
        if not kept:
            logger.warning("idempotency key: its lock was taken over while the view ran; answer not kept")
        return response

    @staticmethod
    def _release(scope: str, key: str, lock: uuid.UUID) -> None:
        try:
            idempotency_key_release(scope=scope, key=key, lock=lock)
        except (DatabaseError, InterfaceError):
            logger.exception("idempotency key: could not be released; it frees itself after the lock timeout")
