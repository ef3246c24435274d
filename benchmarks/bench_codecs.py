"""Blosc codecs and levels on microscopy chunks: bytes kept and encode/decode speed, in one run.

Run: ``.venv/bin/python benchmarks/bench_codecs.py [--repeat 3]``. Chunks of 512 x 512
(the exports' default) from a synthetic SBS tile (uint16, every cycle and channel), a
phenotype tile (uint16) and its cell mask (int32 labels), encoded on one thread as the
exports do per chunk. Sizes and speeds are printed against zstd level 3 with byte
shuffle (opsflow's default before it moved to level 1), measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import numcodecs
import numpy as np
from numcodecs import Blosc

from opsflow.io import ExportOptions
from opsflow.synth import SynthParams, make_phenotype_tile, make_sbs_tile

_CASES = [("zstd", 3, Blosc.SHUFFLE), ("zstd", 1, Blosc.SHUFFLE), ("zstd", 5, Blosc.SHUFFLE),
          ("zstd", 1, Blosc.BITSHUFFLE), ("lz4", 5, Blosc.SHUFFLE)]  # fmt: skip


def _chunks(image: np.ndarray, size: int = 512) -> list[np.ndarray]:
    planes = image.reshape(-1, *image.shape[-2:])
    return [np.ascontiguousarray(p[y : y + size, x : x + size])
            for p in planes for y in range(0, p.shape[0], size)
            for x in range(0, p.shape[1], size)]  # fmt: skip


def _measure(chunks: list[np.ndarray], codec: Blosc, repeat: int) -> tuple[int, float, float]:
    """Encoded bytes and the best encode and decode seconds of ``repeat`` runs."""
    encode = decode = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        encoded = [codec.encode(c) for c in chunks]
        encode = min(encode, time.perf_counter() - start)
        start = time.perf_counter()
        for e in encoded:
            codec.decode(e)
        decode = min(decode, time.perf_counter() - start)
    return sum(len(e) for e in encoded), encode, decode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    numcodecs.blosc.set_nthreads(1)
    params = SynthParams(seed=0)
    sbs, phenotype = make_sbs_tile(params, "A1", 0), make_phenotype_tile(params, "A1", 0)
    images = {"SBS tile uint16": sbs.image, "phenotype uint16": phenotype.image,
              "cell mask int32": phenotype.cells.astype(np.int32)}  # fmt: skip
    default = ExportOptions()
    print(f"opsflow default: {default.compression} level {default.compression_level}")
    print(f"{'image':<18}{'codec':<22}{'ratio':>7}{'size vs zstd3':>15}"
          f"{'encode MB/s':>13}{'encode vs zstd3':>17}{'decode MB/s':>13}")  # fmt: skip
    for name, image in images.items():
        chunks = _chunks(image)
        raw = sum(c.nbytes for c in chunks)
        base = None
        for cname, level, shuffle in _CASES:
            codec = Blosc(cname=cname, clevel=level, shuffle=shuffle)
            size, encode, decode = _measure(chunks, codec, args.repeat)
            base = base or (size, encode)
            label = f"{cname} {level} {'bit' if shuffle == Blosc.BITSHUFFLE else 'byte'}shuffle"
            print(f"{name:<18}{label:<22}{raw / size:>7.2f}{size / base[0]:>15.3f}"
                  f"{raw / encode / 1e6:>13.0f}{base[1] / encode:>17.2f}"
                  f"{raw / decode / 1e6:>13.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
