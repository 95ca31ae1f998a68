"""Onboarding from the workbook: a new user's spreadsheets in, checked, imported, allocated, and out again."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import main
from app.errors import Invalid
from app.exports.workbook import template
from app.models import (
    Balance,
    Customer,
    DataImport,
    Location,
    Lot,
    LotOrigin,
    Movement,
    MovementKind,
    Order,
    OrderAllocation,
    Product,
    Supplier,
    Warehouse,
)
from app.queries.check import check_ledger
from app.queries.recall import mass_balance
from app.schemas import SheetName
from app.services.allocations import allocate_wave
from app.services.imports import OPENING, Options, import_workbook
from tests.helpers.api import TODAY
from tests.helpers.workbooks import HEADERS, csv_bytes, day, fill, onboarding, sheets, xlsx

LIMIT = 20 * 1024 * 1024


def run(session: Session, data: bytes, *, filename: str = "onboarding.xlsx", sheet: SheetName | None = None,
        **options: bool) -> Any:
    return import_workbook(session, data, filename=filename, sheet=sheet, options=Options(**options), user=None,
                           today=TODAY, max_bytes=LIMIT)


def cli(database_url: str, tmp_path: Path, *args: str) -> Any:
    env = {"LOTWISE_DATABASE_URL": database_url, "LOTWISE_INSTANCE_DIR": str(tmp_path), "LOTWISE_TIMEZONE": "UTC"}
    return CliRunner().invoke(main, list(args), env=env)


def counts(session: Session) -> dict[str, int]:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Product, Supplier, Customer, Warehouse, Location, Lot, Movement, Balance, Order)}


def by_sheet(out: Any) -> dict[str, tuple[int, int, int, int]]:
    return {s.sheet.value: (s.created, s.updated, s.skipped, s.bad) for s in out.sheets}


def test_a_new_user_fills_the_template_checks_imports_and_allocates_the_orders(
        session: Session, database_url: str, tmp_path: Path) -> None:
    made = cli(database_url, tmp_path, "import", "template", "-o", str(tmp_path / "onboarding.xlsx"))
    assert made.exit_code == 0, made.output
    book = load_workbook(tmp_path / "onboarding.xlsx")
    assert [ws.title for ws in book.worksheets] == [*HEADERS, "notes"]
    for name, rows in onboarding().items():
        assert [c.value for c in book[name][1]] == HEADERS[name]
        fill(book[name], rows)
    book.save(tmp_path / "filled.xlsx")

    checked = cli(database_url, tmp_path, "import", str(tmp_path / "filled.xlsx"), "--dry-run")
    assert checked.exit_code == 0, checked.output
    assert "Checked, nothing written: 20 row(s) to create" in checked.output
    assert counts(session)["product"] == 0

    imported = cli(database_url, tmp_path, "import", str(tmp_path / "filled.xlsx"))
    assert imported.exit_code == 0, imported.output
    assert "Imported: 20 row(s) created, 0 updated, 0 skipped." in imported.output
    assert "reading rows" in imported.output  # the progress bar (on a terminal it draws its bar and count)
    session.rollback()
    assert counts(session) == {"product": 4, "supplier": 2, "customer": 2, "warehouse": 1, "location": 3, "lot": 5,
                               "movement": 6, "balance": 6, "sales_order": 2}
    big_box = session.scalar(select(Customer).where(Customer.name == "Big Box"))
    assert big_box is not None
    assert (big_box.min_remaining_days, big_box.transit_days, big_box.max_lots_per_line, big_box.no_date_reversal) \
        == (60, 2, 2, True)
    rasp = session.scalar(select(Lot).where(Lot.code == "RB-7731"))
    assert rasp is not None and rasp.supplier is not None and rasp.supplier.name == "Bramblewood Berry Farm"
    assert (rasp.origin, rasp.supplier_lot_code, rasp.unit_cost, rasp.expiry) == (
        LotOrigin.RECEIPT, "BB-19", Decimal("6.2"), day(5))
    opening = session.scalars(select(Movement).where(Movement.lot_id == rasp.id)).all()
    assert [(m.kind, m.ref_type, m.quantity, m.booked_on) for m in opening] == [
        (MovementKind.RECEIVE, OPENING, Decimal("42.5"), TODAY)]
    assert session.get(DataImport, opening[0].ref_id) is not None
    assert check_ledger(session) == []
    assert cli(database_url, tmp_path, "check").exit_code == 0
    [balance] = mass_balance(session, [rasp.id])
    assert (balance.received, balance.on_hand, balance.remainder) == (Decimal("42.5"), Decimal("42.5"), 0)

    # The orders allocate first expiry first out under each customer's rule: lot J-0002 (40 days left) is too
    # short for Big Box (60 days on arrival) and for Corner Deli (50 % of its life).
    run_ = allocate_wave(session, day(3), today=TODAY)
    taken = {(a.order_number, a.sku, a.lot_code): a.quantity for a in run_.allocations}
    orders = {o.customer_reference: o.number for o in session.scalars(select(Order))}
    assert taken[(orders["PO-100"], "JAM-STRAW", "S-0001")] == 24
    assert not any(lot == "J-0002" for _, _, lot in taken)
    assert {(number, sku) for number, sku, _ in taken} == {
        (orders["PO-100"], "JAM-RASP"), (orders["PO-100"], "JAM-STRAW"), (orders["PO-101"], "JAM-RASP")}
    assert sum(q for (_, sku, _), q in taken.items() if sku == "JAM-RASP") == 120
    assert [(s.sku, s.missing) for s in run_.shortages] == [("JAM-RASP", 10)]
    assert check_ledger(session) == []

    again = cli(database_url, tmp_path, "import", str(tmp_path / "filled.xlsx"))
    assert again.exit_code == 0, again.output
    assert "Imported: 0 row(s) created, 0 updated, 20 skipped." in again.output
    session.rollback()
    assert counts(session)["movement"] == 6 and counts(session)["sales_order"] == 2


def test_the_export_gives_back_the_workbook_that_was_imported(session: Session) -> None:
    original = xlsx(onboarding())
    assert run(session, original).imported
    from app.exports.workbook import export
    from app.queries.workbook import workbook_rows

    exported = export(workbook_rows(session))
    back, sent = sheets(exported), sheets(original)
    assert back.pop("notes")
    assert back == sent
    # The hostile supplier name is stored as text and leaves as text, never as a formula.
    cells = load_workbook(io.BytesIO(exported))["suppliers"]
    hostile = [c for c in cells["A"] if c.value == '=HYPERLINK("http://evil")']
    assert hostile and hostile[0].data_type == "s" and hostile[0].quotePrefix
    assert session.scalar(select(Supplier.name).where(Supplier.name.startswith("="))) == '=HYPERLINK("http://evil")'
    # Importing the export changes nothing.
    before = counts(session)
    out = run(session, exported)
    assert out.imported and sum(s.created + s.updated for s in out.sheets) == 0
    assert counts(session) == before


def test_every_bad_row_is_named_and_nothing_is_written(session: Session) -> None:
    rows = onboarding()
    rows["products"].append(["BAD-GTIN", "Bad GTIN", "product", "ea", "5012345678901", None, None])
    rows["products"].append(["LONG-UNIT", "Long unit", "product", "bucketsful-of", None, None, None])
    rows["stock"].append(["JAM-RASP", "J-0009", -5, "DRY-01", day(100), None, None, None, None])
    rows["stock"].append(["JAM-RASP", "J-0010", 5, "DRY-01", "2026-02-30", None, None, None, None])
    rows["stock"].append(["NOPE", "N-1", 5, "DRY-01", None, None, None, None, None])
    rows["stock"].append(["JAM-RASP", "J-0011", 5, "SHELF-9", None, None, None, None, None])
    rows["stock"].append(["JAM-RASP", "J-0001", 1, "DRY-01", day(200), day(-165), None, None, Decimal("1.85")])
    rows["stock"].append(["JAM-RASP", "J-0002", 1, "DOCK", day(41), day(-325), None, None, Decimal("1.8")])
    before = counts(session)
    out = run(session, xlsx(rows))
    assert not out.imported and out.import_id is None
    assert counts(session) == before
    found = {(e.sheet, e.row, e.column): e.message for e in out.errors}
    assert "wrong check digit" in found[("products", 6, "gtin")]
    assert "at most 10 characters" in found[("products", 7, "unit")]
    assert "greater than 0" in found[("stock", 8, "quantity")]
    assert "date" in found[("stock", 9, "expiry")]
    assert "unknown sku 'NOPE'" in found[("stock", 10, "sku")]
    assert "unknown location 'SHELF-9'" in found[("stock", 11, "location")]
    assert "duplicate lot code" in found[("stock", 12, "lot_code")] and "row 2" in found[("stock", 12, "lot_code")]
    assert "duplicate lot code" in found[("stock", 13, "lot_code")]
    assert out.error_count == len(found) == 8
    assert by_sheet(out)["stock"][3] == 6 and by_sheet(out)["products"][3] == 2
    assert "Nothing imported: 8 bad row(s)" in out.message

    skipped = run(session, xlsx(rows), skip_bad=True)
    assert skipped.imported and skipped.error_count == 8
    assert counts(session)["lot"] == 5 and counts(session)["product"] == 4
    assert check_ledger(session) == []


def test_existing_records_change_only_when_asked(session: Session) -> None:
    assert run(session, xlsx(onboarding())).imported
    rows = onboarding()
    rows["products"][2][1] = "Raspberries, fresh"
    rows["customers"][1][7] = Decimal("60")
    rows["locations"][1][1] = "Dry store A"
    rows["orders"][2][3] = 35
    left = run(session, xlsx(rows))
    assert left.imported and by_sheet(left) == {
        "products": (0, 0, 4, 0), "suppliers": (0, 0, 2, 0), "customers": (0, 0, 2, 0), "locations": (0, 0, 3, 0),
        "stock": (0, 0, 6, 0), "orders": (0, 0, 3, 0)}
    assert session.scalar(select(Product.name).where(Product.sku == "RASP")) == "Raspberries"

    changed = run(session, xlsx(rows), update=True)
    assert changed.imported
    assert by_sheet(changed)["products"] == (0, 1, 3, 0) and by_sheet(changed)["customers"] == (0, 1, 1, 0)
    assert by_sheet(changed)["locations"] == (0, 1, 2, 0) and by_sheet(changed)["orders"] == (0, 1, 2, 0)
    session.expire_all()
    assert session.scalar(select(Product.name).where(Product.sku == "RASP")) == "Raspberries, fresh"
    assert session.scalar(select(Customer.min_remaining_pct).where(Customer.name == "Corner Deli")) == 60
    assert session.scalar(select(Location.name).where(Location.code == "DRY-01")) == "Dry store A"
    deli = session.scalar(select(Order).where(Order.customer_reference == "PO-101"))
    assert deli is not None and [line.quantity for line in deli.lines] == [35]

    # An order stock was allocated to is changed on its page, not by a file.
    allocate_wave(session, day(3), today=TODAY)
    assert session.scalar(select(func.count()).select_from(OrderAllocation))
    rows["orders"][0][3] = 90
    refused = run(session, xlsx(rows), update=True)
    assert not refused.imported
    assert {(e.row, e.column) for e in refused.errors} == {(2, "order_ref"), (3, "order_ref")}
    assert "change it on its page" in refused.errors[0].message


def test_a_csv_is_one_sheet_named_by_its_file_or_the_option(session: Session) -> None:
    rows = onboarding()
    assert run(session, xlsx({k: rows[k] for k in ("products", "locations")})).imported
    stock = csv_bytes("stock", [r for r in rows["stock"] if r[6] is None], delimiter=";")
    out = run(session, stock, filename="stock.csv")
    assert out.imported and by_sheet(out) == {"stock": (5, 0, 0, 0)}
    with pytest.raises(Invalid, match="a CSV file holds one sheet"):
        run(session, stock, filename="export.csv")
    orders = csv_bytes("orders", rows["orders"])
    out = run(session, orders, filename="from-shop.csv", sheet=SheetName.ORDERS, dry_run=True)
    assert {e.message for e in out.errors} >= {"unknown customer 'Big Box': not in the customers sheet nor in Lotwise"}


def test_headers_are_read_case_insensitively_and_unknown_columns_and_sheets_are_reported(session: Session) -> None:
    headers = dict(HEADERS)
    headers["products"] = ["SKU", "Name", "Kind", "Unit", "GTIN", "Shelf life days", "Expiry-Alert-Days", "Colour"]
    rows = {"products": [[*r, "red"] for r in onboarding()["products"]]}
    out = run(session, xlsx(rows, headers, extra_sheets=["Sheet2"]))
    assert out.imported and by_sheet(out) == {"products": (4, 0, 0, 0)}
    assert "sheet products: an unknown column 'colour' was ignored" in out.notes
    assert "sheet 'Sheet2' is not one of the workbook's sheets; it was ignored" in out.notes
    assert session.scalar(select(Product.shelf_life_days).where(Product.sku == "RASP")) == 10


def test_formulas_are_read_as_their_cached_values_never_evaluated(session: Session, tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "products"
    ws.append(HEADERS["products"])
    ws.append(["F-1", "Formula", "product", "ea", None, "=2*5", None])
    ws.append(["F-2", '=HYPERLINK("http://x","y")', "product", "ea", None, None, None])
    book.save(tmp_path / "f.xlsx")
    # Give the formula the value a spreadsheet program would have cached: openpyxl writes none.
    data = _with_cached_value(tmp_path / "f.xlsx", "F2", "10")
    out = run(session, data, skip_bad=True)
    assert out.imported
    assert session.scalar(select(Product.shelf_life_days).where(Product.sku == "F-1")) == 10
    # A formula with no cached value reads as blank: F-2's name is missing, not the formula's text.
    assert [(e.row, e.column, e.message) for e in out.errors] == [(3, "name", "Field required")]
    assert session.scalar(select(Product.id).where(Product.sku == "F-2")) is None


def _with_cached_value(path: Path, cell: str, value: str) -> bytes:
    src = zipfile.ZipFile(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index(f'<c r="{cell}"')
                end = text.index("</c>", start)
                text = text[:start] + text[start:end].replace("<v />", f"<v>{value}</v>") + text[end:]
                data = text.encode()
            out.writestr(item, data)
    return buf.getvalue()


@pytest.mark.parametrize(("data", "filename", "words"), [
    (b"", "x.xlsx", "the file is empty"),
    (b"%PDF-1.7\x00\x01binary", "x.xlsx", "not a spreadsheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "x.xlsx", "password-protected"),
    (b"PK\x03\x04broken zip", "x.xlsx", "not a readable .xlsx workbook"),
    (b"sku,name\nA,B\n", "anything.csv", "a CSV file holds one sheet"),
])
def test_a_file_that_is_not_a_workbook_is_refused_and_nothing_is_written(
        session: Session, data: bytes, filename: str, words: str) -> None:
    before = counts(session)
    with pytest.raises(Invalid, match=words) as refused:
        run(session, data, filename=filename)
    assert refused.value.field == "file"
    assert counts(session) == before


def test_an_empty_zip_and_a_workbook_without_our_sheets_are_refused(session: Session) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(Invalid, match=r"not a readable \.xlsx workbook"):
        run(session, buf.getvalue())
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(Invalid, match="the file has none of the sheets"):
        run(session, out.getvalue())


def test_a_sheet_without_a_header_and_one_missing_a_column_are_bad_rows(session: Session) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "products"
    ws.append([])
    ws.append([None, None])
    book.create_sheet("locations").append(["code", "name"])
    buf = io.BytesIO()
    book.save(buf)
    out = run(session, buf.getvalue())
    assert not out.imported
    assert {(e.sheet, e.row, e.column) for e in out.errors} == {("products", 1, None), ("locations", 1, "warehouse")}
    assert "no header row" in out.errors[0].message


def test_a_file_over_the_limit_is_refused_with_the_limit(session: Session) -> None:
    with pytest.raises(Invalid, match="the limit is 1 MB"):
        import_workbook(session, b"x" * (1024 * 1024 + 1), filename="big.csv", sheet=SheetName.STOCK,
                        options=Options(), user=None, today=TODAY, max_bytes=1024 * 1024)


def test_a_gtin_names_one_thing(session: Session) -> None:
    assert run(session, xlsx(onboarding())).imported
    from app.schemas import PackagingIn
    from app.services.masterdata import add_packaging

    jam = session.scalar(select(Product.id).where(Product.sku == "JAM-STRAW"))
    assert jam is not None
    add_packaging(session, jam, PackagingIn(level="case", gtin="05012345678917", content=Decimal(12)))
    rows = {"products": [["NEW-1", "New", "product", "ea", "5012345678900", None, None],
                         ["NEW-2", "Other", "product", "ea", "5012345678917", None, None]]}
    out = run(session, xlsx(rows))
    assert [(e.row, e.column, e.message) for e in out.errors] == [
        (2, "gtin", "GTIN 05012345678900 is already the GTIN of product JAM-RASP"),
        (3, "gtin", "GTIN 05012345678917 is already the GTIN of a case of JAM-STRAW")]


def test_a_small_file_that_unpacks_to_gigabytes_is_refused(session: Session, monkeypatch: Any) -> None:
    import app.exports.workbook as workbook

    monkeypatch.setattr(workbook, "MAX_UNPACKED", 10_000)
    with pytest.raises(Invalid, match="unpacks to"):
        run(session, xlsx(onboarding()))


def test_the_template_describes_every_column() -> None:
    book = load_workbook(io.BytesIO(template()))
    notes = [(r[0], r[1]) for r in book["notes"].iter_rows(min_row=2, values_only=True) if r[1]]
    assert notes == [(name, column) for name, columns in HEADERS.items() for column in columns]


def test_the_cli_reports_bad_rows_and_fails(session: Session, database_url: str, tmp_path: Path) -> None:
    rows = {"locations": [["DRY-01", "Dry", "cellar", "MAIN"]]}
    (tmp_path / "bad.xlsx").write_bytes(xlsx(rows))
    result = cli(database_url, tmp_path, "import", str(tmp_path / "bad.xlsx"))
    assert result.exit_code == 1
    assert "locations row 2, kind: Input should be" in result.output
    assert "Nothing imported: 1 bad row(s)" in result.output
    (tmp_path / "notes.txt").write_text("hello")
    result = cli(database_url, tmp_path, "import", str(tmp_path / "notes.txt"))
    assert result.exit_code == 1 and "a CSV file holds one sheet" in result.output
    exported = cli(database_url, tmp_path, "export", str(tmp_path / "out.xlsx"))
    assert exported.exit_code == 0 and sheets((tmp_path / "out.xlsx").read_bytes())["products"] == [
        tuple(HEADERS["products"])]
