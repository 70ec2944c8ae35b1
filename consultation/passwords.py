"""The password policy for staff accounts (OWASP ASVS 2.1), with the reason for every refusal.

Length alone decides the bounds: 12 to 128 characters, any Unicode character, spaces included, no rules about
character classes (ASVS 2.1.1, 2.1.2, 2.1.4, 2.1.9). A password is refused when it contains the account's
username, name or email address, or when ``zxcvbn`` (Dropbox's estimator: offline, with frequency lists of
leaked passwords, words, names, keyboard patterns, dates, repeats and sequences) finds it too easy to guess
(ASVS 2.1.7). Chinese passwords that the English-centred lists miss (pinyin phrases, 520 and 1314) are added
to its list of leaked passwords.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app, has_app_context
from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.matching import RANKED_DICTIONARIES, add_frequency_lists

MIN_LENGTH, MAX_LENGTH = 12, 128
_ESTIMATED_LENGTH = 72  # zxcvbn's own bound: its work grows with the length; the rest of a longer one only helps
# Shorter usernames (li, wu) are too often part of ordinary words: zxcvbn weighs them instead. Two Chinese
# characters are a whole name (张三).
_PERSONAL_MIN = {True: 3, False: 2}  # by whether the part is ASCII
_DEFAULT_MIN_SCORE = 3  # zxcvbn: 3 resists about 10^10 guesses, 2 only 10^8

# The most frequent passwords of the large Chinese leaks (CSDN, Tianya, 12306 and others, as published in
# password studies) that the lists in zxcvbn lack, most frequent first.
CHINESE_LEAKED = (
    "woaini1314", "5201314", "1314520", "woaini520", "woaini", "woaini1314520", "5211314", "woaiwojia",
    "wodemima", "zhongguo", "iloveyou1314", "aini1314", "woshishui", "caonima", "nihao123", "nihaoma",
    "qq123456", "qq5201314", "a123456", "a123456789", "aa123456", "abc123456", "123456abc", "123456qq",
    "147258369", "1qaz2wsx", "1q2w3e4r", "zxcvbnm", "asdfghjkl", "qwertyuiop", "111222tianya", "dearbook",
    "xiazhili", "huang123", "wang123456", "zhang123", "li123456", "liu123456", "chen123456", "yang123456",
    "zhangwei", "wangwei", "wangfang", "lijing", "zhangmin", "woainima", "beijing", "shanghai", "tianjin",
    "88888888", "66666666", "12344321", "31415926", "110110110", "521521", "1314521", "7758521", "123456789a",
)
if "chinese_leaked" not in RANKED_DICTIONARIES:
    add_frequency_lists({"chinese_leaked": list(CHINESE_LEAKED)})
_LEAKED_LISTS = {"passwords", "chinese_leaked"}


def _min_score() -> int:
    return current_app.config.get("PASSWORD_MIN_SCORE", _DEFAULT_MIN_SCORE) if has_app_context() \
        else _DEFAULT_MIN_SCORE


def _personal_parts(personal: Iterable[str | None]) -> list[str]:
    """The account's identifiers as they may appear in a password: the username, the name with and without
    its bracketed department (王明（住建局）), the email address and its local part."""
    parts: set[str] = set()
    for value in personal:
        value = (value or "").strip().lower()
        if not value:
            continue
        parts.add(value)
        parts.add(re.sub(r"[（(].*?[）)]", "", value).strip())
        if "@" in value:
            parts.add(value.split("@", 1)[0])
    return sorted(p for p in parts if p)


def refusal(password: str, *, personal: Iterable[str | None] = ()) -> str | None:
    """Why this password may not be used, in the user's language; None when it may."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return _("The password needs %(min)d to %(max)d characters.", min=MIN_LENGTH, max=MAX_LENGTH)
    parts = _personal_parts(personal)
    lowered = password.lower()
    if any(len(part) >= _PERSONAL_MIN[part.isascii()] and part in lowered for part in parts):
        return _("The password must not contain the username, the name or the email address of the account.")
    estimate = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=parts)
    if estimate["score"] >= _min_score():
        return None
    return _why_guessable(estimate["sequence"])


def _why_guessable(matches: list[dict]) -> str:
    """The weakest pattern zxcvbn found, said so that the person knows what to avoid."""
    leaked = [m for m in matches if m.get("dictionary_name") in _LEAKED_LISTS]
    if len(matches) == 1 and leaked:
        return _("This password is among the most common or leaked passwords, which attackers try first. "
                 "Choose another one.")
    if leaked:
        return _("This password is a common or leaked password with small changes (capitals, digits, symbols), "
                 "which attackers try first. Choose another one.")
    patterns = {m["pattern"] for m in matches}
    if any(m.get("dictionary_name") == "user_inputs" for m in matches):
        return _("The password is too close to the username, the name or the email address of the account.")
    if "repeat" in patterns:
        return _("Repeated characters or groups (like aaaa or abcabc) are easy to guess. Choose a longer password, "
                 "for example several unrelated words.")
    if "sequence" in patterns:
        return _("Sequences (like abcd or 1234) are easy to guess. Choose a longer password, for example several "
                 "unrelated words.")
    if "spatial" in patterns:
        return _("Keyboard patterns (like qwerty or 1qaz2wsx) are easy to guess. Choose a longer password, for "
                 "example several unrelated words.")
    if "date" in patterns or "regex" in patterns:
        return _("Dates and years are easy to guess. Choose a longer password, for example several unrelated "
                 "words.")
    return _("This password is too easy to guess. Choose a longer password, for example several unrelated words.")
