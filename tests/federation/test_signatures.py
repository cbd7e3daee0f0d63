"""HTTP signatures (microblog/federation/signatures.py): round trips, every refusal with its reason,
and requests signed by the real implementations we federate with:

- Mastodon: its spec/requests/signature_verification_spec.rb signs fixed requests with a fixed key
  (keys/mastodon-spec.pem) at 2023-12-20T10:00:00Z; the signatures below are copied from it.
- Fedify 2.3.6: vectors/fedify-2.3.6.jsonl, made by vectors/make_fedify_vectors.mjs (Fedify's own
  signRequest, keys/rsa-alice.pem), both schemes. Fedify's test suite's draft-cavage vector too.
- RFC 9421 Appendix B.2.3 (rsa-pss-sha512) and B.2.6 (ed25519), with the RFC's test keys.

Keys are made once and kept in keys/ (tests pay for no key generation).
"""
import base64
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers import clock  # noqa: F401 (a fixture)
from microblog.federation import cavage, rfc9421
from microblog.federation.sigbase import verify_bytes
from microblog.federation.signatures import (SignatureError, Verified, key_owner_matches, public_key_from_pem,
                                             sign, sign_rfc9421, verify)

HERE = Path(__file__).parent
KEYS = HERE / "keys"


def pem(name: str) -> str:
    return (KEYS / name).read_text()


def public(name: str):
    return public_key_from_pem(pem(name))


ALICE, BOB, CAROL = public("rsa-alice.pub.pem"), public("rsa-bob.pub.pem"), public("ed25519-carol.pub.pem")
KEY_ID = "https://remote.test/users/alice#main-key"
INBOX = "https://microblog.test/users/bob/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.test/users/alice","object":"https://microblog.test/users/bob"}'


class Keys:
    """A caller's fetch_key: answers from `cached` first, `fresh` on refresh; records the calls."""

    def __init__(self, cached=None, fresh="same"):
        self.cached, self.fresh, self.calls = cached, cached if fresh == "same" else fresh, []

    async def __call__(self, key_id, refresh):
        self.calls.append((key_id, refresh))
        return self.fresh if refresh else self.cached


def signed_post(scheme=sign, key="rsa-alice.pem", body=BODY, url=INBOX, key_id=KEY_ID, **extra):
    headers = {"Content-Type": "application/activity+json", **extra}
    return headers | scheme("POST", url, headers, body, key_id, pem(key))


def signed_get(scheme=sign, url="https://microblog.test/users/bob?page=2"):
    headers = {"Accept": "application/activity+json"}
    return headers | scheme("GET", url, headers, None, KEY_ID, pem("rsa-alice.pem"))


async def refused(reason: str, method, uri, headers, body, keys=None):
    with pytest.raises(SignatureError, match=reason):
        await verify(method, uri, headers, body, keys or Keys(ALICE))


# --- round trips ---------------------------------------------------------------------------------

