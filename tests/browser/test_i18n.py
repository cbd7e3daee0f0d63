"""A Spanish reader in Mexico City: Spanish relative times, exact times in their zone, after an
infinite-scroll load and after posting; without JavaScript, UTC (named) until they save a zone."""
import re

import pytest
from playwright.async_api import expect

from .support import publish_quickly, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

MEXICO = {"locale": "es-MX", "timezone_id": "America/Mexico_City"}
SHORT_WINDOW = {"width": 1280, "height": 400}
SPANISH_RELATIVE = re.compile(r"^(ahora mismo|hace \d+ \w+)$")


async def spanish_reader_with_posts(page, count: int = 7) -> list[str]:
    """An account made through the English forms, some posts, then Spanish from the menu."""
    await page.goto("/explore")
    await expect(page.locator("html")).to_have_attribute("lang", "es")  # the browser's es-MX
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await sign_up(page, "lector")
    tag = unique("hola")
    bodies = [f"{tag} {n}" for n in range(count)]
    await publish_quickly(page, bodies)
    await page.get_by_role("button", name="Español").click()
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    return bodies[::-1]


async def assert_spanish_times(articles, zone: str, count: int) -> None:
    times = articles.locator("time")
    await expect(times).to_have_count(count)
    for n in range(count):
        await expect(times.nth(n)).to_have_text(SPANISH_RELATIVE)
        await expect(times.nth(n)).to_have_attribute("title", re.compile(rf"^\d+ \w+ \d{{4}}, [\d:]+ \({zone}\)$"))


async def test_a_spanish_reader_in_mexico_city_with_javascript(new_page):
    page, _ = await new_page(js=True, viewport=SHORT_WINDOW, **MEXICO)
    newest_first = await spanish_reader_with_posts(page)
    await page.goto("/explore")
    articles = page.locator("#posts article")
    await expect(articles).to_have_count(5)
    await assert_spanish_times(articles, "America/Mexico_City", 5)  # the browser's zone, remembered

    await page.mouse.wheel(0, 10_000)  # the next page, loaded by htmx
    await expect(articles.nth(6)).to_contain_text(newest_first[6])
    await assert_spanish_times(articles, "America/Mexico_City", await articles.count())

    await page.goto("/index")
    body = unique("recién escrito")
    await page.locator("#post-form textarea").fill(body)
    await page.get_by_role("button", name="Enviar").click()
    mine = page.locator("#posts article", has_text=body)
    await expect(mine.locator("time")).to_have_text("ahora mismo")
    await expect(mine.locator("time")).to_have_attribute("title", re.compile(r"\(America/Mexico_City\)$"))


async def test_a_spanish_reader_in_mexico_city_without_javascript(new_page):
    page, _ = await new_page(js=False, **MEXICO)
    newest_first = await spanish_reader_with_posts(page)
    await page.goto("/explore")
    articles = page.locator("#posts article")
    await assert_spanish_times(articles, "UTC", 5)  # nobody told the server the zone: UTC, named

    await page.goto("/edit_profile")
    await page.get_by_label("Zona horaria").select_option("America/Mexico_City")
    await page.get_by_role("button", name="Guardar").click()
    await expect(page.locator("#flashes")).to_contain_text("Tus cambios se han guardado.")

    await page.goto("/explore")
    await assert_spanish_times(articles, "America/Mexico_City", 5)
    await page.get_by_role("link", name="Publicaciones anteriores").click()
    await expect(articles.first).to_contain_text(newest_first[5])
    await assert_spanish_times(articles, "America/Mexico_City", await articles.count())

    await page.goto("/index")
    body = unique("sin javascript")
    await page.locator("#post-form textarea").fill(body)
    await page.get_by_role("button", name="Enviar").click()
    mine = page.locator("#posts article", has_text=body)
    await expect(mine.locator("time")).to_have_text("ahora mismo")
    await expect(mine.locator("time")).to_have_attribute("title", re.compile(r"\(America/Mexico_City\)$"))
