"""What to do differently when a photo could not be read: too dark, glare, blurred, code too small."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from scanning.decoding import Gray, load_preview

Reason = Literal["dark", "glare", "blurred", "small", "unclear"]

PREVIEW_SIDE = 640
"""The photo is judged at this size: enough to see bars, cheap even for 12 MP."""

# Thresholds, set on what a phone delivers: the mean brightness of a photo taken in a dim cold
# room is around 40 of 255; a lamp's reflection saturates a large patch; a focused label at
# 640 px has strong edges (variance of the Laplacian in the hundreds), a shaken one a few dozen.
DARK_MEAN = 55.0
GLARE_SHARE = 0.05
"""Share of the barcode-like region burnt to white (≥ 250) in one patch that counts as glare."""
BLUR_VARIANCE = 60.0
SMALL_SHARE = 0.015
"""Share of the photo the barcode-like region must cover to be large enough to read."""

_MESSAGES: dict[Reason, str] = {
    "dark": "The photo is too dark: turn on a light or the phone's torch, then try again.",
    "glare": "Glare covers part of the photo: tilt the phone a little to avoid reflections.",
    "blurred": "The photo is blurred: hold the phone steady and let it focus, then try again.",
    "small": "The barcode is too small in the photo: hold the phone closer, so it fills the middle.",
    "unclear": "Hold the phone closer, with the barcode flat and in good light; avoid glare.",
}


@dataclass(frozen=True)
class Advice:
    """Why a photo was probably unreadable (`reason`) and what to do, in words for the user."""

    reason: Reason
    message: str


def advise(image_bytes: bytes) -> Advice:
    """What to change for the next photo, judged from one that could not be read.

    The photo must already have passed `decode` (which refuses non-images). The first trouble
    found, in this order, is named: too dark, glare, blurred, barcode too small; otherwise a
    general hint.
    """
    reason = judge(load_preview(bytes(image_bytes), PREVIEW_SIDE))
    return Advice(reason, _MESSAGES[reason])


def judge(gray: Gray) -> Reason:
    """The likeliest reason a grayscale photo (about 640 px on its longest side) did not read."""
    if float(gray.mean()) < DARK_MEAN:
        return "dark"
    region = _busiest_region(gray)
    if region is None:
        # Not an edge anywhere (a blank wall, the lens covered): nothing to judge.
        return "unclear"
    x, y, w, h = region
    # Glare that matters lies on the code: a white label elsewhere in the photo is no trouble.
    if _glare_share(gray[y : y + h, x : x + w]) >= GLARE_SHARE:
        return "glare"
    if _sharpness(gray[y : y + h, x : x + w]) < BLUR_VARIANCE:
        return "blurred"
    if w * h < SMALL_SHARE * gray.size:
        return "small"
    return "unclear"


def _sharpness(gray: Gray) -> float:
    """Variance of the Laplacian: high where edges are crisp, low when out of focus or shaken."""
    if gray.size == 0:
        return 0.0
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _glare_share(gray: Gray) -> float:
    """The share of the largest patch burnt to white, when the paper around it is not.

    A label's white may itself be at 255 in a bright or generated image; glare is a reflection
    brighter than the rest of the paper.
    """
    if gray.size == 0:
        return 0.0
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper = gray[gray > level]
    if paper.size == 0 or float(np.median(paper)) >= 235:
        return 0.0
    burnt = (gray >= 250).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(burnt, connectivity=8)
    if count <= 1:
        return 0.0
    # The largest burnt patch: scattered white pixels (a white label) are not glare.
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / gray.size


def _busiest_region(gray: Gray) -> tuple[int, int, int, int] | None:
    """The bounding box of the largest edge-dense blob: where a barcode would be, if anywhere."""
    gx = cv2.Scharr(gray, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(gray, cv2.CV_32F, 0, 1)
    energy = cv2.blur(cv2.magnitude(gx, gy), (9, 9))
    top = float(energy.max())
    if top < 1e-6:
        return None
    scaled = np.clip(energy * (255.0 / top), 0, 255).astype(np.uint8)
    _, mask = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
    return int(x), int(y), int(w), int(h)
