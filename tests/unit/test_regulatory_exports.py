"""FSMA 204 and EPCIS formatting from plain event rows, without a database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.exports import epcis, fsma204
from app.models import LotOrigin
from app.schemas import (
    EpcisEvents,
    EpcisLot,
    EpcisProduction,
    EpcisRecall,
    EpcisReceiving,
    EpcisWriteOff,
    FsmaEvents,
    FsmaLot,
    FsmaOrigin,
    FsmaPlace,
    FsmaProduct,
    FsmaReceiving,
    FsmaShipping,
    FsmaTransformation,
)
from tests.helpers.epcis_context import problems as context_problems
from tests.helpers.epcis_context import schema_errors

DAY = date(2026, 11, 20)
BERRIES = FsmaProduct("FR-RASP", "Raspberries", "kg", "5012345000118")
JAM = FsmaProduct("JAM-RASP", "Raspberry jam", "ea", None)
RECEIVED = FsmaLot("261120-R", LotOrigin.RECEIPT, "SUP-77")
MADE = FsmaLot("261120-J", LotOrigin.PRODUCTION, None)
FARM = FsmaPlace("Berry Farm", "1 Field Lane\nHilltown", "+1 555 0100", gln="0614141000005")
PLANT = FsmaPlace("Main plant", "9 Mill Road", "+1 555 0199")
SHOP = FsmaPlace("Corner Shop", None)
SITE = epcis.Site(base_url="https://lotwise.example", company="Jam Co", timezone="Europe/Berlin")


def test_fsma_rows_name_the_traceability_lot_code_and_its_source() -> None:
    events = FsmaEvents(
        receiving=[FsmaReceiving(DAY, "R-1", "PO 5", FARM, RECEIVED, BERRIES, Decimal("12.5"), PLANT, "Cold room")],
        transformation=[FsmaTransformation(DAY, "P-1", MADE, JAM, Decimal(40), RECEIVED, BERRIES, Decimal(8), PLANT,
                                           "Kitchen")],
        shipping=[FsmaShipping(DAY, "S-1", "TRK 9", SHOP, PLANT, MADE, JAM, None, Decimal(6)),
                  FsmaShipping(DAY, "S-1", None, SHOP, PLANT, RECEIVED, BERRIES, FARM, Decimal(2))],
    )
    rows = list(fsma204.rows(events, company="Jam Co", web="https://lotwise.example"))
    assert [(r.event, r.tlc, r.input_tlc) for r in rows] == [
        ("Receiving", "SUP-77", ""), ("Transformation", "261120-J", "SUP-77"),
        ("Shipping", "261120-J", ""), ("Shipping", "SUP-77", "")]
    receiving, transformation, made, received = rows
    farm = "Berry Farm, phone +1 555 0100, 1 Field Lane, Hilltown"
    assert receiving.tlc_source == receiving.ship_from == farm
    assert receiving.tlc_source_reference == "GLN 0614141000005"
    assert receiving.ship_to == "Jam Co (Main plant), phone +1 555 0199, 9 Mill Road (Cold room)"
    assert receiving.document_type == "Receipt (supplier ref. PO 5)"
    assert (transformation.product, transformation.input_product) == ("Raspberry jam (JAM-RASP)",
                                                                       "Raspberries (FR-RASP)")
    assert transformation.input_quantity == 8 and transformation.quantity == 40
    assert transformation.tlc_source == "Jam Co (Main plant), phone +1 555 0199, 9 Mill Road"
    assert transformation.tlc_source_reference == "https://lotwise.example"
    assert made.tlc_source == made.ship_from == "Jam Co (Main plant), phone +1 555 0199, 9 Mill Road"
    assert made.document_type == "Shipment (carrier ref. TRK 9)" and made.gtin == ""
    assert received.tlc_source == farm
    assert received.ship_to == "Corner Shop, phone not on file"
    csv = fsma204.to_csv(rows).decode("utf-8-sig").splitlines()
    assert csv[0].startswith("Critical Tracking Event,Event Date,Traceability Lot Code")
    assert len(csv) == 5


def test_fsma_receiving_rows_carry_the_origin_the_supplier_sent() -> None:
    origin = FsmaOrigin(harvested_on=date(2026, 11, 17), harvest_location="Berry Farm, field 7",
                        harvester="Pickers Ltd, +1 555 0111", cooled_on=date(2026, 11, 17),
                        cooling_location="Cool Co, +1 555 0122, 2 Ice Rd", packed_on=date(2026, 11, 18),
                        packing_location="Pack House\n+1 555 0133\n3 Crate St")
    events = FsmaEvents(receiving=[FsmaReceiving(DAY, "R-1", None, FARM, RECEIVED, BERRIES, Decimal(5), PLANT,
                                                 "Dock", origin)])
    [row] = fsma204.rows(events, company="Jam Co")
    assert row.tlc_source == "Pack House, +1 555 0133, 3 Crate St", "the initial packer assigned the lot code"
    assert (row.harvested_on, row.cooled_on, row.packed_on, row.landed_on) == (
        date(2026, 11, 17), date(2026, 11, 17), date(2026, 11, 18), None)
    assert row.harvester == "Pickers Ltd, +1 555 0111"


def _lot(quantity: Decimal | None, product: FsmaProduct = BERRIES, code: str = "261120-R") -> EpcisLot:
    return EpcisLot(product.gtin, product.sku, product.unit, code, quantity)


def test_epcis_events_from_rows_in_time_order_with_the_sites_offset() -> None:
    late = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # booked the next morning for the 20th
    data = EpcisEvents(
        receiving=[EpcisReceiving("R-1", DAY, datetime(2026, 11, 20, 7, 30, tzinfo=UTC), 3, None, "COLD-01",
                                  (_lot(Decimal("12.500")), _lot(Decimal(1), code="261120-S")))],
        production=[EpcisProduction("P-1", DAY, late, "KITCHEN", _lot(Decimal(40), JAM, "261120-J"),
                                    date(2027, 11, 20), ())],
        write_offs=[EpcisWriteOff(77, DAY, datetime(2026, 11, 20, 15, 0, tzinfo=UTC), "COLD-01",
                                  _lot(Decimal("0.5")))],
        recalls=[EpcisRecall("RC-1", datetime(2026, 11, 20, 23, 30, tzinfo=UTC), (_lot(None),))],
    )
    doc = epcis.document(data, SITE, now=datetime(2026, 11, 22, tzinfo=UTC))
    events = doc["epcisBody"]["eventList"]
    assert [e.get("bizStep") for e in events] == ["receiving", "commissioning", "destroying", "holding"]
    receiving, production, write_off, recall = events
    assert receiving["eventTime"] == "2026-11-20T07:30:00.000Z" and receiving["eventTimeZoneOffset"] == "+01:00"
    first = receiving["quantityList"][0]
    assert first["epcClass"].startswith("https://id.gs1.org/01/") and first["epcClass"].endswith("/10/261120-R")
    assert (first["quantity"], first["uom"]) == (12.5, "KGM")
    assert receiving["quantityList"][1]["quantity"] == 1
    assert receiving["sourceList"] == [{"type": "owning_party", "source": "https://lotwise.example/id/supplier/3"}]
    # Recorded on another day than its business date: noon UTC of the business date.
    assert production["eventTime"] == "2026-11-20T12:00:00.000Z"
    assert "inputQuantityList" not in production
    assert production["outputQuantityList"] == [
        {"epcClass": "https://lotwise.example/lots/find?sku=JAM-RASP&code=261120-J", "quantity": 40}]
    assert production["ilmd"] == {"cbvmda:lotNumber": "261120-J", "cbvmda:itemExpirationDate": "2027-11-20"}
    assert write_off["action"] == "DELETE" and write_off["quantityList"][0]["quantity"] == 0.5
    assert recall["quantityList"] == [{"epcClass": first["epcClass"]}]
    again = epcis.document(data, SITE, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert epcis.to_json(again) == epcis.to_json(doc)
    assert json.loads(epcis.to_json(epcis.document(EpcisEvents(), SITE)))["epcisBody"]["eventList"] == []


def test_a_long_epcis_document_is_written_as_it_is_made_valid_and_complete() -> None:
    """A year of receipts, runs, shipments and write-offs, given as streams the way the queries give them: the
    file comes in many pieces, parses to every event once in time order, and passes GS1's schema and context."""
    days = [DAY - timedelta(days=n) for n in range(365, -1, -1)]
    made = 0

    def receipts() -> Iterator[EpcisReceiving]:
        nonlocal made
        for i, day in enumerate(days):
            for k in range(3):
                made += 1
                at = datetime.combine(day, time(20 - 6 * k, 5), tzinfo=UTC)
                yield EpcisReceiving(f"R-{i}-{k}", day, at, 3, "0614141000005", "COLD-01", (_lot(Decimal(k + 1)),))

    production = (EpcisProduction(f"P-{i}", day, datetime.combine(day + timedelta(days=1), time(8), tzinfo=UTC),
                                  "KITCHEN", _lot(Decimal(40), JAM, f"J{i}"), day + timedelta(days=365),
                                  (_lot(Decimal(2)),)) for i, day in enumerate(days))
    write_offs = (EpcisWriteOff(i, day, datetime.combine(day, time(1), tzinfo=UTC), "COLD-01", _lot(Decimal(1)))
                  for i, day in enumerate(days[::7]))
    recall = EpcisRecall("RC-1", datetime.combine(days[200], time(9), tzinfo=UTC), (_lot(Decimal(5)),))
    data = EpcisEvents(receiving=receipts(), production=production, write_offs=write_offs, recalls=[recall])
    pieces = list(epcis.json_chunks(data, SITE, now=datetime(2026, 11, 22, tzinfo=UTC)))
    assert len(pieces) > 10, "sent in pieces, not built whole"
    doc = json.loads(b"".join(pieces))
    events = doc["epcisBody"]["eventList"]
    assert made == 3 * len(days)
    assert len(events) == made + len(days) + len(days[::7]) + 1
    assert len({e["eventID"] for e in events}) == len(events)
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    assert schema_errors(doc) == [] and context_problems(doc) == []
