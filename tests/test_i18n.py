"""UI translations: catalogs parse cleanly, every Korean entry is translated, locale negotiation."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from questlab.web.i18n import LOCALE_DIR, negotiate


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_catalog_parses_without_problems(locale: str):
    text = (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert not any(line.startswith(("<<<<<<<", ">>>>>>>", "=======")) for line in text.splitlines())
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        read_po(handle, locale=locale, abort_invalid=True)


def test_every_korean_message_is_translated_and_extracted():
    with (LOCALE_DIR / "ko" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ko")
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and (not m.string or "fuzzy" in m.flags)]
    assert untranslated == []
    missing = [m.id for m in template if m.id and m.id not in catalog]
    assert missing == []


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("en", "ko", "ko", "en"),
        (None, "en", "ko", "en"),
        (None, None, "en-GB,en;q=0.8", "en"),
        (None, None, "de-DE,de;q=0.9,ko;q=0.5", "ko"),
        (None, None, "de-DE", "ko"),
        ("xx", "yy", "", "ko"),
        (None, None, "en;q=garbage", "en"),
    ],
)
def test_negotiate(query, cookie, header, expected):
    assert negotiate(query, cookie, header, "ko") == expected
