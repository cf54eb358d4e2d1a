"""Language of a testimonial, offline: writing system first, then common words for Latin-script text.

Good enough to filter a widget by language and to tell an admin what they are reading; it
answers "" rather than guess when the text gives too little evidence (a two-word review).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The most frequent function words of each language plus the words reviews are made of.
_COMMON_WORDS = {
    "en": """the and is was it this i my to of a in for with very so but not have had they we you are
        great good love loved best excellent amazing recommend would will be thank thanks product service
        really just all at on from after before our me what which could been were one every highly
        nice that than there their them its it's up out get got if when as an by or no do does did can
        has how more your his her she he want yeah yes finally""",
    "es": """el la los las de del y que es muy por para con un una lo se mi su pero como más fue está
        bueno buena excelente recomiendo gracias todo todos producto servicio calidad llegó rápido envío
        estoy muy compra clases aunque también""",
    "fr": """le la les des de du et est très pour avec un une je mon ma mes pas mais que qui au aux
        bon bonne excellent recommande merci produit service qualité livraison rapide vraiment
        c'est était sur ne tout""",
    "de": """der die das und ist sehr mit für ein eine ich mein meine nicht aber auch war sind zu auf
        gut gute super toll empfehlen danke produkt qualität lieferung schnell zufrieden wir hat
        uns viel den dem des""",
    "it": """il lo la gli le di e è molto per con un una che non ma sono mi mio ho del della
        ottimo ottima buono consiglio grazie prodotto servizio qualità spedizione veloce stato
        tutto anche""",
    "pt": """o a os as de do da e é muito para com um uma que não mas eu meu minha foi está
        bom boa ótimo excelente recomendo obrigado obrigada produto serviço qualidade chegou
        rápido entrega prazo antes""",
    "nl": """de het een en is zeer heel met voor van ik mijn niet maar ook was zijn op te
        goed goede prima aanrader bedankt product service kwaliteit levering snel wel beetje
        erg""",
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ASCII_LETTER = re.compile("[A-Za-z]")
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")  # _WORD for lower-case ASCII text, faster
_NON_ASCII = re.compile("[^\x00-\x7f]")
# A unique word counts 1; a word shared by n languages counts 1/n.
MIN_EVIDENCE = 1.0
MARGIN = 1.5


@lru_cache(maxsize=1)
def _word_index() -> dict[str, tuple[tuple[str, float], ...]]:
    """Each common word's languages, with the evidence it gives each: 1/n for a word of n languages."""
    index: dict[str, list[str]] = {}
    for lang, words in _COMMON_WORDS.items():
        for word in words.split():
            index.setdefault(word, []).append(lang)
    return {word: tuple((lang, 1.0 / len(langs)) for lang in langs) for word, langs in index.items()}


def _script(ch: str) -> str:
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    for script in (
        "CYRILLIC",
        "GREEK",
        "HEBREW",
        "ARABIC",
        "HANGUL",
        "HIRAGANA",
        "KATAKANA",
        "CJK",
        "THAI",
        "DEVANAGARI",
        "LATIN",
    ):
        if name.startswith(script):
            return script
    return ""


@lru_cache(maxsize=512)
def detect_language(text: str) -> str:
    """An ISO 639-1 code, or "" when the text does not say clearly enough."""
    sample = text[:2000]
    counts: dict[str, int] = {}
    if sample.isascii():
        counts["LATIN"] = 1 if _ASCII_LETTER.search(sample) else 0
    else:
        # ASCII letters are counted at once; only the others are looked up one by one.
        counts["LATIN"] = len(_ASCII_LETTER.findall(sample))
        for ch in _NON_ASCII.findall(sample):
            if ch.isalpha():
                script = _script(ch)
                counts[script] = counts.get(script, 0) + 1
    if not counts.get("LATIN", 1):
        del counts["LATIN"]
    if not counts:
        return ""
    script = max(counts, key=counts.get)
    if script in ("HIRAGANA", "KATAKANA") or (script == "CJK" and (counts.get("HIRAGANA") or counts.get("KATAKANA"))):
        return "ja"
    simple = {
        "GREEK": "el",
        "HEBREW": "he",
        "ARABIC": "ar",
        "HANGUL": "ko",
        "CJK": "zh",
        "THAI": "th",
        "DEVANAGARI": "hi",
    }
    if script in simple:
        return simple[script]
    if script == "CYRILLIC":
        return "uk" if re.search("[іїєґІЇЄҐ]", sample) else "ru"
    if script != "LATIN":
        return ""
    return _latin_language(sample)


def _latin_language(sample: str) -> str:
    lower = sample.lower()
    return language_of_words((_ASCII_WORD if lower.isascii() else _WORD).findall(lower))


def language_of_words(words: list[str]) -> str:
    """The language of Latin-script text from its lower-case words (common words as evidence), or ""."""
    index = _word_index()
    scores: dict[str, float] = {}
    for evidence in [index[word] for word in words if word in index]:
        for lang, weight in evidence:
            scores[lang] = scores.get(lang, 0.0) + weight
    if not scores:
        return ""
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score < MIN_EVIDENCE or best_score < MARGIN * runner_up:
        return ""
    return best


# The languages detect_language() can answer, by name (admin labels, "not scored" reasons, widget filters).
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ru": "Russian",
    "uk": "Ukrainian",
    "el": "Greek",
    "he": "Hebrew",
    "ar": "Arabic",
    "ko": "Korean",
    "ja": "Japanese",
    "zh": "Chinese",
    "th": "Thai",
    "hi": "Hindi",
}


def language_name(code: str) -> str:
    """'Japanese' for "ja"; an unknown code as it is; "" for unknown."""
    return LANGUAGE_NAMES.get(code, code)
