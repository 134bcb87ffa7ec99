"""Where uploaded media (product images) are stored: the `default` entry of `STORAGES`.

`MEDIA_STORAGE=local` (the default) keeps files under `MEDIA_ROOT`; `s3` stores them on any
S3-compatible service (AWS S3, Cloudflare R2, MinIO…) through django-storages, with boto3 reading
its own credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`). Settings call this once.
"""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured


def media_storage(env: environ.Env, kind: str) -> dict[str, Any]:
    """The storage backend for `MEDIA_STORAGE=kind`."""
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(f"MEDIA_STORAGE must be 'local' or 's3', not {kind!r}.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            # A public CDN or bucket domain: image URLs are then plain, unsigned and cacheable.
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "file_overwrite": False,
        },
    }
