"""Font metrics, fitting and wrapping for label text, shared by every renderer."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# Bitstream Vera ships with reportlab, so PDF, PNG and the fit calculations use one font with
# one set of metrics. It is wider than a Zebra printer's scalable font 0 (a condensed face), so
# text measured here never overruns its box on a thermal label either.
FONT_DIR = Path(reportlab.__file__).parent / "fonts"
FONT_FILES = {False: FONT_DIR / "Vera.ttf", True: FONT_DIR / "VeraBd.ttf"}
FONT_NAMES = {False: "LotwiseSans", True: "LotwiseSans-Bold"}
SVG_FONT_FAMILY = "Bitstream Vera Sans, DejaVu Sans, Verdana, sans-serif"
ELLIPSIS = "…"


@cache
def register_fonts() -> None:
    """Make the label fonts known to reportlab (once per process)."""
    for bold, path in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(FONT_NAMES[bold], str(path)))


def text_width(text: str, size: float, bold: bool) -> float:
    """Width of `text` set at `size` (em height), in the same unit as `size`."""
    register_fonts()
    return float(pdfmetrics.stringWidth(text, FONT_NAMES[bold], size))


def fit_size(text: str, bold: bool, width: int, largest: int, smallest: int) -> int | None:
    """The largest size in [smallest, largest] at which `text` fits `width` on one line."""
    for size in range(largest, smallest - 1, -1):
        if text_width(text, size, bold) <= width:
            return size
    return None


def ellipsize(text: str, size: int, bold: bool, width: int) -> str:
    """`text`, cut short with an ellipsis if it is wider than `width`."""
    if text_width(text, size, bold) <= width:
        return text
    return _truncate(text, size, bold, width)


def _truncate(text: str, size: int, bold: bool, width: int) -> str:
    while text and text_width(text + ELLIPSIS, size, bold) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _break_word(word: str, size: int, bold: bool, width: int) -> list[str]:
    pieces: list[str] = []
    while word:
        cut = len(word)
        while cut > 1 and text_width(word[:cut], size, bold) > width:
            cut -= 1
        pieces.append(word[:cut])
        word = word[cut:]
    return pieces


def wrap(
    text: str,
    size: int,
    bold: bool,
    width: int,
    max_lines: int,
    *,
    tokens: list[str] | None = None,
    joiner: str = " ",
) -> list[str]:
    """`text` broken into at most `max_lines` lines of `width`; an ellipsis marks a cut.

    Lines break between `tokens` (words by default); a token wider than a line is split.
    Newlines in `text` always start a new line.
    """
    lines: list[str] = []
    paragraphs = [tokens] if tokens is not None else [p.split() for p in text.split("\n")]
    for words in paragraphs:
        line = ""
        for word in words:
            candidate = f"{line}{joiner}{word}" if line else word
            if text_width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            pieces = _break_word(word, size, bold, width)
            lines.extend(pieces[:-1])
            line = pieces[-1]
        if line:
            lines.append(line)
    if len(lines) > max_lines:
        kept = lines[:max_lines]
        kept[-1] = _truncate(kept[-1], size, bold, width)
        return kept
    return lines
