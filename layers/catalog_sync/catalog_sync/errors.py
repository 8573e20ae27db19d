"""Typed errors. Handlers map them to responses in one place; nothing matches on message text."""

from __future__ import annotations


class CatalogSyncError(Exception):
    """Base class for every error this package raises on purpose."""

    code = "catalog_sync_error"


# --- Request errors: the caller sent something we refuse (HTTP 4xx, never retried by us). ---


class RequestRejected(CatalogSyncError):
    status = 400
    code = "bad_request"


class SignatureInvalid(RequestRejected):
    status = 401
    code = "invalid_signature"


class TimestampOutOfTolerance(SignatureInvalid):
    code = "timestamp_out_of_tolerance"


class MissingHeader(RequestRejected):
    status = 401
    code = "missing_signature_header"


class UnknownConnection(RequestRejected):
    status = 404
    code = "unknown_connection"


class PayloadInvalid(RequestRejected):
    status = 400
    code = "invalid_payload"


class PayloadTooLarge(RequestRejected):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(RequestRejected):
    status = 415
    code = "unsupported_media_type"


# --- Sync errors: classified so the consumer knows whether a retry can help. ---


class SyncError(CatalogSyncError):
    code = "sync_error"


class RetriableError(SyncError):
    """Transient: rate limited, 5xx, timeout, lease held. The record goes back to the queue."""

    code = "retriable"


class Throttled(RetriableError):
    """The store asked us to wait (a 429's window reset, a Retry-After, our own count of its quota)
    longer than this sync may: not a failure of the record, which is queued again for then."""

    code = "throttled"

    def __init__(self, message: str, *, after_s: float) -> None:
        super().__init__(message)
        self.after_s = after_s


class PermanentError(SyncError):
    """A retry cannot help (bad data, 4xx other than 429). Recorded; the record ends in the DLQ."""

    code = "permanent"


class DuplicateSku(PermanentError):
    code = "duplicate_sku"


class MissingSku(PermanentError):
    code = "missing_sku"


class ConfigurationError(CatalogSyncError):
    """The deployment is misconfigured (missing env var, malformed connections secret)."""

    code = "configuration_error"


class StorageUnavailable(CatalogSyncError):
    """Nothing could be stored durably: the provider must retry (HTTP 503)."""

    code = "storage_unavailable"


class DeliveryTooOld(PayloadInvalid):
    """A signed delivery created before the dedup window: a replay could no longer be recognised."""

    code = "delivery_too_old"


class NotTwoWay(RequestRejected):
    """A delivery from the destination of a one-way connection (only two-way destinations send them)."""

    status = 404
    code = "not_two_way"


class RouteNotFound(RequestRejected):
    """A request the receiver has no route for (the HTTP API only routes POST /webhooks/{connection})."""

    status = 404
    code = "not_found"


class MethodNotAllowed(RequestRejected):
    status = 405
    code = "method_not_allowed"
