"""ActivityPub: people here found, followed and read from Mastodon and every ActivityPub server.

  signatures.py  HTTP signatures: draft-cavage (what Mastodon sends) and RFC 9421 (Fedify's)
    cavage.py, rfc9421.py, sigbase.py: the two schemes, and what they share
"""
from quart import Quart

from .models import ActorKey, InstanceKey, RemoteActor


def init_app(app: Quart) -> None:
    pass
