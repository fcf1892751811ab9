"""The MNIST loader of TensorFlow's 2016 tutorials: `input_data.read_data_sets(dir)`.

Reads the four MNIST IDX files (gzip'd or not) from `train_dir`. This machine cannot
download, so when none of the files is there the loader never touches the network: it
builds stand-in IDX files from scikit-learn's bundled handwritten digits (1797 8x8 images,
upscaled to 28x28; 1397 train, 400 test), says so on the log, and reads those back through
the same IDX reader. Real MNIST files placed in `train_dir` are always preferred.
"""

import collections
import gzip
import os
import zlib

import numpy as np

from tensorflux.platform import gfile
from tensorflux.platform import tf_logging as logging

__all__ = [
    "read_data_sets", "load_mnist", "DataSet", "Datasets", "extract_images", "extract_labels",
    "dense_to_one_hot",
]

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
NUM_CLASSES = 10

# Written next to the stand-in IDX files, so later loads know they are not MNIST.
DIGITS_MARKER = "tensorflux_digits_stand_in.txt"
DIGITS_TEST_SIZE = 400
DIGITS_SPLIT_SEED = 20160101

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


# -- IDX reading ---------------------------------------------------------------------------
def _decompress_if_gzip(data, name):
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError("MNIST file %s is a damaged or truncated gzip file: %s" % (name, exc))


def _parse_idx(data, name, expected_magic, kind):
    """Returns the uint8 array stored in IDX bytes `data`, checking magic and length."""
    ndim = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[expected_magic]
    header_size = 4 * (1 + ndim)
    if len(data) < 4:
        raise ValueError("MNIST %s file %s is truncated: %d bytes, too short for a magic number"
                         % (kind, name, len(data)))
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError("Invalid magic number %d in MNIST %s file %s: expected %d"
                         % (magic, kind, name, expected_magic))
    if len(data) < header_size:
        raise ValueError("MNIST %s file %s is truncated: %d bytes, the header needs %d"
                         % (kind, name, len(data), header_size))
    dims = [int.from_bytes(data[4 * i:4 * i + 4], "big") for i in range(1, ndim + 1)]
    if max(dims) >= 1 << 31:  # (NumPy cannot even shape an empty array [0, 2**32-1, 2**32-1])
        raise ValueError("MNIST %s file %s is corrupt: header says shape %s" % (kind, name, dims))
    expected = 1
    for d in dims:  # Python ints: np.prod wraps past 2**63 and a lying header would pass
        expected *= d
    body = len(data) - header_size
    if body < expected:
        raise ValueError("MNIST %s file %s is truncated: header says shape %s (%d bytes of "
                         "data) but only %d bytes follow" % (kind, name, dims, expected, body))
    return np.frombuffer(data, dtype=np.uint8, count=expected, offset=header_size).reshape(dims)


def _read_file(f):
    name = getattr(f, "name", "<stream>")
    data = f.read()
    if isinstance(data, str):
        raise ValueError("MNIST file %s must be opened in binary mode ('rb')" % name)
    return _decompress_if_gzip(data, name), name


def extract_images(f):
    """Reads an IDX image file object (gzip'd or not) into a uint8 array [N, rows, cols, 1].

    Raises:
      ValueError: on a bad magic number (not 2051) or a truncated file, naming the file.
    """
    data, name = _read_file(f)
    images = _parse_idx(data, name, IMAGES_MAGIC, "image")
    return images[..., np.newaxis]


def dense_to_one_hot(labels_dense, num_classes):
    """Converts class labels [N] to one-hot rows [N, num_classes] (float64, as TF's did)."""
    labels_dense = np.asarray(labels_dense)
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense.astype(np.int64)] = 1
    return one_hot


def extract_labels(f, one_hot=False, num_classes=NUM_CLASSES):
    """Reads an IDX label file object into uint8 labels [N], or one-hot [N, num_classes].

    Raises:
      ValueError: on a bad magic number (not 2049) or a truncated file, naming the file.
    """
    data, name = _read_file(f)
    labels = _parse_idx(data, name, LABELS_MAGIC, "label")
    return dense_to_one_hot(labels, num_classes) if one_hot else labels


def _locate(train_dir, filename):
    """Returns the path of `filename` in train_dir, or of its un-gzip'd twin; else None."""
    for candidate in (filename, filename[:-len(".gz")]):
        path = os.path.join(train_dir, candidate)
        if gfile.Exists(path):
            return path
    return None


def _load(path, extract, **kwargs):
    print("Extracting %s" % path)
    with gfile.GFile(path, "rb") as f:
        return extract(f, **kwargs)


