"""Refill translations after a merge: re-extract, then take each entry's translation from the given .po files.

Run: .venv/bin/python scripts/merge_catalogs.py LOCALE OTHER.po [OTHER.po ...]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
locale, sources = sys.argv[1], sys.argv[2:]
known: dict[object, object] = {}
for source in sources:
    with open(source, "rb") as handle:
        for message in read_po(handle, locale=locale):
            if message.id and message.string and "fuzzy" not in message.flags:
                known.setdefault(message.id, message.string)
subprocess.run(
    [sys.executable, str(ROOT / "scripts" / "update_catalogs.py")], check=True, capture_output=True
)
target = ROOT / "questlab" / "web" / "locale" / locale / "LC_MESSAGES" / "messages.po"
with target.open("rb") as handle:
    catalog = read_po(handle, locale=locale)
for message in catalog:
    if message.id in known and (not message.string or "fuzzy" in message.flags):
        message.string = known[message.id]
        message.flags.discard("fuzzy")
catalog.obsolete.clear()
with target.open("wb") as handle:
    write_po(handle, catalog, width=0)
missing = [m.id for m in catalog if m.id and not m.string]
print(f"{locale}: {len(missing)} untranslated", missing[:20])
