"""SVG previews: the same layout as the PDF, as vector rectangles and text."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from labels.layout import Plan, Rect, baseline, linear_rects, matrix_rects, plan_label
from labels.model import LotLabel
from labels.sizes import PDF_DPI, label_size
from labels.text import SVG_FONT_FAMILY


def _rects(rects: list[Rect]) -> list[str]:
    return [f'<rect x="{x}" y="{y}" width="{w}" height="{h}"/>' for x, y, w, h in rects]


def render_svg(plan: Plan) -> str:
    """SVG of a plan; user units are layout dots, the size is given in inches."""
    page_w, page_h = (plan.height, plan.width) if plan.size.rotated else (plan.width, plan.height)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{page_w / plan.dpi:.4f}in" '
        f'height="{page_h / plan.dpi:.4f}in" viewBox="0 0 {page_w} {page_h}" '
        'shape-rendering="crispEdges">',
        f"<title>{escape('Lot ' + plan.data.lot)}</title>",
        f'<rect id="background" width="{page_w}" height="{page_h}" fill="#fff"/>',
    ]
    # A rotated label turns a quarter turn anticlockwise onto its portrait page, as in the PDF.
    transform = f' transform="translate(0,{plan.width}) rotate(-90)"' if plan.size.rotated else ""
    out.append(f'<g id="label" fill="#000"{transform}>')
    out.append(f'<g id="text" font-family={quoteattr(SVG_FONT_FAMILY)}>')
    for line in plan.texts:
        x = line.x + line.width // 2 if line.centred else line.x
        anchor = ' text-anchor="middle"' if line.centred else ""
        weight = ' font-weight="bold"' if line.bold else ""
        out.append(
            f'<text x="{x}" y="{baseline(line)}" font-size="{line.size}"{weight}{anchor}>{escape(line.text)}</text>'
        )
    out.append("</g>")
    if plan.linear is not None:
        bars = plan.linear
        name = "gs1-128" if plan.data.gs1 else "code-128"
        out.append(f'<g id="{name}" data-module="{bars.module}" data-modules="{len(bars.pattern)}">')
        out.extend(_rects(linear_rects(bars)))
        out.append("</g>")
    dm_name = "gs1-datamatrix" if plan.data.gs1 else "datamatrix"
    for symbol, name in ((plan.datamatrix, dm_name), (plan.qr, "qr")):
        if symbol is not None:
            out.append(f'<g id="{name}" data-module="{symbol.module}" data-side="{symbol.side}">')
            out.extend(_rects(matrix_rects(symbol, merge=False)))
            out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_svg(label: LotLabel, size: str = "4x6") -> str:
    """An SVG preview of one label, laid out on the same 1/300 in grid as the PDF."""
    return render_svg(plan_label(label, label_size(size), PDF_DPI))