# -- the stand-in built from scikit-learn's digits -----------------------------------------
def _upscale_digits(images8):
    """[N, 8, 8] values 0..16 -> [N, 28, 28] uint8: bilinear 3x to 24x24, 2-pixel border.

    A contrast curve (v - 0.5) * 2, clipped to [0, 1], thins the blurred strokes so the images
    are about as sparse as MNIST's (mean 0.11 and 22% of pixels lit; MNIST: 0.13 and 19%). With
    the bare upscale the images are dense enough that the talk's summed loss at learning rate
    0.01 drives softmax to exactly 0 and the loss to NaN in some runs (TensorFlow too).
    """
    coords = np.clip((np.arange(24) + 0.5) / 3.0 - 0.5, 0, 7)  # [24] source positions
    lo = np.floor(coords).astype(np.int64)
    hi = np.minimum(lo + 1, 7)
    w = coords - lo
    rows = images8[:, lo, :] * (1 - w)[:, None] + images8[:, hi, :] * w[:, None]  # [N, 24, 8]
    full = rows[:, :, lo] * (1 - w) + rows[:, :, hi] * w  # [N, 24, 24]
    full = np.pad(full, ((0, 0), (2, 2), (2, 2)))  # [N, 28, 28]
    full = np.clip((full / 16.0 - 0.5) * 2.0, 0.0, 1.0)
    return np.round(full * 255.0).astype(np.uint8)


