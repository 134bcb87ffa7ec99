"""Account reads: whom a login or a password reset names.

Email addresses are unique, case-insensitively, by a database constraint
(`accounts_user_email_ci_unique`, accounts/models.py), and register refuses a taken one: so an
address names at most one account and login by email is unambiguous. The constraint is the
guarantee; these reads still ask for two rows and refuse when they find both (an imported or
hand-edited database without the constraint), because a login must never pick one of two accounts
by chance: the email then signs in nobody, with the same answer as a wrong password.
"""

from __future__ import annotations

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from accounts.models import User


def users_by_email(email: str) -> QuerySet[User]:
    """Accounts whose email is `email` in any case (answered by the unique index on LOWER(email);
    Django's `email__iexact` compares UPPER() and would read the whole table)."""
    return User.objects.alias(email_ci=Lower("email")).filter(email_ci=Lower(Value(email)))


def users_by_username_ci(username: str) -> QuerySet[User]:
    """Accounts whose username is `username` in any case (the index on LOWER(username))."""
    return User.objects.alias(username_ci=Lower("username")).filter(username_ci=Lower(Value(username)))


def _single(users: list[User]) -> User | None:
    return users[0] if len(users) == 1 else None


def login_username(identifier: str) -> str | None:
    """The username that `identifier` (what was typed as "username") signs in as.

    - something with an `@` that is an account's email (any case) → that account;
    - else an account's username, exactly, or in another case when only one account has it
      (register keeps usernames unique case-insensitively) → that account;
    - nothing matches → `identifier` itself: the password is then checked against no one, at the
      same cost as a wrong password (Django's backend hashes it anyway);
    - an email that several accounts share → None: refused.

    Email comes first so that someone who registers another person's address as their username
    cannot capture that person's login by email.
    """
    if "@" in identifier:
        by_email = list(users_by_email(identifier).only("username")[:2])
        if len(by_email) > 1:
            return None
        if by_email:
            return by_email[0].get_username()
    exact = User.objects.filter(username=identifier).only("username").first()
    if exact is not None:
        return exact.get_username()
    folded = _single(list(users_by_username_ci(identifier).only("username")[:2]))
    return folded.get_username() if folded is not None else identifier


def user_for_password_reset(email: str) -> User | None:
    """The one active account with a usable password at `email` (any case), or None.

    Like Django's own reset form, an inactive account or one without a usable password (set up
    by staff without one) cannot be reset by email.
    """
    user = _single(list(users_by_email(email).filter(is_active=True)[:2]))
    return user if user is not None and user.has_usable_password() else None
