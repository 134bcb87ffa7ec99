"""Account test helpers: the link inside an email, and the paths of the account endpoints."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from django.core.mail import EmailMessage

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/auth/me/"
PASSWORD_CHANGE = "/api/v1/auth/password/change/"
PASSWORD_RESET = "/api/v1/auth/password/reset/"
PASSWORD_RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
EMAIL_VERIFY = "/api/v1/auth/email/verify/"
EMAIL_VERIFY_RESEND = "/api/v1/auth/email/verify/resend/"

NEW_PASSWORD = "a-brand-new-passphrase-77"


def email_link(message: EmailMessage) -> tuple[str, dict[str, str]]:
    """The one link in `message`'s body: (address without the query, its query parameters)."""
    links = re.findall(r"https?://\S+", str(message.body))
    assert len(links) == 1, message.body
    parts = urlsplit(links[0])
    params = {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", params
