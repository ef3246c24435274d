"""Parameters of the synthetic screen: one frozen dataclass, every size and rate a field."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["BASES", "SynthParams"]

#: Base channels in canonical order; the crosstalk matrix and reads use this order.
BASES: tuple[str, ...] = ("G", "T", "A", "C")


@dataclass(frozen=True)
class SynthParams:
    """Everything that defines a synthetic optical pooled screen.

    The defaults describe a small but realistic screen: one plate, two wells, four tiles
    with cells plus one empty tile per well, nine SBS cycles at 10x-like sampling and
    phenotype images of the same fields of view at twice the pixel density. Rates and
    magnitudes follow what real screens show (a few percent decay per cycle, about one
    percent base errors, moderate channel crosstalk), so an algorithm that works here is
    not merely working on an easy case. The same ``seed`` always gives the same screen.

    Lengths are in SBS pixels unless the name says otherwise; intensities are in camera
    units (ADU, gain 1 e-/ADU, so shot noise is Poisson in ADU).

    Attributes
    ----------
    seed : int
        Master seed; every tile, well and the library derive their own stream from it.
    plate : str
        Plate identifier used in file names.
    wells : tuple of str
        Wells of the plate.
    tiles_per_well : int
        Tiles with cells per well, indices ``0 .. tiles_per_well - 1``.
    empty_tile : bool
        Add one tile per well (index ``tiles_per_well``) with no cells, only background
        and a few stray amplicons, as a well edge or an empty field would look.
    n_cycles : int
        SBS cycles, also the length of the barcode prefix read in situ.
    sbs_tile_shape : tuple of int
        (Y, X) of an SBS tile.
    phenotype_scale : int
        Phenotype pixels per SBS pixel along each axis; the phenotype tile covers the same
        field of view.
    sbs_channels, phenotype_channels : tuple of str
        Channel names in canonical order (what ``preprocess`` outputs after any flip).
    sbs_pixel_size_um : float
        SBS pixel size in micrometres; phenotype pixel size is this over ``phenotype_scale``.
    cell_density : float
        Cells per SBS pixel squared (before edge clipping); the default gives about 180
        cells on a 512 x 512 tile, a sub-confluent monolayer with touching neighbours.
    nucleus_radius : tuple of float
        Range of the nucleus mean radius.
    nucleus_eccentricity : tuple of float
        Range of the ratio of the short to the long nucleus axis.
    nucleus_irregularity : float
        Sigma of the outline's second harmonic; harmonic k has sigma / (k - 1), so
        outlines are lumpy ellipses rather than stars.
    cell_to_nucleus : tuple of float
        Range of cell radius over nucleus radius.
    cell_irregularity : float
        Sigma of the cell outline's second harmonic; harmonic k has sigma / sqrt(k - 1).
    n_genes, sgrnas_per_gene, n_nontargeting : int
        Library composition.
    library_skew : float
        Sigma of the log-normal sgRNA abundance, as in real pooled libraries.
    min_hamming : int
        Minimal pairwise Hamming distance between library prefixes.
    p_no_barcode, p_two_barcodes, p_outside_library : float
        Fractions of cells with no barcode, with a second barcode, or with a barcode that
        is not in the library.
    second_barcode_fraction : float
        Fraction of a two-barcode cell's spots that carry the second barcode.
    spots_per_cell : tuple of int
        Inclusive range of amplicon spots per barcoded cell.
    nuclear_spot_weight : float
        Relative density of spots over the nucleus versus the cytoplasm.
    background_spot_density : float
        Amplicon spots outside cells per SBS pixel squared.
    spot_sigma : float
        Gaussian PSF sigma of a spot in SBS pixels.
    spot_intensity : float
        Median peak intensity of a spot at cycle 0 (ADU above background).
    spot_intensity_sigma : float
        Sigma of the log-normal spot brightness between spots.
    spot_cycle_jitter : float
        Sigma of the log-normal brightness change of one spot from cycle to cycle.
    channel_gains : tuple of float
        Gain of each base channel (G, T, A, C).
    crosstalk : tuple of tuple
        ``((source, target, fraction), ...)``: a fraction of the dye in ``source`` is seen
        in channel ``target`` (for example G bleeding into T).
    cycle_decay : float
        Fractional signal loss per cycle.
    base_error_rate : float
        Probability that a spot reports a wrong base in a cycle.
    max_cycle_shift : float
        Cycle-to-cycle stage shifts are uniform in ``[-max, max]`` per axis (SBS pixels).
    max_channel_shift : float
        Phenotype channel shifts relative to DAPI, uniform in ``[-max, max]`` (phenotype
        pixels).
    camera_offset : float
        Constant camera offset added to every pixel (not affected by illumination).
    background : float
        Optical background (autofluorescence, out-of-focus light) before illumination.
    read_noise : float
        Gaussian read-noise sigma.
    vignetting : tuple of float
        Range of the relative brightness drop from the field centre to a corner.
    dapi_intensity, cytoplasm_autofluorescence : float
        Nuclear DAPI peak and cytoplasmic signal in the base channels.
    dapi_cycle_bleach : float
        Fractional DAPI loss per cycle.
    coxiv_intensity, cenpa_focus_intensity, wga_intensity : float
        Phenotype stain brightness.
    cenpa_foci : tuple of int
        Range of CENPA foci per nucleus in cells without a CENPA effect.
    coxiv_gene : str
        Gene whose knock-out multiplies COXIV by ``coxiv_fold``.
    coxiv_fold : float
        The COXIV effect.
    cenpa_gene : str
        Gene whose knock-out adds ``cenpa_extra_foci`` foci per nucleus.
    cenpa_extra_foci : int
        The CENPA effect.
    geometry : str
        ``tile``: each phenotype tile is its SBS tile's field of view at
        ``phenotype_scale`` (fast tests). ``well``: cells are placed once per well; the
        ``tiles_per_well`` SBS tiles (a square number) lie on a grid with
        ``tile_overlap``; phenotype tiles have as many pixels as SBS tiles, so about
        ``phenotype_scale**2`` of them cover an SBS tile, on a grid of their own in a
        frame rotated by ``phenotype_rotation_deg``, scaled by ``1 + phenotype_scale_error``
        and shifted by ``phenotype_offset_um`` against the SBS frame; every recorded stage
        position jitters by ``stage_jitter_um``. No empty tile in this geometry.
    """

    seed: int = 0
    plate: str = "1"
    wells: tuple[str, ...] = ("A1", "A2")
    tiles_per_well: int = 4
    empty_tile: bool = True
    n_cycles: int = 9
    sbs_tile_shape: tuple[int, int] = (512, 512)
    phenotype_scale: int = 2
    sbs_channels: tuple[str, ...] = ("DAPI", "G", "T", "A", "C")
    phenotype_channels: tuple[str, ...] = ("DAPI", "COXIV", "CENPA", "WGA")
    sbs_pixel_size_um: float = 1.3
    # cells
    cell_density: float = 7e-4
    nucleus_radius: tuple[float, float] = (6.0, 10.0)
    nucleus_eccentricity: tuple[float, float] = (0.65, 1.0)
    nucleus_irregularity: float = 0.06
    cell_to_nucleus: tuple[float, float] = (1.7, 2.5)
    cell_irregularity: float = 0.12
    # library and barcodes
    n_genes: int = 20
    sgrnas_per_gene: int = 4
    n_nontargeting: int = 10
    library_skew: float = 0.5
    min_hamming: int = 3
    p_no_barcode: float = 0.06
    p_two_barcodes: float = 0.06
    p_outside_library: float = 0.04
    second_barcode_fraction: float = 0.4
    # amplicons
    spots_per_cell: tuple[int, int] = (5, 15)
    nuclear_spot_weight: float = 0.3
    background_spot_density: float = 3e-4
    spot_sigma: float = 1.2
    spot_intensity: float = 1200.0
    spot_intensity_sigma: float = 0.4
    spot_cycle_jitter: float = 0.12
    channel_gains: tuple[float, float, float, float] = (1.0, 0.8, 1.15, 0.9)
    crosstalk: tuple[tuple[str, str, float], ...] = (("G", "T", 0.25), ("A", "C", 0.2))
    cycle_decay: float = 0.03
    base_error_rate: float = 0.01
    # geometry of acquisition
    max_cycle_shift: float = 3.0
    max_channel_shift: float = 1.5
    # camera
    camera_offset: float = 100.0
    background: float = 120.0
    read_noise: float = 3.0
    vignetting: tuple[float, float] = (0.3, 0.45)
    # stains
    dapi_intensity: float = 2500.0
    dapi_cycle_bleach: float = 0.02
    cytoplasm_autofluorescence: float = 40.0
    coxiv_intensity: float = 900.0
    cenpa_focus_intensity: float = 700.0
    cenpa_foci: tuple[int, int] = (8, 20)
    wga_intensity: float = 1200.0
    # known per-gene phenotypes
    coxiv_gene: str = "GENE01"
    coxiv_fold: float = 2.0
    cenpa_gene: str = "GENE02"
    cenpa_extra_foci: int = 20
    # geometry of the well (merge)
    geometry: str = "tile"
    tile_overlap: float = 0.1
    phenotype_rotation_deg: float = 0.2
    phenotype_scale_error: float = 0.001
    phenotype_offset_um: tuple[float, float] = (35.0, -22.0)
    stage_jitter_um: float = 1.5

    def __post_init__(self) -> None:
        if self.geometry not in ("tile", "well"):
            raise ValueError(f"geometry must be 'tile' or 'well'; got {self.geometry!r}.")
        if self.geometry == "well" and math.isqrt(self.tiles_per_well) ** 2 != self.tiles_per_well:
            raise ValueError(
                f"tiles_per_well must be a square number (4, 9, ...) for the well geometry; "
                f"got {self.tiles_per_well}."
            )
        if len(self.sbs_channels) != 5 or tuple(self.sbs_channels[1:]) != BASES:
            raise ValueError(
                f"sbs_channels must be ('DAPI', 'G', 'T', 'A', 'C') in some naming of DAPI; "
                f"got {self.sbs_channels!r}."
            )
        if self.phenotype_channels[0] != "DAPI" or len(self.phenotype_channels) != 4:
            raise ValueError(
                "phenotype_channels must be four channels starting with 'DAPI'; "
                f"got {self.phenotype_channels!r}."
            )
        for name in ("n_cycles", "tiles_per_well", "phenotype_scale"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}.")
        if min(self.sbs_tile_shape) < 32:
            raise ValueError(f"sbs_tile_shape must be at least 32 x 32; got {self.sbs_tile_shape}.")
        for source, target, _ in self.crosstalk:
            if source not in BASES or target not in BASES:
                raise ValueError(f"crosstalk bases must be among {BASES}; got {source}->{target}.")
        if self.coxiv_gene == self.cenpa_gene:
            raise ValueError("coxiv_gene and cenpa_gene must differ.")

    @property
    def phenotype_tile_shape(self) -> tuple[int, int]:
        """(Y, X) of a phenotype tile.

        The SBS field of view at ``phenotype_scale``, or in the well geometry as many pixels
        as an SBS tile (so a field of view ``phenotype_scale`` times smaller per axis).
        """
        if self.geometry == "well":
            return tuple(self.sbs_tile_shape)
        return (
            self.sbs_tile_shape[0] * self.phenotype_scale,
            self.sbs_tile_shape[1] * self.phenotype_scale,
        )

    @property
    def phenotype_pixel_size_um(self) -> float:
        """Phenotype pixel size in micrometres."""
        return self.sbs_pixel_size_um / self.phenotype_scale

    @property
    def tiles(self) -> tuple[int, ...]:
        """All SBS tile indices of a well, the empty tile last."""
        if self.geometry == "well":
            return tuple(range(self.tiles_per_well))
        return tuple(range(self.tiles_per_well + (1 if self.empty_tile else 0)))

    @property
    def phenotype_tiles(self) -> tuple[int, ...]:
        """All phenotype tile indices of a well (those of the SBS tiles, or their own grid)."""
        if self.geometry != "well":
            return self.tiles
        return tuple(range(self.phenotype_grid**2))

    @property
    def sbs_grid(self) -> int:
        """SBS tiles per side of a well (well geometry)."""
        return math.isqrt(self.tiles_per_well)

    @property
    def phenotype_grid(self) -> int:
        """Phenotype tiles per side of a well, enough to cover its SBS tiles."""
        step = 1 - self.tile_overlap
        extent = self.sbs_tile_shape[0] * (self.sbs_grid * step + self.tile_overlap)
        return math.ceil((extent * self.phenotype_scale + 80 / self.phenotype_pixel_size_um)
                         / (self.phenotype_tile_shape[0] * step))  # fmt: skip

    def is_empty_tile(self, tile: int) -> bool:
        """Whether ``tile`` is the cell-free tile."""
        return self.geometry == "tile" and self.empty_tile and tile == self.tiles_per_well

    def crosstalk_matrix(self) -> np.ndarray:
        """Return the (4, 4) mixing matrix over G, T, A, C: ``observed = M @ true``.

        It includes the channel gains (``M = diag(gains) @ (I + leak)``), so the relation
        holds exactly for the noise-free spot intensities.
        """
        leak = np.eye(4)
        for source, target, fraction in self.crosstalk:
            leak[BASES.index(target), BASES.index(source)] += fraction
        return np.diag(np.asarray(self.channel_gains, dtype=float)) @ leak

    def to_dict(self) -> dict[str, object]:
        """Return the parameters as plain JSON-ready values."""
        return dataclasses.asdict(self)
