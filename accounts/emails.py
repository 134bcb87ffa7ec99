"""Account emails: rendered from plain-text templates now, queued in the outbox, sent after the commit.

Each email is two templates under `accounts/templates/accounts/email/`: `<name>_subject.txt` (one
line) and `<name>.txt` (the body). They go through Django's email framework (`EMAIL_URL` in the
settings: the console in development, an SMTP relay in production), from `DEFAULT_FROM_EMAIL`.

They take the same path as the buyer emails (`notifications.emails.email_queue`): a row written in
the request's transaction, so a rolled-back registration never mails anyone, and a background job
that sends it after the commit; a relay that fails is retried by the job, never a 500 here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from notifications.emails import email_queue


def email_render(*, template: str, to: str, context: dict[str, Any]) -> EmailMessage:
    """The email `template` renders for `context`, addressed to `to` (not sent)."""
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
    body = render_to_string(f"accounts/email/{template}.txt", context)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=[to])


def email_send_after_commit(message: EmailMessage) -> None:
    """Queue `message` in the outbox: it is sent once the current transaction commits."""
    email_queue(kind="account", to=message.to[0], subject=str(message.subject), text=str(message.body))


def frontend_link(base_url: str, **params: str) -> str:
    """`base_url` with `params` added to its query string (a frontend page of the shop)."""
    separator = "&" if "?" in base_url else "?"
    # ":" (the signed tokens' separator) is allowed in a query: kept readable for copy and paste.
    return f"{base_url}{separator}{urlencode(params, safe=':')}"
