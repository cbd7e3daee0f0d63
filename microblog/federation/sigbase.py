"""What the two HTTP signature schemes share (cavage.py, rfc9421.py): the one error, the request's
headers as one value per name, the clock window, body digests and the key algorithms.

Pure: no Quart, no database. Time is `microblog.clock.now()`, so tests can step it.
"""
import base64
import binascii
import functools
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from microblog import clock

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

# Mastodon's SignedRequest: a signature may be dated up to an hour ahead (clock skew), and lasts
# until its `expires` (else five minutes after it was made, at most twelve hours) plus that hour.
CLOCK_SKEW = timedelta(hours=1)
DEFAULT_LIFETIME = timedelta(minutes=5)
MAX_LIFETIME = timedelta(hours=12)


class SignatureError(Exception):
    """Why a request's signature was refused (the caller answers 401). `reason` is for logs."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def header_values(headers) -> dict[str, str]:
    """Lower-cased name -> value, from a mapping (werkzeug's Headers keep repeated fields) or a list
    of pairs. Each value is trimmed; repeated fields are joined with ", " (RFC 9421 §2.1, cavage §2.3)."""
    found: dict[str, list[str]] = {}
    for name, value in (headers.items() if hasattr(headers, "items") else headers):
        found.setdefault(name.lower(), []).append(str(value).strip())
    return {name: ", ".join(values) for name, values in found.items()}


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def check_digest(algorithm: str, given: bytes, body: bytes) -> None:
    computed = DIGESTS[algorithm](body).digest()
    if not hmac.compare_digest(given, computed):
        raise SignatureError(f"digest mismatch: the body's {algorithm} is {b64(computed)}, "
                             f"the header says {b64(given)}")


def timestamp(value, what: str) -> datetime:
    """A signature parameter's Unix time (an integer, quoted or not)."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise SignatureError(f"{what} is not a Unix time: {text!r}")
    return datetime.fromtimestamp(int(text), timezone.utc)


def check_window(created: datetime, expires: datetime | None = None) -> None:
    """Mastodon's window: not made more than an hour ahead of our clock, and not more than an hour
    past its end (`expires`, else five minutes after it was made, at most twelve hours)."""
    now = clock.now()
    end = min(expires or created + DEFAULT_LIFETIME, created + MAX_LIFETIME)
    if created > now + CLOCK_SKEW:
        raise SignatureError("date out of window: signed in the future")
    if now > end + CLOCK_SKEW:
        raise SignatureError("date out of window: signature expired")


ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")


def algorithms_for(key: PublicKey, alg: str | None) -> tuple[str, ...]:
    """The algorithms to try with this key: the named one if the key is of its kind, else every
    one of its kind (RSA: PKCS#1 v1.5 SHA-256, what Mastodon and Fedify send, then PSS SHA-512)."""
    kind = ("ed25519",) if isinstance(key, ed25519.Ed25519PublicKey) else \
        ("rsa-v1_5-sha256", "rsa-pss-sha512") if isinstance(key, rsa.RSAPublicKey) else ()
    return kind if alg is None else tuple(a for a in kind if a == alg)


def verify_bytes(key: PublicKey, alg: str | None, signature: bytes, data: bytes) -> bool:
    for name in algorithms_for(key, alg):
        try:
            if name == "ed25519":
                key.verify(signature, data)
            elif name == "rsa-v1_5-sha256":
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            else:
                key.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA512()), 64), hashes.SHA512())
            return True
        except InvalidSignature:
            continue
    return False


def sign_bytes(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def private_key(pem: str | bytes | PrivateKey) -> PrivateKey:
    if isinstance(pem, (str, bytes)):
        pem = _loaded_private_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(pem, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise ValueError("only RSA and Ed25519 keys sign requests")
    return pem


@functools.lru_cache(maxsize=256)
def _loaded_private_key(pem: bytes) -> PrivateKey:
    """Our own keys, read once per worker: OpenSSL's check of an RSA key's consistency costs
    ~15–70 ms a time (most of a delivery's CPU), and these were made and kept by this site."""
    return serialization.load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True)


def public_key_from_pem(pem: str | bytes) -> PublicKey:
    """An actor's `publicKeyPem` as a key for `verify` (ValueError if it is neither RSA nor Ed25519)."""
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise ValueError("only RSA and Ed25519 keys are accepted")
    return key
