"""Draw the demo shop's product pictures into catalog/demo_images/ (run once; the files are committed).

    .venv/bin/python scripts/make_demo_images.py

One 400×400 JPEG per demo product (`catalog/demo_pictures.py` names the files): a diagonal
gradient in the product's colours, a pale shape and the product's initial, each well under
20 KB. The drawing is deterministic (the same Pillow writes the same bytes); rerun it only to
change the pictures, then commit them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.demo_pictures import DEMO_IMAGES_DIR, DemoPicture, demo_pictures  # noqa: E402

SIZE = 400
QUALITY = 82
# Gradient colours (top-left, bottom-right), one pair per demo product, in product order.
PALETTES = [
    ((52, 58, 64), (134, 142, 150)),  # skillet: cast iron greys
    ((33, 37, 41), (76, 110, 245)),  # headphones
    ((230, 119, 0), (255, 212, 59)),  # T-shirt
    ((112, 72, 232), (177, 151, 252)),  # pressure cooker
    ((12, 166, 120), (99, 230, 190)),  # charger
    ((28, 54, 130), (116, 143, 252)),  # indigo kurta
    ((132, 94, 60), (216, 167, 121)),  # coffee dripper
    ((201, 42, 42), (255, 135, 135)),  # speaker
    ((95, 61, 196), (230, 119, 0)),  # socks
    ((102, 168, 15), (192, 235, 117)),  # cutting boards
    ((16, 152, 173), (102, 217, 232)),  # keyboard
    ((43, 138, 62), (140, 233, 154)),  # trail jacket
]
SHAPES = ["circle", "square", "triangle", "diamond", "hexagon", "ring"]


def _gradient(top_left: tuple[int, int, int], bottom_right: tuple[int, int, int]) -> Image.Image:
    # A vertical 0..255 ramp twice the size, turned 45°: its centre is a diagonal ramp (no corners).
    ramp = (
        Image.linear_gradient("L").resize((2 * SIZE, 2 * SIZE)).rotate(45, resample=Image.Resampling.BICUBIC)
    )
    mask = ramp.crop((SIZE // 2, SIZE // 2, SIZE // 2 + SIZE, SIZE // 2 + SIZE))
    return Image.composite(
        Image.new("RGB", (SIZE, SIZE), bottom_right), Image.new("RGB", (SIZE, SIZE), top_left), mask
    )


def _shape(draw: ImageDraw.ImageDraw, kind: str) -> None:
    fill = (255, 255, 255, 70)
    box = (70, 70, SIZE - 70, SIZE - 70)
    centre, radius = SIZE / 2, (SIZE - 140) / 2
    if kind == "circle":
        draw.ellipse(box, fill=fill)
    elif kind == "square":
        draw.rounded_rectangle(box, radius=40, fill=fill)
    elif kind == "ring":
        draw.ellipse(box, outline=fill, width=36)
    else:
        sides, rotation = {"triangle": (3, 0), "diamond": (4, 45), "hexagon": (6, 30)}[kind]
        draw.regular_polygon(
            (centre, centre + (20 if sides == 3 else 0), radius), sides, rotation=rotation, fill=fill
        )


def draw_picture(picture: DemoPicture, index: int) -> Image.Image:
    image = _gradient(*PALETTES[index % len(PALETTES)]).convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    _shape(draw, SHAPES[index % len(SHAPES)])
    initial = picture.name[0].upper()
    big = ImageFont.load_default(size=170)
    draw.text((SIZE / 2 + 4, SIZE / 2 + 4), initial, font=big, anchor="mm", fill=(0, 0, 0, 60))
    draw.text((SIZE / 2, SIZE / 2), initial, font=big, anchor="mm", fill=(255, 255, 255, 255))
    caption = picture.name.split(",")[0]
    small = ImageFont.load_default(size=20 if len(caption) < 30 else 17)
    draw.text((SIZE / 2, SIZE - 34), caption, font=small, anchor="mm", fill=(255, 255, 255, 230))
    return Image.alpha_composite(image, overlay).convert("RGB")


def main() -> int:
    DEMO_IMAGES_DIR.mkdir(exist_ok=True)
    for index, picture in enumerate(demo_pictures()):
        draw_picture(picture, index).save(picture.path, "JPEG", quality=QUALITY, optimize=True)
        print(f"{picture.path.relative_to(ROOT)}: {picture.path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
