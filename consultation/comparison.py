"""The comparison table (修改对照表): two versions of a draft aligned article by article.

Articles are aligned by their text, not by their number, so that renumbering (第五条 becomes 第六条), inserted
and deleted articles, splits, merges and moves between chapters are recognised:

1. identical texts are paired first;
2. the remaining articles are paired greedily by the Dice coefficient of their character bigrams (Chinese has
   no spaces: characters and their neighbours are the words a reader recognises), best pairs first;
3. an article still alone that is mostly contained in another (its bigrams) joins that article's group: one old
   article and several new ones is a split, several old and one new a merge;
4. a pair out of the order of the rest (outside the longest increasing run) or in another chapter than its
   neighbours went to is marked as moved.

Inside a row the texts are compared character by character with diff-match-patch (Google's Myers diff with a
semantic clean-up), so that a change reads as whole phrases and punctuation stays a change of its own.
"""
from __future__ import annotations

import bisect
import enum
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from diff_match_patch import diff_match_patch

PAIR_THRESHOLD = 0.5     # Dice of bigrams for two articles to be the same article changed
CONTAIN_THRESHOLD = 0.7  # share of an article's bigrams found in another for it to be a part of it
CONTAIN_MIN_BIGRAMS = 6  # a very short article (本办法自发布之日起施行) is never taken for a part of another
DIFF_TIMEOUT = 0.5       # seconds diff-match-patch may spend on one row before it settles for a coarser diff
_JOIN = "\u2029"         # joins the articles of a split or merged group; never in a parsed article


class ArticleLike(Protocol):
    seq: int
    label: str
    chapter: str | None
    text: str


class ChangeKind(str, enum.Enum):
    UNCHANGED = "unchanged"  # 未修改
    MODIFIED = "modified"    # 修改
    INSERTED = "inserted"    # 新增
    DELETED = "deleted"      # 删除
    SPLIT = "split"          # 拆分
    MERGED = "merged"        # 合并
    MOVED = "moved"          # 移动


class Op(str, enum.Enum):
    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


@dataclass(frozen=True)
class ArticleSide:
    """One article in a row, with its text cut into equal and changed segments."""

    seq: int
    label: str
    chapter: str | None
    text: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Row:
    kind: ChangeKind
    old: tuple[ArticleSide, ...]
    new: tuple[ArticleSide, ...]
    moved: bool = False

    @property
    def text_changed(self) -> bool:
        return any(s.op is not Op.EQUAL for side in self.old + self.new for s in side.segments)

    @property
    def renumbered(self) -> bool:
        return [a.label for a in self.old] != [a.label for a in self.new] and bool(self.old) and bool(self.new)


@dataclass
class Comparison:
    rows: list[Row]
    counts: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind != ChangeKind.UNCHANGED)

    def counterparts(self) -> dict[int, tuple[int, ...]]:
        """Map each old article's seq to the seqs of the new articles it became."""
        return {a.seq: tuple(b.seq for b in row.new) for row in self.rows for a in row.old}


def _bigrams(text: str) -> frozenset[str]:
    text = "".join(text.split())
    return frozenset(text[i:i + 2] for i in range(len(text) - 1)) or frozenset([text])


def _pair_by_similarity(old_grams, new_grams, old_free, new_free) -> list[tuple[int, int]]:
    candidates = []
    for i in old_free:
        a = old_grams[i]
        for j in new_free:
            b = new_grams[j]
            total = len(a) + len(b)
            if 2 * min(len(a), len(b)) < PAIR_THRESHOLD * total:
                continue  # even if one were inside the other they would be too unlike
            score = 2 * len(a & b) / total
            if score >= PAIR_THRESHOLD:
                candidates.append((-score, abs(i - j), i, j))
    candidates.sort()
    pairs, used_old, used_new = [], set(), set()
    for _, _, i, j in candidates:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((i, j))
    return pairs


def _part_of(grams: frozenset[str], others: list[frozenset[str]]) -> int | None:
    """Return the index of the article that contains most of ``grams``, if one contains enough."""
    if len(grams) < CONTAIN_MIN_BIGRAMS:
        return None
    best, best_share = None, CONTAIN_THRESHOLD
    for k, other in enumerate(others):
        share = len(grams & other) / len(grams)
        if share >= best_share:
            best, best_share = k, share
    return best


def _longest_increasing(values: list[int]) -> set[int]:
    """Return the positions of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    tail_pos: list[int] = []
    previous = [-1] * len(values)
    for pos, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_pos.append(pos)
        else:
            tails[k] = value
            tail_pos[k] = pos
        previous[pos] = tail_pos[k - 1] if k else -1
    keep, pos = set(), tail_pos[-1] if tail_pos else -1
    while pos >= 0:
        keep.add(pos)
        pos = previous[pos]
    return keep


def char_diff(old: str, new: str) -> list[tuple[Op, str]]:
    """Compare two texts character by character, cleaned up so that changes read as phrases."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    diffs = dmp.diff_main(old, new, False)
    dmp.diff_cleanupSemantic(diffs)
    ops = {0: Op.EQUAL, 1: Op.INSERT, -1: Op.DELETE}
    return [(ops[op], text) for op, text in diffs if text]


