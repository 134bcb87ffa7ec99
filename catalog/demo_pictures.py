"""The demo shop's pictures: which committed file (`catalog/demo_images/`) shows which demo product.

The files are small JPEG illustrations (a gradient, a shape and the product's initial) drawn once by
`scripts/make_demo_images.py` and committed, so a fresh clone has them and no demo data points at
an external host. `seed_demo` stores each through Django's default storage (MEDIA_ROOT locally,
S3-compatible storage in production) as its product's image (`catalog.demo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils.text import slugify

from catalog.seeding import CURATED

DEMO_IMAGES_DIR = Path(__file__).resolve().parent / "demo_images"


@dataclass(frozen=True, slots=True)
class DemoPicture:
    number: int  # the demo product it shows (1-based, as in catalog.seeding.CURATED)
    name: str  # the product's name
    file: str  # the file in DEMO_IMAGES_DIR

    @property
    def alt(self) -> str:
        return f"Illustration of the {self.name}"

    @property
    def path(self) -> Path:
        return DEMO_IMAGES_DIR / self.file


def demo_pictures() -> list[DemoPicture]:
    """One picture per demo product, in product order; the file is named after the product."""
    return [DemoPicture(number, name, f"{slugify(name)}.jpg") for number, (name, *_) in enumerate(CURATED, 1)]
