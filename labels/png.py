"""PNG previews drawn at printer resolution, every bar and module a whole number of pixels."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from labels.layout import Plan, baseline, linear_rects, matrix_rects, plan_label
from labels.model import LotLabel
from labels.sizes import check_dpi, label_size
from labels.text import FONT_FILES


@lru_cache(maxsize=64)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILES[bold]), size)


def render_image(plan: Plan) -> Image.Image:
    """The label as a greyscale image, one pixel per printer dot, turned as it prints."""
    image = Image.new("L", (plan.width, plan.height), 255)
    draw = ImageDraw.Draw(image)
    for line in plan.texts:
        x = line.x + line.width // 2 if line.centred else line.x
        draw.text(
            (x, baseline(line)),
            line.text,
            fill=0,
            font=_font(line.size, line.bold),
            anchor="ms" if line.centred else "ls",
        )
    rects = linear_rects(plan.linear) if plan.linear else []
    for symbol in (plan.datamatrix, plan.qr):
        if symbol is not None:
            rects.extend(matrix_rects(symbol, merge=True))
    for x, y, w, h in rects:
        # PIL rectangles include their far edge, hence the -1.
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
    if plan.size.rotated:
        image = image.transpose(Image.Transpose.ROTATE_90)
    return image


def to_png(label: LotLabel, size: str = "4x6", dpi: int = 300) -> bytes:
    """A PNG preview of one label at `dpi` (203 or 300), as a printer of that resolution prints it."""
    check_dpi(dpi)
    image = render_image(plan_label(label, label_size(size), dpi))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi), optimize=True)
    return buffer.getvalue()
