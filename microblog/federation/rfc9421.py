"""RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`), with RFC 9530's
`Content-Digest`: what Fedify sends first and Mastodon 4.5 accepts.

Checked, after Mastodon's SignedRequest::HttpMessageSignature: the first signature of
Signature-Input that has a value in Signature; `keyid` and `created` present; `alg`, when given,
one of rsa-v1_5-sha256, rsa-pss-sha512, ed25519 (else the key's kind decides); `@method` covered,
and `@target-uri` (or `@authority` with `@path`); `content-digest` covered when there is a body,
its sha-256 / sha-512 recomputed; created/expires within the window (sigbase). Covered
components: the derived @method, @target-uri, @authority, @scheme, @path, @query,
@request-target and plain header fields, without component parameters (;sf ;key ;bs ;req are
refused). The signature base is built per RFC 9421 §2.5.

The structured fields (RFC 8941) are read by a small strict parser of what these headers use:
dictionaries, inner lists, integers, strings, tokens, byte sequences, booleans, parameters.
"""
import re
from datetime import timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

from microblog import clock

from .sigbase import (ALGORITHMS, DIGESTS, SignatureError, b64, b64decode, check_digest, check_window,
                      private_key, sign_bytes, timestamp)

BODY_METHODS = {"POST", "PUT", "PATCH"}


# --- structured fields (RFC 8941), the subset used here ------------------------------------------

class Token(str):
    pass


KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
INTEGER = re.compile(r"-?[0-9]{1,15}(?![.0-9])")
BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class Parser:
    def __init__(self, text: str):
        self.text, self.at = text, 0

    def fail(self):
        raise SignatureError("malformed structured field")

    def peek(self) -> str:
        return self.text[self.at:self.at + 1]

    def match(self, pattern: re.Pattern) -> re.Match:
        found = pattern.match(self.text, self.at) or self.fail()
        self.at = found.end()
        return found

    def dictionary(self) -> dict:
        members = {}
        self.at = len(self.text) - len(self.text.lstrip(" "))
        while self.at < len(self.text):
            key = self.match(KEY)[0]
            if self.peek() == "=":
                self.at += 1
                members[key] = self.inner_list() if self.peek() == "(" else (self.bare_item(), self.params())
            else:
                members[key] = (True, self.params())
            self.at = len(self.text) - len(self.text[self.at:].lstrip(" \t"))
            if self.at < len(self.text):
                if self.peek() != ",":
                    self.fail()
                self.at = len(self.text) - len(self.text[self.at + 1:].lstrip(" \t"))
                if self.at == len(self.text):
                    self.fail()  # a trailing comma
        return members

    def inner_list(self):
        self.at += 1
        items = []
        while True:
            while self.peek() == " ":
                self.at += 1
            if self.peek() == ")":
                self.at += 1
                return items, self.params()
            items.append((self.bare_item(), self.params()))
            if self.peek() not in (" ", ")"):
                self.fail()

    def params(self) -> dict:
        params = {}
        while self.peek() == ";":
            self.at += 1
            while self.peek() == " ":
                self.at += 1
            key = self.match(KEY)[0]
            if self.peek() == "=":
                self.at += 1
                params[key] = self.bare_item()
            else:
                params[key] = True
        return params

    def bare_item(self):
        first = self.peek()
        if first == '"':
            return self.string()
        if first == ":":
            return b64decode(self.match(BYTES)[1], "byte sequence")
        if first == "?":
            value = {"?1": True, "?0": False}.get(self.text[self.at:self.at + 2])
            if value is None:
                self.fail()
            self.at += 2
            return value
        if first == "-" or first.isdigit():
            return int(self.match(INTEGER)[0])
        return Token(self.match(TOKEN)[0])

    def string(self) -> str:
        out, self.at = [], self.at + 1
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 1
            if char == "\\":
                if self.peek() not in ('"', "\\") or not self.peek():
                    self.fail()
                out.append(self.peek())
                self.at += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                self.fail()
            else:
                out.append(char)
        self.fail()


def serialize_item(value) -> str:
    if value is True:
        return "?1"
    if value is False:
        return "?0"
    if isinstance(value, int) or isinstance(value, Token):
        return str(value)
    if isinstance(value, bytes):
        return f":{b64(value)}:"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: dict) -> str:
    return "".join(f";{k}" if v is True else f";{k}={serialize_item(v)}" for k, v in params.items())


def serialize_inner_list(items: list, params: dict) -> str:
    return "(" + " ".join(serialize_item(v) + serialize_params(p) for v, p in items) + ")" + serialize_params(params)


# --- signature base (RFC 9421 §2.5) ------------------------------------------------------------

