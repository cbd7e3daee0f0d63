"""The translation services a site can use, behind one small interface: `await
translator.translate(client, text, source, target)` (with an httpx client) gives the text in
`target`, or raises `TranslationFailed` saying what kind of trouble it was (so the reader gets a
short message and the log the details).

Languages are primary subtags ("es", "zh"); each provider spells them its own way.
"""
from dataclasses import dataclass

import httpx

PROVIDERS = ("microsoft", "deepl", "libretranslate")
MAX_TRANSLATION = 1000  # characters: a 140-character post never needs more in any language
DEEPL_FREE = "https://api-free.deepl.com"
DEEPL_PRO = "https://api.deepl.com"
MICROSOFT = "https://api.cognitive.microsofttranslator.com"


class TranslationFailed(Exception):
    """`kind`: "quota" (the site's allowance is used up or the key refused), "busy" (the
    provider's rate limit), "timeout", or "error" (anything else)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


@dataclass
class Translator:
    name: str
    url: str
    key: str = ""
    region: str = ""

    async def translate(self, client: httpx.AsyncClient, text: str, source: str, target: str) -> str:
        try:
            response = await self.send(client, text, source, target)
        except httpx.TimeoutException as error:
            raise TranslationFailed("timeout", f"{self.name}: {type(error).__name__}") from error
        except httpx.HTTPError as error:
            raise TranslationFailed("error", f"{self.name}: {type(error).__name__}: {error}") from error
        if response.status_code in (403, 456):
            raise TranslationFailed("quota", f"{self.name} answered {response.status_code}")
        if response.status_code == 429:
            raise TranslationFailed("busy", f"{self.name} answered 429")
        if response.status_code != 200:
            raise TranslationFailed("error", f"{self.name} answered {response.status_code}")
        try:
            translated = self.read(response.json())
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise TranslationFailed("error", f"{self.name}: unexpected answer ({error!r})") from error
        if not isinstance(translated, str) or not translated.strip() or len(translated) > MAX_TRANSLATION:
            raise TranslationFailed("error", f"{self.name}: unusable translation")
        return translated

    async def send(self, client, text, source, target) -> httpx.Response:
        raise NotImplementedError

    def read(self, answer) -> str:
        raise NotImplementedError


class LibreTranslate(Translator):
    async def send(self, client, text, source, target):
        body = {"q": text, "source": source, "target": target, "format": "text"}
        if self.key:
            body["api_key"] = self.key
        return await client.post(f"{self.url}/translate", json=body)

    def read(self, answer):
        return answer["translatedText"]


def deepl_language(code: str, target: bool) -> str:
    # DeepL wants a variant for a few target languages ("EN" alone is deprecated there).
    variants = {"en": "EN-GB", "pt": "PT-PT"} if target else {}
    return variants.get(code, code.upper())


class DeepL(Translator):
    async def send(self, client, text, source, target):
        return await client.post(f"{self.url}/v2/translate", headers={
            "Authorization": f"DeepL-Auth-Key {self.key}"}, data={
            "text": text, "source_lang": deepl_language(source, False),
            "target_lang": deepl_language(target, True)})

    def read(self, answer):
        return answer["translations"][0]["text"]


def microsoft_language(code: str) -> str:
    return {"zh": "zh-Hans", "sr": "sr-Latn"}.get(code, code)


class Microsoft(Translator):
    async def send(self, client, text, source, target):
        headers = {"Ocp-Apim-Subscription-Key": self.key}
        if self.region:
            headers["Ocp-Apim-Subscription-Region"] = self.region
        return await client.post(f"{self.url}/translate", headers=headers, json=[{"Text": text}], params={
            "api-version": "3.0", "from": microsoft_language(source), "to": microsoft_language(target)})

    def read(self, answer):
        return answer[0]["translations"][0]["text"]


def translator_from(config: dict) -> Translator | None:
    """The configured provider (None: translation is off). A setting that cannot work stops the
    site at start-up with a clear message, rather than failing for each reader."""
    name = (config.get("TRANSLATOR") or "").strip().lower()
    if not name:
        return None
    if name not in PROVIDERS:
        raise RuntimeError(f"TRANSLATOR={name!r} is not one of {', '.join(PROVIDERS)}.")
    url, key = (config.get("TRANSLATOR_URL") or "").rstrip("/"), config.get("TRANSLATOR_KEY") or ""
    if name == "libretranslate":
        if not url:
            raise RuntimeError("TRANSLATOR=libretranslate needs TRANSLATOR_URL (e.g. http://localhost:5000).")
        return LibreTranslate("LibreTranslate", url, key)
    if not key:
        raise RuntimeError(f"TRANSLATOR={name} needs TRANSLATOR_KEY.")
    if name == "deepl":  # DeepL's free keys end in ":fx" and have their own endpoint
        return DeepL("DeepL", url or (DEEPL_FREE if key.endswith(":fx") else DEEPL_PRO), key)
    return Microsoft("Microsoft Translator", url or MICROSOFT, key, config.get("TRANSLATOR_REGION") or "")
