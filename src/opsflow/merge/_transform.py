"""Similarity transforms of the plane (rotation, one scale, translation) and their fits.

Phenotype and SBS acquisitions of a well differ by a small rotation of the plate, a scale
error of the objectives' pixel sizes and a translation; a similarity is the model the
field uses for that. Fitted in closed form (Umeyama's least squares), with outliers
trimmed by their residuals, since a few false pairs must not move the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Similarity", "fit_similarity", "robust_similarity"]


@dataclass(frozen=True)
class Similarity:
    """``q = scale * R(rotation) @ p + (ty, tx)`` on (y, x) points in micrometres."""

    scale: float = 1.0
    rotation_deg: float = 0.0
    ty: float = 0.0
    tx: float = 0.0

    @property
    def matrix(self) -> np.ndarray:
        """The 2 x 2 linear part acting on (y, x) column vectors."""
        a = math.radians(self.rotation_deg)
        c, s = math.cos(a), math.sin(a)
        return self.scale * np.array([[c, -s], [s, c]])

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform (n, 2) points (y, x)."""
        return np.asarray(points, float) @ self.matrix.T + np.array([self.ty, self.tx])

    def as_dict(self) -> dict[str, float]:
        """Plain numbers, for a table row."""
        return {
            "scale": self.scale,
            "rotation_deg": self.rotation_deg,
            "ty": self.ty,
            "tx": self.tx,
        }


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> Similarity:
    """Least-squares similarity taking ``src`` onto ``dst`` (Umeyama 1991), (n, 2) each."""
    src, dst = np.asarray(src, float), np.asarray(dst, float)
    if len(src) < 2:
        mean = (dst - src).mean(axis=0) if len(src) else np.zeros(2)
        return Similarity(ty=float(mean[0]), tx=float(mean[1]))
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ sign @ vt
    var = (a**2).sum() / len(src)
    scale = float(np.trace(np.diag(d) @ sign) / var) if var > 0 else 1.0
    t = mu_d - scale * rot @ mu_s
    angle = math.degrees(math.atan2(rot[1, 0], rot[0, 0]))
    return Similarity(scale=scale, rotation_deg=angle, ty=float(t[0]), tx=float(t[1]))


def robust_similarity(
    src: np.ndarray, dst: np.ndarray, *, rounds: int = 5, floor_um: float = 0.5
) -> tuple[Similarity, np.ndarray]:
    """A similarity fitted again without the pairs far off it; returns it and the inliers.

    Each round drops pairs whose residual exceeds ``max(floor_um, median + 4 * 1.4826 *
    MAD)`` of the residuals, so up to about a third of false pairs do not bias it.
    """
    keep = np.ones(len(src), bool)
    fit = fit_similarity(src, dst)
    for _ in range(rounds):
        residual = np.linalg.norm(fit.apply(src) - dst, axis=1)
        med = np.median(residual[keep]) if keep.any() else 0.0
        mad = np.median(np.abs(residual[keep] - med)) if keep.any() else 0.0
        new = residual <= max(floor_um, med + 4 * 1.4826 * mad)
        if new.sum() < 2 or (new == keep).all():
            keep = new if new.sum() >= 2 else keep
            break
        keep = new
        fit = fit_similarity(src[keep], dst[keep])
    return fit_similarity(src[keep], dst[keep]), keep
