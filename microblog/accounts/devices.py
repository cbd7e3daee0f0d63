"""Browsers that have logged in before (OWASP's "device cookies").

A successful log-in gives the browser a signed cookie naming the account (a few accounts, for a
shared computer) and a random id of the browser. Log-in attempts that carry it for the nickname
they try are slowed down on a key of their own, so a stranger's wrong passwords, which hold up
the nickname for everyone else, never lock out a browser its owner has used before.
"""
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from quart import Response, current_app, request, url_for

from .. import clock
from .models import User
from .throttle import DEVICE, NICKNAME, Policy, Throttle, per_client

COOKIE = "device"
MAX_AGE = 365 * 24 * 3600
MAX_ACCOUNTS = 5


@dataclass(frozen=True)
class Device:
    id: str
    user_ids: tuple[int, ...]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="device-cookie",
                                  signer=clock.Signer)


def this_device() -> Device | None:
    """The browser's device cookie, if it is one of ours and not too old."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 500:
        return None
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
        device = Device(str(data["d"]), tuple(int(user_id) for user_id in data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    return device if device.id and len(device.user_ids) <= MAX_ACCOUNTS else None


def login_keys(user: User | None, nickname: str) -> list[tuple[str, Policy]]:
    """The throttle keys of a log-in attempt: this browser's own key if it has logged in to this
    account before; otherwise the client's address and the nickname."""
    device = this_device()
    if user is not None and device is not None and user.id in device.user_ids:
        return [(Throttle.key_for(DEVICE.kind, f"{device.id}:{user.id}"), DEVICE)]
    client = per_client("login")
    return [(Throttle.client_key(client), client), (Throttle.key_for(NICKNAME.kind, nickname), NICKNAME)]


def remember_device(response: Response, user: User) -> None:
    """After a successful log-in: this browser is known for `user` (the most recent accounts)."""
    device = this_device()
    device_id = device.id if device else secrets.token_urlsafe(16)
    others = [user_id for user_id in (device.user_ids if device else ()) if user_id != user.id]
    value = _serializer().dumps({"d": device_id, "u": [user.id, *others][:MAX_ACCOUNTS]})
    config = current_app.config
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, path=url_for("accounts.login"),
                        secure=config["QUART_AUTH_COOKIE_SECURE"], httponly=True, samesite="Lax")
