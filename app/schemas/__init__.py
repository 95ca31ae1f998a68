"""Every pydantic command, query and output model; the API, the pages and the services share them."""

from app.schemas.allocation import (
    AllocationOut as AllocationOut,
)
from app.schemas.allocation import (
    AllocationRunOut as AllocationRunOut,
)
from app.schemas.allocation import (
    HeldLotOut as HeldLotOut,
)
from app.schemas.allocation import (
    OrderAllocationsOut as OrderAllocationsOut,
)
from app.schemas.allocation import (
    PickIn as PickIn,
)
from app.schemas.allocation import (
    PickListOut as PickListOut,
)
from app.schemas.allocation import (
    PickResultOut as PickResultOut,
)
from app.schemas.allocation import (
    PickRowOut as PickRowOut,
)
from app.schemas.allocation import (
    ReleaseOut as ReleaseOut,
)
from app.schemas.allocation import (
    ShortageOut as ShortageOut,
)
from app.schemas.allocation import (
    WaveIn as WaveIn,
)
from app.schemas.common import (
    MAX_ID as MAX_ID,
)
from app.schemas.common import (
    MAX_PAGE as MAX_PAGE,
)
from app.schemas.common import (
    Amount as Amount,
)
from app.schemas.common import (
    Code as Code,
)
from app.schemas.common import (
    Command as Command,
)
from app.schemas.common import (
    Day as Day,
)
from app.schemas.common import (
    Id as Id,
)
from app.schemas.common import (
    LongText as LongText,
)
from app.schemas.common import (
    Money as Money,
)
from app.schemas.common import (
    Offset as Offset,
)
from app.schemas.common import (
    Out as Out,
)
from app.schemas.common import (
    PageNumber as PageNumber,
)
from app.schemas.common import (
    Qty as Qty,
)
from app.schemas.common import (
    Text as Text,
)
from app.schemas.common import (
    blank_to_none as blank_to_none,
)
from app.schemas.common import (
    gtin_ok as gtin_ok,
)
from app.schemas.common import (
    no_nul as no_nul,
)
from app.schemas.costing import (
    CostBreakdown as CostBreakdown,
)
from app.schemas.costing import (
    CostInput as CostInput,
)
from app.schemas.costing import (
    CostReceipt as CostReceipt,
)
from app.schemas.costing import (
    StockValuation as StockValuation,
)
from app.schemas.costing import (
    ValuationLot as ValuationLot,
)
from app.schemas.costing import (
    ValuationRow as ValuationRow,
)
from app.schemas.expiry import (
    CustomerOption as CustomerOption,
)
from app.schemas.expiry import (
    ExpiredPreview as ExpiredPreview,
)
from app.schemas.expiry import (
    ExpiredRow as ExpiredRow,
)
from app.schemas.expiry import (
    ExpiringRow as ExpiringRow,
)
from app.schemas.expiry import (
    ExpiringWeek as ExpiringWeek,
)
from app.schemas.expiry import (
    ExpirySummary as ExpirySummary,
)
from app.schemas.expiry import (
    LotStockRow as LotStockRow,
)
from app.schemas.imports import ImportErrorOut as ImportErrorOut
from app.schemas.imports import ImportForm as ImportForm
from app.schemas.imports import ImportOut as ImportOut
from app.schemas.imports import ImportSheetOut as ImportSheetOut
from app.schemas.imports import OrderRowIn as OrderRowIn
from app.schemas.imports import SheetName as SheetName
from app.schemas.imports import StockRowIn as StockRowIn
from app.schemas.labels import (
    MAX_COPIES as MAX_COPIES,
)
from app.schemas.labels import (
    PDF_LAYOUTS as PDF_LAYOUTS,
)
from app.schemas.labels import (
    THERMAL_SIZES as THERMAL_SIZES,
)
from app.schemas.labels import (
    Copies as Copies,
)
from app.schemas.labels import (
    Dpi as Dpi,
)
from app.schemas.labels import (
    FileQuery as FileQuery,
)
from app.schemas.labels import (
    Host as Host,
)
from app.schemas.labels import (
    LabelSettingsOut as LabelSettingsOut,
)
from app.schemas.labels import (
    LabelSettingsPatch as LabelSettingsPatch,
)
from app.schemas.labels import (
    PdfQuery as PdfQuery,
)
from app.schemas.labels import (
    PngQuery as PngQuery,
)
from app.schemas.labels import (
    Port as Port,
)
from app.schemas.labels import (
    PrinterIn as PrinterIn,
)
from app.schemas.labels import (
    PrinterName as PrinterName,
)
from app.schemas.labels import (
    PrinterOut as PrinterOut,
)
from app.schemas.labels import (
    PrinterPatch as PrinterPatch,
)
from app.schemas.labels import (
    PrintForm as PrintForm,
)
from app.schemas.labels import (
    PrintIn as PrintIn,
)
from app.schemas.labels import (
    PrintJobOut as PrintJobOut,
)
from app.schemas.labels import (
    SizeName as SizeName,
)
from app.schemas.labels import (
    ZplQuery as ZplQuery,
)
from app.schemas.labels import (
    pdf_layout as pdf_layout,
)
from app.schemas.labels import (
    single_size as single_size,
)
from app.schemas.labels import (
    thermal_size as thermal_size,
)
from app.schemas.masterdata import (
    AssignedGtinOut as AssignedGtinOut,
)
from app.schemas.masterdata import (
    AssignGtinsIn as AssignGtinsIn,
)
from app.schemas.masterdata import (
    AssignGtinsOut as AssignGtinsOut,
)
from app.schemas.masterdata import (
    CompanyPrefixIn as CompanyPrefixIn,
)
from app.schemas.masterdata import (
    CompanyPrefixOut as CompanyPrefixOut,
)
from app.schemas.masterdata import (
    CustomerIn as CustomerIn,
)
from app.schemas.masterdata import (
    CustomerOut as CustomerOut,
)
from app.schemas.masterdata import (
    CustomerPatch as CustomerPatch,
)
from app.schemas.masterdata import (
    LocationIn as LocationIn,
)
from app.schemas.masterdata import (
    LocationOut as LocationOut,
)
from app.schemas.masterdata import (
    LocationPatch as LocationPatch,
)
from app.schemas.masterdata import (
    PackagingIn as PackagingIn,
)
from app.schemas.masterdata import (
    PackagingOut as PackagingOut,
)
from app.schemas.masterdata import (
    PartyIn as PartyIn,
)
from app.schemas.masterdata import (
    ProductIn as ProductIn,
)
from app.schemas.masterdata import (
    ProductOut as ProductOut,
)
from app.schemas.masterdata import (
    ProductPatch as ProductPatch,
)
from app.schemas.masterdata import (
    SupplierIn as SupplierIn,
)
from app.schemas.masterdata import (
    SupplierOut as SupplierOut,
)
from app.schemas.masterdata import (
    SupplierPatch as SupplierPatch,
)
from app.schemas.masterdata import (
    WarehouseIn as WarehouseIn,
)
from app.schemas.masterdata import (
    WarehouseOut as WarehouseOut,
)
from app.schemas.orders import (
    OrderIn as OrderIn,
)
from app.schemas.orders import (
    OrderLineIn as OrderLineIn,
)
from app.schemas.orders import (
    OrderLineOut as OrderLineOut,
)
from app.schemas.orders import (
    OrderOut as OrderOut,
)
from app.schemas.orders import (
    ShipLineIn as ShipLineIn,
)
from app.schemas.orders import (
    ShipmentIn as ShipmentIn,
)
from app.schemas.orders import (
    ShipmentLineOut as ShipmentLineOut,
)
from app.schemas.orders import (
    ShipmentOut as ShipmentOut,
)
from app.schemas.queries import (
    AllocateQuery as AllocateQuery,
)
from app.schemas.queries import (
    DateQuery as DateQuery,
)
from app.schemas.queries import (
    DirectionQuery as DirectionQuery,
)
from app.schemas.queries import (
    ExpiredPreviewQuery as ExpiredPreviewQuery,
)
from app.schemas.queries import (
    ExpiringFilter as ExpiringFilter,
)
from app.schemas.queries import (
    ExpiringQuery as ExpiringQuery,
)
from app.schemas.queries import (
    ExpirySummaryQuery as ExpirySummaryQuery,
)
from app.schemas.queries import (
    ExportQuery as ExportQuery,
)
from app.schemas.queries import (
    FsmaQuery as FsmaQuery,
)
from app.schemas.queries import (
    LocationQuery as LocationQuery,
)
from app.schemas.queries import (
    LotQuery as LotQuery,
)
from app.schemas.queries import (
    NameQuery as NameQuery,
)
from app.schemas.queries import (
    OrderQuery as OrderQuery,
)
from app.schemas.queries import (
    Page as Page,
)
from app.schemas.queries import (
    PaperQuery as PaperQuery,
)
from app.schemas.queries import (
    ProductQuery as ProductQuery,
)
from app.schemas.queries import (
    RangeQuery as RangeQuery,
)
from app.schemas.queries import (
    TraceQuery as TraceQuery,
)
from app.schemas.queries import (
    ValuationQuery as ValuationQuery,
)
from app.schemas.queries import (
    WavePdfQuery as WavePdfQuery,
)
from app.schemas.queries import (
    WaveQuery as WaveQuery,
)
from app.schemas.queries import (
    WriteOffQuery as WriteOffQuery,
)
from app.schemas.recall import (
    AffectedLotOut as AffectedLotOut,
)
from app.schemas.recall import (
    CheckLevelIn as CheckLevelIn,
)
from app.schemas.recall import (
    ConsigneeAnswerIn as ConsigneeAnswerIn,
)
from app.schemas.recall import (
    ConsigneeAnswerLineIn as ConsigneeAnswerLineIn,
)
from app.schemas.recall import (
    ConsigneeLineOut as ConsigneeLineOut,
)
from app.schemas.recall import (
    ConsigneeOut as ConsigneeOut,
)
from app.schemas.recall import (
    DateRange as DateRange,
)
from app.schemas.recall import (
    Direction as Direction,
)
from app.schemas.recall import (
    DrillIn as DrillIn,
)
from app.schemas.recall import (
    DrillOut as DrillOut,
)
from app.schemas.recall import (
    DrillSummaryOut as DrillSummaryOut,
)
from app.schemas.recall import (
    EffectivenessOut as EffectivenessOut,
)
from app.schemas.recall import (
    LotEffectivenessOut as LotEffectivenessOut,
)
from app.schemas.recall import (
    MassBalanceOut as MassBalanceOut,
)
from app.schemas.recall import (
    NoticeCountsOut as NoticeCountsOut,
)
from app.schemas.recall import (
    NoticeLetterOut as NoticeLetterOut,
)
from app.schemas.recall import (
    NoticeOut as NoticeOut,
)
from app.schemas.recall import (
    NoticeSendIn as NoticeSendIn,
)
from app.schemas.recall import (
    NoticesOut as NoticesOut,
)
from app.schemas.recall import (
    NotificationIn as NotificationIn,
)
from app.schemas.recall import (
    NotificationMethod as NotificationMethod,
)
from app.schemas.recall import (
    NotificationOut as NotificationOut,
)
from app.schemas.recall import (
    PartyOut as PartyOut,
)
from app.schemas.recall import (
    Reason as Reason,
)
from app.schemas.recall import (
    RecallCloseIn as RecallCloseIn,
)
from app.schemas.recall import (
    RecallIn as RecallIn,
)
from app.schemas.recall import (
    RecallOut as RecallOut,
)
from app.schemas.recall import (
    RecallReportOut as RecallReportOut,
)
from app.schemas.recall import (
    RecallSummaryOut as RecallSummaryOut,
)
from app.schemas.recall import (
    ReportTotalsOut as ReportTotalsOut,
)
from app.schemas.recall import (
    ScanText as ScanText,
)
from app.schemas.recall import (
    StockLineOut as StockLineOut,
)
from app.schemas.recall import (
    TraceLotOut as TraceLotOut,
)
from app.schemas.recall import (
    TraceNodeOut as TraceNodeOut,
)
from app.schemas.recall import (
    TraceOut as TraceOut,
)
from app.schemas.recall import (
    TraceReceiptOut as TraceReceiptOut,
)
from app.schemas.recall import (
    TraceRowOut as TraceRowOut,
)
from app.schemas.recall import (
    TraceShipmentOut as TraceShipmentOut,
)
from app.schemas.recall import (
    UpstreamLotOut as UpstreamLotOut,
)
from app.schemas.recipes import (
    PlanInputOut as PlanInputOut,
)
from app.schemas.recipes import (
    ProposedLotOut as ProposedLotOut,
)
from app.schemas.recipes import (
    RecipeIn as RecipeIn,
)
from app.schemas.recipes import (
    RecipeInputIn as RecipeInputIn,
)
from app.schemas.recipes import (
    RecipeInputOut as RecipeInputOut,
)
from app.schemas.recipes import (
    RecipeOut as RecipeOut,
)
from app.schemas.recipes import (
    RecipePlanOut as RecipePlanOut,
)
from app.schemas.recipes import (
    RecipePlanQuery as RecipePlanQuery,
)
from app.schemas.recipes import (
    RunPlanOut as RunPlanOut,
)
from app.schemas.regulatory import (
    EpcisEvents as EpcisEvents,
)
from app.schemas.regulatory import (
    EpcisLot as EpcisLot,
)
from app.schemas.regulatory import (
    EpcisProduction as EpcisProduction,
)
from app.schemas.regulatory import (
    EpcisRecall as EpcisRecall,
)
from app.schemas.regulatory import (
    EpcisReceiving as EpcisReceiving,
)
from app.schemas.regulatory import (
    EpcisShipping as EpcisShipping,
)
from app.schemas.regulatory import (
    EpcisWriteOff as EpcisWriteOff,
)
from app.schemas.regulatory import (
    FsmaEvents as FsmaEvents,
)
from app.schemas.regulatory import (
    FsmaLot as FsmaLot,
)
from app.schemas.regulatory import (
    FsmaOrigin as FsmaOrigin,
)
from app.schemas.regulatory import (
    FsmaPlace as FsmaPlace,
)
from app.schemas.regulatory import (
    FsmaProduct as FsmaProduct,
)
from app.schemas.regulatory import (
    FsmaReceiving as FsmaReceiving,
)
from app.schemas.regulatory import (
    FsmaSelection as FsmaSelection,
)
from app.schemas.regulatory import (
    FsmaShipping as FsmaShipping,
)
from app.schemas.regulatory import (
    FsmaTransformation as FsmaTransformation,
)
from app.schemas.scans import (
    DecodeIn as DecodeIn,
)
from app.schemas.scans import (
    DecodeOut as DecodeOut,
)
from app.schemas.scans import (
    GtinIn as GtinIn,
)
from app.schemas.scans import (
    LotCandidateOut as LotCandidateOut,
)
from app.schemas.scans import (
    PhotoHintOut as PhotoHintOut,
)
from app.schemas.scans import (
    ReadOut as ReadOut,
)
from app.schemas.scans import (
    ScanIn as ScanIn,
)
from app.schemas.scans import (
    ScanLotOut as ScanLotOut,
)
from app.schemas.scans import (
    ScanOrderOut as ScanOrderOut,
)
from app.schemas.scans import (
    ScanOut as ScanOut,
)
from app.schemas.scans import (
    ScanPackagingOut as ScanPackagingOut,
)
from app.schemas.scans import (
    ScanProductOut as ScanProductOut,
)
from app.schemas.scans import (
    Station as Station,
)
from app.schemas.stations import (
    StationIn as StationIn,
)
from app.schemas.stations import (
    StationOut as StationOut,
)
from app.schemas.stations import (
    StationPatch as StationPatch,
)
from app.schemas.stock import (
    AdjustmentIn as AdjustmentIn,
)
from app.schemas.stock import (
    AdjustmentOut as AdjustmentOut,
)
from app.schemas.stock import (
    HoldIn as HoldIn,
)
from app.schemas.stock import (
    LinkOut as LinkOut,
)
from app.schemas.stock import (
    LotDetailOut as LotDetailOut,
)
from app.schemas.stock import (
    LotOut as LotOut,
)
from app.schemas.stock import (
    LotRef as LotRef,
)
from app.schemas.stock import (
    MovementOut as MovementOut,
)
from app.schemas.stock import (
    ProductionRunIn as ProductionRunIn,
)
from app.schemas.stock import (
    ProductionRunOut as ProductionRunOut,
)
from app.schemas.stock import (
    ReceiptIn as ReceiptIn,
)
from app.schemas.stock import (
    ReceiptLineIn as ReceiptLineIn,
)
from app.schemas.stock import (
    ReceiptLineOut as ReceiptLineOut,
)
from app.schemas.stock import (
    ReceiptOut as ReceiptOut,
)
from app.schemas.stock import (
    ReturnIn as ReturnIn,
)
from app.schemas.stock import (
    ReturnOut as ReturnOut,
)
from app.schemas.stock import (
    RunInputIn as RunInputIn,
)
from app.schemas.stock import (
    RunInputOut as RunInputOut,
)
from app.schemas.stock import (
    ShippedOut as ShippedOut,
)
from app.schemas.stock import (
    StockOut as StockOut,
)
from app.schemas.stock import (
    TakenOut as TakenOut,
)
from app.schemas.stock import (
    TransferIn as TransferIn,
)
from app.schemas.stock import (
    TransferOut as TransferOut,
)
from app.schemas.users import UserIn as UserIn
from app.schemas.waste import (
    Change as Change,
)
from app.schemas.waste import (
    ExpiredRowIn as ExpiredRowIn,
)
from app.schemas.waste import (
    ExpiredWriteOffIn as ExpiredWriteOffIn,
)
from app.schemas.waste import (
    LocationRow as LocationRow,
)
from app.schemas.waste import (
    MonthProductRow as MonthProductRow,
)
from app.schemas.waste import (
    MonthRow as MonthRow,
)
from app.schemas.waste import (
    ProductRow as ProductRow,
)
from app.schemas.waste import (
    ReasonRow as ReasonRow,
)
from app.schemas.waste import (
    WasteReport as WasteReport,
)
from app.schemas.waste import (
    WriteOffBatchOut as WriteOffBatchOut,
)
from app.schemas.waste import (
    WriteOffIn as WriteOffIn,
)
from app.schemas.waste import (
    WriteOffOut as WriteOffOut,
)
