"""Label printers, label settings, label files and print jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.schemas.common import Command, Id, Out, with_rules
from labels import SHEETS, SIZES

MAX_COPIES = 100


def _number(value: Any) -> Any:
    # Query strings and form fields carry numbers as text; Literal[203, 300] only takes ints.
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


Dpi = Annotated[Literal[203, 300], BeforeValidator(_number)]


Copies = Annotated[int, Field(ge=1, le=MAX_COPIES, description=f"copies of each label, 1 to {MAX_COPIES}")]


SizeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


PrinterName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


# A host name, IPv4 address or IPv6 address; no scheme, port or path.
Host = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255,
                                        pattern=r"^[A-Za-z0-9.:-]+$")]


Port = Annotated[int, Field(ge=1, le=65535)]


THERMAL_SIZES = tuple(name for name, size in SIZES.items() if size.thermal)


PDF_LAYOUTS = (*SIZES, *SHEETS)


def _one_of(names: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(names), "maxLength": 20})


# The size names the validators below accept, as the document's enums.
ThermalSizeName = Annotated[SizeName, _one_of(THERMAL_SIZES)]
LabelSizeName = Annotated[SizeName, _one_of(tuple(SIZES))]
PdfLayoutName = Annotated[SizeName, _one_of(PDF_LAYOUTS)]


def thermal_size(value: str | None) -> str | None:
    """A label size a thermal printer takes (ZPL), or ValueError naming the choices."""
    if value is not None and value not in THERMAL_SIZES:
        raise ValueError(f"{value!r} is not a thermal label size; choose one of {', '.join(THERMAL_SIZES)}")
    return value


def pdf_layout(value: str | None) -> str | None:
    """A single-label size or a sheet for PDFs, or ValueError naming the choices."""
    if value is not None and value not in PDF_LAYOUTS:
        raise ValueError(f"{value!r} is not a label size or sheet; choose one of {', '.join(PDF_LAYOUTS)}")
    return value


def single_size(value: str | None) -> str | None:
    """A single-label size (previews), or ValueError naming the choices."""
    if value is not None and value not in SIZES:
        raise ValueError(f"{value!r} is not a label size; choose one of {', '.join(SIZES)}")
    return value


def _bare_host(value: str | None) -> str | None:
    if value is not None and value.count(":") == 1:
        raise ValueError("give the port in its own field, not after the host")
    return value


class PrinterIn(Command):
    name: PrinterName
    host: Host
    port: Port = 9100
    dpi: Dpi = 203
    default_size: ThermalSizeName = "4x6"
    check_status: bool = Field(True, description="ask the printer for its status (Zebra ~HS) before printing; "
                                                 "turn off for printers that do not answer it")
    active: bool = True

    _size = field_validator("default_size")(thermal_size)
    _host = field_validator("host")(_bare_host)


class PrinterPatch(Command):
    name: PrinterName | None = None
    host: Host | None = None
    port: Port | None = None
    dpi: Dpi | None = None
    default_size: ThermalSizeName | None = None
    check_status: bool | None = None
    active: bool | None = None

    _size = field_validator("default_size")(thermal_size)
    _host = field_validator("host")(_bare_host)


class PrinterOut(Out):
    id: int
    name: str
    host: str
    port: int
    dpi: int
    default_size: str
    check_status: bool
    active: bool
    created_at: datetime
    updated_at: datetime


class LabelSettingsPatch(Command):
    pdf_size: PdfLayoutName | None = Field(None, description="label size or sheet for PDFs")
    zpl_size: ThermalSizeName | None = Field(None, description="thermal label size for ZPL downloads")
    zpl_dpi: Dpi | None = Field(None, description="printer resolution for ZPL downloads")

    _pdf = field_validator("pdf_size")(pdf_layout)
    _zpl = field_validator("zpl_size")(thermal_size)


class LabelSettingsOut(BaseModel):
    pdf_size: str
    zpl_size: str
    zpl_dpi: int
    pdf_sizes: list[str] = Field(description="the label sizes and sheets a PDF can be laid out on")
    zpl_sizes: list[str] = Field(description="the thermal label sizes ZPL can be made for")


class FileQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    size: LabelSizeName | None = Field(None, description="label size; the site default if left out")

    _size = field_validator("size")(single_size)


class PdfQuery(FileQuery):
    size: PdfLayoutName | None = Field(None, description="label size or sheet; the site default if left out")
    copies: Copies = 1

    _size = field_validator("size")(pdf_layout)


class ZplQuery(FileQuery):
    size: ThermalSizeName | None = Field(None, description="thermal label size; the site default if left out")
    dpi: Dpi | None = Field(None, description="printer resolution; the site default if left out")
    copies: Copies = 1

    _size = field_validator("size")(thermal_size)


class PngQuery(FileQuery):
    dpi: Dpi = 300


class PrintIn(Command):
    """Name exactly one of lot_ids, receipt_id or run_id."""

    model_config = ConfigDict(json_schema_extra=with_rules({"oneOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}},
                                            **{other: {"type": "null"} for other in others}}}
        for name, others in (("lot_ids", ("receipt_id", "run_id")), ("receipt_id", ("lot_ids", "run_id")),
                             ("run_id", ("lot_ids", "receipt_id")))]}))
    printer_id: Id
    lot_ids: list[Id] | None = Field(None, min_length=1, max_length=500)
    receipt_id: Id | None = None
    run_id: Id | None = None
    size: ThermalSizeName | None = Field(None, description="thermal label size; the printer's default if left out")
    copies: Copies = 1

    _size = field_validator("size")(thermal_size)

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        given = [name for name in ("lot_ids", "receipt_id", "run_id") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("name what to print: lot_ids, receipt_id or run_id (exactly one)")
        return self


class PrintJobOut(BaseModel):
    id: int
    printer_id: int
    printer_name: str
    subject: str
    labels: int = Field(description="labels sent: each label times the copies")
    copies: int
    size: str
    dpi: int
    bytes_sent: int
    created_at: datetime
    message: str


class PrintForm(Command):
    """What the print page's forms send besides the subject (which stays in the query string)."""

    size: SizeName | None = None
    copies: Copies = 1
    dpi: Dpi | None = None
    printer_id: Id | None = None
