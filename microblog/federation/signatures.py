"""HTTP signatures for ActivityPub: signing what we send, checking what we receive.

    sign(method, url, headers, body, key_id, private_key) -> headers to add   (draft-cavage, as Mastodon)
    sign_rfc9421(...)                                      -> headers to add   (RFC 9421, as Fedify)
    await verify(method, target_uri, headers, body, fetch_key) -> Verified(key_id, scheme)
    key_owner_matches(key_id, actor_id) -> bool
    SignatureError(reason): every refusal; the caller answers 401.

Two schemes are accepted, chosen as Mastodon chooses: `Signature-Input` present -> RFC 9421
(rfc9421.py), else `Signature` -> draft-cavage-http-signatures-12 (cavage.py). Their rules, taken
from Mastodon's app/lib/signed_request.rb (and Fedify's verifier), are in those modules' docstrings;
the clock window (sigbase.py) is Mastodon's: dated at most an hour ahead of `clock.now()`, and
refused an hour after it expires (its `expires`, else five minutes after it was made, at most 12 h).
Everything that needs no key (form, algorithm, coverage, digest, window) is checked before the key
is asked for, so a malformed or stale request costs no fetch.

The caller's side:
- `target_uri` is the request's URL as the sender addressed it: our public scheme and host (from
  configuration, not a proxy's Host) with the path and query as received, percent-encoding kept
  (the raw path, not a decoded one). `headers` are the request's own, Host included.
- `fetch_key(key_id, refresh)` (async, or plain) answers the public key (`public_key_from_pem`)
  named by the key id, or None when there is none (unknown actor, 404/410, fetch failed). It is
  called with refresh=False first: answer from the cache, or fetch if not cached. If the signature
  does not verify with that key, it is called once more with refresh=True: fetch the key again,
  bypassing the cache (how keys rotate). Rate-limiting refreshes per host or key is the caller's;
  when it declines to refetch, it may answer the cached key again or None.
- Who signed is not yet who acts: the caller checks that the activity's `actor` owns the key (the
  key document's `owner`/`controller` is the actor, and `key_owner_matches(key_id, actor)`), and
  for GETs (authorized fetch) that `host` or `@authority` names us.
"""
import inspect
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import cavage, rfc9421
from .sigbase import PublicKey, SignatureError, header_values, public_key_from_pem, verify_bytes

__all__ = ["sign", "sign_rfc9421", "verify", "Verified", "SignatureError", "key_owner_matches",
           "public_key_from_pem", "PublicKey"]

sign = cavage.sign
sign_rfc9421 = rfc9421.sign


@dataclass(frozen=True)
class Verified:
    key_id: str
    scheme: str  # "draft-cavage" or "rfc9421"


async def verify(method: str, target_uri: str, headers, body: bytes | None, fetch_key) -> Verified:
    values = header_values(headers)
    if "signature-input" in values:
        scheme = "rfc9421"
        key_id, alg, signature, messages = rfc9421.check(method, target_uri, values, body)
    elif "signature" in values:
        scheme = "draft-cavage"
        target = urlsplit(target_uri)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        key_id, alg, signature, messages = cavage.check(method, path, values, body, values["signature"])
    else:
        raise SignatureError("request not signed")
    for refresh in (False, True):
        key = fetch_key(key_id, refresh)
        key = await key if inspect.isawaitable(key) else key
        if key is None:
            raise SignatureError(f"unknown key {key_id}")
        if any(verify_bytes(key, alg, signature, message) for message in messages):
            return Verified(key_id, scheme)
    raise SignatureError(f"bad signature (key {key_id})")


def key_owner_matches(key_id: str, actor_id: str) -> bool:
    """Whether the key id is on the actor's origin (same scheme, host and port): a key served by
    one server cannot speak for an actor of another."""
    def origin(url: str):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"https": 443, "http": 80}.get(scheme)
        except ValueError:
            return None
        return (scheme, (parts.hostname or "").lower(), port) if parts.hostname else None
    return origin(key_id) is not None and origin(key_id) == origin(actor_id)
