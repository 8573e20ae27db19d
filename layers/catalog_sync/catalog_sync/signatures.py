"""Webhook signature schemes: verify the raw body of a delivery, and sign one (CLI, tests, demo).

Pure stdlib on purpose (hmac, hashlib, base64, binascii, time): the receiver imports this on its
cold-start path. `Signing` (a pydantic model) is only needed for typing, so it is imported under
TYPE_CHECKING and this module never imports pydantic or typing itself.

Rules every scheme follows:
- verify the raw bytes before anything parses them;
- try every configured secret (several are live during a rotation) and every presented signature,
  computing all comparisons with `hmac.compare_digest` and combining them, so timing does not tell
  which secret or which signature matched;
- header names are matched case-insensitively (API Gateway HTTP API v2 lower-cases them);
- oversized headers are refused before any HMAC work, so forged headers cost little CPU;
- failures are typed: `MissingHeader`, `TimestampOutOfTolerance`, `SignatureInvalid` (and
  `ConfigurationError` only when a connection has no usable secret at all). Messages name the
  problem, never a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from catalog_sync.errors import (
    ConfigurationError,
    MissingHeader,
    SignatureInvalid,
    TimestampOutOfTolerance,
)

# Not `from typing import TYPE_CHECKING`: this module needs nothing from typing at run time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from catalog_sync.connections import Signing

__all__ = [
    "PIXLPAY_SIGNATURE_HEADER",
    "SHOPIFY_HMAC_HEADER",
    "SHOPIFY_WEBHOOK_ID_HEADER",
    "STANDARD_ID_HEADER",
    "STANDARD_SIGNATURE_HEADER",
    "STANDARD_TIMESTAMP_HEADER",
    "sign",
    "sign_bigcommerce_legacy",
    "sign_pixlpay",
    "sign_shopify",
    "sign_standard_webhooks",
    "standard_webhooks_key",
    "verify",
]

# Header names, lower-cased (the form API Gateway HTTP API v2 delivers and the signers return).
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
PIXLPAY_SIGNATURE_HEADER = "x-pixlpay-signature"
SHOPIFY_HMAC_HEADER = "x-shopify-hmac-sha256"
SHOPIFY_WEBHOOK_ID_HEADER = "x-shopify-webhook-id"

_WHSEC_PREFIX = "whsec_"
_STANDARD_VERSION = "v1"

# Defensive bounds. Real values are far smaller: a v1 entry is 47 characters, a rotation presents
# two or three; Svix/BigCommerce ids are ~30 characters; a unix timestamp is 10 digits.
MAX_SIGNATURE_HEADER_CHARS = 4096
MAX_SIGNATURE_ENTRIES = 16
MAX_ID_CHARS = 256
MAX_TIMESTAMP_CHARS = 20
MAX_SECRET_HEADER_CHARS = 1024


# --------------------------------------------------------------------------------------------------
# The HMAC logic, shared by signing and verification.
# --------------------------------------------------------------------------------------------------


def _utf8(text: str) -> bytes:
    # surrogatepass: injective for any Python str, so no header value can raise or collide here.
    return text.encode("utf-8", "surrogatepass")


def _hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64 after an optional `whsec_` prefix.

    Decoded exactly like the reference `standardwebhooks` library (lenient base64, padding added),
    so any secret it accepts signs identically here. Raises ValueError for an unusable secret.
    """
    raw = secret.removeprefix(_WHSEC_PREFIX)
    try:
        key = base64.b64decode(raw + "==")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret may not be empty")
    return key


def _standard_content(msg_id: str, timestamp: str, body: bytes) -> bytes:
    return _utf8(f"{msg_id}.{timestamp}.") + body


def _standard_digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return _hmac_sha256(key, _standard_content(msg_id, timestamp, body))


def _body_digest(secret: str, body: bytes) -> bytes:
    """Pixlpay and Shopify: HMAC-SHA256 of the raw body, keyed by the secret's UTF-8 bytes."""
    return _hmac_sha256(_utf8(secret), body)


