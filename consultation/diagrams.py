"""Draw a procedure file as a diagram (Graphviz): stages as boxes, transitions as arrows with who acts.

Rendered to SVG by Debian's ``dot`` and cached per procedure, file content and language. Without ``dot``
the admin page still shows the same procedure as tables and names the missing package.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
from functools import lru_cache

import graphviz
from flask_babel import get_locale

from .workflow.definition import Procedure

FONT = "Noto Sans CJK SC"


class DiagramUnavailable(Exception):
    """Graphviz's ``dot`` program is missing or failed."""


def _english() -> bool:
    return str(get_locale()).startswith("en")


def build(procedure: Procedure, english: bool, role_names: dict[str, str]) -> graphviz.Digraph:
    """The procedure as a Graphviz graph, labelled in one language."""
    def title(zh: str, en: str) -> str:
        return en if english else zh

    def roles(names) -> str:
        return "、".join(role_names.get(r, r) for r in names) if not english else ", ".join(
            role_names.get(r, r) for r in names)

    graph = graphviz.Digraph(procedure.id, graph_attr={
        "rankdir": "TB", "fontname": FONT, "nodesep": "0.4", "ranksep": "0.5", "bgcolor": "transparent",
        "label": title(procedure.title, procedure.title_en), "labelloc": "t", "fontsize": "16",
    }, node_attr={"shape": "box", "style": "rounded", "fontname": FONT, "fontsize": "11"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#44475a"})
    for sid, stage in procedure.stages.items():
        label = title(stage.title, stage.title_en)
        if stage.actors:
            label += f"\n({roles(stage.actors)})"
        attrs = {"style": "rounded"}
        if stage.internal:
            attrs = {"style": "rounded,filled", "fillcolor": "#eeeeee"}
        if stage.final:
            attrs["peripheries"] = "2"
        if sid == procedure.initial:
            attrs["penwidth"] = "2"
        graph.node(sid, label, **attrs)
    automatic = "自动" if not english else "automatic"
    for transition in procedure.transitions.values():
        label = title(transition.title, transition.title_en)
        label += f"\n[{automatic}]" if transition.automatic else f"\n{roles(transition.roles)}"
        for source in transition.from_stages:
            graph.edge(source, transition.to, label,
                       style="dashed" if transition.automatic else "solid", id=f"t-{transition.name}-{source}")
    return graph


@lru_cache(maxsize=32)
def _render(dot_source: str) -> str:
    try:
        svg = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True,
                             timeout=30, check=True).stdout.decode("utf-8")
    except FileNotFoundError:
        raise DiagramUnavailable("dot") from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise DiagramUnavailable(str(exc)) from None
    return svg[svg.index("<svg"):]  # drop the XML prolog and doctype: the SVG goes inline in the page


def svg(procedure: Procedure, role_names: dict[str, str]) -> str:
    """The diagram as inline SVG in the page's language; raise DiagramUnavailable without Graphviz."""
    source = build(procedure, _english(), role_names).source
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]
    rendered = _render(source)
    # Give the drawing an accessible name; the tables below the diagram carry the same content as text.
    return re.sub(r"^<svg", f'<svg role="img" aria-labelledby="diagram-title" data-source="{digest}"', rendered)
