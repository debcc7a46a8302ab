"""Re-extract UI strings and merge them into the ko and en catalogs (keeps existing translations).

Run: .venv/bin/python scripts/update_catalogs.py   (then translate new entries in ko/messages.po)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "questlab" / "web" / "locale"

subprocess.run(
    [
        sys.executable,
        "-m",
        "babel.messages.frontend",
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_",
        "-k",
        "gettext",
        "-k",
        "ngettext:1,2",
        "--no-location",
        "--omit-header",
        "-o",
        str(LOCALE / "messages.pot"),
        ".",
    ],
    cwd=ROOT,
    check=True,
)
for locale in ("ko", "en"):
    po = LOCALE / locale / "LC_MESSAGES" / "messages.po"
    command = "update" if po.exists() else "init"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            command,
            "-i",
            str(LOCALE / "messages.pot"),
            "-d",
            str(LOCALE),
            "-l",
            locale,
            "--no-wrap",
        ],
        cwd=ROOT,
        check=True,
    )
