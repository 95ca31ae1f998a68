"""Every table. Importing this package registers all of them on `app.db.Base`."""

from app.models.allocation import (
    RESERVING as RESERVING,
)
from app.models.allocation import (
    AllocationState as AllocationState,
)
from app.models.allocation import (
    LineShortage as LineShortage,
)
from app.models.allocation import (
    OrderAllocation as OrderAllocation,
)
from app.models.common import TimestampMixin as TimestampMixin
from app.models.common import enum_column as enum_column
from app.models.documents import (
    Adjustment as Adjustment,
)
from app.models.documents import (
    Counter as Counter,
)
from app.models.documents import (
    CustomerReturn as CustomerReturn,
)
from app.models.documents import (
    Order as Order,
)
from app.models.documents import (
    OrderLine as OrderLine,
)
from app.models.documents import (
    OrderStatus as OrderStatus,
)
from app.models.documents import (
    ProductionRun as ProductionRun,
)
from app.models.documents import (
    Receipt as Receipt,
)
from app.models.documents import (
    ReceiptLine as ReceiptLine,
)
from app.models.documents import (
    RunInput as RunInput,
)
from app.models.documents import (
    Shipment as Shipment,
)
from app.models.documents import (
    ShipmentLine as ShipmentLine,
)
from app.models.documents import (
    Transfer as Transfer,
)
from app.models.locations import (
    PICKABLE_KINDS as PICKABLE_KINDS,
)
from app.models.locations import (
    Location as Location,
)
from app.models.locations import (
    LocationKind as LocationKind,
)
from app.models.locations import (
    Warehouse as Warehouse,
)
from app.models.lots import (
    Balance as Balance,
)
from app.models.lots import (
    Lot as Lot,
)
from app.models.lots import (
    LotLink as LotLink,
)
from app.models.lots import (
    LotOrigin as LotOrigin,
)
from app.models.lots import (
    LotStatus as LotStatus,
)
from app.models.lots import (
    LotStatusChange as LotStatusChange,
)
from app.models.lots import (
    Movement as Movement,
)
from app.models.lots import (
    MovementKind as MovementKind,
)
from app.models.parties import (
    Customer as Customer,
)
from app.models.parties import (
    PartyMixin as PartyMixin,
)
from app.models.parties import (
    Product as Product,
)
from app.models.parties import (
    ProductKind as ProductKind,
)
from app.models.parties import (
    Supplier as Supplier,
)
from app.models.printing import (
    LabelPrinter as LabelPrinter,
)
from app.models.printing import (
    LabelPrintJob as LabelPrintJob,
)
from app.models.printing import (
    LabelSettings as LabelSettings,
)
from app.models.recall import (
    Recall as Recall,
)
from app.models.recall import (
    RecallCloseOutcome as RecallCloseOutcome,
)
from app.models.recall import (
    RecallDrill as RecallDrill,
)
from app.models.recall import (
    RecallLot as RecallLot,
)
from app.models.recall import (
    RecallLotRole as RecallLotRole,
)
from app.models.recall import (
    RecallNotification as RecallNotification,
)
from app.models.recall import (
    RecallScope as RecallScope,
)
from app.models.recall import (
    RecallStatus as RecallStatus,
)
from app.models.scans import ScanEvent as ScanEvent
from app.models.users import (
    ROLE_RANK as ROLE_RANK,
)
from app.models.users import (
    ApiToken as ApiToken,
)
from app.models.users import (
    RequestKey as RequestKey,
)
from app.models.users import (
    Role as Role,
)
from app.models.users import (
    User as User,
)
from app.models.users import (
    WebSession as WebSession,
)
from app.models.waste import WriteOff as WriteOff
from app.models.waste import WriteOffBatch as WriteOffBatch
from app.models.waste import WriteOffReason as WriteOffReason
