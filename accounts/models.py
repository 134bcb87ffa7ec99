"""The user model: Django's user with a case-insensitively unique email and its verification time."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    email = models.EmailField("email address")
    # When the owner proved the address is theirs (the signed link, or a password reset by email);
    # null until then.
    email_verified_at = models.DateTimeField("email verified at", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        # Login by a username typed in another case (accounts/selectors.py) looks it up here.
        indexes = [models.Index(Lower("username"), name="accounts_user_username_ci")]

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
