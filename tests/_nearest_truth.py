"""Independent truth for the k-nearest query: brute-force snapping and networkx Dijkstra.

Shared by the engine's tests (``tests/geo/test_engine_nearest.py``) and the API's
(``tests/api/test_nearest.py``); deliberately slow and simple.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import shapely

from geo.modes import WALK_SPEED_KPH

WALK_MS = WALK_SPEED_KPH / 3.6


def _street_times(net, mode):
    """Per street edge: fastest time along / against its digitised direction (inf if barred)."""
    g = net.mode(mode)
    fwd = np.full(net.n_edges, np.inf)
    bwd = np.full(net.n_edges, np.inf)
    for e, rev, t in zip(g.edge.tolist(), g.reverse.tolist(), g.time_s.tolist(), strict=True):
        t = max(t, 1e-3)
        if rev:
            bwd[e] = min(bwd[e], t)
        else:
            fwd[e] = min(fwd[e], t)
    return fwd, bwd


def _brute_snap(net, mode, x, y):
    """Nearest usable street by the distance to every street (no spatial index)."""
    fwd, bwd = _street_times(net, mode)
    usable = np.flatnonzero(np.isfinite(fwd) | np.isfinite(bwd))
    lines = np.array([net.edge_line(i) for i in usable], dtype=object)
    out = []
    for px, py in zip(x, y, strict=True):
        p = shapely.Point(px, py)
        d = shapely.distance(p, lines)
        j = int(np.argmin(d))
        f = lines[j].project(p) / lines[j].length if lines[j].length > 0 else 0.0
        out.append((int(usable[j]), float(f), float(d[j])))
    return out


def _part(portion, t):
    return 0.0 if portion == 0 else portion * t


def brute_nearest(net, mode, q_xy, f_xy, members, k):
    """k nearest facilities of each query point: networkx Dijkstra on an extended graph."""
    fwd, bwd = _street_times(net, mode)
    base = net.to_networkx(mode)
    fac = _brute_snap(net, mode, *f_xy)
    answers = []
    for e_q, f_q, d_q in _brute_snap(net, mode, *q_xy):
        g = nx.DiGraph(base)
        u, v, ln = int(net.edge_u[e_q]), int(net.edge_v[e_q]), float(net.edge_length_m[e_q])
        for node, t, m in (
            (v, _part(1 - f_q, fwd[e_q]), (1 - f_q) * ln),
            (u, _part(f_q, bwd[e_q]), f_q * ln),
        ):
            if np.isfinite(t):
                g.add_edge("q", node, time_s=t + d_q / WALK_MS, length_m=m + d_q)
        for j in members:
            e_f, f_f, d_f = fac[j]
            fu, fv, fl = int(net.edge_u[e_f]), int(net.edge_v[e_f]), float(net.edge_length_m[e_f])
            for node, t, m in (
                (fu, _part(f_f, fwd[e_f]), f_f * fl),
                (fv, _part(1 - f_f, bwd[e_f]), (1 - f_f) * fl),
            ):
                if np.isfinite(t):
                    g.add_edge(node, ("f", j), time_s=t + d_f / WALK_MS, length_m=m + d_f)
            if e_f == e_q:  # along the shared street
                delta = f_f - f_q
                t = _part(abs(delta), fwd[e_f] if delta >= 0 else bwd[e_f])
                if np.isfinite(t):
                    g.add_edge(
                        "q",
                        ("f", j),
                        time_s=t + (d_q + d_f) / WALK_MS,
                        length_m=abs(delta) * fl + d_q + d_f,
                    )
        dist, paths = nx.single_source_dijkstra(g, "q", weight="time_s")
        found = sorted((dist[("f", j)], j) for j in members if ("f", j) in dist)[:k]
        answers.append(
            [
                (j, t, sum(g[a][b]["length_m"] for a, b in itertools.pairwise(paths[("f", j)])))
                for t, j in found
            ]
        )
    return answers
