"""API for master data: products, suppliers, customers, warehouses and locations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.api import endpoint
from app.models import Customer, Location, PackagingLevel, Product, Role, Supplier, Warehouse
from app.queries.documents import get
from app.schemas import (
    AssignedGtinOut,
    AssignGtinsIn,
    AssignGtinsOut,
    CompanyPrefixIn,
    CompanyPrefixOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    LocationIn,
    LocationOut,
    LocationPatch,
    LocationQuery,
    NameQuery,
    PackagingIn,
    PackagingOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductQuery,
    SupplierIn,
    SupplierOut,
    SupplierPatch,
    WarehouseIn,
    WarehouseOut,
)
from app.services import gtins
from app.services import masterdata as svc
from app.web import db


def location_out(loc: Location) -> LocationOut:
    return LocationOut(id=loc.id, code=loc.code, name=loc.name, kind=loc.kind, active=loc.active,
                       warehouse=loc.warehouse.code, pickable=loc.pickable)


# --- products ---


@endpoint("/gs1/company-prefix", summary="The site's GS1 company prefix and the room left in it", tag="products",
          response=CompanyPrefixOut)
def get_company_prefix(user: Any) -> CompanyPrefixOut:
    return gtins.company_prefix(db())


@endpoint("/gs1/company-prefix", "PUT", summary="Set the site's GS1 company prefix (or clear it)", tag="products",
          role=Role.ADMIN, body=CompanyPrefixIn, response=CompanyPrefixOut, errors=(422,))
def set_company_prefix(user: Any, body: CompanyPrefixIn) -> CompanyPrefixOut:
    gtins.set_company_prefix(db(), body)
    return gtins.company_prefix(db())


@endpoint("/gs1/assign-gtins", "POST", summary="Give products without a GTIN one made from the company prefix",
          tag="products", role=Role.ADMIN, body=AssignGtinsIn, response=AssignGtinsOut, errors=(404, 409, 422))
def assign_gtins(user: Any, body: AssignGtinsIn) -> AssignGtinsOut:
    products = gtins.assign_gtins(db(), body.skus)
    assigned = [AssignedGtinOut(sku=p.sku, name=p.name, gtin=p.gtin or "") for p in products]
    n = len(assigned)
    return AssignGtinsOut(assigned=assigned, message=f"{n} product{'' if n == 1 else 's'} got a GTIN"
                          if n else "every product already has a GTIN")


@endpoint("/products", summary="List products", tag="products", query=ProductQuery, response=ProductOut, many=True)
def list_products(user: Any, query: ProductQuery) -> list[ProductOut]:
    q = select(Product).order_by(Product.sku)
    if query.kind:
        q = q.where(Product.kind == query.kind)
    if query.q:
        like = f"%{query.q}%"
        q = q.where(Product.sku.ilike(like) | Product.name.ilike(like))
    if query.gtin:
        q = q.where(Product.gtin == query.gtin.zfill(14))
    rows = db().scalars(q.limit(query.limit).offset(query.offset))
    return [ProductOut.model_validate(p) for p in rows]


@endpoint("/products", "POST", summary="Create a product", tag="products", role=Role.MANAGER,
          body=ProductIn, response=ProductOut, status=201, errors=(409, 422))
def create_product(user: Any, body: ProductIn) -> ProductOut:
    return ProductOut.model_validate(svc.create_product(db(), body))


@endpoint("/products/<int:product_id>", summary="Get a product", tag="products", response=ProductOut,
          errors=(404,))
def get_product(user: Any, product_id: int) -> ProductOut:
    return ProductOut.model_validate(get(db(), Product, product_id, "product"))


@endpoint("/products/<int:product_id>", "PATCH", summary="Update a product", tag="products", role=Role.MANAGER,
          body=ProductPatch, response=ProductOut, errors=(404, 409, 422))
def update_product(user: Any, product_id: int, body: ProductPatch) -> ProductOut:
    return ProductOut.model_validate(svc.update_product(db(), product_id, body))


# --- packaging levels ---


def _packaging(product_id: int) -> list[PackagingOut]:
    rows = db().scalars(select(PackagingLevel).where(PackagingLevel.product_id == product_id)
                        .order_by(PackagingLevel.content, PackagingLevel.id))
    return [PackagingOut.model_validate(p) for p in rows]


@endpoint("/products/<int:product_id>/packaging", summary="List a product's cases and pallets", tag="products",
          response=PackagingOut, many=True, errors=(404,))
def list_packaging(user: Any, product_id: int) -> list[PackagingOut]:
    get(db(), Product, product_id, "product")
    return _packaging(product_id)


@endpoint("/products/<int:product_id>/packaging", "POST", summary="Add a case or pallet GTIN to a product",
          tag="products", role=Role.MANAGER, body=PackagingIn, response=PackagingOut, status=201,
          errors=(404, 409, 422))
def add_packaging(user: Any, product_id: int, body: PackagingIn) -> PackagingOut:
    return PackagingOut.model_validate(svc.add_packaging(db(), product_id, body))


@endpoint("/products/<int:product_id>/packaging/<int:packaging_id>", "DELETE",
          summary="Remove a case or pallet GTIN from a product; answers the ones left", tag="products",
          role=Role.MANAGER, response=PackagingOut, many=True, errors=(404,))
def remove_packaging(user: Any, product_id: int, packaging_id: int) -> list[PackagingOut]:
    svc.remove_packaging(db(), product_id, packaging_id)
    return _packaging(product_id)


# --- suppliers ---


@endpoint("/suppliers", summary="List suppliers", tag="suppliers", query=NameQuery, response=SupplierOut, many=True)
def list_suppliers(user: Any, query: NameQuery) -> list[SupplierOut]:
    q = select(Supplier).order_by(Supplier.name)
    if query.q:
        q = q.where(Supplier.name.ilike(f"%{query.q}%"))
    return [SupplierOut.model_validate(s) for s in db().scalars(q.limit(query.limit).offset(query.offset))]


@endpoint("/suppliers", "POST", summary="Create a supplier", tag="suppliers", role=Role.MANAGER,
          body=SupplierIn, response=SupplierOut, status=201, errors=(409, 422))
def create_supplier(user: Any, body: SupplierIn) -> SupplierOut:
    return SupplierOut.model_validate(svc.create_supplier(db(), body))


@endpoint("/suppliers/<int:supplier_id>", summary="Get a supplier", tag="suppliers", response=SupplierOut,
          errors=(404,))
def get_supplier(user: Any, supplier_id: int) -> SupplierOut:
    return SupplierOut.model_validate(get(db(), Supplier, supplier_id, "supplier"))


@endpoint("/suppliers/<int:supplier_id>", "PATCH", summary="Update a supplier", tag="suppliers",
          role=Role.MANAGER, body=SupplierPatch, response=SupplierOut, errors=(404, 409, 422))
def update_supplier(user: Any, supplier_id: int, body: SupplierPatch) -> SupplierOut:
    return SupplierOut.model_validate(svc.update_supplier(db(), supplier_id, body))


# --- customers ---


@endpoint("/customers", summary="List customers", tag="customers", query=NameQuery, response=CustomerOut, many=True)
def list_customers(user: Any, query: NameQuery) -> list[CustomerOut]:
    q = select(Customer).order_by(Customer.name)
    if query.q:
        q = q.where(Customer.name.ilike(f"%{query.q}%"))
    return [CustomerOut.model_validate(c) for c in db().scalars(q.limit(query.limit).offset(query.offset))]


@endpoint("/customers", "POST", summary="Create a customer", tag="customers", role=Role.MANAGER,
          body=CustomerIn, response=CustomerOut, status=201, errors=(409, 422))
def create_customer(user: Any, body: CustomerIn) -> CustomerOut:
    return CustomerOut.model_validate(svc.create_customer(db(), body))


@endpoint("/customers/<int:customer_id>", summary="Get a customer", tag="customers", response=CustomerOut,
          errors=(404,))
def get_customer(user: Any, customer_id: int) -> CustomerOut:
    return CustomerOut.model_validate(get(db(), Customer, customer_id, "customer"))


@endpoint("/customers/<int:customer_id>", "PATCH", summary="Update a customer", tag="customers",
          role=Role.MANAGER, body=CustomerPatch, response=CustomerOut, errors=(404, 409, 422))
def update_customer(user: Any, customer_id: int, body: CustomerPatch) -> CustomerOut:
    return CustomerOut.model_validate(svc.update_customer(db(), customer_id, body))


# --- warehouses and locations ---


@endpoint("/warehouses", summary="List warehouses", tag="locations", response=WarehouseOut, many=True)
def list_warehouses(user: Any) -> list[WarehouseOut]:
    return [WarehouseOut.model_validate(w) for w in db().scalars(select(Warehouse).order_by(Warehouse.code))]


@endpoint("/warehouses", "POST", summary="Create a warehouse", tag="locations", role=Role.MANAGER,
          body=WarehouseIn, response=WarehouseOut, status=201, errors=(409, 422))
def create_warehouse(user: Any, body: WarehouseIn) -> WarehouseOut:
    return WarehouseOut.model_validate(svc.create_warehouse(db(), body))


@endpoint("/locations", summary="List locations", tag="locations", query=LocationQuery, response=LocationOut, many=True)
def list_locations(user: Any, query: LocationQuery) -> list[LocationOut]:
    q = select(Location).join(Warehouse).order_by(Location.code)
    if query.warehouse:
        q = q.where(Warehouse.code == query.warehouse)
    if query.kind:
        q = q.where(Location.kind == query.kind)
    return [location_out(x) for x in db().scalars(q.limit(query.limit).offset(query.offset))]


@endpoint("/locations", "POST", summary="Create a location", tag="locations", role=Role.MANAGER,
          body=LocationIn, response=LocationOut, status=201, errors=(404, 409, 422))
def create_location(user: Any, body: LocationIn) -> LocationOut:
    return location_out(svc.create_location(db(), body))


@endpoint("/locations/<int:location_id>", summary="Get a location", tag="locations", response=LocationOut,
          errors=(404,))
def get_location(user: Any, location_id: int) -> LocationOut:
    return location_out(get(db(), Location, location_id, "location"))


@endpoint("/locations/<int:location_id>", "PATCH", summary="Update a location", tag="locations",
          role=Role.MANAGER, body=LocationPatch, response=LocationOut, errors=(404, 422))
def update_location(user: Any, location_id: int, body: LocationPatch) -> LocationOut:
    return location_out(svc.update_location(db(), location_id, body))