async def test_a_post_signed_as_mastodon_signs_verifies(clock):
    headers = signed_post()
    assert headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert headers["Host"] == "microblog.test"
    assert headers["Date"] == clock.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert headers["Signature"].startswith(
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",')
    keys = Keys(ALICE)
    assert await verify("POST", INBOX, headers, BODY, keys) == Verified(KEY_ID, "draft-cavage")
    assert keys.calls == [(KEY_ID, False)]


async def test_a_get_signs_host_and_accept_and_the_query(clock):
    headers = signed_get()
    assert 'headers="(request-target) host date accept"' in headers["Signature"]
    assert "Digest" not in headers
    assert await verify("GET", "https://microblog.test/users/bob?page=2", headers, b"", Keys(ALICE))
    await refused("bad signature", "GET", "https://microblog.test/users/bob?page=3", headers, b"")


async def test_rfc9421_round_trips_with_rsa_and_ed25519(clock):
    for key, public_key, alg in (("rsa-alice.pem", ALICE, "rsa-v1_5-sha256"), ("ed25519-carol.pem", CAROL, "ed25519")):
        headers = signed_post(sign_rfc9421, key=key)
        assert f'alg="{alg}"' in headers["Signature-Input"]
        assert await verify("POST", INBOX, headers, BODY, Keys(public_key)) == Verified(KEY_ID, "rfc9421")
    headers = signed_get(sign_rfc9421)
    assert await verify("GET", "https://microblog.test/users/bob?page=2", headers, None, Keys(ALICE))
    await refused("bad signature", "GET", "https://microblog.test/users/bob?page=3", headers, None)


async def test_draft_cavage_with_an_ed25519_key_is_hs2019(clock):
    headers = signed_post(key="ed25519-carol.pem")
    assert 'algorithm="hs2019"' in headers["Signature"]
    assert await verify("POST", INBOX, headers, BODY, Keys(CAROL))


async def test_headers_may_be_pairs_in_any_case(clock):
    pairs = [(name.upper(), value) for name, value in signed_post().items()]
    assert await verify("POST", INBOX, pairs, BODY, Keys(ALICE))


# --- the key: cache, one refresh, unknown --------------------------------------------------------

async def test_a_stale_cached_key_is_fetched_again_once(clock):
    keys = Keys(cached=BOB, fresh=ALICE)  # the sender rotated its key
    assert await verify("POST", INBOX, signed_post(), BODY, keys)
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_a_key_of_another_kind_in_the_cache_is_fetched_again(clock):
    keys = Keys(cached=ALICE, fresh=CAROL)  # RSA cached, now Ed25519
    assert await verify("POST", INBOX, signed_post(sign_rfc9421, key="ed25519-carol.pem"), BODY, keys)


async def test_a_wrong_key_is_a_bad_signature_after_one_refresh(clock):
    keys = Keys(BOB)
    await refused("bad signature", "POST", INBOX, signed_post(), BODY, keys)
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_an_unknown_key(clock):
    keys = Keys(None)
    await refused("unknown key https://remote.test/users/alice#main-key", "POST", INBOX, signed_post(), BODY, keys)
    assert keys.calls == [(KEY_ID, False)]
    keys = Keys(cached=BOB, fresh=None)  # gone when fetched again
    await refused("unknown key", "POST", INBOX, signed_post(), BODY, keys)


async def test_a_malformed_request_fetches_no_key(clock):
    keys = Keys(ALICE)
    await refused("digest mismatch", "POST", INBOX, signed_post(), BODY + b" ", keys)
    assert keys.calls == []


# --- draft-cavage refusals -----------------------------------------------------------------------

def with_signature(headers: dict, signature: str) -> dict:
    return {**headers, "Signature": signature}


def params(headers: dict) -> dict:
    return cavage.parse(headers["Signature"])


def reassemble(p: dict) -> str:
    return ",".join(f'{k}="{v}"' for k, v in p.items())


async def test_unsigned_and_malformed_signature_headers(clock):
    await refused("request not signed", "POST", INBOX, {"Content-Type": "application/json"}, BODY)
    headers = signed_post()
    for broken in ("asdf", 'keyId="a",,signature="b"', 'keyId="a"signature="b"', 'keyId=a,signature="b"',
                   'keyId="a",signature="b",', 'keyId="a",keyId="b",signature="c"', 'keyId="a\\"b",signature="c"'):
        await refused("malformed Signature header", "POST", INBOX, with_signature(headers, broken), BODY)
    p = params(headers)
    await refused("missing keyId", "POST", INBOX, with_signature(headers, reassemble({**p, "keyId": ""})), BODY)
    del p["signature"]
    await refused("missing signature", "POST", INBOX, with_signature(headers, reassemble(p)), BODY)
    p = params(headers) | {"signature": "not base64!"}
    await refused("signature is not valid base64", "POST", INBOX, with_signature(headers, reassemble(p)), BODY)


async def test_unsupported_algorithm(clock):
    headers = signed_post()
    p = params(headers) | {"algorithm": "rsa-sha1"}
    await refused("unsupported algorithm 'rsa-sha1'", "POST", INBOX, with_signature(headers, reassemble(p)), BODY)


@pytest.mark.parametrize("signed, method, reason", [
    ("(request-target) host digest", "POST", "date or \\(created\\) must be signed"),
    ("host date", "GET", "\\(request-target\\) or digest must be signed"),
    ("(request-target) date", "GET", "host must be signed on GET"),
    ("(request-target) host date", "POST", "digest must be signed on a request with a body"),
])
async def test_headers_not_covered(clock, signed, method, reason):
    headers = signed_post() if method == "POST" else signed_get()
    p = params(headers) | {"headers": signed}
    uri = INBOX if method == "POST" else "https://microblog.test/users/bob?page=2"
    await refused(f"headers not covered: {reason}", method, uri, with_signature(headers, reassemble(p)),
                  BODY if method == "POST" else None)


async def test_a_signed_header_missing_from_the_request(clock):
    headers = signed_post()
    del headers["Content-Type"]
    await refused("signed header missing from the request: content-type", "POST", INBOX, headers, BODY)


async def test_digest_rules(clock):
    headers = signed_post()
    await refused("digest mismatch: the body's sha-256 is", "POST", INBOX, headers, b"tampered")
    await refused("unsupported digest: only SHA-256 \\(offered sha-512\\)", "POST", INBOX,
                  {**headers, "Digest": "SHA-512=" + "A" * 88}, BODY)
    await refused("Digest is not valid base64", "POST", INBOX, {**headers, "Digest": "SHA-256=%%%"}, BODY)


async def test_the_date_window(clock):
    headers = signed_post()
    clock.step(hours=1, minutes=4)  # expires five minutes after it is made, plus an hour of skew
    assert await verify("POST", INBOX, headers, BODY, Keys(ALICE))
    clock.step(minutes=2)
    await refused("date out of window: signature expired", "POST", INBOX, headers, BODY)
    clock.step(hours=-2, minutes=-6, seconds=-1)  # now more than an hour before the Date
    await refused("date out of window: signed in the future", "POST", INBOX, headers, BODY)
    clock.step(seconds=2)
    assert await verify("POST", INBOX, headers, BODY, Keys(ALICE))
    await refused("invalid Date header", "POST", INBOX, {**headers, "Date": "yesterday"}, BODY)


def hs2019(headers_signed: str, created: int, expires: int | None = None, body=BODY) -> dict:
    """A POST signed with hs2019 and (created)/(expires), as some servers (oeee.cafe) send them."""
    headers = {"Host": "microblog.test", "Digest": "SHA-256=" + base64.b64encode(
        hashlib.sha256(body).digest()).decode()}
    p = {"created": created, **({"expires": expires} if expires else {})}
    lines = []
    for name in headers_signed.split():
        lines.append(f"{name}: " + ("post /users/bob/inbox" if name == "(request-target)" else
                                    str(p[name[1:-1]]) if name.startswith("(") else headers[name.title()]))
    key = serialization.load_pem_private_key(pem("rsa-alice.pem").encode(), None)
    signature = base64.b64encode(key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    headers["Signature"] = (f'keyId="{KEY_ID}",algorithm="hs2019",created={created},' +
                            (f'expires={expires},' if expires else "") +
                            f'headers="{headers_signed}",signature="{signature}"')
    return headers


async def test_created_and_expires(clock):
    now = int(clock.now().timestamp())
    headers = hs2019("(request-target) (created) (expires) host digest", now, now + 3600)
    assert await verify("POST", INBOX, headers, BODY, Keys(ALICE))
    clock.step(hours=2, seconds=1)  # an hour past its expiry
    await refused("signature expired", "POST", INBOX, headers, BODY)
    clock.step(hours=-2, seconds=-1)
    await refused("\\(created\\) is signed but its parameter is missing", "POST", INBOX,
                  {**headers, "Signature": headers["Signature"].replace(f"created={now},", "")}, BODY)
    rsa_sha256 = {**headers, "Signature": headers["Signature"].replace("hs2019", "rsa-sha256")}
    await refused("\\(created\\) is only allowed with hs2019", "POST", INBOX, rsa_sha256, BODY)
    future = hs2019("(request-target) (created) host digest", now + 3601)
    await refused("signed in the future", "POST", INBOX, future, BODY)


async def test_mastodons_query_string_quirk(clock):
    """(request-target) without the query is accepted too (older Mastodon, and Fedify 2.3.6, sign it
    so); with another query it is not."""
    headers = {"Accept": "application/activity+json"}
    headers |= sign("GET", "https://microblog.test/users/bob", headers, None, KEY_ID, pem("rsa-alice.pem"))
    assert await verify("GET", "https://microblog.test/users/bob?page=2", headers, None, Keys(ALICE))


# --- RFC 9421 refusals ---------------------------------------------------------------------------

def replace_input(headers: dict, old: str, new: str) -> dict:
    assert old in headers["Signature-Input"]
    return {**headers, "Signature-Input": headers["Signature-Input"].replace(old, new)}


async def test_rfc9421_malformed(clock):
    headers = signed_post(sign_rfc9421)
    no_signature = {k: v for k, v in headers.items() if k != "Signature"}
    await refused("missing Signature header", "POST", INBOX, no_signature, BODY)
    for broken in ('sig1=("@method"', 'sig1=("@method" "@target-uri");created=1,', "Sig1=()", 'sig1=("x"y)',
                   'sig1=("@method");keyid="a\\b"'):
        await refused("malformed structured field", "POST", INBOX, {**headers, "Signature-Input": broken}, BODY)
    await refused("no Signature value for any Signature-Input label", "POST", INBOX,
                  {**headers, "Signature": headers["Signature"].replace("sig1=", "sig2=")}, BODY)
    await refused("Signature-Input must be a list, Signature bytes", "POST", INBOX,
                  {**headers, "Signature": 'sig1="text"'}, BODY)
    await refused("malformed covered component '@method'", "POST", INBOX,
                  replace_input(headers, '"@method"', '"@method" "@method"'), BODY)
    await refused("unsupported component parameters on host", "POST", INBOX,
                  replace_input(headers, '"host"', '"host";sf'), BODY)
    await refused("unsupported derived component @query-param", "POST", INBOX,
                  replace_input(headers, '"host"', '"@query-param"'), BODY)


async def test_rfc9421_required_parameters_and_algorithm(clock):
    headers = signed_post(sign_rfc9421)
    await refused("missing keyid", "POST", INBOX, replace_input(headers, ";keyid=", ";kid="), BODY)
    await refused("missing created", "POST", INBOX, replace_input(headers, ";created=", ";made="), BODY)
    await refused("unsupported algorithm 'hmac-sha256'", "POST", INBOX,
                  replace_input(headers, '"rsa-v1_5-sha256"', '"hmac-sha256"'), BODY)
    # alg is covered by the signature: naming another (valid) algorithm breaks it.
    await refused("bad signature", "POST", INBOX, replace_input(headers, '"rsa-v1_5-sha256"', '"rsa-pss-sha512"'), BODY)


@pytest.mark.parametrize("components, reason", [
    ('"@target-uri" "@authority" "host" "date" "content-digest"', "@method must be signed"),
    ('"@method" "@authority" "host" "date" "content-digest"', "@target-uri \\(or @authority and @path\\)"),
    ('"@method" "@target-uri" "@authority" "host" "date"', "content-digest must be signed"),
])
async def test_rfc9421_coverage(clock, components, reason):
    headers = signed_post(sign_rfc9421)
    broken = replace_input(headers, '"@method" "@target-uri" "@authority" "host" "date" "content-digest"',
                           components)
    await refused(f"headers not covered: {reason}", "POST", INBOX, broken, BODY)


async def test_rfc9421_authority_and_path_cover_the_target(clock):
    headers = {"Content-Type": "application/activity+json"}
    headers |= sign_rfc9421("POST", INBOX, headers, BODY, KEY_ID, pem("rsa-alice.pem"),
                            components=["@method", "@authority", "@path", "content-digest"])
    assert await verify("POST", INBOX, headers, BODY, Keys(ALICE))
    await refused("bad signature", "POST", "https://microblog.test/users/carol/inbox", headers, BODY)


async def test_rfc9421_content_digest(clock):
    headers = signed_post(sign_rfc9421)
    await refused("digest mismatch: the body's sha-256", "POST", INBOX, headers, b"tampered")
    await refused("unsupported digest: only sha-256 and sha-512 \\(offered md5\\)", "POST", INBOX,
                  {**headers, "Content-Digest": "md5=:AAAA:"}, BODY)
    await refused("malformed structured field", "POST", INBOX, {**headers, "Content-Digest": "sha-256=abc def"}, BODY)
    await refused("covered header missing from the request: content-digest", "POST", INBOX,
                  {k: v for k, v in headers.items() if k != "Content-Digest"}, BODY)
    sha512 = hashlib.sha512(BODY).digest()
    assert rfc9421.check_content_digest(f"sha-512=:{base64.b64encode(sha512).decode()}:", BODY) is None


async def test_rfc9421_window(clock):
    headers = signed_post(sign_rfc9421)
    clock.step(hours=1, minutes=6)
    await refused("signature expired", "POST", INBOX, headers, BODY)
    clock.step(hours=-2, minutes=-12)
    await refused("signed in the future", "POST", INBOX, headers, BODY)


# --- key_owner_matches ---------------------------------------------------------------------------

def test_key_owner_matches_on_the_same_origin():
    assert key_owner_matches("https://remote.test/users/alice#main-key", "https://remote.test/users/alice")
    assert key_owner_matches("https://REMOTE.test:443/keys/1", "https://remote.test/users/alice")
    assert not key_owner_matches("https://evil.test/users/alice#main-key", "https://remote.test/users/alice")
    assert not key_owner_matches("http://remote.test/key", "https://remote.test/users/alice")
    assert not key_owner_matches("https://remote.test:8443/key", "https://remote.test/users/alice")
    assert not key_owner_matches("acct:alice@remote.test", "https://remote.test/users/alice")


# --- real requests: Mastodon ---------------------------------------------------------------------

MASTODON_KEY = serialization.load_pem_private_key(pem("mastodon-spec.pem").encode(), None).public_key()
MASTODON_KEY_ID = "https://remote.domain/users/bob#main-key"
MASTODON_GET = ("Z8ilar3J7bOwqZkMp7sL8sRs4B1FT+UorbmvWoE+A5UeoOJ3KBcUmbsh+k3wQwbP5gMNUrra9rEWabpasZGphLsbDxfbsWL3"
                "Cf0PllAc7c1c7AFEwnewtExI83/qqgEkfWc2z7UDutXc2NfgAx89Ox8DXU/fA2GG0jILjB6UpFyNugkY9rg6oI31UnvfVi3R"
                "7sr3/x8Ea3I9thPvqI2byF6cojknSpDAwYzeKdngX3TAQEGzFHz3SDWwyp3jeMWfwvVVbM38FxhvAnSumw7YwWW4L7M7h4M6"
                "8isLimoT3yfCn2ucBVL5Dz8koBpYf/40w7QidClAwCafZQFC29yDOg==")
MASTODON_GET_QUERY = ("SDMa4r/DQYMXYxVgYO2yEqGWWUXugKjVuz0I8dniQAk+aunzBaF2aPu+4grBfawAshlx1Xytl8lhb0H2MllEz16/tKY7rUrb"
                      "70MK0w8ohXgpb0qs3YvQgdj4X24L1x2MnkFfKHR/J+7TBlnivq0HZqXm8EIkPWLv+eQxu8fbowLwHIVvRd/3t6FzvcfsE0UZ"
                      "KkoMEX02542MhwSif6cu7Ec/clsY9qgKahb9JVGOGS1op9Lvg/9y1mc8KCgD83U5IxVygYeYXaVQ6gixA9NgZiTCwEWzHM5E"
                      "Lm7w5hpdLFYxYOHg/3G3fiqJzpzNQAcCD4S4JxfE7hMI0IzVlNLT6A==")
MASTODON_POST = ("gmhMjgMROGElJU3fpehV2acD5kMHeELi8EFP2UPHOdQ54H0r55AxIpji+J3lPe+N2qSb/4H1KXIh6f0lRu8TGSsu12OQmg5h"
                 "iO8VA9flcA/mh9Lpk+qwlQZIPRqKP9xUEfqD+Z7ti5wPzDKrWAUK/7FIqWgcT/mlqB1R1MGkpMFc/q4CIs2OSNiWgA4K+Kp2"
                 "1oQxzC2kUuYob04gAZ7cyE/FTia5t08uv6lVYFdRsn4XNPn1MsHgFBwBMRG79ng3SyhoG4PrqBEi5q2IdLq3zfre/M6He3wl"
                 "CpyO2VJNdGVoTIzeZ0Zz8jUscPV3XtWUchpGclLGSaKaq/JyNZeiYQ==")


def mastodon(headers_signed: str, signature: str, **headers) -> dict:
    return {"Host": "www.example.com", "Date": "Wed, 20 Dec 2023 10:00:00 GMT", **headers,
            "Signature": f'keyId="{MASTODON_KEY_ID}",algorithm="rsa-sha256",headers="{headers_signed}",'
                         f'signature="{signature}"'}


@pytest.fixture
def mastodon_time(clock):
    clock.time = datetime(2023, 12, 20, 10, 0, tzinfo=timezone.utc)
    return clock


async def test_mastodon_signed_get_requests(mastodon_time):
    keys = Keys(MASTODON_KEY)
    base = "https://www.example.com/activitypub/success"
    assert await verify("GET", base, mastodon("date host (request-target)", MASTODON_GET), None, keys) == \
        Verified(MASTODON_KEY_ID, "draft-cavage")
    assert await verify("GET", base + "?foo=42", mastodon("date host (request-target)", MASTODON_GET_QUERY), None, keys)
    # Mastodon's "query string missing from the signature (compatibility quirk)": accepted.
    assert await verify("GET", base + "?foo=42", mastodon("date host (request-target)", MASTODON_GET), None, keys)
    # Its refusals: another query, path or method.
    for method, uri in (("GET", base + "?foo=43"), ("GET", "https://www.example.com/activitypub/alternative-path"),
                        ("POST", base)):
        headers = mastodon("date host (request-target)", MASTODON_GET_QUERY if "?" in uri else MASTODON_GET)
        with pytest.raises(SignatureError):
            await verify(method, uri, headers, None, keys)


async def test_mastodon_signed_post(mastodon_time):
    keys = Keys(MASTODON_KEY)
    uri = "https://www.example.com/activitypub/success"
    headers = mastodon("host date digest (request-target)", MASTODON_POST,
                       Digest="SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=")
    assert await verify("POST", uri, headers, b"Hello world", keys)
    await refused("digest mismatch: the body's sha-256 is wFNeS\\+K3n/2TKRMFQ2v4iTFOSj\\+uwF7P/Lt98xrZ5Ro=",
                  "POST", uri, headers, b"Hello world!", keys)
    await refused("bad signature", "POST", "https://www.example.com/activitypub/alternative-path", headers,
                  b"Hello world", keys)


async def test_mastodon_refuses_a_request_older_than_the_window(mastodon_time):
    mastodon_time.step(days=2)  # its spec: a request dated two days earlier
    await refused("date out of window", "GET", "https://www.example.com/activitypub/success",
                  mastodon("date host (request-target)", MASTODON_GET), None, Keys(MASTODON_KEY))


async def test_our_signatures_match_mastodons_signer(mastodon_time):
    """Mastodon signs a plain string of "name: value" lines with PKCS#1 v1.5 (deterministic): the
    same lines, signed here with its key, give its signature."""
    headers = sign("POST", "https://www.example.com/activitypub/success", {}, b"Hello world",
                   MASTODON_KEY_ID, pem("mastodon-spec.pem"))
    assert headers["Digest"] == "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
    assert headers["Date"] == "Wed, 20 Dec 2023 10:00:00 GMT"
    assert await verify("POST", "https://www.example.com/activitypub/success", headers, b"Hello world",
                        Keys(MASTODON_KEY))


# --- real requests: Fedify -----------------------------------------------------------------------

FEDIFY = [json.loads(line) for line in (HERE / "vectors" / "fedify-2.3.6.jsonl").read_text().splitlines()]
FEDIFY_KEY_ID = "https://fedify.test/users/alice#main-key"


@pytest.mark.parametrize("vector", FEDIFY, ids=[v["name"] for v in FEDIFY])
async def test_fedify_signed_requests_verify(clock, vector):
    clock.time = datetime(2026, 12, 6, 10, 0, 30, tzinfo=timezone.utc)
    body = vector["body"].encode() if vector["body"] is not None else None
    scheme = "rfc9421" if "signature-input" in vector["headers"] else "draft-cavage"
    assert await verify(vector["method"], vector["url"], vector["headers"], body, Keys(ALICE)) == \
        Verified(FEDIFY_KEY_ID, scheme)
    if body:
        await refused("digest mismatch", vector["method"], vector["url"], vector["headers"], body + b" ")


async def test_our_rfc9421_signature_is_fedifys_byte_for_byte(clock):
    clock.time = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)
    post = FEDIFY[0]
    assert post["name"] == "rfc9421 POST"
    ours = sign_rfc9421("POST", post["url"], {"Content-Type": "application/activity+json"}, post["body"].encode(),
                        FEDIFY_KEY_ID, pem("rsa-alice.pem"))
    theirs = post["headers"]
    assert (ours["Signature-Input"], ours["Signature"], ours["Content-Digest"], ours["Date"], ours["Host"]) == (
        theirs["signature-input"], theirs["signature"], theirs["content-digest"], theirs["date"], theirs["host"])


async def test_fedifys_own_draft_cavage_vector(clock):
    """Fedify's sig/http.test.ts "verifyRequest() [draft-cavage]": hs2019 by default (no algorithm),
    a lower-case sha-256 Digest, accept and content-type signed; key rsaPublicKey1 of its testing/keys.ts."""
    clock.time = datetime(2024, 3, 5, 7, 49, 44, tzinfo=timezone.utc)
    n = base64.urlsafe_b64decode(
        "yIB9rotX8G6r6_6toT-x24BUiQ_HaPH1Em9dOt4c94s-OPFoEdH7DY7Iym9A8LlH4JaGF8KD38bLHWe1S4x0jV3gHJKhK7veJfGZCKUENcQ"
        "ecBZ-YWUs5HWvUIX1vVB__0luHrg6BQKGOrSOE-WIAxyr0qsWCFfZzQrvSnUD2yvg1arJX2xhms14uxoRd5Kg9efKSCmmQaNEapicARUmF"
        "WrIEpGFa_nUUnqimssAGw1eZFqf3wA4TjhsuARBhGaJtv_3KEa016eMZxy3kDlOjZnXZTaTgWkXdodwUvy8563fes3Al6BlcS2iJ9qbtha"
        "8rSm0FHqoUKH73JsLPKQIwQ" + "==")
    key = rsa.RSAPublicNumbers(65537, int.from_bytes(n, "big")).public_key()
    headers = {
        "Host": "example.com", "Accept": "text/plain", "Content-Type": "text/plain; charset=utf-8",
        "Date": "Tue, 05 Mar 2024 07:49:44 GMT", "Digest": "sha-256=MV9b23bQeMQ7isAGTkoBZGErH853yGk0W/yUx1iU7dM=",
        "Signature": 'keyId="https://example.com/key",headers="(request-target) accept content-type date digest host",'
                     'signature="ZDeMzjBKPfJvkv4QaxAdOQxKCJ96pOzOCFhhGgGnlsw4N80oN4GEZ/n8n'
                     'NKjpoW95Bcs8N0dZVSQHj3g08AReKIOXpun0tgmaWGKRcRT4kEhAW+uP1wVZPbuOIvVC'
                     'EhMYv6+SbnttgX0GvN365BTZpxh7+gRrRC4mns5qV69cv45I5iJB0aw24GJW9u7lUAm6'
                     'yDEh4N0aXfNqNRq3LHiuPqlDzSenfXbHr0UnAMaGuI4v9/uflu/jNi3hRX4Y/T+ngM1z'
                     'vLvi/BjKK4I1rh520qnkrWpxz9ikLCjIMO7Dwh1nOsPzrZE2t43XHD3evdvm1RM5Ppes'
                     '+M6DrfkfQuUBw=="'}
    assert await verify("POST", "https://example.com/", headers, b"Hello, world!", Keys(key)) == \
        Verified("https://example.com/key", "draft-cavage")


# --- RFC 9421 Appendix B -------------------------------------------------------------------------

RFC_HEADERS = {"Host": "example.com", "Date": "Tue, 20 Apr 2021 02:07:55 GMT", "Content-Type": "application/json",
               "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BN"
                                 "NyealdVLvRwEmTHWXvJwew==:",
               "Content-Length": "18"}
RFC_URI, RFC_BODY = "https://example.com/foo?param=Value&Pet=dog", b'{"hello": "world"}'
B23_INPUT = ('sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
             '"content-length");created=1618884473;keyid="test-key-rsa-pss"')
B23_SIGNATURE = ("sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qR"
                 "pRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/a"
                 "YA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF6"
                 "1ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:")
B26_INPUT = ('sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;'
             'keyid="test-key-ed25519"')
B26_SIGNATURE = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"


@pytest.fixture
def rfc_time(clock):
    clock.time = datetime(2021, 4, 20, 2, 7, 55, tzinfo=timezone.utc)
    return clock


def rfc_check(signature_input: str, signature: str):
    """The RFC's examples cover less than Mastodon requires (no @target-uri): check their signature
    base and signature directly."""
    values = {k.lower(): v for k, v in RFC_HEADERS.items()}
    parser = rfc9421.Parser(signature_input)
    (items, params), = parser.dictionary().values()
    base = rfc9421.signature_base([name for name, _ in items], rfc9421.serialize_inner_list(items, params),
                                  "POST", RFC_URI, values)
    (signature_bytes, _), = rfc9421.Parser(signature).dictionary().values()
    return base, signature_bytes


def test_rfc9421_b23_full_coverage_rsa_pss_sha512(rfc_time):
    base, signature = rfc_check(B23_INPUT, B23_SIGNATURE)
    assert base.decode() == "\n".join([
        '"date": Tue, 20 Apr 2021 02:07:55 GMT', '"@method": POST', '"@path": /foo', '"@query": ?param=Value&Pet=dog',
        '"@authority": example.com', '"content-type": application/json',
        f'"content-digest": {RFC_HEADERS["Content-Digest"]}', '"content-length": 18',
        '"@signature-params": ' + B23_INPUT.partition("=")[2]])
    key = public("rfc9421-test-key-rsa-pss.pub.pem")
    assert verify_bytes(key, "rsa-pss-sha512", signature, base)
    assert verify_bytes(key, None, signature, base)  # no alg: the RSA key's algorithms are tried
    assert not verify_bytes(key, "rsa-v1_5-sha256", signature, base)
    rfc9421.check_content_digest(RFC_HEADERS["Content-Digest"], RFC_BODY)


def test_rfc9421_b26_ed25519_reproduced(rfc_time):
    base, signature = rfc_check(B26_INPUT, B26_SIGNATURE)
    private = serialization.load_pem_private_key(pem("rfc9421-test-key-ed25519.pem").encode(), None)
    assert private.sign(base) == signature  # Ed25519 is deterministic: the RFC's own bytes
    assert verify_bytes(public("rfc9421-test-key-ed25519.pub.pem"), "ed25519", signature, base)


async def test_rfc9421_examples_cover_too_little_for_us(rfc_time):
    headers = RFC_HEADERS | {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    await refused("headers not covered", "POST", RFC_URI, headers, RFC_BODY,
                  Keys(public("rfc9421-test-key-ed25519.pub.pem")))
