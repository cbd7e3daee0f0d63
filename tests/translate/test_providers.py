"""Each provider's request and answer, against a server on loopback that speaks its API; and the
settings that choose one."""
import httpx
import pytest

from microblog.translate import TranslationFailed, translator_from

from .support import ProviderServer, fake_translation


@pytest.fixture
def server(request):
    running = ProviderServer(request.param).start()
    yield running
    running.stop()


async def translate(translator, text="¿Dónde está la biblioteca?", source="es", target="en", timeout=2):
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await translator.translate(client, text, source, target)


@pytest.mark.parametrize("server", ["libretranslate"], indirect=True)
@pytest.mark.parametrize("key", ["", "secret"])
async def test_libretranslate(server, key):
    translator = translator_from({"TRANSLATOR": "libretranslate", "TRANSLATOR_URL": server.url + "/",
                                  "TRANSLATOR_KEY": key})
    assert await translate(translator) == fake_translation("¿Dónde está la biblioteca?", "en")
    [seen] = server.requests
    assert seen.path == "/translate"
    assert seen.headers["content-type"] == "application/json"
    expected = {"q": "¿Dónde está la biblioteca?", "source": "es", "target": "en", "format": "text"}
    assert seen.json() == ({**expected, "api_key": key} if key else expected)


@pytest.mark.parametrize("server", ["deepl"], indirect=True)
@pytest.mark.parametrize("target, target_lang", [("en", "EN-GB"), ("es", "ES"), ("pt", "PT-PT"), ("de", "DE")])
async def test_deepl(server, target, target_lang):
    translator = translator_from({"TRANSLATOR": "deepl", "TRANSLATOR_URL": server.url, "TRANSLATOR_KEY": "k3y:fx"})
    assert await translate(translator, source="fr", target=target) == fake_translation(
        "¿Dónde está la biblioteca?", target_lang)
    [seen] = server.requests
    assert seen.path == "/v2/translate"
    assert seen.headers["authorization"] == "DeepL-Auth-Key k3y:fx"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form() == {"text": "¿Dónde está la biblioteca?", "source_lang": "FR", "target_lang": target_lang}


@pytest.mark.parametrize("key, endpoint", [("abc:fx", "https://api-free.deepl.com"), ("abc", "https://api.deepl.com")])
def test_deepl_free_and_pro_endpoints(key, endpoint):
    assert translator_from({"TRANSLATOR": "deepl", "TRANSLATOR_KEY": key}).url == endpoint


@pytest.mark.parametrize("server", ["microsoft"], indirect=True)
@pytest.mark.parametrize("region", ["", "westeurope"])
async def test_microsoft(server, region):
    translator = translator_from({"TRANSLATOR": "microsoft", "TRANSLATOR_URL": server.url,
                                  "TRANSLATOR_KEY": "k3y", "TRANSLATOR_REGION": region})
    assert await translate(translator, source="zh", target="en") == fake_translation("¿Dónde está la biblioteca?", "en")
    [seen] = server.requests
    assert seen.path == "/translate"
    assert seen.query == {"api-version": "3.0", "from": "zh-Hans", "to": "en"}
    assert seen.headers["ocp-apim-subscription-key"] == "k3y"
    assert seen.headers.get("ocp-apim-subscription-region") == (region or None)
    assert seen.json() == [{"Text": "¿Dónde está la biblioteca?"}]


def test_microsoft_default_endpoint():
    translator = translator_from({"TRANSLATOR": "microsoft", "TRANSLATOR_KEY": "k"})
    assert translator.url == "https://api.cognitive.microsofttranslator.com"


@pytest.mark.parametrize("server", ["libretranslate", "deepl", "microsoft"], indirect=True)
@pytest.mark.parametrize("status, kind", [(403, "quota"), (456, "quota"), (429, "busy"), (500, "error"),
                                          (400, "error")])
async def test_error_answers(server, status, kind):
    server.status = status
    translator = translator_from({"TRANSLATOR": server.api, "TRANSLATOR_URL": server.url, "TRANSLATOR_KEY": "k"})
    with pytest.raises(TranslationFailed) as failed:
        await translate(translator)
    assert failed.value.kind == kind


@pytest.mark.parametrize("server", ["deepl"], indirect=True)
@pytest.mark.parametrize("answer", [b"not json", b"{}", b'{"translations": []}', b'{"translations": [{"text": ""}]}',
                                    b'{"translations": [{"text": 5}]}'])
async def test_unusable_answers(server, answer):
    server.answer = answer
    translator = translator_from({"TRANSLATOR": "deepl", "TRANSLATOR_URL": server.url, "TRANSLATOR_KEY": "k"})
    with pytest.raises(TranslationFailed) as failed:
        await translate(translator)
    assert failed.value.kind == "error"


@pytest.mark.parametrize("server", ["libretranslate"], indirect=True)
async def test_timeout(server):
    server.delay = 0.5
    translator = translator_from({"TRANSLATOR": "libretranslate", "TRANSLATOR_URL": server.url})
    with pytest.raises(TranslationFailed) as failed:
        await translate(translator, timeout=0.1)
    assert failed.value.kind == "timeout"


async def test_nothing_listening():
    from conftest import free_port
    translator = translator_from({"TRANSLATOR": "libretranslate", "TRANSLATOR_URL": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(TranslationFailed) as failed:
        await translate(translator)
    assert failed.value.kind == "error"


@pytest.mark.parametrize("config, message", [
    ({"TRANSLATOR": "google"}, "not one of microsoft, deepl, libretranslate"),
    ({"TRANSLATOR": "libretranslate"}, "needs TRANSLATOR_URL"),
    ({"TRANSLATOR": "deepl"}, "needs TRANSLATOR_KEY"),
    ({"TRANSLATOR": "microsoft"}, "needs TRANSLATOR_KEY"),
])
def test_settings_that_cannot_work_stop_the_start(config, message):
    with pytest.raises(RuntimeError, match=message):
        translator_from(config)


def test_no_translator():
    assert translator_from({"TRANSLATOR": ""}) is None
    assert translator_from({}) is None
