"""Draw the application icon once: resources/havre-ensemble.png and .ico (Windows).

A white house (a haven) with a heart in it (ensemble) on the City's blue,
drawn with Pillow (reportlab's dependency, so it is in every venv). The files are
committed; run this again only to change the icon:

    .venv/bin/python scripts/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
BLUE = (29, 79, 145, 255)  # the navigation highlight of the UI theme (#1d4f91)
WHITE = (255, 255, 255, 255)
DRAW_SIZE = 1024  # drawn large, then scaled down (antialiasing)
PNG_SIZE = 256
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def draw() -> Image.Image:
    s = DRAW_SIZE
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 6, fill=BLUE)
    # The house: a roof with its eaves, and the body.
    pen.polygon([(s * 0.50, s * 0.12), (s * 0.90, s * 0.47), (s * 0.10, s * 0.47)], fill=WHITE)
    pen.rectangle((s * 0.22, s * 0.44, s * 0.78, s * 0.86), fill=WHITE)
    # A heart in it (together, cared for): two discs and a point.
    r = s * 0.085
    cx, cy = s * 0.50, s * 0.60
    pen.ellipse((cx - 2 * r, cy - r, cx, cy + r), fill=BLUE)
    pen.ellipse((cx, cy - r, cx + 2 * r, cy + r), fill=BLUE)
    pen.polygon(
        [(cx - 1.93 * r, cy + 0.35 * r), (cx + 1.93 * r, cy + 0.35 * r), (cx, cy + 2.3 * r)],
        fill=BLUE,
    )
    return image


def main() -> None:
    image = draw()
    target = ROOT / "resources"
    image.resize((PNG_SIZE, PNG_SIZE), Image.Resampling.LANCZOS).save(
        target / "havre-ensemble.png", optimize=True
    )
    image.save(target / "havre-ensemble.ico", sizes=ICO_SIZES)
    print("written:", *(p.name for p in sorted(target.glob("havre-ensemble.*"))))


if __name__ == "__main__":
    main()
