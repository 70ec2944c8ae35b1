"""What may be shown of a commenter in public: a masked name at most, and only with consent."""
from __future__ import annotations


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 张小祥 → 张*祥, 欧阳小明 → 欧**明, Alice Smith → A*********h."""
    if not name or not name.strip():
        return None
    name = name.strip()
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
