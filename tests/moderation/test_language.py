"""Language detection: offline, by writing system and common words; "" when unsure."""

from __future__ import annotations

import pytest

from testimonials.moderation.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The support team answered within an hour and fixed everything.", "en"),
        ("Muy buena calidad y el envío fue muy rápido. Lo recomiendo.", "es"),
        ("Très bon produit, livraison rapide et le service client est à l'écoute.", "fr"),
        ("Sehr gutes Produkt, die Lieferung war schnell und ich bin zufrieden.", "de"),
        ("Prodotto ottimo, spedizione veloce e il venditore è stato molto gentile.", "it"),
        ("Produto excelente, chegou antes do prazo e a qualidade é muito boa.", "pt"),
        ("Goed product en snelle levering, de handleiding was wel onduidelijk.", "nl"),
        ("Отличный товар, быстрая доставка.", "ru"),
        ("Чудовий товар, дякую! Рекомендую всім.", "uk"),
        ("とても使いやすくて、毎日使っています。", "ja"),
        ("非常好的产品\uff0c物流很快\u3002", "zh"),
        ("정말 좋은 제품입니다", "ko"),
        ("Εξαιρετικό προϊόν", "el"),
    ],
)
def test_it_detects_the_language(text, code):
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["", "ok", "10/10 👍", "asdfghjkl qwertyuiop"])
def test_it_says_nothing_rather_than_guess(text):
    assert detect_language(text) == ""
