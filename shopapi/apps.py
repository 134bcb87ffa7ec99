"""The Django admin's app config with shopapi's admin site as `admin.site` (`shopapi.admin.ShopAdminSite`).

Listed in INSTALLED_APPS in place of `django.contrib.admin`: Django's documented way to replace the
default site, so every `admin.site.register(...)` (ours and the packages') lands on it.
"""

from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    default_site = "shopapi.admin.ShopAdminSite"
