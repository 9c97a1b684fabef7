"""Password hashing with argon2id at parameters above OWASP's minimum (19 MiB, t=2, p=1)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106's second recommended option (64 MiB, t=3, p=4): stronger than OWASP's minimum.
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


#: What an unknown or denied account is verified against, so timing reveals nothing. Made once
#: with _hasher's parameters (tests/test_security.py checks they still match): computing it at
#: run time would make the first such attempt of a process cost two hashes.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$w153jHbWaSQvYns2SMzQvw$"
    "lXqZW6mUyzJ68x4eEf3mBBh+12yv1b1sd9qc+Li1tHk"
)


def dummy_hash() -> str:
    return DUMMY_HASH
