"""draft-cavage-http-signatures-12, as Mastodon signs and checks it (its HttpSignatureDraft, and
SignedRequest::HttpSignature in app/lib/signed_request.rb).

Sent:    Signature: keyId="…",algorithm="rsa-sha256",headers="(request-target) host date digest
         content-type",signature="<base64 RSA PKCS#1 v1.5 SHA-256>", with Digest: SHA-256=<base64>.
Checked: keyId and signature present; algorithm rsa-sha256 or hs2019 (the default); `date` or
         `(created)` signed, `(request-target)` or `digest` signed, `host` signed on GET, `digest`
         signed on POST (and whenever there is a body); every signed header present; the Digest's
         SHA-256 recomputed over the body; the signed date(s) within the window (sigbase).
         `(created)`/`(expires)` only with hs2019. An unsigned created/expires is ignored.
Quirk kept from Mastodon: `(request-target)` is also tried without the query string (older
Mastodon versions left it out).
"""
import re
from email.utils import format_datetime, parsedate_to_datetime
from datetime import timezone
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from microblog import clock

from .sigbase import (DIGESTS, SignatureError, b64, b64decode, check_digest, check_window, private_key,
                      sign_bytes, timestamp)

PARAM = re.compile(r'\s*([A-Za-z]+)=(?:"([^"]*)"|(\d+))\s*(?:,|$)')
ALGORITHMS = {"rsa-sha256": "rsa-v1_5-sha256", "hs2019": None}  # hs2019: from the key's kind
BODY_METHODS = {"POST", "PUT", "PATCH"}


def parse(header: str) -> dict[str, str]:
    """The Signature header's parameters: name="value" pairs (created/expires may be bare digits),
    comma-separated, each name once. Anything else is malformed."""
    params, position = {}, 0
    while position < len(header):
        match = PARAM.match(header, position)
        if not match or match.end() == position:
            raise SignatureError("malformed Signature header")
        name = match[1]
        if name in params:
            raise SignatureError(f"malformed Signature header: {name} given twice")
        params[name] = match[2] if match[2] is not None else match[3]
        position = match.end()
    if header.rstrip().endswith(","):
        raise SignatureError("malformed Signature header")
    return params


def check(method: str, path: str, headers: dict[str, str], body: bytes | None, signature_header: str):
    """Everything that needs no key. Returns (key_id, alg, signature bytes, [signing strings])."""
    params = parse(signature_header)
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureError(f"missing {required} in the Signature header")
    algorithm = params.get("algorithm", "hs2019")
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {algorithm!r} (only rsa-sha256 and hs2019)")
    signed = params.get("headers", "(created)" if algorithm == "hs2019" else "date").lower().split()
    if len(set(signed)) != len(signed):
        raise SignatureError("malformed Signature header: a header is listed twice")
    has_body = method.upper() in BODY_METHODS or bool(body)
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("headers not covered: date or (created) must be signed")
    if "(request-target)" not in signed and "digest" not in signed:
        raise SignatureError("headers not covered: (request-target) or digest must be signed")
    if method.upper() == "GET" and "host" not in signed:
        raise SignatureError("headers not covered: host must be signed on GET")
    if has_body and "digest" not in signed:
        raise SignatureError("headers not covered: digest must be signed on a request with a body")

    times = {}
    for pseudo in ("(created)", "(expires)"):
        if pseudo in signed:
            if algorithm != "hs2019":
                raise SignatureError(f"{pseudo} is only allowed with hs2019")
            if not params.get(pseudo[1:-1]):
                raise SignatureError(f"{pseudo} is signed but its parameter is missing")
            times[pseudo] = timestamp(params[pseudo[1:-1]], pseudo)
    missing = [h for h in signed if not h.startswith("(") and h not in headers]
    if missing:
        raise SignatureError(f"signed header missing from the request: {', '.join(missing)}")
    if "date" in signed:
        try:
            date = parsedate_to_datetime(headers["date"])
        except (TypeError, ValueError):
            raise SignatureError(f"invalid Date header: {headers['date']!r}") from None
        check_window(date if date.tzinfo else date.replace(tzinfo=timezone.utc), times.get("(expires)"))
    if "(created)" in times:
        check_window(times["(created)"], times.get("(expires)"))
    if "digest" in signed:
        check_body_digest(headers["digest"], body or b"")

    def signing_string(target: str) -> bytes:
        lines = []
        for name in signed:
            if name == "(request-target)":
                lines.append(f"(request-target): {method.lower()} {target}")
            elif name in ("(created)", "(expires)"):
                lines.append(f"{name}: {params[name[1:-1]]}")
            elif name.startswith("("):
                raise SignatureError(f"unsupported pseudo-header {name}")
            else:
                lines.append(f"{name}: {headers[name]}")
        return "\n".join(lines).encode()

    bare_path = path.partition("?")[0]
    strings = [signing_string(path)] + ([signing_string(bare_path)] if bare_path != path else [])
    return params["keyId"], ALGORITHMS[algorithm], b64decode(params["signature"], "signature"), strings


def check_body_digest(header: str, body: bytes) -> None:
    """Digest: SHA-256=<base64>[, other=…]: the SHA-256 one must be there and match the body."""
    offered = {}
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals:
            raise SignatureError("malformed Digest header")
        offered[name.lower()] = value
    if "sha-256" not in offered:
        raise SignatureError(f"unsupported digest: only SHA-256 (offered {', '.join(offered)})")
    check_digest("sha-256", b64decode(offered["sha-256"], "Digest"), body)


def sign(method: str, url: str, headers, body: bytes | None, key_id: str, key) -> dict[str, str]:
    """The headers to add to an outgoing request, as Mastodon sends them: Host, Date, Digest (when
    there is a body) and Signature over `(request-target) host date [digest] [content-type]
    [accept]` (the last two if `headers` has them)."""
    parts = urlsplit(url)
    given = {name.lower(): value for name, value in (headers.items() if hasattr(headers, "items") else headers)}
    target = parts.path or "/"
    added = {"Host": parts.netloc.rpartition("@")[2].lower(),
             "Date": format_datetime(clock.now().astimezone(timezone.utc), usegmt=True)}
    if body is not None:
        added["Digest"] = f"SHA-256={b64(DIGESTS['sha-256'](body).digest())}"
    signed = {"(request-target)": f"{method.lower()} {target}{'?' + parts.query if parts.query else ''}",
              **{name.lower(): value for name, value in added.items()},
              **{name: given[name] for name in ("content-type", "accept") if name in given}}
    text = "\n".join(f"{name}: {value}" for name, value in signed.items()).encode()
    key = private_key(key)
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "hs2019"
    added["Signature"] = (f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(signed)}",'
                          f'signature="{b64(sign_bytes(key, text))}"')
    return added