# --------------------------------------------------------------------------------------------------
# Signing (local CLI `generate-event`, tests, demo).
# --------------------------------------------------------------------------------------------------


def sign_standard_webhooks(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers (lower-cased names) for `body`, signed with one secret."""
    ts = str(int(timestamp))
    signature = base64.b64encode(_standard_digest(standard_webhooks_key(secret), msg_id, ts, body))
    return {
        STANDARD_ID_HEADER: msg_id,
        STANDARD_TIMESTAMP_HEADER: ts,
        STANDARD_SIGNATURE_HEADER: f"{_STANDARD_VERSION},{signature.decode('ascii')}",
    }


def sign_pixlpay(secret: str, body: bytes) -> dict[str, str]:
    """`x-pixlpay-signature`: hex HMAC-SHA256 of the raw body."""
    return {PIXLPAY_SIGNATURE_HEADER: _body_digest(secret, body).hex()}


def sign_shopify(secret: str, body: bytes, *, webhook_id: str | None = None) -> dict[str, str]:
    """`x-shopify-hmac-sha256`: base64 HMAC-SHA256 of the raw body (plus the webhook id if given)."""
    headers = {SHOPIFY_HMAC_HEADER: base64.b64encode(_body_digest(secret, body)).decode("ascii")}
    if webhook_id is not None:
        headers[SHOPIFY_WEBHOOK_ID_HEADER] = webhook_id
    return headers


def sign_bigcommerce_legacy(secret: str, header_name: str) -> dict[str, str]:
    """BigCommerce legacy hooks: the shared secret itself, in the header set at registration."""
    return {header_name.lower(): secret}


def sign(
    signing: Signing,
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers that `verify(signing, ...)` accepts for `body`, signed with the connection's first secret.

    `msg_id` is required for Standard Webhooks (optional for Shopify); `timestamp` defaults to now.
    """
    secret = signing.secrets[0].get_secret_value()
    match signing.scheme:
        case "standard-webhooks":
            if msg_id is None:
                raise ValueError("standard-webhooks signing needs a msg_id")
            ts = int(time.time()) if timestamp is None else timestamp
            return sign_standard_webhooks(secret, msg_id, ts, body)
        case "bigcommerce-legacy":
            return sign_bigcommerce_legacy(secret, signing.header_name)
        case "pixlpay":
            return sign_pixlpay(secret, body)
        case "shopify":
            return sign_shopify(secret, body, webhook_id=msg_id)
    raise ValueError(f"unknown signing scheme {signing.scheme!r}")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# Verification.
# --------------------------------------------------------------------------------------------------


def verify(
    signing: Signing,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
) -> str | None:
    """Verify `body` (the raw bytes) under the connection's scheme with any of its secrets.

    Returns the provider's delivery id when the scheme carries one in headers (Standard Webhooks
    `webhook-id`; Shopify `X-Shopify-Webhook-Id` when present), else None.
    Raises MissingHeader, TimestampOutOfTolerance or SignatureInvalid.
    """
    secrets = [s.get_secret_value() for s in signing.secrets]
    match signing.scheme:
        case "standard-webhooks":
            return _verify_standard(
                secrets, headers, body, time.time() if now is None else now, signing.tolerance_seconds
            )
        case "bigcommerce-legacy":
            _verify_legacy(secrets, headers, signing.header_name)
            return None
        case "pixlpay":
            _verify_pixlpay(secrets, headers, body)
            return None
        case "shopify":
            return _verify_shopify(secrets, headers, body)
    raise ConfigurationError(f"unknown signing scheme {signing.scheme!r}")  # pragma: no cover


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup of a non-blank header value (`name` is lower-case)."""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _require(headers: Mapping[str, str], name: str) -> str:
    value = _header(headers, name)
    if value is None:
        raise MissingHeader(f"missing signature header '{name}'")
    return value


def _bounded(value: str, limit: int, name: str) -> str:
    if len(value) > limit:
        raise SignatureInvalid(f"header '{name}' is longer than {limit} characters")
    return value


def _b64decode_strict(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _any_match(expected: Iterable[bytes], presented: Iterable[bytes]) -> bool:
    """True when any presented value equals any expected one; every pair is compared, no early exit."""
    wanted = list(expected)
    matched = False
    for candidate in presented:
        for digest in wanted:
            matched |= hmac.compare_digest(digest, candidate)
    return matched


def _verify_standard(
    secrets: list[str], headers: Mapping[str, str], body: bytes, now: float, tolerance: int
) -> str:
    msg_id = _bounded(_require(headers, STANDARD_ID_HEADER), MAX_ID_CHARS, STANDARD_ID_HEADER)
    raw_ts = _require(headers, STANDARD_TIMESTAMP_HEADER)
    header = _bounded(
        _require(headers, STANDARD_SIGNATURE_HEADER), MAX_SIGNATURE_HEADER_CHARS, STANDARD_SIGNATURE_HEADER
    )

    if len(raw_ts) > MAX_TIMESTAMP_CHARS or not (raw_ts.isascii() and raw_ts.isdigit()):
        raise TimestampOutOfTolerance("webhook-timestamp is not an integer unix time")
    if abs(now - int(raw_ts)) > tolerance:
        raise TimestampOutOfTolerance(f"webhook-timestamp is more than {tolerance} s from now")

    presented: list[bytes] = []
    for entry in header.split()[:MAX_SIGNATURE_ENTRIES]:
        version, _, encoded = entry.partition(",")
        if version != _STANDARD_VERSION:
            continue  # other versions (v1a asymmetric, future ones) are not ours to check
        decoded = _b64decode_strict(encoded)
        if decoded is not None:
            presented.append(decoded)

    keys: list[bytes] = []
    for secret in secrets:
        try:
            keys.append(standard_webhooks_key(secret))
        except ValueError:
            continue  # one malformed secret must not block the others during a rotation
    if not keys:
        raise ConfigurationError("no usable standard-webhooks secret configured for this connection")

    expected = (_standard_digest(key, msg_id, raw_ts, body) for key in keys)
    if not _any_match(expected, presented):
        raise SignatureInvalid("no webhook-signature matches")
    return msg_id


def _verify_legacy(secrets: list[str], headers: Mapping[str, str], header_name: str) -> None:
    name = header_name.lower()
    presented = _bounded(_require(headers, name), MAX_SECRET_HEADER_CHARS, name)
    if not _any_match((_utf8(s) for s in secrets), [_utf8(presented)]):
        raise SignatureInvalid(f"header '{name}' does not match")


def _verify_pixlpay(secrets: list[str], headers: Mapping[str, str], body: bytes) -> None:
    name = PIXLPAY_SIGNATURE_HEADER
    presented = _bounded(_require(headers, name), MAX_SIGNATURE_HEADER_CHARS, name)
    expected = (_utf8(_body_digest(s, body).hex()) for s in secrets)
    if not _any_match(expected, [_utf8(presented.lower())]):
        raise SignatureInvalid(f"header '{name}' does not match")


def _verify_shopify(secrets: list[str], headers: Mapping[str, str], body: bytes) -> str | None:
    name = SHOPIFY_HMAC_HEADER
    presented = _b64decode_strict(_bounded(_require(headers, name), MAX_SIGNATURE_HEADER_CHARS, name))
    expected = (_body_digest(s, body) for s in secrets)
    if not _any_match(expected, [] if presented is None else [presented]):
        raise SignatureInvalid(f"header '{name}' does not match")
    webhook_id = _header(headers, SHOPIFY_WEBHOOK_ID_HEADER)
    if webhook_id is None or len(webhook_id) > MAX_ID_CHARS:
        return None  # the id is not signed by Shopify; the caller falls back to the payload
    return webhook_id
