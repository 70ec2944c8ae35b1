"""Receipt numbers (回执编号): unguessable, easy to read aloud and to type."""
from __future__ import annotations

import secrets

# No 0/O, 1/I/L look-alikes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12  # 31**12 ≈ 8e17 possibilities


def new_receipt_number() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str:
    """Accept what a person types: lower case, spaces and dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def display(number: str) -> str:
    """Group in fours for reading: ABCD-EFGH-JKMN."""
    return "-".join(number[i:i + 4] for i in range(0, len(number), 4))
