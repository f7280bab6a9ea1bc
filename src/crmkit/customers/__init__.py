"""The customers context: customers, their contacts, and the interactions logged with them.

A contact also carries how it wants to be reached: its time zone, quiet hours, preferred
channel and the append-only history of its consent per channel (:class:`ConsentRecord`).

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Customer
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> Customer.register(id="cus_1", name="Acme", kind="company", now=now).kind.value
    'company'

.. versionadded:: 0.1.0
"""

from crmkit.customers._consent import Channel, ConsentRecord, Purpose, QuietHours
from crmkit.customers._contact_points import normalize_email, normalize_phone
from crmkit.customers._model import (
    Contact,
    Customer,
    CustomerKind,
    Interaction,
    InteractionKind,
    Lifecycle,
)
from crmkit.customers._records import CONTACTS, CUSTOMERS, INTERACTIONS, ORDERS
from crmkit.customers.dedup import (
    CUSTOMER_MERGES,
    DUPLICATE_REVIEWS,
    DedupRecord,
    DuplicateReview,
    MatchRule,
    MatchRules,
    MergeRecord,
    ReviewStatus,
    Survivorship,
    find_duplicates,
)
from crmkit.customers.privacy import (
    PersonalDataMap,
    PersonalField,
    PersonIdentifiers,
    PiiAction,
    PiiKind,
    RetentionAction,
    RetentionPolicy,
    RetentionRule,
)
from crmkit.customers.purchases import (
    Order,
    OrderConflict,
    OrderLine,
    PurchaseSummary,
    Refund,
    RefundConflict,
    RefundExceedsOrder,
    summarize_purchases,
)
from crmkit.customers.segments import (
    DEFAULT_RFM_SEGMENTS,
    AttentionFlag,
    AttentionRule,
    ConditionResult,
    CustomerFacts,
    CustomerSegments,
    LifecycleAssessment,
    LifecycleRules,
    RfmModel,
    RfmScore,
    RfmSegment,
    ScoreDetail,
    SegmentationRules,
    SegmentMatch,
    SegmentRule,
    assess_lifecycle,
    needs_attention,
    rfm_scores,
    segment_customers,
)
from crmkit.customers.transfer import (
    FIELDS,
    ColumnMapping,
    ImportRow,
    RowError,
    RowValidator,
    fast_normalize_email,
)

__all__ = [
    "AttentionFlag",
    "AttentionRule",
    "CONTACTS",
    "CUSTOMERS",
    "CUSTOMER_MERGES",
    "Channel",
    "ColumnMapping",
    "ConditionResult",
    "ConsentRecord",
    "Contact",
    "Customer",
    "CustomerFacts",
    "CustomerKind",
    "CustomerSegments",
    "DEFAULT_RFM_SEGMENTS",
    "DUPLICATE_REVIEWS",
    "DedupRecord",
    "DuplicateReview",
    "FIELDS",
    "INTERACTIONS",
    "ImportRow",
    "Interaction",
    "InteractionKind",
    "Lifecycle",
    "LifecycleAssessment",
    "LifecycleRules",
    "MatchRule",
    "MatchRules",
    "MergeRecord",
    "ORDERS",
    "Order",
    "OrderConflict",
    "OrderLine",
    "PersonIdentifiers",
    "PersonalDataMap",
    "PersonalField",
    "PiiAction",
    "PiiKind",
    "PurchaseSummary",
    "Purpose",
    "QuietHours",
    "Refund",
    "RefundConflict",
    "RefundExceedsOrder",
    "RetentionAction",
    "RetentionPolicy",
    "RetentionRule",
    "ReviewStatus",
    "RfmModel",
    "RfmScore",
    "RfmSegment",
    "RowError",
    "RowValidator",
    "ScoreDetail",
    "SegmentMatch",
    "SegmentRule",
    "SegmentationRules",
    "Survivorship",
    "assess_lifecycle",
    "fast_normalize_email",
    "find_duplicates",
    "needs_attention",
    "normalize_email",
    "normalize_phone",
    "rfm_scores",
    "segment_customers",
    "summarize_purchases",
]
