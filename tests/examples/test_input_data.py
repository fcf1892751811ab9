import gzip
import io
import os

import numpy as np
import pytest

from tensorflux.examples.tutorials.mnist import input_data


def _idx(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist_dir(directory, n_train, n_test, gz=True, seed=0):
    rng = np.random.RandomState(seed)
    arrays = {
        input_data.TRAIN_IMAGES: (rng.randint(0, 256, (n_train, 28, 28)), 2051),
        input_data.TRAIN_LABELS: (rng.randint(0, 10, n_train), 2049),
        input_data.TEST_IMAGES: (rng.randint(0, 256, (n_test, 28, 28)), 2051),
        input_data.TEST_LABELS: (rng.randint(0, 10, n_test), 2049),
    }
    os.makedirs(directory, exist_ok=True)
    for name, (array, magic) in arrays.items():
        data = _idx(array, magic)
        if gz:
            (directory / name).write_bytes(gzip.compress(data))
        else:
            (directory / name[:-3]).write_bytes(data)
    return {name: array for name, (array, _) in arrays.items()}


class _Named(io.BytesIO):
    name = "some-file-idx3-ubyte"


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(gz):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    labels = np.array([3, 7])
    image_bytes, label_bytes = _idx(images, 2051), _idx(labels, 2049)
    if gz:
        image_bytes, label_bytes = gzip.compress(image_bytes), gzip.compress(label_bytes)
    got = input_data.extract_images(_Named(image_bytes))
    assert got.shape == (2, 3, 4, 1) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[..., 0], images)
    np.testing.assert_array_equal(input_data.extract_labels(_Named(label_bytes)), labels)
    one_hot = input_data.extract_labels(_Named(label_bytes), one_hot=True)
    np.testing.assert_array_equal(one_hot.argmax(1), labels)
    assert one_hot.shape == (2, 10) and one_hot.sum() == 2


def test_bad_magic_names_the_file():
    labels = _idx(np.array([1, 2]), 2049)
    with pytest.raises(ValueError, match=r"Invalid magic number 2049 .*some-file-idx3-ubyte.*2051"):
        input_data.extract_images(_Named(labels))
    with pytest.raises(ValueError, match="Invalid magic number 2051"):
        input_data.extract_labels(_Named(_idx(np.zeros((1, 2, 2)), 2051)))


@pytest.mark.parametrize("cut", [2, 10, 20])
def test_truncated_file_names_the_file(cut):
    data = _idx(np.zeros((2, 3, 3)), 2051)[:-cut] if cut != 2 else b"\x00\x00"
    with pytest.raises(ValueError, match="some-file-idx3-ubyte is truncated"):
        input_data.extract_images(_Named(data))


def test_truncated_gzip_names_the_file():
    data = gzip.compress(_idx(np.zeros((20, 28, 28)), 2051))[:-30]
    with pytest.raises(ValueError, match="some-file-idx3-ubyte is a damaged or truncated gzip"):
        input_data.extract_images(_Named(data))


@pytest.mark.parametrize("gz", [True, False])
def test_read_data_sets_from_idx_files(tmp_path, gz):
    arrays = _write_mnist_dir(tmp_path, n_train=30, n_test=8, gz=gz)
    data = input_data.read_data_sets(str(tmp_path), validation_size=10)
    assert data.train.num_examples == 20 and data.validation.num_examples == 10
    assert data.test.images.shape == (8, 784) and data.test.images.dtype == np.float32
    train_images = arrays[input_data.TRAIN_IMAGES].reshape(30, 784)
    np.testing.assert_allclose(data.validation.images, train_images[:10] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.train.labels, arrays[input_data.TRAIN_LABELS][10:])
    assert 0.0 <= data.train.images.min() and data.train.images.max() <= 1.0


def test_one_hot_uint8_and_no_reshape(tmp_path):
    arrays = _write_mnist_dir(tmp_path, n_train=12, n_test=4)
    data = input_data.read_data_sets(tmp_path, one_hot=True, dtype=np.uint8, reshape=False,
                                     validation_size=2)
    assert data.train.images.shape == (10, 28, 28, 1) and data.train.images.dtype == np.uint8
    assert data.test.labels.shape == (4, 10) and data.test.labels.dtype == np.float32
    np.testing.assert_array_equal(data.test.labels.argmax(1), arrays[input_data.TEST_LABELS])


