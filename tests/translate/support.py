"""A translation service on this machine: a real HTTP server on loopback that speaks the API of
LibreTranslate, DeepL or Microsoft Translator v3, records what it was sent, and can be told to
answer slowly or with an error status."""
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def fake_translation(text: str, target: str) -> str:
    """What the fake service answers: recognisably the text, translated into `target`."""
    return f"[{target}] {text}"


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict:
        return {name: values[0] for name, values in parse_qs(self.body.decode()).items()}


@dataclass
class ProviderServer:
    api: str  # "libretranslate", "deepl" or "microsoft"
    status: int = 200
    delay: float = 0
    answer: bytes | None = None  # a body of the test's choosing instead of the translation
    drip: float = 0  # seconds between the answer's bytes: never silent for long, but never done
    requests: list[Seen] = field(default_factory=list)

    def start(self) -> "ProviderServer":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                seen = Seen("POST", parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                            {k.lower(): v for k, v in self.headers.items()}, body)
                provider.requests.append(seen)
                if provider.delay:
                    time.sleep(provider.delay)
                if provider.status != 200:
                    return self._send(provider.status, b'{"message": "no"}')
                self._send(200, provider.answer if provider.answer is not None else provider.translate(seen))

            def _send(self, status: int, body: bytes):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if provider.drip:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(provider.drip)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def translate(self, seen: Seen) -> bytes:
        if self.api == "libretranslate":
            sent = seen.json()
            return json.dumps({"translatedText": fake_translation(sent["q"], sent["target"])}).encode()
        if self.api == "deepl":
            sent = seen.form()
            return json.dumps({"translations": [{
                "detected_source_language": sent.get("source_lang", "ES"),
                "text": fake_translation(sent["text"], sent["target_lang"])}]}).encode()
        [sent] = seen.json()
        target = seen.query["to"]
        return json.dumps([{"translations": [{"text": fake_translation(sent["Text"], target), "to": target}]}]).encode()
