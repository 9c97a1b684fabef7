"""Password hashing with argon2id at parameters above OWASP's minimum (19 MiB, t=2, p=1)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# 64 MiB, t=2, p=1: OWASP's argon2id shape (p=1) with 3.4 times its minimum memory, ~120 ms of
# one core. p=1 because the portal verifies `cores` passwords side by side (portal_api/pool.py):
# with p=4 argon2 ran four threads per verification, so one login already took both cores and
# the server's real capacity was well under cores / (one verification's time). Hashes made with
# other parameters (release 0.1.0's t=3, p=4) still verify and are rehashed at the next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=65536, parallelism=1, type=Type.ID)


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
    "$argon2id$v=19$m=65536,t=2,p=1$+JL59sb7pSkxPXtqXd0cjg$"
    "Zsdl8IL82MGFJz47tYIWnWnph+cmCGbSb3FKQP5duz8"
)


def dummy_hash() -> str:
    return DUMMY_HASH
