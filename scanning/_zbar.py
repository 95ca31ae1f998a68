"""A small binding to libzbar (through pyzbar's loader) that also reports zbar's GS1 flag."""

from __future__ import annotations

import ctypes
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

# zbar symbol types (zbar.h) that we enable, by name. zbar only sees photos zxing could not read,
# so the rest stay off: they are the usual false reads on such photos (Codabar, short ITF,
# Code 39, and UPC-E, which part of a blurred EAN-13 can pass for).
_TYPES = {8: "EAN8", 12: "UPCA", 13: "EAN13", 64: "QRCODE", 128: "CODE128"}
_ZBAR_NONE = 0
_CFG_ENABLE = 0
_MOD_GS1 = 1  # zbar_modifier_t ZBAR_MOD_GS1: the symbol starts with FNC1
_FOURCC_Y800 = 0x30303859  # 'Y800': 8-bit grayscale


@dataclass(frozen=True)
class ZbarSymbol:
    """One symbol zbar found: its type name, raw data, outline and whether it is GS1."""

    type: str
    data: bytes
    points: tuple[tuple[int, int], ...]
    quality: int
    gs1: bool


class ZbarReader:
    """Scans 8-bit grayscale arrays with libzbar; one scanner per call, so it is thread-safe."""

    def __init__(self, wrapper: ModuleType) -> None:
        self._w = wrapper
        self._get_modifiers: Any = wrapper.zbar_function(
            "zbar_symbol_get_modifiers", ctypes.c_uint, ctypes.POINTER(wrapper.zbar_symbol)
        )

    def scan(self, gray: npt.NDArray[np.uint8]) -> list[ZbarSymbol]:
        """Every symbol zbar finds in `gray` (a 2-D uint8 array)."""
        w = self._w
        height, width = gray.shape
        pixels = np.ascontiguousarray(gray, dtype=np.uint8)
        scanner = w.zbar_image_scanner_create()
        if not scanner:
            return []
        image = w.zbar_image_create()
        try:
            w.zbar_image_scanner_set_config(scanner, _ZBAR_NONE, _CFG_ENABLE, 0)
            for symbology in _TYPES:
                w.zbar_image_scanner_set_config(scanner, symbology, _CFG_ENABLE, 1)
            w.zbar_image_set_format(image, _FOURCC_Y800)
            w.zbar_image_set_size(image, width, height)
            # zbar reads the array in place; `pixels` outlives the scan.
            w.zbar_image_set_data(image, pixels.ctypes.data_as(ctypes.c_void_p), pixels.nbytes, None)
            if w.zbar_scan_image(scanner, image) <= 0:
                return []
            found = []
            symbol = w.zbar_image_first_symbol(image)
            while symbol:
                kind = _TYPES.get(symbol.contents.type)
                if kind is not None:
                    found.append(self._symbol(symbol, kind))
                symbol = w.zbar_symbol_next(symbol)
            return found
        finally:
            w.zbar_image_destroy(image)
            w.zbar_image_scanner_destroy(scanner)

    def _symbol(self, symbol: Any, kind: str) -> ZbarSymbol:
        w = self._w
        data = ctypes.string_at(w.zbar_symbol_get_data(symbol), w.zbar_symbol_get_data_length(symbol))
        points = tuple(
            (int(w.zbar_symbol_get_loc_x(symbol, i)), int(w.zbar_symbol_get_loc_y(symbol, i)))
            for i in range(w.zbar_symbol_get_loc_size(symbol))
        )
        return ZbarSymbol(
            type=kind,
            data=data,
            points=points,
            quality=int(w.zbar_symbol_get_quality(symbol)),
            gs1=bool(self._get_modifiers(symbol) & _MOD_GS1),
        )


def load() -> ZbarReader:
    """Load libzbar; raises ImportError or OSError when the system library is missing."""
    return ZbarReader(importlib.import_module("pyzbar.wrapper"))