def test_out_of_range_validation_size_on_real_files_is_an_error(tmp_path):
    _write_mnist_dir(tmp_path, n_train=30, n_test=8)
    with pytest.raises(ValueError, match="between 0 and 30. Received: 5000"):
        input_data.read_data_sets(tmp_path)  # default 5000, as TF would refuse


def test_partial_directory_is_an_error_not_a_rebuild(tmp_path):
    _write_mnist_dir(tmp_path, n_train=3, n_test=2)
    os.remove(tmp_path / input_data.TEST_LABELS)
    with pytest.raises(ValueError, match="lacks t10k-labels-idx1-ubyte.gz"):
        input_data.read_data_sets(tmp_path, validation_size=1)


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mnist") / "MNIST_data"


def test_sklearn_fallback_builds_real_idx_files(digits_dir, caplog):
    data = input_data.read_data_sets(str(digits_dir), one_hot=True, seed=1)
    assert "built IDX files from scikit-learn's handwritten digits (1797 images" in caplog.text
    assert "using 139 (10%) for validation" in caplog.text
    for name in (input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS, input_data.TEST_IMAGES,
                 input_data.TEST_LABELS):
        with open(digits_dir / name, "rb") as f:
            assert f.read(2) == b"\x1f\x8b"
    with open(digits_dir / input_data.TRAIN_IMAGES, "rb") as f:
        images = input_data.extract_images(f)
    assert images.shape == (1397, 28, 28, 1) and images.max() == 255
    assert images[:, :2].max() == 0  # the 2-pixel border is blank
    assert data.train.num_examples == 1258 and data.validation.num_examples == 139
    assert data.test.num_examples == 400
    assert data.train.images.shape == (1258, 784) and data.train.labels.shape == (1258, 10)
    assert set(data.test.labels.argmax(1)) == set(range(10))


def test_sklearn_fallback_is_reused_not_rebuilt(digits_dir, caplog):
    input_data.read_data_sets(str(digits_dir))
    before = os.stat(digits_dir / input_data.TRAIN_IMAGES).st_mtime_ns
    data = input_data.read_data_sets(str(digits_dir), validation_size=100)
    assert os.stat(digits_dir / input_data.TRAIN_IMAGES).st_mtime_ns == before
    assert data.validation.num_examples == 100 and data.train.num_examples == 1297


def _dataset(n=10, seed=0):
    images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2, 1)
    return input_data.DataSet(images, np.arange(n), seed=seed)


def test_next_batch_shapes_and_scaling():
    ds = _dataset()
    images, labels = ds.next_batch(3)
    assert images.shape == (3, 4) and labels.shape == (3,) and images.dtype == np.float32
    np.testing.assert_allclose(images * 255.0, np.stack([np.arange(4 * i, 4 * i + 4)
                                                         for i in labels]), atol=1e-4)


def test_each_epoch_covers_every_example_once_and_reshuffles():
    ds = _dataset(n=10, seed=3)
    epochs = []
    for _ in range(3):
        labels = np.concatenate([ds.next_batch(5)[1] for _ in range(2)])
        assert sorted(labels) == list(range(10))
        epochs.append(list(labels))
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]
    assert ds.epochs_completed == 2  # the third epoch's last batch ended exactly on the boundary


def test_batch_crossing_an_epoch_boundary():
    ds = _dataset(n=10, seed=4)
    first = ds.next_batch(7)[1]
    crossing = ds.next_batch(7)[1]
    assert ds.epochs_completed == 1
    assert sorted(np.concatenate([first, crossing[:3]])) == list(range(10))
    assert len(set(crossing[3:])) == 4
    big = ds.next_batch(25)[1]  # more than a whole epoch
    assert big.shape == (25,) and ds.epochs_completed == 3


def test_no_shuffle_keeps_order():
    ds = _dataset(n=5)
    assert list(ds.next_batch(3, shuffle=False)[1]) == [0, 1, 2]
    assert list(ds.next_batch(3, shuffle=False)[1]) == [3, 4, 0]


def test_fake_data_and_dataset_checks():
    data = input_data.read_data_sets("/nonexistent", fake_data=True, one_hot=True)
    images, labels = data.train.next_batch(4)
    assert np.asarray(images).shape == (4, 784) and np.asarray(labels).shape == (4, 10)
    with pytest.raises(ValueError, match="as many examples"):
        input_data.DataSet(np.zeros((3, 2, 2, 1)), np.zeros(2))
    with pytest.raises(TypeError, match="uint8 or float32"):
        input_data.DataSet(np.zeros((3, 2, 2, 1)), np.zeros(3), dtype=np.float64)
