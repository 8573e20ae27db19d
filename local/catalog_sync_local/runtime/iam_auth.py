"""The local runtime's stand-in for API Gateway's AWS_IAM authorizer: a route that asks for it answers
403 `{"message": "Forbidden"}` unless the request carries a valid Signature Version 4 signature.

As in AWS: the `Authorization` header names the access key, the credential scope (date, region,
`execute-api`) and the signed headers; the signature is recomputed over the canonical request (method,
path, query, the signed headers, the body's SHA-256) with the secret of that key and compared in
constant time; a request signed more than 15 minutes from now is refused. The only identity here is
the local stack's fake one (`runtime.aws_backend.FAKE_AWS_ENV`): what `aws`, `awscurl` or botocore sign with
when pointed at the local stack.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"
MAX_SKEW_S = 15 * 60
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)


def refusal(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> str | None:
    """Why the request is not validly signed (None when it is). `headers` with lower-cased names;
    `path` with its query string; `secrets`: access key id -> secret access key."""
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None:
        return "missing or malformed SigV4 Authorization header"
    if match["service"] != SERVICE:
        return f"credential scope names service {match['service']!r}, not {SERVICE!r}"
    secret = secrets.get(match["key"])
    if secret is None:
        return "unknown access key"
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "missing or malformed X-Amz-Date"
    if (
        abs(((now or datetime.now(UTC)) - signed_at).total_seconds()) > MAX_SKEW_S
        or stamp[:8] != match["date"]
    ):
        return "signature expired or not yet valid"
    names = match["signed"].split(";")
    if "host" not in names or any(name not in headers for name in names):
        return "a signed header is missing"
    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{path}",
        data=body,
        headers={n: headers[n] for n in names},
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(
        Credentials(match["key"], secret, headers.get("x-amz-security-token")), SERVICE, match["region"]
    )
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return "signature does not match"
    return None
