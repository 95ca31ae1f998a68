"""ZPL II for Zebra-compatible thermal printers: the printer draws the barcodes at whole dots."""

from __future__ import annotations

from labels.layout import Plan, TextLine, plan_label
from labels.model import LotLabel
from labels.sizes import thermal_size
from labels.symbols import ZPL_HEX, zpl_code128_field, zpl_datamatrix_field
from labels.text import ELLIPSIS


def _hex_escaped(text: str) -> str:
    # ^ and ~ start ZPL commands and \ is the ^FH escape itself; ^FH\ writes them as hex.
    return "".join(ZPL_HEX.get(c, c) for c in text)


def _printable(text: str) -> str:
    # The printer's scalable font covers Latin-1, which has no ellipsis character.
    return _hex_escaped(text.replace(ELLIPSIS, "..."))


def _text(line: TextLine) -> str:
    # ^FB with one line keeps the text in its box; C centres it (the GS1 human-readable line).
    justify = "C" if line.centred else "L"
    return (
        f"^FO{line.x},{line.y}^A0N,{line.size},{line.size}"
        f"^FB{line.width},1,0,{justify}^FH\\^FD{_printable(line.text)}^FS"
    )


def render_zpl(plan: Plan) -> str:
    """The ZPL for a laid-out label, one command group per line."""
    out = ["^XA", "^CI28", f"^PW{plan.width}", f"^LL{plan.height}", "^LH0,0"]
    out.extend(_text(line) for line in plan.texts)
    if plan.linear is not None:
        bars = plan.linear
        # Mode N with explicit start code, FNC1 and subset switches: the printer encodes exactly
        # these symbol characters, so the width computed for the layout is the printed width.
        out.append(
            f"^FO{bars.x},{bars.y}^BY{bars.module}^BCN,{bars.height},N,N,N,N^FH\\^FD{zpl_code128_field(bars.codes)}^FS"
        )
    if plan.datamatrix is not None:
        dm = plan.datamatrix
        escape, data = zpl_datamatrix_field(plan.data)
        out.append(f"^FO{dm.x},{dm.y}^BXN,{dm.module},200,,,,{escape}^FH\\^FD{data}^FS")
    if plan.qr is not None:
        qr = plan.qr
        # Model 2, error correction M, automatic input mode.
        out.append(f"^FO{qr.x},{qr.y}^BQN,2,{qr.module}^FH\\^FDMA,{_hex_escaped(plan.url)}^FS")
    out.append("^XZ")
    return "\n".join(out) + "\n"


def to_zpl(label: LotLabel, size: str = "4x6", dpi: int = 203) -> str:
    """ZPL for one label on a thermal printer of `dpi` (203 or 300).

    Bars and modules are whole printer dots no smaller than scans reliably; a symbol that would
    need less is left off and the label says so in words. LabelSizeError for an unknown size
    or resolution, LabelFitError when the label cannot be printed readably at that size.
    """
    return render_zpl(plan_label(label, thermal_size(size, dpi), dpi, for_zpl=True))