def _idx_bytes(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _write_gz_atomically(path, payload):
    with gfile.GFile(path, "wb") as f:  # 'wb' GFiles replace the target atomically on close
        f.write(gzip.compress(payload, mtime=0))


def _build_digits_idx(train_dir):
    """Writes the four IDX files into train_dir from sklearn's digits; marker file first."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "MNIST files not found in %s and scikit-learn is not installed to build a "
            "stand-in; put the four MNIST files (%s) there or pip install scikit-learn"
            % (train_dir, ", ".join(_FILES))) from None
    digits = load_digits()
    images = _upscale_digits(digits.images.astype(np.float64))
    labels = digits.target.astype(np.uint8)
    order = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(len(labels))
    test, train = order[:DIGITS_TEST_SIZE], order[DIGITS_TEST_SIZE:]
    gfile.MakeDirs(train_dir)
    with gfile.GFile(os.path.join(train_dir, DIGITS_MARKER), "w") as f:
        f.write("The IDX files in this directory are not MNIST. tensorflux built them from "
                "scikit-learn's handwritten digits (%d images, 8x8 upscaled to 28x28): "
                "%d train, %d test. Replace them with the real MNIST files and delete this "
                "file to use MNIST.\n" % (len(labels), len(train), len(test)))
    contents = {
        TRAIN_IMAGES: (images[train], IMAGES_MAGIC),
        TRAIN_LABELS: (labels[train], LABELS_MAGIC),
        TEST_IMAGES: (images[test], IMAGES_MAGIC),
        TEST_LABELS: (labels[test], LABELS_MAGIC),
    }
    for filename, (array, magic) in contents.items():
        _write_gz_atomically(os.path.join(train_dir, filename), _idx_bytes(array, magic))
    logging.warning("MNIST files not found in %s; built IDX files from scikit-learn's "
                    "handwritten digits (%d images, 8x8 upscaled to 28x28)",
                    train_dir, len(labels))


def _ensure_files(train_dir):
    """Returns (paths of the four files, whether they are the digits stand-in)."""
    stand_in = gfile.Exists(os.path.join(train_dir, DIGITS_MARKER))
    paths = [_locate(train_dir, name) for name in _FILES]
    missing = [name for name, path in zip(_FILES, paths) if path is None]
    if missing and (stand_in or len(missing) == len(_FILES)):
        _build_digits_idx(train_dir)
        return [_locate(train_dir, name) for name in _FILES], True
    if missing:
        raise ValueError("MNIST directory %s lacks %s (found the other files; the loader "
                         "cannot download)" % (train_dir, ", ".join(missing)))
    return paths, stand_in


# -- DataSet -------------------------------------------------------------------------------
def _numpy_dtype(dtype):
    # Accepts numpy dtypes, strings and graph DType objects (which carry as_numpy_dtype).
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


class DataSet:
    """Images and labels with `next_batch`, reshuffled every epoch.

    Args:
      images: uint8 [N, rows, cols, 1] (or already [N, features]).
      labels: [N] class ids or [N, num_classes] one-hot rows.
      fake_data: if True, ignore images/labels; next_batch returns constant fake examples.
      one_hot: with fake_data, whether fake labels are one-hot.
      dtype: float32 (images scaled to [0, 1]) or uint8 (kept 0..255).
      reshape: flatten [N, rows, cols, 1] images to [N, rows * cols].
      seed: seed for the shuffling order; None draws a fresh one.
    """

    def __init__(self, images, labels, fake_data=False, one_hot=False, dtype=np.float32,
                 reshape=True, seed=None):
        dtype = _numpy_dtype(dtype)
        if dtype not in (np.dtype(np.uint8), np.dtype(np.float32)):
            raise TypeError("DataSet dtype must be uint8 or float32, got %s" % dtype)
        self._rng = np.random.RandomState(seed)
        self._fake_data = fake_data
        self.one_hot = one_hot
        if fake_data:
            self._num_examples = 10000
        else:
            images, labels = self._check_and_convert(images, labels, dtype, reshape)
            self._num_examples = images.shape[0]
        self._images = images
        self._labels = labels
        self._order = np.arange(self._num_examples)
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @staticmethod
    def _check_and_convert(images, labels, dtype, reshape):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.shape[0] != labels.shape[0]:
            raise ValueError("DataSet images and labels must have as many examples: "
                             "images.shape=%s labels.shape=%s" % (images.shape, labels.shape))
        if reshape and images.ndim == 4:
            if images.shape[3] != 1:
                raise ValueError("DataSet reshape=True needs 1-channel images [N, rows, cols, 1],"
                                 " got shape %s" % (images.shape,))
            images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
        if dtype == np.float32:
            images = images.astype(np.float32) * np.float32(1.0 / 255.0)
        return images, labels

    @property
    def images(self):
        return self._images

    @property
    def labels(self):
        return self._labels

    @property
    def num_examples(self):
        return self._num_examples

    @property
    def epochs_completed(self):
        return self._epochs_completed

    def _fake_batch(self, batch_size):
        image = [1.0] * 784
        label = [1] + [0] * 9 if self.one_hot else 0
        return [image] * batch_size, [label] * batch_size

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """Returns the next `batch_size` (images, labels).

        Within an epoch every example appears once; a batch that runs past the end of an
        epoch takes the rest of it, then (if `shuffle`) reshuffles and continues from the
        start of the next epoch. The first epoch is shuffled too.
        """
        if fake_data or self._fake_data:
            return self._fake_batch(batch_size)
        if self._num_examples == 0:
            raise ValueError("next_batch on an empty DataSet (0 examples)")
        if shuffle and self._epochs_completed == 0 and self._index_in_epoch == 0:
            self._order = self._rng.permutation(self._num_examples)
        pieces, needed = [], batch_size
        while needed > 0:
            if self._index_in_epoch == self._num_examples:
                self._start_next_epoch(shuffle)
            take = min(needed, self._num_examples - self._index_in_epoch)
            pieces.append(self._order[self._index_in_epoch:self._index_in_epoch + take])
            self._index_in_epoch += take
            needed -= take
        index = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        return self._images[index], self._labels[index]

    def _start_next_epoch(self, shuffle):
        self._epochs_completed += 1
        self._index_in_epoch = 0
        if shuffle:
            self._order = self._rng.permutation(self._num_examples)


# -- read_data_sets ------------------------------------------------------------------------
def _validation_count(validation_size, num_train, stand_in):
    if stand_in and validation_size > num_train:
        clipped = num_train // 10
        logging.warning("validation_size=%d exceeds the %d training images of the digits "
                        "stand-in; using %d (10%%) for validation", validation_size, num_train,
                        clipped)
        return clipped
    if not 0 <= validation_size <= num_train:
        raise ValueError("Validation size should be between 0 and %d. Received: %d."
                         % (num_train, validation_size))
    return validation_size


def read_data_sets(train_dir, fake_data=False, one_hot=False, dtype=np.float32, reshape=True,
                   validation_size=5000, seed=None, source_url=None):
    """Loads MNIST from `train_dir` as Datasets(train, validation, test).

    Args:
      train_dir: directory holding the four MNIST files (gzip'd or not). When none is there
        it gets stand-in files built from scikit-learn's digits (see the module docstring).
      fake_data: return fake DataSets (for unit tests), reading nothing.
      one_hot: labels as [N, 10] float32 one-hot rows instead of [N] uint8 class ids.
      dtype: float32 (images in [0, 1]) or uint8.
      reshape: images as [N, 784] rather than [N, 28, 28, 1].
      validation_size: how many leading training images form the validation set. For the
        digits stand-in a size larger than its training set becomes 10% of it.
      seed: shuffling seed for the DataSets.
      source_url: accepted for TF 1.x compatibility and ignored; nothing is downloaded.

    Raises:
      ValueError: on a damaged file (naming it) or an out-of-range validation_size.
    """
    del source_url  # no network here: see the module docstring
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
        return Datasets(train=fake(), validation=fake(), test=fake())

    paths, stand_in = _ensure_files(train_dir)
    train_images = _load(paths[0], extract_images)
    train_labels = _load(paths[1], extract_labels, one_hot=one_hot)
    test_images = _load(paths[2], extract_images)
    test_labels = _load(paths[3], extract_labels, one_hot=one_hot)
    if one_hot:
        train_labels = train_labels.astype(np.float32)
        test_labels = test_labels.astype(np.float32)

    n_val = _validation_count(validation_size, len(train_images), stand_in)
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(
        train=DataSet(train_images[n_val:], train_labels[n_val:], **options),
        validation=DataSet(train_images[:n_val], train_labels[:n_val], **options),
        test=DataSet(test_images, test_labels, **options))


def load_mnist(train_dir="MNIST-data"):
    """TF 1.x's shorthand: read_data_sets(train_dir)."""
    return read_data_sets(train_dir)
