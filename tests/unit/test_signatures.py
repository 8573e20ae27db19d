"""Webhook signature schemes: what each accepts, what each refuses, and that nothing else escapes.

Read as a specification of `catalog_sync.signatures` (ARCHITECTURE §4, issue 5 item 1).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from catalog_sync import signatures
from catalog_sync.connections import Signing
from catalog_sync.errors import ConfigurationError, MissingHeader, SignatureInvalid, TimestampOutOfTolerance
from catalog_sync.signatures import (
    sign,
    sign_bigcommerce_legacy,
    sign_pixlpay,
    sign_shopify,
    sign_standard_webhooks,
    verify,
)

NOW = 1_700_000_000
MSG_ID = "msg_2Lq7kPqN0xWc1f3u5y7z9A"
BODY = json.dumps(
    {
        "scope": "store/product/updated",
        "store_id": "1001",
        "data": {"type": "product", "id": 42},
        "hash": "c0ffee",
        "created_at": NOW,
        "producer": "stores/storea",
    }
).encode()

SCHEMES = ("standard-webhooks", "bigcommerce-legacy", "pixlpay", "shopify")
LEGACY_HEADER = "X-Catalog-Sync-Secret"

# Two live secrets per scheme, as during a rotation: (new, old).
SECRETS: dict[str, tuple[str, str]] = {
    "standard-webhooks": (
        "whsec_" + base64.b64encode(b"new-standard-webhooks-key-0123456").decode(),
        "whsec_" + base64.b64encode(b"old-standard-webhooks-key-6543210").decode(),
    ),
    "bigcommerce-legacy": ("new-legacy-shared-secret-9f8e7d", "old-legacy-shared-secret-1a2b3c"),
    "pixlpay": ("new-pixlpay-secret", "old-pixlpay-secret"),
    "shopify": ("new-shopify-app-secret", "old-shopify-app-secret"),
}
WRONG_SECRET: dict[str, str] = {
    "standard-webhooks": "whsec_" + base64.b64encode(b"attacker-guessed-key-xxxxxxxxxxxx").decode(),
    "bigcommerce-legacy": "attacker-guess",
    "pixlpay": "attacker-guess",
    "shopify": "attacker-guess",
}
# The headers each scheme needs (lower-case).
REQUIRED: dict[str, tuple[str, ...]] = {
    "standard-webhooks": ("webhook-id", "webhook-timestamp", "webhook-signature"),
    "bigcommerce-legacy": (LEGACY_HEADER.lower(),),
    "pixlpay": ("x-pixlpay-signature",),
    "shopify": ("x-shopify-hmac-sha256",),
}
BODY_SIGNED = ("standard-webhooks", "pixlpay", "shopify")  # legacy sends a shared secret, not a MAC


def signing(scheme: str, *secrets: str, tolerance: int = 300) -> Signing:
    return Signing.model_validate(
        {
            "scheme": scheme,
            "secrets": list(secrets),
            "tolerance_seconds": tolerance,
            "header_name": LEGACY_HEADER,
        }
    )


def signed(
    scheme: str, secret: str, body: bytes = BODY, *, ts: int = NOW, msg_id: str = MSG_ID
) -> dict[str, str]:
    return sign(signing(scheme, secret), body, msg_id=msg_id, timestamp=ts)


def expected_id(scheme: str) -> str | None:
    return MSG_ID if scheme in ("standard-webhooks", "shopify") else None


# --------------------------------------------------------------------------------------------------
# Every scheme
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_accepts_a_valid_delivery_and_returns_the_delivery_id(scheme: str) -> None:
    new, _ = SECRETS[scheme]
    assert verify(signing(scheme, new), signed(scheme, new), BODY, now=NOW) == expected_id(scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("signed_with", ["new", "old"])
@pytest.mark.parametrize("order", ["new-first", "old-first"])
def test_accepts_either_secret_during_a_rotation(scheme: str, signed_with: str, order: str) -> None:
    new, old = SECRETS[scheme]
    live = (new, old) if order == "new-first" else (old, new)
    headers = signed(scheme, new if signed_with == "new" else old)
    assert verify(signing(scheme, *live), headers, BODY, now=NOW) == expected_id(scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_refuses_a_secret_that_was_rotated_out(scheme: str) -> None:
    new, old = SECRETS[scheme]
    with pytest.raises(SignatureInvalid):
        verify(signing(scheme, new), signed(scheme, old), BODY, now=NOW)


@pytest.mark.parametrize("scheme", BODY_SIGNED)
@pytest.mark.parametrize(
    "tamper",
    [
        lambda b: b.replace(b'"id": 42', b'"id": 43'),
        lambda b: b + b" ",
        lambda b: b[:-1],
        lambda b: b"",
    ],
    ids=["changed", "appended", "truncated", "emptied"],
)
def test_refuses_a_tampered_body(scheme: str, tamper: Callable[[bytes], bytes]) -> None:
    new, _ = SECRETS[scheme]
    tampered = tamper(BODY)
    assert tampered != BODY
    with pytest.raises(SignatureInvalid):
        verify(signing(scheme, new), signed(scheme, new), tampered, now=NOW)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_refuses_a_delivery_signed_with_a_wrong_secret(scheme: str) -> None:
    new, old = SECRETS[scheme]
    with pytest.raises(SignatureInvalid):
        verify(signing(scheme, new, old), signed(scheme, WRONG_SECRET[scheme]), BODY, now=NOW)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_refuses_an_unsigned_delivery_as_missing_header(scheme: str) -> None:
    new, _ = SECRETS[scheme]
    with pytest.raises(MissingHeader):
        verify(signing(scheme, new), {"content-type": "application/json"}, BODY, now=NOW)


@pytest.mark.parametrize(("scheme", "missing"), [(s, h) for s in SCHEMES for h in REQUIRED[s]])
@pytest.mark.parametrize("how", ["absent", "empty", "blank"])
def test_each_required_header_missing_or_blank_is_missing_header(scheme: str, missing: str, how: str) -> None:
    new, _ = SECRETS[scheme]
    headers = {k.lower(): v for k, v in signed(scheme, new).items()}
    if how == "absent":
        del headers[missing]
    else:
        headers[missing] = "" if how == "empty" else "   "
    with pytest.raises(MissingHeader) as err:
        verify(signing(scheme, new), headers, BODY, now=NOW)
    assert missing in str(err.value)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title], ids=["lower", "upper", "title"])
def test_header_names_match_case_insensitively(scheme: str, case: Callable[[str], str]) -> None:
    new, _ = SECRETS[scheme]
    headers = {case(k): v for k, v in signed(scheme, new).items()}
    assert verify(signing(scheme, new), headers, BODY, now=NOW) == expected_id(scheme)


@pytest.mark.parametrize("scheme", BODY_SIGNED)
def test_verifies_raw_bytes_that_are_not_utf8(scheme: str) -> None:
    new, _ = SECRETS[scheme]
    body = bytes(range(256))
    assert verify(signing(scheme, new), signed(scheme, new, body), body, now=NOW) == expected_id(scheme)
    with pytest.raises(SignatureInvalid):
        verify(signing(scheme, new), signed(scheme, new, body), body[::-1], now=NOW)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_oversized_signature_headers_are_refused_cheaply(scheme: str) -> None:
    new, _ = SECRETS[scheme]
    headers = {k.lower(): v for k, v in signed(scheme, new).items()}
    for name in REQUIRED[scheme]:
        if name != "webhook-timestamp":
            headers[name] = "v1," + "A" * 100_000
    started = time.perf_counter()
    with pytest.raises(SignatureInvalid):
        verify(signing(scheme, new), headers, BODY, now=NOW)
    assert time.perf_counter() - started < 0.25  # refused before any decoding or HMAC


def test_messages_never_contain_a_secret() -> None:
    for scheme in SCHEMES:
        new, old = SECRETS[scheme]
        candidates: list[dict[str, str]] = [{}, signed(scheme, WRONG_SECRET[scheme])]
        for headers in candidates:
            with pytest.raises((SignatureInvalid, MissingHeader)) as err:
                verify(signing(scheme, new, old), headers, BODY, now=NOW)
            assert new not in str(err.value)
            assert old not in str(err.value)


# --------------------------------------------------------------------------------------------------
# Standard Webhooks
# --------------------------------------------------------------------------------------------------

STD_NEW, STD_OLD = SECRETS["standard-webhooks"]
STD = signing("standard-webhooks", STD_NEW)


@pytest.mark.parametrize("offset", [-360, 360, -301, 301, -86_400, 10**9])
def test_standard_refuses_timestamps_outside_the_tolerance(offset: int) -> None:
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW + offset, BODY)
    with pytest.raises(TimestampOutOfTolerance):
        verify(STD, headers, BODY, now=NOW)


@pytest.mark.parametrize("offset", [-240, 240, -300, 300, 0])
def test_standard_accepts_timestamps_within_the_tolerance(offset: int) -> None:
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW + offset, BODY)
    assert verify(STD, headers, BODY, now=NOW) == MSG_ID


def test_standard_tolerance_is_per_connection() -> None:
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW - 120, BODY)
    assert verify(signing("standard-webhooks", STD_NEW, tolerance=180), headers, BODY, now=NOW) == MSG_ID
    with pytest.raises(TimestampOutOfTolerance):
        verify(signing("standard-webhooks", STD_NEW, tolerance=60), headers, BODY, now=NOW)


def test_standard_now_defaults_to_the_clock() -> None:
    ts = int(time.time())
    assert verify(STD, sign_standard_webhooks(STD_NEW, MSG_ID, ts, BODY), BODY) == MSG_ID
    with pytest.raises(TimestampOutOfTolerance):
        verify(STD, sign_standard_webhooks(STD_NEW, MSG_ID, ts - 3600, BODY), BODY)


@pytest.mark.parametrize(
    "raw", ["abc", "1.5", "1700000000.0", "-1", "+1700000000", "1e9", "\uff11\uff17\uff10\uff10", "9" * 40]
)
def test_standard_refuses_non_integer_timestamps(raw: str) -> None:
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY) | {"webhook-timestamp": raw}
    with pytest.raises(TimestampOutOfTolerance):
        verify(STD, headers, BODY, now=NOW)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_standard_accepts_several_v1_entries_when_one_is_valid(position: int) -> None:
    valid = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)["webhook-signature"]
    wrong = sign_standard_webhooks(WRONG_SECRET["standard-webhooks"], MSG_ID, NOW, BODY)["webhook-signature"]
    entries = [wrong, "v1," + base64.b64encode(b"\0" * 32).decode()]
    entries.insert(position, valid)
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY) | {"webhook-signature": " ".join(entries)}
    assert verify(STD, headers, BODY, now=NOW) == MSG_ID


def test_standard_rotation_with_both_signatures_presented() -> None:
    both = " ".join(
        sign_standard_webhooks(s, MSG_ID, NOW, BODY)["webhook-signature"] for s in (STD_NEW, STD_OLD)
    )
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY) | {"webhook-signature": both}
    for live in ([STD_NEW], [STD_OLD], [STD_OLD, STD_NEW]):
        assert verify(signing("standard-webhooks", *live), headers, BODY, now=NOW) == MSG_ID


def test_standard_ignores_other_signature_versions() -> None:
    valid = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    digest = valid["webhook-signature"].removeprefix("v1,")
    for header in (f"v2,{digest}", f"v1a,{digest}", f"V1,{digest}", digest, f"v2,{digest} v1,AAAA"):
        with pytest.raises(SignatureInvalid):
            verify(STD, valid | {"webhook-signature": header}, BODY, now=NOW)
    mixed = f"v2,{digest} v1a,xyz garbage v1,not*base64 v1,{digest}"
    assert verify(STD, valid | {"webhook-signature": mixed}, BODY, now=NOW) == MSG_ID


def test_standard_only_reads_a_bounded_number_of_entries() -> None:
    valid = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    filler = " ".join(["v1,AAAA"] * signatures.MAX_SIGNATURE_ENTRIES)
    with pytest.raises(SignatureInvalid):
        verify(STD, valid | {"webhook-signature": f"{filler} {valid['webhook-signature']}"}, BODY, now=NOW)


def test_standard_refuses_an_oversized_id() -> None:
    msg_id = "m" * (signatures.MAX_ID_CHARS + 1)
    with pytest.raises(SignatureInvalid):
        verify(STD, sign_standard_webhooks(STD_NEW, msg_id, NOW, BODY), BODY, now=NOW)


def test_standard_signature_binds_the_id_and_timestamp() -> None:
    valid = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    for changed in ({"webhook-id": MSG_ID + "x"}, {"webhook-timestamp": str(NOW + 1)}):
        with pytest.raises(SignatureInvalid):
            verify(STD, valid | changed, BODY, now=NOW)


def test_standard_secret_without_the_whsec_prefix_is_raw_base64() -> None:
    bare = STD_NEW.removeprefix("whsec_")
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    assert verify(signing("standard-webhooks", bare), headers, BODY, now=NOW) == MSG_ID
    assert sign_standard_webhooks(bare, MSG_ID, NOW, BODY) == headers


def test_standard_a_malformed_secret_does_not_block_the_others() -> None:
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    assert verify(signing("standard-webhooks", "whsec_", STD_NEW), headers, BODY, now=NOW) == MSG_ID
    with pytest.raises(ConfigurationError):
        verify(signing("standard-webhooks", "whsec_"), headers, BODY, now=NOW)
    with pytest.raises(ValueError):
        sign_standard_webhooks("whsec_", MSG_ID, NOW, BODY)


def test_standard_signer_output_shape() -> None:
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-timestamp"] == str(NOW)
    version, _, sig = headers["webhook-signature"].partition(",")
    assert version == "v1"
    assert len(base64.b64decode(sig, validate=True)) == 32


# --- Interoperability with the independent `standardwebhooks` implementation ----------------------


@pytest.mark.parametrize("secret", [STD_NEW, STD_NEW.removeprefix("whsec_")], ids=["whsec", "bare"])
def test_signatures_from_the_standardwebhooks_package_verify_here(secret: str) -> None:
    stamp = datetime.fromtimestamp(NOW, tz=UTC)
    header = Webhook(secret).sign(MSG_ID, stamp, BODY.decode())
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(NOW), "webhook-signature": header}
    assert verify(STD, headers, BODY, now=NOW) == MSG_ID
    # ...and a rotation where the provider still signs with the old secret only.
    old_header = Webhook(STD_OLD).sign(MSG_ID, stamp, BODY.decode())
    rotating = signing("standard-webhooks", STD_NEW, STD_OLD)
    assert verify(rotating, headers | {"webhook-signature": old_header}, BODY, now=NOW) == MSG_ID


def test_our_signatures_verify_with_the_standardwebhooks_package() -> None:
    ts = int(time.time())  # the package checks against its own clock
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, ts, BODY)
    assert Webhook(STD_NEW).verify(BODY, headers) == json.loads(BODY)
    assert Webhook(STD_NEW.removeprefix("whsec_")).verify(BODY, headers) == json.loads(BODY)


def test_the_standardwebhooks_package_refuses_what_we_refuse() -> None:
    from standardwebhooks.webhooks import WebhookVerificationError

    ts = int(time.time())
    headers = sign_standard_webhooks(STD_NEW, MSG_ID, ts, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(STD_OLD).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(STD_NEW).verify(BODY + b" ", headers)


# --------------------------------------------------------------------------------------------------
# BigCommerce legacy, Pixlpay, Shopify specifics
# --------------------------------------------------------------------------------------------------


def test_legacy_reads_the_header_named_at_registration() -> None:
    conn = Signing.model_validate(
        {"scheme": "bigcommerce-legacy", "secrets": ["s3cret"], "header_name": "X-My-Hook-Token"}
    )
    assert sign_bigcommerce_legacy("s3cret", "X-My-Hook-Token") == {"x-my-hook-token": "s3cret"}
    assert verify(conn, {"X-My-Hook-Token": "s3cret"}, BODY) is None
    with pytest.raises(MissingHeader):
        verify(conn, {LEGACY_HEADER: "s3cret"}, BODY)
    for near_miss in ("s3cre", "s3cret!", "S3CRET", "s3cret\x00"):
        with pytest.raises(SignatureInvalid):
            verify(conn, {"x-my-hook-token": near_miss}, BODY)


def test_pixlpay_signature_is_hex_hmac_of_the_body() -> None:
    import hashlib
    import hmac

    headers = sign_pixlpay("k", BODY)
    assert headers == {"x-pixlpay-signature": hmac.new(b"k", BODY, hashlib.sha256).hexdigest()}
    conn = signing("pixlpay", "k")
    assert verify(conn, {"X-Pixlpay-Signature": headers["x-pixlpay-signature"].upper()}, BODY) is None
    digest = bytes.fromhex(headers["x-pixlpay-signature"])
    with pytest.raises(SignatureInvalid):  # base64 of the right digest is not the right encoding
        verify(conn, {"x-pixlpay-signature": base64.b64encode(digest).decode()}, BODY)


def test_shopify_signature_is_base64_hmac_of_the_body() -> None:
    import hashlib
    import hmac

    digest = hmac.new(b"k", BODY, hashlib.sha256).digest()
    assert sign_shopify("k", BODY) == {"x-shopify-hmac-sha256": base64.b64encode(digest).decode()}
    conn = signing("shopify", "k")
    for bad in (digest.hex(), "not base64!", base64.b64encode(digest[:-1]).decode()):
        with pytest.raises(SignatureInvalid):
            verify(conn, {"x-shopify-hmac-sha256": bad}, BODY)


def test_shopify_returns_the_webhook_id_only_when_present() -> None:
    conn = signing("shopify", "k")
    assert verify(conn, sign_shopify("k", BODY), BODY) is None
    assert verify(conn, sign_shopify("k", BODY, webhook_id="b54557e4"), BODY) == "b54557e4"
    assert verify(conn, {"X-Shopify-Hmac-Sha256": sign_shopify("k", BODY)["x-shopify-hmac-sha256"],
                         "X-Shopify-Webhook-Id": "ABC"}, BODY) == "ABC"  # fmt: skip


def test_sign_dispatches_on_the_connection_scheme() -> None:
    assert sign(signing("standard-webhooks", STD_NEW), BODY, msg_id=MSG_ID, timestamp=NOW) == (
        sign_standard_webhooks(STD_NEW, MSG_ID, NOW, BODY)
    )
    assert sign(signing("pixlpay", "k", "old"), BODY) == sign_pixlpay("k", BODY)
    assert sign(signing("shopify", "k"), BODY) == sign_shopify("k", BODY)
    assert sign(signing("bigcommerce-legacy", "k"), BODY) == {LEGACY_HEADER.lower(): "k"}
    with pytest.raises(ValueError):
        sign(signing("standard-webhooks", STD_NEW), BODY)


def test_importing_signatures_does_not_import_pydantic() -> None:
    layer = Path(signatures.__file__).resolve().parents[1]
    code = "import sys, catalog_sync.signatures; assert 'pydantic' not in sys.modules, 'pydantic imported'"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(layer)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------------------
# Properties (bounded: a few seconds in all)
# --------------------------------------------------------------------------------------------------

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPED = (SignatureInvalid, MissingHeader)  # TimestampOutOfTolerance is a SignatureInvalid

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80)
sig_b64 = st.binary(min_size=0, max_size=40).map(lambda b: base64.b64encode(b).decode())
sig_hex = st.binary(min_size=0, max_size=40).map(bytes.hex)


@st.composite
def forged_headers(draw: st.DrawFn, scheme: str) -> dict[str, str]:
    """Plausible-looking headers for `scheme` made without the secret."""
    headers = draw(st.dictionaries(any_text, any_text, max_size=4))
    if scheme == "standard-webhooks":
        entries = draw(st.lists(st.one_of(sig_b64.map("v1,".__add__), any_text), max_size=4))
        headers |= {
            "webhook-id": draw(st.one_of(st.just(MSG_ID), any_text)),
            "webhook-timestamp": str(NOW + draw(st.integers(-300, 300))),
            "webhook-signature": " ".join(entries),
        }
    elif scheme == "bigcommerce-legacy":
        headers[LEGACY_HEADER] = draw(st.one_of(any_text, st.sampled_from(SECRETS[scheme][0][:-1])))
    elif scheme == "pixlpay":
        headers["X-Pixlpay-Signature"] = draw(st.one_of(sig_hex, any_text))
    else:
        headers["X-Shopify-Hmac-Sha256"] = draw(st.one_of(sig_b64, any_text))
    return headers


@PROPERTY
@given(data=st.data(), scheme=st.sampled_from(SCHEMES), body=st.binary(max_size=512))
def test_property_nothing_verifies_without_the_secret(data: st.DataObject, scheme: str, body: bytes) -> None:
    headers = data.draw(forged_headers(scheme))
    with pytest.raises(TYPED):
        verify(signing(scheme, *SECRETS[scheme]), headers, body, now=NOW)


@st.composite
def mutated_delivery(draw: st.DrawFn) -> tuple[str, dict[str, str], bytes]:
    scheme = draw(st.sampled_from(BODY_SIGNED))
    body = draw(st.binary(max_size=256))
    headers = {k.lower(): v for k, v in signed(scheme, draw(st.sampled_from(SECRETS[scheme])), body).items()}
    what = draw(st.sampled_from(["body", "id", "timestamp"] if scheme == "standard-webhooks" else ["body"]))
    if what == "body":
        if body and draw(st.booleans()):
            i = draw(st.integers(0, len(body) - 1))
            flip = draw(st.integers(1, 255))
            new_body = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
        else:
            new_body = draw(st.binary(max_size=256).filter(lambda b: b != body))
        return scheme, headers, new_body
    if what == "id":
        headers["webhook-id"] = draw(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != MSG_ID))
    else:
        headers["webhook-timestamp"] = str(NOW + draw(st.integers(-300, 300).filter(bool)))
    return scheme, headers, body


@PROPERTY
@given(delivery=mutated_delivery())
def test_property_mutations_of_a_valid_delivery_are_refused(
    delivery: tuple[str, dict[str, str], bytes],
) -> None:
    scheme, headers, body = delivery
    with pytest.raises(TYPED):
        verify(signing(scheme, *SECRETS[scheme]), headers, body, now=NOW)


@PROPERTY
@given(
    scheme=st.sampled_from(SCHEMES),
    headers=st.dictionaries(
        st.one_of(any_text, st.sampled_from([h for hs in REQUIRED.values() for h in hs])),
        any_text,
        max_size=8,
    ),
    body=st.binary(max_size=256),
    now=st.one_of(st.just(float(NOW)), st.floats(allow_nan=False, allow_infinity=False)),
)
def test_property_verify_only_raises_typed_errors(
    scheme: str, headers: dict[str, str], body: bytes, now: float
) -> None:
    try:
        verify(signing(scheme, *SECRETS[scheme]), headers, body, now=now)
    except TYPED:
        return  # refused with a typed error: fine; anything else escapes and fails the test
