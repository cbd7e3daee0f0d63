"""The language of a post, when langdetect is sure enough; "" when it is not.

langdetect keeps, for each of its 87,598 n-grams, a list of 55 probabilities (one per language),
96% of them zero: 65 MiB in every worker, as much again as all the rest of the app. Kept here
sparse (each n-gram's non-zero probabilities packed in a few bytes: 17 MiB), with the same
arithmetic on the same numbers, so every answer is exactly langdetect's
(tests/translate/test_languages.py).
"""
import asyncio
import struct
import threading
from operator import mul

from langdetect import DetectorFactory, LangDetectException
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import ErrorCode

MIN_LENGTH = 15
MIN_PROBABILITY = 0.9

_PAIR = struct.Struct("=Hd")  # a language's index and its probability for one n-gram


class _SparseDetector(Detector):
    def _update_lang_prob(self, prob, word, alpha):
        # langdetect: `prob[i] *= weight + lang_prob_map[i]` for every language; `weight + 0.0`
        # where an n-gram has no probability, exactly as there.
        packed = self.word_lang_prob_map.get(word) if word is not None else None
        if packed is None:
            return False
        factors = [alpha / self.BASE_FREQ] * len(prob)
        for index, probability in _PAIR.iter_unpack(packed):
            factors[index] += probability
        prob[:] = map(mul, prob, factors)
        return True


class _SparseFactory(DetectorFactory):
    seed = 0  # deterministic answers

    def add_profile(self, profile, index, langsize):
        # As langdetect's, but each n-gram's probabilities packed as (index, probability) pairs.
        if profile.name in self.langlist:
            raise LangDetectException(ErrorCode.DuplicateLangError, "Duplicate the same language profile.")
        self.langlist.append(profile.name)
        table = self.word_lang_prob_map
        for word, count in profile.freq.items():
            length = len(word)
            pair = _PAIR.pack(index, 1.0 * count / profile.n_words[length - 1]) if 1 <= length <= 3 else b""
            table[word] = table.get(word, b"") + pair

    def _create_detector(self):
        if not self.langlist:
            raise LangDetectException(ErrorCode.NeedLoadProfileError, "Need to load profiles.")
        return _SparseDetector(self)


_factory: _SparseFactory | None = None
_loading = threading.Lock()


def _detector() -> Detector:
    global _factory
    if _factory is None:
        with _loading:
            if _factory is None:
                factory = _SparseFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                _factory = factory
    return _factory.create()


def probabilities(text: str) -> list:
    """langdetect's `detect_langs`: the likely languages of `text`, the likeliest first."""
    detector = _detector()
    detector.append(text)
    return detector.get_probabilities()


def detect_language_sync(text: str) -> str:
    text = text.strip()
    if len(text) < MIN_LENGTH:
        return ""
    try:
        best = probabilities(text)[0]
    except LangDetectException:
        return ""
    return best.lang if best.prob >= MIN_PROBABILITY else ""


async def detect_language(text: str) -> str:
    return await asyncio.to_thread(detect_language_sync, text)
