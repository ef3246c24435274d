"""Turn raw acquisitions into the pipeline's tile format: one (C, Y, X) uint16 array."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from opsflow.errors import InputFileError, OpsflowError
from opsflow.io import RawImage

__all__ = [
    "PLANE_ORDERS",
    "convert_raw",
    "convert_tile",
    "converted_channel_names",
    "converted_shape",
    "to_cyx",
]

#: How a file without a Z axis interleaves ``n_z_planes`` planes with channels:
#: ``"zc"``: all channels of plane 0, then of plane 1 (channel varies fastest);
#: ``"cz"``: all planes of channel 0, then of channel 1 (plane varies fastest).
PLANE_ORDERS = ("zc", "cz")
_KNOWN = set("TPZCYX")


def _normalise_axes(image: np.ndarray, axes: str) -> tuple[np.ndarray, str]:
    """Squeeze singleton T/P, name an unnamed leading axis C, add a missing C axis."""
    axes = axes.upper()
    if len(axes) != image.ndim:
        raise OpsflowError(
            f"axes {axes!r} name {len(axes)} dimensions but the image has shape {image.shape}."
        )
    if axes[-2:] != "YX":
        raise OpsflowError(f"expected the last two axes to be 'YX', found axes {axes!r}.")
    unknown = [a for a in axes if a not in _KNOWN]
    if unknown:
        if len(unknown) == 1 and "C" not in axes:
            axes = axes.replace(unknown[0], "C")
        else:
            raise OpsflowError(
                f"cannot tell which of the axes {axes!r} is the channel axis; expected letters "
                f"among {''.join(sorted(_KNOWN))} with at most one unnamed axis."
            )
    for axis in "TP":
        if axis in axes:
            i = axes.index(axis)
            if image.shape[i] != 1:
                raise OpsflowError(
                    f"expected one {axis} per tile, found {image.shape[i]} along axis {axis} "
                    f"of an image with axes {axes!r}."
                )
            image = image.squeeze(axis=i)
            axes = axes.replace(axis, "")
    if "C" not in axes:
        image = image[np.newaxis]
        axes = "C" + axes
    return image, axes


def to_cyx(
    image: np.ndarray,
    *,
    axes: str,
    n_z_planes: int | None = None,
    plane_order: str = "zc",
) -> np.ndarray:
    """Bring one raw image to (C, Y, X), max-projecting z.

    Parameters
    ----------
    image : numpy.ndarray
        Pixels as stored in the file.
    axes : str
        One letter per dimension (``Z``, ``C``, ``Y``, ``X``, singleton ``T``/``P``; one
        unnamed axis such as tifffile's ``Q``/``I`` is taken to be channels).
    n_z_planes : int, optional
        Planes per channel. With a ``Z`` axis it is checked against it; without one the
        channel axis is taken to hold ``C * n_z_planes`` planes ordered as ``plane_order``
        says (acquisition software often writes z-stacks as a flat page sequence).
    plane_order : {"zc", "cz"}
        Interleaving of a flat plane sequence, see :data:`PLANE_ORDERS`.

    Returns
    -------
    numpy.ndarray
        (C, Y, X), same dtype; the maximum over z where there are several planes, the
        usual projection for thin in-situ amplicon and stain signals.
    """
    if plane_order not in PLANE_ORDERS:
        raise OpsflowError(f"plane_order must be one of {PLANE_ORDERS}; got {plane_order!r}.")
    if n_z_planes is not None and n_z_planes < 1:
        raise OpsflowError(f"n_z_planes must be at least 1; got {n_z_planes}.")
    image, axes = _normalise_axes(np.asarray(image), axes)
    if "Z" in axes:
        image = np.moveaxis(image, [axes.index("Z"), axes.index("C")], [0, 1])
        if n_z_planes is not None and image.shape[0] != n_z_planes:
            raise OpsflowError(
                f"expected {n_z_planes} z planes (n_z_planes), found {image.shape[0]} along "
                f"axis Z of an image with axes {axes!r}."
            )
        return image.max(axis=0)
    image = np.moveaxis(image, axes.index("C"), 0)
    if n_z_planes is None or n_z_planes == 1:
        return image
    planes = image.shape[0]
    if planes % n_z_planes:
        raise OpsflowError(
            f"expected a plane count divisible by n_z_planes={n_z_planes}, found {planes} planes."
        )
    n_channels = planes // n_z_planes
    if plane_order == "zc":
        stack = image.reshape(n_z_planes, n_channels, *image.shape[1:])
        return stack.max(axis=0)
    stack = image.reshape(n_channels, n_z_planes, *image.shape[1:])
    return stack.max(axis=1)


def _as_uint16(image: np.ndarray) -> np.ndarray:
    """Convert to uint16 without changing any value; refuse what cannot be kept exact."""
    if image.dtype == np.uint16:
        return image
    if image.size == 0:
        return image.astype(np.uint16)
    lo, hi = image.min(), image.max()
    if np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)) or not np.array_equal(image, np.round(image)):
            raise OpsflowError(
                f"expected integer-valued pixels to store as uint16, found non-integer "
                f"{image.dtype} values."
            )
    elif not np.issubdtype(image.dtype, np.integer) and image.dtype != np.bool_:
        raise OpsflowError(f"expected integer or float pixels, found dtype {image.dtype}.")
    if lo < 0 or hi > np.iinfo(np.uint16).max:
        raise OpsflowError(
            f"expected pixel values in 0..65535 to store as uint16, found {lo}..{hi} "
            f"({image.dtype})."
        )
    return image.astype(np.uint16)


def convert_tile(
    images: Sequence[np.ndarray],
    *,
    axes: Sequence[str],
    n_z_planes: int | None = None,
    plane_order: str = "zc",
    channel_order_flip: bool = False,
) -> np.ndarray:
    """Join the raw files of one tile (and cycle) into one (C, Y, X) uint16 array.

    Parameters
    ----------
    images : sequence of numpy.ndarray
        The tile's raw images in acquisition order (one file, or one file per channel
        group); joined along channels in this order.
    axes : sequence of str
        Axis letters of each image, see :func:`to_cyx`.
    n_z_planes, plane_order
        Z handling, see :func:`to_cyx`.
    channel_order_flip : bool
        Reverse the joined channel order. Some acquisition set-ups record channels in
        the reverse of the configured order (for example C, A, T, G, DAPI); flipping
        here gives every later step the canonical order.

    Returns
    -------
    numpy.ndarray
        (C, Y, X) uint16 with exactly the stored values.
    """
    if len(images) == 0:
        raise OpsflowError("expected at least one image for the tile, found none.")
    if len(axes) != len(images):
        raise OpsflowError(
            f"expected one axes string per image, found {len(axes)} for {len(images)} images."
        )
    parts = [
        to_cyx(image, axes=ax, n_z_planes=n_z_planes, plane_order=plane_order)
        for image, ax in zip(images, axes, strict=True)
    ]
    yx = {p.shape[1:] for p in parts}
    if len(yx) != 1:
        raise OpsflowError(
            f"expected all images of a tile to share one (Y, X) size, found {sorted(yx)}."
        )
    joined = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
    if channel_order_flip:
        joined = joined[::-1]
    return np.ascontiguousarray(_as_uint16(joined))


def converted_channel_names(
    raws: Sequence[RawImage],
    *,
    channel_order_flip: bool = False,
    configured: Sequence[str] | None = None,
) -> tuple[str, ...] | None:
    """Return the channel names of the converted tile: from the files, else configured.

    The files' names are joined in order and flipped like the pixels; ``configured`` is the
    canonical order (already after any flip) and is used when a file lacks names.
    """
    if all(r.channel_names for r in raws):
        names = tuple(n for r in raws for n in (r.channel_names or ()))
        return names[::-1] if channel_order_flip else names
    return tuple(configured) if configured is not None else None


def convert_raw(
    raws: Sequence[RawImage],
    *,
    n_z_planes: int | None = None,
    plane_order: str = "zc",
    channel_order_flip: bool = False,
) -> np.ndarray:
    """Apply :func:`convert_tile` to raw images as returned by ``opsflow.io.read_raw_image``.

    Errors name the files, so a bad acquisition is found without a debugger.
    """
    try:
        return convert_tile(
            [r.data for r in raws],
            axes=[r.axes for r in raws],
            n_z_planes=n_z_planes,
            plane_order=plane_order,
            channel_order_flip=channel_order_flip,
        )
    except InputFileError:
        raise
    except OpsflowError as exc:
        names = ", ".join(str(r.path) for r in raws)
        raise InputFileError(f"{names}: {exc}") from exc


def converted_shape(
    shapes: Sequence[tuple[int, ...]],
    *,
    axes: Sequence[str],
    n_z_planes: int | None = None,
    plane_order: str = "zc",
) -> tuple[int, int, int]:
    """(C, Y, X) that :func:`convert_tile` makes of files of these shapes, without pixels.

    Runs the same axis logic as the conversion on 1 x 1 stand-ins for the planes, so the
    preflight check and the conversion can never disagree about channel counts.
    """
    parts = [
        to_cyx(np.zeros((*shape[:-2], 1, 1), np.uint8), axes=ax, n_z_planes=n_z_planes,
               plane_order=plane_order)
        for shape, ax in zip(shapes, axes, strict=True)
    ]  # fmt: skip
    yx = {tuple(shape[-2:]) for shape in shapes}
    if len(yx) != 1:
        raise OpsflowError(
            f"expected all images of a tile to share one (Y, X) size, found {sorted(yx)}."
        )
    ny, nx = yx.pop()
    return sum(p.shape[0] for p in parts), ny, nx
