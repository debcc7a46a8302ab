"""What a passed exercise earns, through the progress part's interface.

The grading endpoint calls only these functions. They delegate to
``questlab.progress`` (``tokens.sign_exercise_pass`` and
``store.record_exercise_pass``) when that part is present, and otherwise fall
back to a compatible token signer and "no account" behaviour, so grading works
on its own.

Completion token (for visitors without an account): ``<payload>.<signature>``,
both URL-safe base64 without padding. The payload is compact JSON
``{"v": 1, "q": quest, "l": lesson_key, "f": first_try, "t": unix_seconds, "n": nonce}``
(keys sorted); the signature is HMAC-SHA256 with the site's secret key over
``b"questlab exercise pass v1\\x00" + payload``. See docs/grading.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

TOKEN_CONTEXT = b"questlab exercise pass v1\x00"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _fallback_sign(secret: str, quest: str, lesson_key: str, first_try: bool, passed_at: datetime) -> str:
    moment = passed_at if passed_at.tzinfo else passed_at.replace(tzinfo=UTC)
    body = {
        "v": 1,
        "q": quest,
        "l": lesson_key,
        "f": bool(first_try),
        "t": int(moment.timestamp()),
        "n": secrets.token_urlsafe(16),
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(secret.encode(), TOKEN_CONTEXT + payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def sign_exercise_pass(secret: str, quest: str, lesson_key: str, first_try: bool, passed_at: datetime) -> str:
    """A signed completion token proving that ``quest``/``lesson_key`` was passed at ``passed_at``."""
    try:
        from questlab.progress.tokens import sign_exercise_pass as sign
    except ImportError:
        sign = _fallback_sign
    return sign(secret, quest, lesson_key, first_try, passed_at)


def record_exercise_pass(session: Any, user_id: int, quest: Any, lesson_key: str, first_try: bool) -> int:
    """Store a signed-in learner's pass; return the XP it awarded (0 without the progress part)."""
    try:
        from questlab.progress.store import record_exercise_pass as record
    except ImportError:
        return 0
    return int(record(session, user_id, quest, lesson_key, first_try))


def record_exercise_attempt(session: Any, user_id: int, quest: Any, lesson_key: str) -> int | None:
    """Count a signed-in learner's graded submission on the server; return the count before it.

    ``None`` without the progress part (the caller then falls back to the attempts cookie).
    """
    try:
        from questlab.progress.store import record_exercise_attempt as record
    except ImportError:
        return None
    return int(record(session, user_id, quest, lesson_key))


def current_user_id(request: Any) -> int | None:
    """The signed-in learner's id (from the session cookie, through the accounts part), or ``None``.

    Looks the session up itself (``questlab.accounts.deps.current_user``): the submit endpoint
    declares no dependency that would have done it. Without the accounts part everyone is a visitor.
    """
    try:
        from questlab.accounts.deps import current_user
    except ImportError:
        user = getattr(request.state, "user", None)
    else:
        user = current_user(request)
    return getattr(user, "id", None) if user is not None else None


def exercise_xp(quest: Any, first_try: bool) -> int:
    """XP for a visitor's first pass: the quest's ``[xp] exercise``, plus the first-try bonus."""
    xp = quest.config.xp
    return int(xp.exercise + (xp.first_try_bonus if first_try else 0))
