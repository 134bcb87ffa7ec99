"""Account emails: rendered from plain-text templates now, sent once the transaction commits.

Each email is two templates under `accounts/templates/accounts/email/`: `<name>_subject.txt` (one
line) and `<name>.txt` (the body). They go through Django's email framework (`EMAIL_URL` in the
settings: the console in development, an SMTP relay in production), from `DEFAULT_FROM_EMAIL`.

Sending waits for the commit (`transaction.on_commit`), so a rolled-back registration never mails
anyone, and it is `robust`: a relay that fails is logged and the request still succeeds (the user
can ask again), it never turns a committed change into a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string


def email_render(*, template: str, to: str, context: dict[str, Any]) -> EmailMessage:
    """The email `template` renders for `context`, addressed to `to` (not sent)."""
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
    body = render_to_string(f"accounts/email/{template}.txt", context)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=[to])


def email_send_after_commit(message: EmailMessage) -> None:
    """Send `message` once the current transaction commits (at once outside one)."""
    transaction.on_commit(message.send, robust=True)


def frontend_link(base_url: str, **params: str) -> str:
    """`base_url` with `params` added to its query string (a frontend page of the shop)."""
    separator = "&" if "?" in base_url else "?"
    # ":" (the signed tokens' separator) is allowed in a query: kept readable for copy and paste.
    return f"{base_url}{separator}{urlencode(params, safe=':')}"
