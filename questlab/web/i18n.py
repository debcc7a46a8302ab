"""Locales: gettext catalogs (Babel) and choosing the visitor's locale.

Catalogs live in ``web/locale/<locale>/LC_MESSAGES/messages.po`` and are
compiled in memory at start-up, so no build step is needed. Message ids are
English; the Korean catalog translates them.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("ko", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
COOKIE = "questlab_lang"


@cache
def translations(locale: str) -> Translations:
    """Return the compiled gettext translations for ``locale`` (``"ko"`` or ``"en"``).

    Raises:
        FileNotFoundError: the catalog file is missing.
    """
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate(query: str | None, cookie: str | None, accept_language: str | None, default: str) -> str:
    """Choose the locale: ``?lang=`` first, then the cookie, then Accept-Language, then ``default``.

    Args:
        query: value of the ``lang`` query parameter, if any.
        cookie: value of the ``questlab_lang`` cookie, if any.
        accept_language: the Accept-Language header, e.g. ``"en-US,en;q=0.9,ko;q=0.8"``.
        default: locale used when nothing else decides.

    Returns:
        One of :data:`LOCALES`.
    """
    for choice in (query, cookie):
        if choice in LOCALES:
            return choice
    if accept_language:
        ranked = []
        for index, part in enumerate(accept_language.split(",")):
            pieces = part.strip().split(";")
            quality = 1.0
            for piece in pieces[1:]:
                if piece.strip().startswith("q="):
                    try:
                        quality = float(piece.strip()[2:])
                    except ValueError:
                        quality = 0.0
            ranked.append((-quality, index, pieces[0].strip()))
        preferred = [tag.replace("-", "_") for _q, _i, tag in sorted(ranked) if tag and tag != "*"]
        try:
            found = Locale.negotiate(preferred, list(LOCALES))
        except (UnknownLocaleError, ValueError):
            found = None
        if found is not None:
            return found.language
    return default
