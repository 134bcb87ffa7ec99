"""JWT pairs: issuing one for a user, and revoking every refresh token a user still holds.

Every refresh token is recorded as an `OutstandingToken` (simplejwt's token_blacklist app) when it
is issued, by login, register, password change or rotation on refresh; revoking them all is
blacklisting each of that user's rows not yet blacklisted. Access tokens are not recorded: one
already handed out keeps working until it expires (`JWT_ACCESS_MINUTES`, 15 by default).
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


def tokens_issue(*, user: User) -> dict[str, str]:
    """A new access and refresh token for `user` (the refresh one is recorded as outstanding)."""
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def refresh_tokens_revoke_all(*, user_id: int) -> int:
    """Blacklist every unexpired refresh token of the user; how many were still usable."""
    usable = list(
        OutstandingToken.objects.filter(
            user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
        ).values_list("pk", flat=True)
    )
    # A token blacklisted meanwhile (logout, a refresh) is a conflict on the one-to-one: skipped.
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in usable], ignore_conflicts=True
    )
    return len(usable)
