"""Translating a post for a reader: from the cache if anyone asked for that language before, else
from the provider (one of the reader's allowance for the hour), then kept for the next reader.

Readers asking for the same translation at the same moment in one worker share one call to the
provider; in two workers they may both call it, and the second translation stored is quietly
dropped.
"""
import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import httpx
from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from ..i18n import current_locale_code, gettext as _, ngettext, primary
from .models import PostTranslation, TranslationAllowance
from .providers import TranslationFailed, Translator

log = logging.getLogger("microblog.translate")

@dataclass
class NotTranslated(Exception):
    """A translation the reader cannot have now: `message` for them, answered with `status`."""

    status: int
    message: str
    retry_after: int | None = None


def reader_language() -> str:
    return current_locale_code()  # a primary subtag already


def translator() -> Translator | None:
    return current_app.extensions.get("translator")


def offered(post, reader) -> bool:
    """Whether to show "Translate" under `post`: to a logged-in reader, with a provider set up,
    for a post whose language is known and is not the reader's."""
    return offer_for(reader)(post)


def offer_for(reader) -> Callable[[object], bool]:
    """`offered(post, reader)` for many posts, with what is the same for all of them looked up once."""
    if reader is None or translator() is None:
        return lambda post: False
    language = reader_language()
    return lambda post: (source := primary(post.language)) != "" and source != language


def check_translatable(post) -> tuple[str, str]:
    """(source, target) for `post`, or the reason it cannot be translated."""
    if translator() is None:
        raise NotTranslated(503, _("Translation is not configured on this site."))
    source, target = primary(post.language), reader_language()
    if not source:
        raise NotTranslated(400, _("The language of this post is not known, so it cannot be translated."))
    if source == target:
        raise NotTranslated(400, _("This post is already in your language."))
    return source, target


FAILURES = {  # the provider's trouble, as the reader is told it
    "quota": (503, lambda: _("Translation is not available at the moment. Please try again later.")),
    "busy": (503, lambda: _("The translation service is busy. Please try again in a minute.")),
    "timeout": (504, lambda: _("The translation service did not answer in time. Please try again.")),
    "error": (502, lambda: _("The translation service could not translate this post. Please try again later.")),
}


async def translation_for(db: AsyncSession, post, reader) -> PostTranslation:
    """`post` in the reader's language (a new translation is staged in `db` for the next reader),
    or NotTranslated."""
    source, target = check_translatable(post)
    cached = await PostTranslation.find(db, post.id, target)
    if cached is not None:
        return cached
    service = translator()
    key = (service.name, post.id, target)
    in_flight = calls_in_flight()
    try:
        text = None
        shared = in_flight.get(key)
        if shared is not None:  # another reader's request is asking the provider right now
            try:
                text = await asyncio.shield(shared)
            except NotTranslated:
                pass  # that reader may not translate more this hour: this one asks on their own
        if text is None:
            # Registered before the first await, so a reader arriving meanwhile waits for it; a
            # task of its own, so a reader who leaves does not cancel it for the others.
            call = asyncio.ensure_future(_ask_provider(service, post, reader, source, target))
            in_flight[key] = call
            call.add_done_callback(partial(_finished, in_flight, key))
            text = await asyncio.shield(call)
    except TranslationFailed as failure:
        status, message = FAILURES[failure.kind]
        raise NotTranslated(status, message()) from failure
    await PostTranslation.keep(db, post.id, target, text, service.name)
    return PostTranslation(post_id=post.id, language=target, text=text, provider=service.name)


def calls_in_flight() -> dict[tuple[str, int, str], asyncio.Future]:
    """This worker's calls to the provider under way, by (provider, post, language)."""
    return current_app.extensions.setdefault("translations_in_flight", {})


def _finished(in_flight: dict, key, call: asyncio.Future) -> None:
    if in_flight.get(key) is call:
        del in_flight[key]
    if not call.cancelled():
        call.exception()  # seen, even when every reader waiting for it has gone away


async def _ask_provider(service: Translator, post, reader, source: str, target: str) -> str:
    """One of the reader's allowance, then the provider's translation (or TranslationFailed, and
    the allowance back)."""
    per_hour = current_app.config["TRANSLATIONS_PER_HOUR"]
    wait = await TranslationAllowance.take(reader.id, per_hour)
    if wait:
        minutes = max(1, round(wait / 60))
        raise NotTranslated(429, " ".join((
            ngettext("You have translated %(num)d post in the last hour, the most allowed.",
                     "You have translated %(num)d posts in the last hour, the most allowed.", per_hour),
            ngettext("Please try again in %(num)d minute.", "Please try again in %(num)d minutes.", minutes),
        )), retry_after=wait)
    client: httpx.AsyncClient = current_app.extensions["translate_http"]
    seconds = current_app.config["TRANSLATOR_TIMEOUT"]
    try:
        try:
            # The whole call, not each step of it (httpx's timeout): it must end well within
            # the request's own time limit.
            async with asyncio.timeout(seconds):
                return await service.translate(client, post.body, source, target)
        except TimeoutError as error:
            raise TranslationFailed("timeout", f"{service.name}: no answer within {seconds:g} s") from error
    except TranslationFailed as failure:
        log.warning("post %s not translated from %s to %s: %s", post.id, source, target, failure)
        await TranslationAllowance.give_back(reader.id)
        raise
