"""Reading and checking the IDX files Fashion-MNIST ships as (http://yann.lecun.com/exdb/mnist/):
a 4-byte magic number 0x0000TTNN (TT the element type, 0x08 unsigned byte; NN the number of
dimensions), one big-endian uint32 per dimension, then the data."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"\x00\x00\x08"  # the magic number's first three bytes: unsigned bytes
MAGIC_BYTES = 4
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class IdxFormatError(ValueError):
    """An IDX file is missing, truncated or not what it should be."""


@dataclass(frozen=True)
class IdxFile:
    """What one of the four official files must contain."""

    name: str
    ndim: int
    count: int
    gzip_md5: str | None  # of the .gz as Zalando publishes it: checks downloads
    idx_md5: str | None  # of the uncompressed content: also holds for Debian's recompressed files


FASHION_MNIST_FILES = {
    "train_images": IdxFile("train-images-idx3-ubyte.gz", 3, 60_000,
                            "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train_labels": IdxFile("train-labels-idx1-ubyte.gz", 1, 60_000,
                            "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    "test_images": IdxFile("t10k-images-idx3-ubyte.gz", 3, 10_000,
                           "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
    "test_labels": IdxFile("t10k-labels-idx1-ubyte.gz", 1, 10_000,
                           "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
}


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse uncompressed IDX bytes into a uint8 array, checking header and length."""
    if len(content) < MAGIC_BYTES:
        raise IdxFormatError(f"{source}: too short to hold an IDX header")
    if not content.startswith(MAGIC) or content[3] == 0:
        raise IdxFormatError(f"{source}: wrong magic number 0x{content[:4].hex()} "
                             f"(expected 0x000008NN, unsigned bytes in NN dimensions)")
    header_size = 4 + 4 * content[3]
    if len(content) < header_size:
        raise IdxFormatError(f"{source}: header truncated")
    shape = tuple(int.from_bytes(content[i:i + 4], "big") for i in range(4, header_size, 4))
    if len(content) != (size := header_size + int(np.prod(shape))):
        raise IdxFormatError(f"{source}: holds {len(content)} bytes, but its header {shape} "
                             f"needs {size}")
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def read_idx_gz(path: Path, *, ndim: int, count: int | None = None,
                idx_md5: str | None = None) -> np.ndarray:
    """Read one gzip-compressed IDX file and check it; any failure names the file."""
    try:
        with gzip.open(path, "rb") as stream:
            content = stream.read()
    except FileNotFoundError:
        raise IdxFormatError(f"{path}: file not found") from None
    except (EOFError, OSError, zlib.error) as exc:
        raise IdxFormatError(f"{path}: not a complete gzip file ({exc})") from None
    array = parse_idx(content, str(path))
    if array.ndim != ndim:
        raise IdxFormatError(f"{path}: has {array.ndim} dimensions, expected {ndim} "
                             f"(magic number 0x{content[:4].hex()})")
    if count is not None and len(array) != count:
        raise IdxFormatError(f"{path}: holds {len(array)} items, expected {count}")
    if idx_md5 is not None and (actual := hashlib.md5(content).hexdigest()) != idx_md5:
        raise IdxFormatError(f"{path}: checksum mismatch: MD5 of the uncompressed content is "
                             f"{actual}, the official file has {idx_md5}")
    return array


def check_pair(images: np.ndarray, labels: np.ndarray, source: str) -> None:
    """Images and labels of one split must agree and be Fashion-MNIST shaped."""
    if images.shape[1:] != IMAGE_SHAPE:
        raise IdxFormatError(f"{source}: images are {images.shape[1:]}, expected {IMAGE_SHAPE}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise IdxFormatError(f"{source}: {len(images)} images but labels of shape {labels.shape}")
    if labels.size and labels.max() >= NUM_CLASSES:
        bad = int(np.argmax(labels >= NUM_CLASSES))
        raise IdxFormatError(f"{source}: label {int(labels[bad])} at index {bad} is outside "
                             f"0-{NUM_CLASSES - 1}")
