"""Rules for text typed by the public, shared by the web forms, the API and the services."""
from __future__ import annotations

import re

# Tabs and line breaks are text; other control characters are not (PostgreSQL refuses NUL outright).
CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # a character class body, also used in the OpenAPI patterns
CONTROL_CHARACTERS = re.compile(f"[{CONTROL}]")


def one_line_break(value: str | None) -> str | None:
    """Browsers send a line break as CR LF but count it as one character: count it as one here too."""
    return value.replace("\r\n", "\n") if value else value
