"""The site's GS1 company prefix, and GTINs made from it for products that have none."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import LabelSettings, PackagingLevel, Product, ProductKind
from app.schemas import CompanyPrefixIn, CompanyPrefixOut
from app.services.base import transactional
from labels.gs1 import gtin_from, item_reference_capacity


def _settings(session: Session, *, lock: bool = False) -> LabelSettings | None:
    query = select(LabelSettings).where(LabelSettings.id == 1)
    # The row is locked while GTINs are handed out, so two requests never hand out the same one.
    return session.scalar(query.with_for_update() if lock else query)


def company_prefix(session: Session) -> CompanyPrefixOut:
    """The site's GS1 company prefix and how much room it has left."""
    row = _settings(session)
    prefix = row.gs1_company_prefix if row is not None else None
    used = row.gs1_next_item_reference if row is not None else 0
    capacity = item_reference_capacity(prefix) if prefix else None
    without = session.scalar(select(func.count()).select_from(Product).where(
        Product.gtin.is_(None), Product.active.is_(True), Product.kind == ProductKind.PRODUCT)) or 0
    return CompanyPrefixOut(company_prefix=prefix, capacity=capacity, next_item_reference=used,
                            remaining=None if capacity is None else max(capacity - used, 0),
                            products_without_gtin=without)


@transactional
def set_company_prefix(session: Session, cmd: CompanyPrefixIn) -> LabelSettings:
    """Set (or, with null, clear) the site's GS1 company prefix; a different prefix starts at item reference 0."""
    row = _settings(session, lock=True)
    if row is None:
        row = LabelSettings(id=1, pdf_size="4x6", zpl_size="4x6", zpl_dpi=203, gs1_next_item_reference=0)
        session.add(row)
    if cmd.company_prefix != row.gs1_company_prefix:
        row.gs1_company_prefix = cmd.company_prefix
        row.gs1_next_item_reference = 0
    session.flush()
    return row


def _used_gtins(session: Session, prefix: str) -> set[str]:
    start = prefix.zfill(len(prefix) + 1)  # GTIN-13s are stored as 14 digits with a leading 0
    taken = session.scalars(select(Product.gtin).where(Product.gtin.startswith(start)))
    packs = session.scalars(select(PackagingLevel.gtin).where(PackagingLevel.gtin.startswith(start)))
    return {g for g in (*taken, *packs) if g}


def give_gtins(session: Session, products: Sequence[Product]) -> None:
    """Give each product the next free GTIN under the site's prefix, inside the caller's transaction.

    Conflict without a prefix, and when the prefix has no item reference left for all of them (then the
    transaction rolls back and none gets one).
    """
    if not products:
        return
    row = _settings(session, lock=True)
    prefix = row.gs1_company_prefix if row is not None else None
    if row is None or prefix is None:
        raise Conflict("set the site's GS1 company prefix first: GTINs are made from it", "company_prefix")
    capacity = item_reference_capacity(prefix)
    used = _used_gtins(session, prefix)
    reference = row.gs1_next_item_reference
    for product in products:
        while True:
            if reference >= capacity:
                raise Conflict(
                    f"the GS1 company prefix {prefix} has room for {capacity} GTINs (item references "
                    f"{0:0{12 - len(prefix)}d} to {capacity - 1}) and all are given out, so {product.sku} "
                    "cannot get one: ask GS1 for another company prefix", "company_prefix")
            gtin = gtin_from(prefix, reference)
            reference += 1
            if gtin not in used:
                break
        product.gtin = gtin
        used.add(gtin)
    row.gs1_next_item_reference = reference
    session.flush()


@transactional
def assign_gtins(session: Session, skus: Sequence[str] | None = None) -> list[Product]:
    """GTINs for the named products, or for every active product of kind product that has none.

    A named product that already has a GTIN is a Conflict (a GTIN names one thing for good); nothing is
    assigned unless all can be.
    """
    if skus is None:
        products = list(session.scalars(select(Product).where(
            Product.gtin.is_(None), Product.active.is_(True), Product.kind == ProductKind.PRODUCT)
            .order_by(Product.sku)))
    else:
        found = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(set(skus))))}
        missing = [s for s in dict.fromkeys(skus) if s not in found]
        if missing:
            raise NotFound(f"no product with sku {', '.join(missing)}", "skus")
        products = [found[s] for s in dict.fromkeys(skus)]
        having = [p.sku for p in products if p.gtin]
        if having:
            raise Conflict(f"{', '.join(having)} already {'has' if len(having) == 1 else 'have'} a GTIN", "skus")
    give_gtins(session, products)
    return products


def auto_assign(session: Session, product: Product) -> None:
    """A new product of kind product without a GTIN gets one when the site has a company prefix."""
    if product.gtin is not None or product.kind != ProductKind.PRODUCT:
        return
    row = _settings(session)
    if row is not None and row.gs1_company_prefix:
        give_gtins(session, [product])
