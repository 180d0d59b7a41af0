"""Network picture: the most central organisations of a sponsor network as a PNG, communities coloured.

Only the top N organisations by PageRank are drawn (N configurable), so the picture reads at a glance
whatever the size of the corpus; node size is the weighted degree, edge width the number of shared trials.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import networkx as nx

FIGSIZE = (16, 11)  # inches
DPI = 150
LABEL_WIDTH = 26  # characters per label line
LABEL_LINES = 2
# tab10 without its grey, then tab20's light tones: distinct colours, none mistaken for "other".
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
           "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5")
OTHER_COLOUR = "#c8c8c8"  # communities with a single organisation in the picture, or past the palette
LEGEND_NAME = 32  # characters of the top member's name in the legend
MIN_NODE, MAX_NODE = 120, 1800  # marker areas in points^2


def _label(text: str) -> str:
    lines = textwrap.wrap(text, LABEL_WIDTH) or [""]
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        lines[-1] = lines[-1][: LABEL_WIDTH - 1].rstrip() + "…"
    return "\n".join(lines)


def top_nodes(g: nx.Graph, top: int) -> list[str]:
    return sorted(g, key=lambda u: (-g.nodes[u].get("pagerank", 0.0), u))[:top]


def _spread(pos: dict[str, Any], min_dist: float, rounds: int = 200) -> None:
    """Push apart nodes closer than ``min_dist`` so their labels do not sit on each other."""
    nodes = sorted(pos)
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                dx, dy = pos[b][0] - pos[a][0], pos[b][1] - pos[a][1]
                d = math.hypot(dx, dy)
                if d < min_dist:
                    if d == 0:
                        dx, dy, d = 1e-3, 0.0, 1e-3
                    push = (min_dist - d) / 2
                    ux, uy = dx / d * push, dy / d * push
                    pos[a] = (pos[a][0] - ux, pos[a][1] - uy)
                    pos[b] = (pos[b][0] + ux, pos[b][1] + uy)
                    moved = True
        if not moved:
            break


def draw(g: nx.Graph, path: Path, top: int = 30, summary: dict[str, Any] | None = None, seed: int = 42) -> None:
    """Draw the ``top`` organisations by PageRank and the edges among them into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    plt.rcParams["svg.hashsalt"] = "trialkg"
    nodes = top_nodes(g, top)
    sub = g.subgraph(nodes)
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    ax.set_axis_off()
    if not nodes:
        ax.text(0.5, 0.5, "no organisations match the filters", ha="center", va="center", fontsize=16)
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
        plt.close(fig)
        return
    # Layout on an unweighted copy: heavy edges would otherwise pull pairs onto one spot.
    pos = nx.spring_layout(nx.Graph(sub.edges()) if sub.number_of_edges() else sub, seed=seed,
                           k=2.2 / math.sqrt(len(nodes)), iterations=300)
    for u in nodes:  # isolated top nodes are absent from the edge-only copy
        pos.setdefault(u, (0.0, 0.0))
    pos = {u: (float(x), float(y)) for u, (x, y) in sorted(pos.items())}
    _spread(pos, min_dist=0.32 if len(nodes) <= 40 else 0.22)

    shown = Counter(sub.nodes[u].get("community", -1) for u in nodes)
    coloured = sorted(c for c, k in shown.items() if k > 1)[: len(PALETTE)]
    colour: dict[int, Any] = defaultdict(lambda: OTHER_COLOUR, {c: PALETTE[i] for i, c in enumerate(coloured)})
    wdeg = [max(sub.nodes[u].get("weighted_degree", 0), 0) for u in nodes]
    hi = max(wdeg) or 1
    sizes = [MIN_NODE + (MAX_NODE - MIN_NODE) * math.sqrt(w / hi) for w in wdeg]
    weights = [d.get("weight", 1) for _, _, d in sub.edges(data=True)]
    wmax = max(weights, default=1)
    nx.draw_networkx_edges(sub, pos, ax=ax, width=[0.6 + 4.0 * w / wmax for w in weights],
                           alpha=0.35, edge_color="#555555")
    nx.draw_networkx_nodes(sub, pos, nodelist=nodes, ax=ax, node_size=sizes, linewidths=0.8, edgecolors="white",
                           node_color=[colour[sub.nodes[u].get("community", -1)] for u in nodes])
    for u in nodes:
        x, y = pos[u]
        ax.annotate(_label(sub.nodes[u].get("label", u)), (x, y), xytext=(0, -14), textcoords="offset points",
                    ha="center", va="top", fontsize=9,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.25, max(xs) + 0.25)
    ax.set_ylim(min(ys) - 0.3, max(ys) + 0.15)

    by_id = {c["id"]: c for c in (summary or {}).get("communities", [])}
    handles = []
    for c in coloured:
        info = by_id.get(c, {})
        name = textwrap.shorten(info["top"][0], LEGEND_NAME, placeholder="…") if info.get("top") else f"#{c}"
        mix = f", {round(100 * info['industry_share'])}% industry" if info else ""
        handles.append(Line2D([], [], marker="o", ls="", markersize=10, color=colour[c],
                              label=f"{name} ({info.get('size', '?')} orgs{mix})"))
    if len(coloured) < len(shown):
        handles.append(Line2D([], [], marker="o", ls="", markersize=10, color=OTHER_COLOUR,
                              label="other communities"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False,
              title="Louvain communities (named by their most central member)", title_fontsize=10)
    counts = (summary or {}).get("counts", {})
    title = f"Top {len(nodes)} organisations by PageRank"
    if counts:
        title += (f" — {counts.get('trials', 0):,} trials, {counts.get('organisations', 0):,} organisations, "
                  f"{counts.get('edges', 0):,} ties, {counts.get('communities', 0):,} communities")
    ax.set_title(title, fontsize=13)
    ax.text(1.0, 0.0, "node size: weighted degree (shared trials)\nedge width: shared trials",
            transform=ax.transAxes, ha="left", va="bottom", fontsize=8, color="#444444")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
