"""The language of a post, when langdetect is sure enough; "" when it is not."""
import asyncio

from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0  # deterministic answers

MIN_LENGTH = 15
MIN_PROBABILITY = 0.9


def detect_language_sync(text: str) -> str:
    text = text.strip()
    if len(text) < MIN_LENGTH:
        return ""
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return ""
    return best.lang if best.prob >= MIN_PROBABILITY else ""


async def detect_language(text: str) -> str:
    return await asyncio.to_thread(detect_language_sync, text)
