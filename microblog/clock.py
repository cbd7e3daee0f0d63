"""The time, for what a clock step could turn against people: throttles, log-in sessions and the
signed cookies and links of accounts all read `now()` here, so a test can step it as NTP, a
restored virtual machine or an operator's `date -s` would (monkeypatch `microblog.clock.now`).

The clock may go back. A timestamp found in the future (written before the step) counts as now:
no wait grows by the size of the step, and nothing signed before it is taken as expired. A step
forward may end sessions and throttles early, nothing worse.
"""
import hashlib
from datetime import datetime, timezone

from itsdangerous import SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from quart.sessions import SecureCookieSessionInterface


def now() -> datetime:
    return datetime.now(timezone.utc)


class Signer(TimestampSigner):
    """itsdangerous's timestamped signer, on this clock. A signature dated in the future counts as
    made now (itsdangerous would take it as expired: everyone logged out by a step back)."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())

    def unsign(self, signed_value, max_age=None, return_timestamp=False):
        value, signed_at = super().unsign(signed_value, return_timestamp=True)  # the signature only
        age = self.get_timestamp() - int(signed_at.timestamp())
        if max_age is not None and age > max_age:
            raise SignatureExpired(f"Signature age {age} > {max_age} seconds", payload=value,
                                   date_signed=signed_at)
        return (value, signed_at) if return_timestamp else value


class AuthCookies(URLSafeTimedSerializer):
    """The log-in cookie's serializer: quart-auth's own (SHA-512), on this clock."""

    default_signer = Signer

    def __init__(self, secret_key, salt):
        super().__init__(secret_key, salt, signer_kwargs={"digest_method": hashlib.sha512})


class SessionCookies(SecureCookieSessionInterface):
    """Quart's session cookie (the CSRF token, flashed messages), signed on this clock."""

    def get_signing_serializer(self, app):
        serializer = super().get_signing_serializer(app)
        if serializer is not None:
            serializer.signer = Signer
        return serializer