def _sides(articles: Sequence[ArticleLike], segments: list[Segment]) -> tuple[ArticleSide, ...]:
    """Cut the segments of a joined text back into one list per article (the joins are dropped)."""
    per_article: list[list[Segment]] = [[] for _ in articles]
    k = 0
    for seg in segments:
        for n, piece in enumerate(seg.text.split(_JOIN)):
            if n:
                k = min(k + 1, len(articles) - 1)
            if piece:
                per_article[k].append(Segment(seg.op, piece))
    return tuple(ArticleSide(a.seq, a.label, a.chapter, a.text, tuple(s)) for a, s in zip(articles, per_article, strict=True))


def _row(kind: ChangeKind, old: Sequence[ArticleLike], new: Sequence[ArticleLike], moved: bool = False) -> Row:
    old_text, new_text = _JOIN.join(a.text for a in old), _JOIN.join(a.text for a in new)
    if old_text == new_text:
        diffs = [(Op.EQUAL, old_text)] if old_text else []
    else:
        diffs = char_diff(old_text, new_text)
    old_segments = [Segment(op, t) for op, t in diffs if op is not Op.INSERT]
    new_segments = [Segment(op, t) for op, t in diffs if op is not Op.DELETE]
    return Row(kind, _sides(old, old_segments), _sides(new, new_segments), moved)


def _groups(n_old: int, n_new: int, edges: list[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """Return the connected groups of old and new articles linked by ``edges`` (union-find)."""
    parent = list(range(n_old + n_new))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges:
        parent[find(i)] = find(n_old + j)
    members: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for i, j in edges:
        root = find(i)
        if i not in members[root][0]:
            members[root][0].append(i)
        if j not in members[root][1]:
            members[root][1].append(j)
    return [(sorted(o), sorted(n)) for o, n in members.values()]


def _moved(groups: list[tuple[list[int], list[int]]], old, new) -> set[int]:
    """Return the indexes of the groups that moved: out of order, or into another chapter than their chapter."""
    by_old = sorted(range(len(groups)), key=lambda g: groups[g][0][0])
    in_order = {by_old[p] for p in _longest_increasing([groups[g][1][0] for g in by_old])}
    went_to: dict[str | None, Counter] = defaultdict(Counter)
    for o, n in groups:
        went_to[old[o[0]].chapter][new[n[0]].chapter] += 1
    chapter_of = {chapter: counts.most_common(1)[0][0] for chapter, counts in went_to.items()}
    return {g for g, (o, n) in enumerate(groups)
            if g not in in_order or new[n[0]].chapter != chapter_of[old[o[0]].chapter]}


def compare(old: Sequence[ArticleLike], new: Sequence[ArticleLike]) -> Comparison:
    """Align the articles of two versions and compare each aligned group character by character."""
    # 1. identical texts
    edges: list[tuple[int, int]] = []
    waiting: dict[str, list[int]] = defaultdict(list)
    for j, b in enumerate(new):
        waiting[b.text].append(j)
    for i, a in enumerate(old):
        if waiting.get(a.text):
            edges.append((i, waiting[a.text].pop(0)))
    # 2. similar texts, best pairs first
    old_grams, new_grams = [_bigrams(a.text) for a in old], [_bigrams(b.text) for b in new]
    old_free = [i for i in range(len(old)) if i not in {e[0] for e in edges}]
    new_free = [j for j in range(len(new)) if j not in {e[1] for e in edges}]
    edges += _pair_by_similarity(old_grams, new_grams, old_free, new_free)
    # 3. parts: an article alone that lies mostly inside another
    paired_old, paired_new = {e[0] for e in edges}, {e[1] for e in edges}
    parts = [(i, j) for j in range(len(new)) if j not in paired_new
             if (i := _part_of(new_grams[j], old_grams)) is not None]
    parts += [(i, j) for i in range(len(old)) if i not in paired_old
              if (j := _part_of(old_grams[i], new_grams)) is not None]
    groups = _groups(len(old), len(new), edges + parts)
    moved = _moved(groups, old, new)

    keyed: list[tuple[tuple, Row]] = []
    row_at_old: dict[int, int] = {}
    for g, (o, n) in enumerate(groups):
        olds, news = [old[i] for i in o], [new[j] for j in n]
        if len(o) > 1:
            kind = ChangeKind.MERGED
        elif len(n) > 1:
            kind = ChangeKind.SPLIT
        elif g in moved:
            kind = ChangeKind.MOVED
        elif olds[0].text == news[0].text:
            kind = ChangeKind.UNCHANGED
        else:
            kind = ChangeKind.MODIFIED
        keyed.append(((n[0], 0, 0), _row(kind, olds, news, moved=g in moved)))
        for i in o:
            row_at_old[i] = n[0]
    grouped_new = {j for _, n in groups for j in n}
    keyed += [((j, 0, 0), _row(ChangeKind.INSERTED, [], [b])) for j, b in enumerate(new) if j not in grouped_new]
    # A deleted article stands after the row of the nearest earlier old article that is still there.
    anchor = -1
    for i, a in enumerate(old):
        if i in row_at_old:
            anchor = row_at_old[i]
        else:
            keyed.append(((anchor, 1, i), _row(ChangeKind.DELETED, [a], [])))
    keyed.sort(key=lambda pair: pair[0])
    rows = [row for _, row in keyed]
    return Comparison(rows, Counter(row.kind for row in rows))
