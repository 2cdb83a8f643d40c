"""The river (草江) that splits the city; roads cross it only on a few bridges.

The river is a function ``y = f(x)`` in the local frame (control points plus a seeded
meander), which makes "which bank is this point on" a vectorised comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .towns import RIVER_KM, RIVER_WIDTH_M


@dataclass(frozen=True)
class River:
    """Centreline samples ``xs``/``ys`` (m, local frame, increasing ``xs``) and width (m)."""

    xs: np.ndarray
    ys: np.ndarray
    width_m: float

    def y_at(self, x: np.ndarray) -> np.ndarray:
        """Centreline northing (m) at eastings `x` (m)."""
        return np.asarray(np.interp(x, self.xs, self.ys), dtype=float)

    def north(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True for points north of the centreline."""
        return np.asarray(y) > self.y_at(np.asarray(x))

    def gap(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vertical distance (m) to the centreline; at least the true distance."""
        return np.asarray(np.abs(np.asarray(y) - self.y_at(np.asarray(x))), dtype=float)

    def crosses(self, x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
        """True for segments whose ends lie on opposite banks."""
        return np.asarray(self.north(x1, y1) != self.north(x2, y2), dtype=bool)

    def centreline(self) -> shapely.LineString:
        return shapely.LineString(np.column_stack([self.xs, self.ys]))

    def polygon(self) -> shapely.Polygon:
        """Water surface (local frame), for maps."""
        return shapely.buffer(self.centreline(), self.width_m / 2.0, cap_style="flat")


def make_river(rng: np.random.Generator, *, stretch: float) -> River:
    """Meandering river through :data:`RIVER_KM`, lengths multiplied by `stretch`.

    The meander is a sum of three sines with seeded phases, amplitude at most ~350 m (times
    `stretch`), so the river keeps clear of the towns' built-up areas.
    """
    ctrl = np.asarray(RIVER_KM) * 1000.0 * stretch
    xs = np.arange(ctrl[0, 0], ctrl[-1, 0] + 1.0, 50.0)
    base = np.interp(xs, ctrl[:, 0], ctrl[:, 1])
    # Smooth the piecewise-linear control line with a 3 km moving average.
    k = max(1, int(3000.0 / 50.0))
    pad = np.pad(base, k, mode="edge")
    smooth = np.convolve(pad, np.ones(2 * k + 1) / (2 * k + 1), mode="same")[k:-k]
    wavelengths = np.array([2600.0, 4100.0, 7300.0]) * stretch
    amps = np.array([120.0, 140.0, 90.0]) * stretch
    phases = rng.uniform(0.0, 2 * np.pi, size=3)
    meander = (amps[:, None] * np.sin(2 * np.pi * xs[None, :] / wavelengths[:, None]
                                      + phases[:, None])).sum(axis=0)  # fmt: skip
    return River(xs=xs, ys=np.round(smooth + meander, 2), width_m=RIVER_WIDTH_M)
