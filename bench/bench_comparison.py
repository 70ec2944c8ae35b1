"""Benchmark of the comparison table (修改对照表): a 300-article draft against its revision, beside bare difflib.

    .venv/bin/python -m bench.bench_comparison [--articles 300] [--repeat 7] [--seed 1]

The draft is made of Chinese sentences in chapters of 15 articles, 40 to 240 characters each. The revision
changes it the way drafting offices do: 40 articles reworded in places, 10 inserted, 5 deleted, 3 split, 3
pairs merged, one chapter moved before another, all articles renumbered. Measured, alternating, in one run:

- project: consultation.comparison.compare (alignment by content, then diff-match-patch in each changed row);
- baseline: bare difflib, i.e. SequenceMatcher over the two lists of article texts (identical texts only),
  then a character SequenceMatcher.get_opcodes() on each replaced pair, aligned by position. It finds no
  split, merge or move and pairs a renumbered article only when its text is identical.

Prints the median time of each and the ratio project/baseline. Not a test: nothing passes or fails on the clock.
"""
from __future__ import annotations

import argparse
import difflib
import random
import statistics
import time

from consultation.articles import parse_articles
from consultation.comparison import ChangeKind, compare

SUBJECTS = ["县级以上人民政府", "交通运输主管部门", "公安机关交通管理部门", "住房城乡建设主管部门", "自然资源主管部门",
            "市场监督管理部门", "街道办事处", "乡镇人民政府", "公共停车场经营者", "物业服务企业", "建设单位",
            "机动车驾驶人", "居民委员会", "发展改革部门", "城市管理综合执法部门", "财政部门", "业主大会"]
VERBS = ["应当加强", "负责组织", "可以依法", "应当及时", "不得擅自", "应当会同有关部门", "鼓励", "按照规定",
         "依照职责", "统筹推进", "定期开展", "建立健全", "严格落实", "规范", "指导和监督"]
OBJECTS = ["停车设施专项规划的编制", "公共停车场的建设和运营", "路内停车泊位的设置与撤除", "停车收费标准的公示",
           "充电设施安装条件的预留", "老旧小区停车难问题的治理", "停车信息平台的建设", "违法停车行为的查处",
           "错时共享停车的推广", "停车诱导系统的维护", "机械式立体停车库的安全检验", "新能源汽车充电桩的布设",
           "夜间临时停车区域的划定", "停车服务投诉的受理", "占道施工期间的交通组织", "消防通道的畅通",
           "残疾人专用停车位的设置", "停车场经营备案信息的公开", "地下空间的综合利用", "停车设施用地的供应"]
NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    if n < 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    if n < 100:
        return ("" if tens == 1 else NUMERALS[tens]) + "十" + (NUMERALS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    tail = "" if rest == 0 else ("零" + NUMERALS[rest] if rest < 10 else
                                 ("一" if rest < 20 else "") + chinese_number(rest))
    return NUMERALS[hundreds] + "百" + tail


def sentence(rng: random.Random) -> str:
    parts = [rng.choice(SUBJECTS) + rng.choice(VERBS) + rng.choice(OBJECTS) for _ in range(rng.randint(2, 4))]
    return "，".join(parts) + "。"


def body(chapters: list[tuple[str, list[str]]]) -> str:
    lines, n = ["华城市停车管理办法"], 0
    for c, (title, texts) in enumerate(chapters, start=1):
        lines.append(f"第{chinese_number(c)}章 {title}")
        for text in texts:
            n += 1
            lines.append(f"第{chinese_number(n)}条 {text}")
    return "\n".join(lines)


def drafts(n: int, rng: random.Random) -> tuple[str, str]:
    texts = [f"（{i}）" + sentence(rng) + sentence(rng) for i in range(n)]  # the number keeps each text unique
    chapters = [(f"第{c}部分规定", texts[i:i + 15]) for c, i in enumerate(range(0, n, 15), start=1)]
    revised = [(title, list(items)) for title, items in chapters]
    flat = [(c, k) for c, (_, items) in enumerate(revised) for k in range(len(items))]
    for c, k in rng.sample(flat, 40):  # reworded in places
        text = revised[c][1][k]
        cut = rng.randrange(len(text) // 2)
        revised[c][1][k] = text[:cut] + rng.choice(OBJECTS) + "；" + text[cut + 5:]
    for c in rng.sample(range(len(revised)), 3):  # split
        text = revised[c][1][0]
        revised[c][1][0:1] = [text[:len(text) // 2] + "。", text[len(text) // 2:]]
    for c in rng.sample(range(len(revised)), 3):  # merged
        items = revised[c][1]
        items[1:3] = [items[1].rstrip("。") + "；" + items[2]]
    for c in rng.sample(range(len(revised)), 5):  # deleted
        revised[c][1].pop(-1)
    for c in rng.sample(range(len(revised)), 10):  # inserted
        revised[c][1].insert(rng.randrange(len(revised[c][1]) + 1), "新增：" + sentence(rng) + sentence(rng))
    revised[1], revised[2] = revised[2], revised[1]  # a chapter moved
    return body(chapters), body(revised)


def baseline(old: list[str], new: list[str]) -> int:
    """Bare difflib: identical articles matched in order, replaced blocks diffed pair by pair."""
    changes = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "replace":
            for a, b in zip(old[i1:i2], new[j1:j2], strict=False):  # pairs by position, as a bare diff would
                changes += len(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
        elif tag != "equal":
            changes += max(i2 - i1, j2 - j1)
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    old_body, new_body = drafts(args.articles, random.Random(args.seed))
    old, new = parse_articles(old_body), parse_articles(new_body)
    old_texts, new_texts = [a.text for a in old], [a.text for a in new]
    project_times, baseline_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = compare(old, new)
        project_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        baseline(old_texts, new_texts)
        baseline_times.append(time.perf_counter() - start)
    project, bare = statistics.median(project_times), statistics.median(baseline_times)
    print(f"articles: {len(old)} -> {len(new)}, characters: {len(old_body)} -> {len(new_body)}")
    print("rows: " + ", ".join(f"{k.value} {result.counts[k]}" for k in ChangeKind if result.counts[k]))
    print(f"project compare : median {project * 1000:8.1f} ms  (min {min(project_times) * 1000:.1f}, "
          f"max {max(project_times) * 1000:.1f}, {args.repeat} runs)")
    print(f"bare difflib    : median {bare * 1000:8.1f} ms  (min {min(baseline_times) * 1000:.1f}, "
          f"max {max(baseline_times) * 1000:.1f})")
    print(f"ratio project/baseline: {project / bare:.2f}")


if __name__ == "__main__":
    main()
