"""Exercise pass tokens: the grading endpoint signs a pass so a browser can keep it and prove it later.

A token is ``<payload>.<signature>``: the payload is URL-safe base64 of compact JSON
``{"v":1,"q":quest,"l":lesson_key,"f":first_try,"t":unix_seconds,"n":nonce}`` and the signature is
HMAC-SHA256 over the payload text with the site's secret key (also URL-safe base64, no padding).
The random nonce makes every pass unique, so the merge can tell a replayed token from a new pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1
_CONTEXT = b"questlab exercise pass v1\x00"  # keeps these signatures apart from any other use of the key


@dataclass(frozen=True)
class ExercisePass:
    """A verified exercise pass: ``passed_at`` is timezone-aware UTC; ``nonce`` is unique per pass."""

    quest: str
    lesson_key: str
    first_try: bool
    passed_at: datetime
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), _CONTEXT + payload.encode(), hashlib.sha256).digest())


def sign_exercise_pass(secret: str, quest: str, lesson_key: str, first_try: bool, passed_at: datetime) -> str:
    """Return a signed token for one exercise pass (a fresh nonce each call).

    Args:
        secret: the site's secret key (``app.state.secret_key``).
        quest: quest slug.
        lesson_key: ``"<chapter>/<lesson>"`` of the exercise's lesson.
        first_try: whether this was the learner's first submission for the exercise.
        passed_at: when it passed (naive datetimes are taken as UTC).
    """
    moment = passed_at if passed_at.tzinfo else passed_at.replace(tzinfo=UTC)
    body = {
        "v": VERSION,
        "q": quest,
        "l": lesson_key,
        "f": bool(first_try),
        "t": int(moment.timestamp()),
        "n": secrets.token_urlsafe(16),
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_signature(secret, payload)}"


def verify_exercise_pass(secret: str, token: str) -> ExercisePass | None:
    """Return the pass a token proves, or ``None`` when it is malformed, forged or from another key.

    Replays are not detected here (a token stays valid); the merge refuses a nonce seen before.
    """
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 2000:
        return None
    payload, signature = token.split(".")
    if not hmac.compare_digest(_signature(secret, payload), signature):
        return None
    try:
        body = json.loads(_unb64(payload))
        if body.get("v") != VERSION:
            return None
        return ExercisePass(
            quest=str(body["q"]),
            lesson_key=str(body["l"]),
            first_try=bool(body["f"]),
            passed_at=datetime.fromtimestamp(int(body["t"]), UTC),
            nonce=str(body["n"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
