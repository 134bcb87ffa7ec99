"""`manage.py seed_demo`: the demo shop for `make run` (a small catalog, a customer, a staff user).

The catalog is `seed_catalog`'s first twelve products (with their options, variants and stock),
plus their pictures stored through Django's default storage (`catalog.demo`), and two shipping
methods (`checkout.demo`). Idempotent: `make
run` calls it on every start, and a second run adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import User
from catalog.demo import demo_catalog_ensure
from checkout.demo import demo_shipping_ensure

DEMO_USERS = [
    # username, email, password, is_staff
    ("demo", "demo@example.com", "demo-shopper-2026", False),
    ("staff", "staff@example.com", "staff-backoffice-2026", True),
]


class Command(BaseCommand):
    help = "Load the demo catalog and the demo accounts (idempotent); prints the credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_catalog", products=12, categories=3, verbosity=0)
        added = demo_catalog_ensure()
        if added.images or added.variants:
            self.stdout.write(f"demo catalog: {added.images} pictures and {added.variants} variants added")
        if methods := demo_shipping_ensure():
            self.stdout.write(f"demo shipping: {methods} shipping methods added")
        for username, email, password, is_staff in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": email, "is_staff": is_staff}
            )
            if created:
                user.set_password(password)
                user.save()
            if is_staff:
                # Staff run the shop: every model permission of the shop's apps, refunds included.
                user.user_permissions.set(
                    Permission.objects.filter(content_type__app_label__in=["catalog", "checkout", "accounts"])
                )
            role = "staff (admin at /admin/)" if is_staff else "customer"
            self.stdout.write(f"demo {role}: username={username} password={password}")