def component_value(name: str, method: str, target_uri: str, headers: dict[str, str]) -> str:
    target = urlsplit(target_uri)
    if name == "@method":
        return method
    if name == "@target-uri":
        return target_uri
    if name == "@authority":
        host = (target.hostname or "").lower()
        default = {"https": 443, "http": 80}.get(target.scheme.lower())
        return host if target.port in (None, default) else f"{host}:{target.port}"
    if name == "@scheme":
        return target.scheme.lower()
    if name == "@path":
        return target.path or "/"
    if name == "@query":
        return "?" + target.query
    if name == "@request-target":
        return (target.path or "/") + ("?" + target.query if target.query else "")
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name}")
    if name not in headers:
        raise SignatureError(f"covered header missing from the request: {name}")
    return headers[name]


def signature_base(components: list[str], params_value: str, method: str, target_uri: str,
                   headers: dict[str, str]) -> bytes:
    lines = [f'"{name}": {component_value(name, method, target_uri, headers)}' for name in components]
    return "\n".join(lines + [f'"@signature-params": {params_value}']).encode()


# --- checking a request ------------------------------------------------------------------------

def check(method: str, target_uri: str, headers: dict[str, str], body: bytes | None):
    """Everything that needs no key. Returns (key_id, alg, signature bytes, [signature base])."""
    if "signature" not in headers:
        raise SignatureError("missing Signature header (Signature-Input is there)")
    inputs, signatures = Parser(headers["signature-input"]).dictionary(), Parser(headers["signature"]).dictionary()
    label = next((label for label in inputs if label in signatures), None)
    if label is None:
        raise SignatureError("malformed signature: no Signature value for any Signature-Input label")
    (items, params), (signature, _) = inputs[label], signatures[label]
    if not isinstance(items, list) or not isinstance(signature, bytes):
        raise SignatureError("malformed signature: Signature-Input must be a list, Signature bytes")
    components = []
    for name, component_params in items:
        if type(name) is not str or name != name.lower() or name in components:
            raise SignatureError(f"malformed covered component {name!r}")
        if component_params:
            raise SignatureError(f"unsupported component parameters on {name}")
        components.append(name)
    key_id, created, alg = params.get("keyid"), params.get("created"), params.get("alg")
    if type(key_id) is not str or not key_id:
        raise SignatureError("missing keyid in Signature-Input")
    if type(created) is not int:
        raise SignatureError("missing created in Signature-Input")
    if alg is not None and alg not in ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {alg!r}")
    if "expires" in params and type(params["expires"]) is not int:
        raise SignatureError("malformed expires in Signature-Input")
    if "@method" not in components:
        raise SignatureError("headers not covered: @method must be signed")
    if "@target-uri" not in components and not {"@authority", "@path"} <= set(components):
        raise SignatureError("headers not covered: @target-uri (or @authority and @path) must be signed")
    if (method.upper() in BODY_METHODS or body) and "content-digest" not in components:
        raise SignatureError("headers not covered: content-digest must be signed on a request with a body")
    check_window(timestamp(created, "created"),
                 timestamp(params["expires"], "expires") if "expires" in params else None)
    base = signature_base(components, serialize_inner_list(items, params), method, target_uri, headers)
    if "content-digest" in components:
        check_content_digest(headers["content-digest"], body or b"")
    return key_id, alg, signature, [base]


def check_content_digest(header: str, body: bytes) -> None:
    """Content-Digest (RFC 9530): every sha-256 / sha-512 given must match; at least one is needed."""
    offered = Parser(header).dictionary()
    known = {name: value for name, (value, _) in offered.items() if name in DIGESTS}
    if not known:
        raise SignatureError(f"unsupported digest: only sha-256 and sha-512 (offered {', '.join(offered)})")
    for name, value in known.items():
        if not isinstance(value, bytes):
            raise SignatureError("malformed Content-Digest header")
        check_digest(name, value, body)


def sign(method: str, url: str, headers, body: bytes | None, key_id: str, key, *, label: str = "sig1",
         components: list[str] | None = None) -> dict[str, str]:
    """Headers to add for an RFC 9421 signature made as Fedify makes it: Host, Date, Content-Digest
    (with a body), Signature-Input over @method @target-uri @authority host date [content-digest]
    with alg, keyid and created, and Signature."""
    key = private_key(key)
    now = clock.now().astimezone(timezone.utc)
    added = {"Host": urlsplit(url).netloc.rpartition("@")[2].lower(), "Date": format_datetime(now, usegmt=True)}
    if body is not None:
        added["Content-Digest"] = f"sha-256=:{b64(DIGESTS['sha-256'](body).digest())}:"
    components = components or ["@method", "@target-uri", "@authority", "host", "date"] + (
        ["content-digest"] if body is not None else [])
    given = {name.lower(): str(value) for name, value in (headers.items() if hasattr(headers, "items") else headers)}
    values = given | {name.lower(): value for name, value in added.items()}
    alg = "ed25519" if not hasattr(key, "key_size") else "rsa-v1_5-sha256"
    params_value = serialize_inner_list([(c, {}) for c in components],
                                        {"alg": alg, "keyid": key_id, "created": int(now.timestamp())})
    base = signature_base(components, params_value, method.upper(), url, values)
    added["Signature-Input"] = f"{label}={params_value}"
    added["Signature"] = f"{label}=:{b64(sign_bytes(key, base))}:"
    return added
