"""Our ZPL through an independent renderer (zpl-renderer-js, Zebrash in WebAssembly): every thermal size and
resolution, both kinds of label, hostile lot codes. What it draws must decode to what our own PDF of the same
label decodes to, and to what the label's data says."""

from __future__ import annotations

from collections.abc import Callable

import pypdfium2 as pdfium
import pytest
import zxingcpp

from labels import SIZES, LabelDataError, LotLabel, to_pdf, to_zpl
from tests.helpers.labels import THERMAL, expected_text, expected_url, jam, sku_only
from tests.helpers.requires import needs
from tests.helpers.zpl_render import Job, missing, render

# CI installs the renderer and sets LOTWISE_TEST_REQUIRE: there a missing renderer fails the tests.
pytestmark = needs("zpl-renderer-js", missing() is None,
                   "Node 20 and `npm install --prefix .node 'zpl-renderer-js@^3'`, or LOTWISE_NODE_MODULES naming "
                   "its node_modules")

Read = tuple[str, str, str]


def reads(image: object) -> set[Read]:
    return {(str(r.format), str(r.content_type), r.text)
            for r in zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Escaped)}


def pdf_page(pdf: bytes) -> object:
    [page] = pdfium.PdfDocument(pdf)
    # A hair under the nominal scale keeps one pixel per layout dot (pdfium rounds page sizes up).
    return page.render(scale=300 / 72 * (1 - 1e-6)).to_pil().convert("L")


def escaped(text: str) -> str:
    """zxing-cpp's escaped text mode shows the GS1 separator as <GS>."""
    return text.replace("\x1d", "<GS>")


def wanted(label: LotLabel, size: str) -> set[Read]:
    """What the label's symbols must say; a 2×1 in label holds only the DataMatrix."""
    kind = "ContentType.GS1" if label.gtin else "ContentType.Text"
    out = {("Data Matrix", kind, escaped(expected_text(label)))}
    if size != "2x1":
        out |= {("Code 128", kind, escaped(expected_text(label))), ("QR Code", "ContentType.Text", expected_url(label))}
    return out


# Hostile lot codes: each either prints and reads back exactly, or is refused with the reason.
HOSTILE = ["A_B", "x", "7", "^A^", "~A~", "A\\B", "_1_", "A>B", "a b>C", "lot-é", "A\x1dB"]
GS1_ALLOWS = {"A_B", "x", "7", "_1_", "A>B"}
PLAIN_ALLOWS = GS1_ALLOWS | {"^A^", "~A~", "A\\B", "a b>C"}


def test_every_size_and_resolution_reads_the_same_through_the_renderer_as_our_pdf() -> None:
    cases: list[tuple[LotLabel, str, int]] = [
        (make(), size, dpi) for make in (jam, sku_only) for size in THERMAL for dpi in (203, 300)]
    images = render([Job(to_zpl(label, size, dpi), SIZES[size].width_in, SIZES[size].height_in, dpi)
                     for label, size, dpi in cases])
    pdfs: dict[tuple[int, str], set[Read]] = {}
    for (label, size, dpi), image in zip(cases, images, strict=True):
        got = reads(image)
        assert got == wanted(label, size), (label.lot_code, size, dpi)
        key = (id(label), size)
        if key not in pdfs:
            pdfs[key] = reads(pdf_page(to_pdf([label], size)))
        assert got == pdfs[key], f"the ZPL and the PDF of {size} read differently"


@pytest.mark.parametrize("make", [jam, sku_only], ids=["gtin", "plain"])
def test_hostile_lot_codes_print_exactly_or_are_refused(make: Callable[..., LotLabel]) -> None:
    allowed = GS1_ALLOWS if make is jam else PLAIN_ALLOWS
    jobs, labels = [], []
    for lot in HOSTILE:
        if lot not in allowed:
            with pytest.raises(LabelDataError, match="lot code"):
                make(lot_code=lot)
            continue
        label = make(lot_code=lot)
        for size, dpi in (("4x6", 203), ("2x1", 300)):
            jobs.append(Job(to_zpl(label, size, dpi), SIZES[size].width_in, SIZES[size].height_in, dpi))
            labels.append((label, size))
    for (label, size), image in zip(labels, render(jobs), strict=True):
        assert reads(image) == wanted(label, size), (label.lot_code, size)
