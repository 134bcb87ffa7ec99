"""Delete protection for the money trail: orders, their items and events, and payment provider events.

These rows are the audit record of what was charged and refunded, so nothing deletes them:
not `Order.objects.filter(...).delete()`, not `order.delete()`, not `order.items.all().delete()`
(related managers are built from the default manager's class), and not deleting a user or a
cart (the foreign keys to orders are PROTECT, so Django's collector refuses first).

Both paths raise `django.db.models.ProtectedError`, the exception Django itself raises for a
PROTECT foreign key, so callers (the admin, `manage.py shell`) already know how to show it.
The manager is not used in migrations (`use_in_migrations` stays False), so adding it to a
model produces no migration.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.db import models
from django.db.models import ProtectedError

_M = TypeVar("_M", bound=models.Model)


def deletion_refused(model: type[models.Model], objs: Any) -> NoReturn:
    """Raise the one `ProtectedError` for a refused delete of `model` rows."""
    raise ProtectedError(
        f"{model._meta.verbose_name_plural} are part of the payment record and are never deleted.",
        objs,
    )


class NonDeletableQuerySet(models.QuerySet[_M]):
    """A QuerySet whose bulk `delete()` always refuses (nothing is queried or deleted)."""

    def delete(self) -> NoReturn:
        deletion_refused(self.model, self)


class NonDeletableManager(models.Manager[_M]):
    """Default manager for models whose rows are never deleted: every queryset refuses `delete()`."""

    def get_queryset(self) -> NonDeletableQuerySet[_M]:
        return NonDeletableQuerySet(self.model, using=self._db)
