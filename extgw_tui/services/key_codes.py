"""Licence key text: random, printed in Crockford base32 groups, with a check character.

A key is 19 random base32 characters (95 bits) and one Luhn mod 32 check character, printed
in five groups of four (`K7QM-3XPD-9TZA-W2RE-HN4C`). Crockford's alphabet has no I, L, O or
U, and reading accepts o/O as 0 and i/I/l/L as 1, any case, spaces and dashes, so a key read
over the phone or copied from a letter still works. The check character catches every single
wrong character and most swapped neighbours before the database is asked.

Only key_digest(key) is stored. Keys are high-entropy (95 bits), so one fast SHA-256 is
enough: finding a key from its digest means trying 2**95 candidates, where passwords (low
entropy) need argon2's deliberate slowness. A plain digest also needs no secret that every
portal process would have to share and the school would have to back up: losing it would
void every letter already posted.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 19  # 95 random bits
KEY_LENGTH = BODY_LENGTH + 1
GROUP = 4
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})
#: RFC 4648 base32 letters -> Crockford's, so base64.b32encode and str.translate do the work.
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
#: Random bytes per key: 15 bytes are exactly 24 base32 characters (no padding), so the
#: bytes of many keys encode in one call and split at every 24th character.
_RANDOM_BYTES = 15
_ENCODED = _RANDOM_BYTES * 8 // 5
#: Luhn mod 32 addends, by character: doubled (every other position from the right) or not.
_DOUBLED = {ch: 2 * v // 32 + 2 * v % 32 for ch, v in _VALUE.items()}
_DIGEST_PREFIX = b"extgw-licence-key/v1:"


class Mistyped(ValueError):
    """The text cannot be a key: wrong length, a character outside the alphabet, or the check
    character does not match. Nothing about any real key is revealed by saying so."""


def _check_char(body: str) -> str:
    """Luhn mod 32 over the body: the character that makes the whole key check out.

    The rightmost character is doubled, then every other one leftwards: with an odd body
    length those are the even positions from the left (sums over slices, for speed).
    """
    doubled, single = (body[0::2], body[1::2]) if len(body) % 2 else (body[1::2], body[0::2])
    total = sum(map(_DOUBLED.__getitem__, doubled)) + sum(map(_VALUE.__getitem__, single))
    return ALPHABET[-total % 32]


def new_key() -> str:
    """A fresh random key, grouped for printing."""
    return new_key_and_digest()[0]


def new_key_and_digest() -> tuple[str, str]:
    """A fresh key and its digest (what generation stores), without parsing it back."""
    return new_keys_and_digests(1)[0]


def new_keys_and_digests(count: int) -> list[tuple[str, str]]:
    """`count` fresh keys with their digests: one call to the random source and the encoder
    for the lot (a generation makes 240,000)."""
    encoded = base64.b32encode(secrets.token_bytes(_RANDOM_BYTES * count)).decode()
    encoded = encoded.translate(_CROCKFORD)
    out = []
    for start in range(0, len(encoded), _ENCODED):
        body = encoded[start : start + BODY_LENGTH]
        whole = body + _check_char(body)
        grouped = f"{whole[0:4]}-{whole[4:8]}-{whole[8:12]}-{whole[12:16]}-{whole[16:20]}"
        out.append((grouped, _digest_of(whole)))
    return out


def _digest_of(whole: str) -> str:
    return hashlib.sha256(_DIGEST_PREFIX + whole.encode()).hexdigest()


def format_key(canonical: str) -> str:
    return "-".join(canonical[i : i + GROUP] for i in range(0, len(canonical), GROUP))


def canonical(text: str) -> str:
    """The key's 20 characters in upper case, look-alikes mapped; Mistyped if it cannot be one."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    if len(cleaned) != KEY_LENGTH or any(ch not in _VALUE for ch in cleaned):
        raise Mistyped(cleaned)
    mapped = "".join(ALPHABET[_VALUE[ch]] for ch in cleaned)
    if _check_char(mapped[:BODY_LENGTH]) != mapped[BODY_LENGTH]:
        raise Mistyped(cleaned)
    return mapped


def key_digest(text: str) -> str:
    """What is stored for a key (hex SHA-256 of its canonical form); Mistyped if it is not one."""
    return _digest_of(canonical(text))
