"""Password hashing with argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 8
MAX_LENGTH = 256


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (salted; a PHC string such as ``$argon2id$v=19$...``)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; ``False`` for a wrong password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's and should be renewed at sign-in."""
    return _hasher.check_needs_rehash(password_hash)


# A hash of a random password: verifying against it when the account does not exist costs the same
# time as a real check, so response times do not tell which emails have accounts.
DUMMY_HASH = _hasher.hash("questlab-no-such-account")
