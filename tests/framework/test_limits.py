"""The per-tensor byte cap (tensorflux/framework/limits.py): kernels whose output size comes
from input values refuse at once with ResourceExhaustedError naming the op and the bytes."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import limits

pytestmark = pytest.mark.timeout(60)


def _refused(build, feeds=None):
    with tf.Graph().as_default():
        holders, out = build()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.ResourceExhaustedError) as info:
                sess.run(out, dict(zip(holders, feeds or [])))
    text = str(info.value)
    assert text.startswith("OOM when allocating tensor with shape["), text
    op = info.value.op  # the allocating op (random_uniform's output is an Add after it)
    assert op is not None and op.graph is out.graph, text
    assert f"{op.type} op '{op.name}'" in text, text
    return text


def _fed(dtype, fn):
    def build():
        p = tf.placeholder(dtype)
        return [p], fn(p)
    return build


def test_range_of_2_31_elements_refused_by_default():
    text = _refused(lambda: ([], tf.range(2 ** 31 - 1)))
    assert "shape[2147483647] and type int32" in text and "8589934588 bytes asked" in text


def test_giant_fill_refused():
    text = _refused(_fed(tf.int32, lambda d: tf.fill(d, 0.5)), [np.array([2 ** 20] * 3)])
    assert "shape[1048576,1048576,1048576] and type float32" in text


@pytest.mark.parametrize("make", [tf.zeros, tf.ones], ids=["zeros", "ones"])
def test_zeros_and_ones_with_fed_shape(make):
    _refused(_fed(tf.int32, lambda d: make(d)), [np.array([2 ** 16, 2 ** 16], np.int32)])


def test_tile_one_hot_random_and_resize():
    _refused(_fed(tf.int32, lambda m: tf.tile([[1.0]], m)), [np.array([2 ** 20, 2 ** 20])])
    _refused(_fed(tf.int32, lambda d: tf.one_hot([1, 2], d)), [np.array(2 ** 30, np.int32)])
    _refused(_fed(tf.int32, lambda s: tf.random_uniform(s)), [np.array([2 ** 20, 2 ** 20])])
    _refused(_fed(tf.int32, lambda s: tf.image.resize_bilinear(tf.zeros([1, 2, 2, 1]), s)),
             [np.array([2 ** 16, 2 ** 16], np.int32)])
    _refused(_fed(tf.int32, lambda s: tf.image.resize_nearest_neighbor(
        tf.zeros([1, 2, 2, 1]), s)), [np.array([2 ** 16, 2 ** 16], np.int32)])


def test_limit_setter_and_context_manager():
    default = limits.get_max_tensor_bytes()
    with limits.max_tensor_bytes(1000):
        assert limits.get_max_tensor_bytes() == 1000
        text = _refused(_fed(tf.int32, lambda d: tf.fill(d, np.float64(1))), [np.array([126])])
        assert "1008 bytes asked, the per-tensor limit is 1000 bytes" in text
        with tf.Graph().as_default(), tf.Session() as sess:  # 1000 bytes: allowed
            assert sess.run(tf.fill([125], np.float64(1))).shape == (125,)
    assert limits.get_max_tensor_bytes() == default
    with pytest.raises(ValueError, match="positive int"):
        limits.set_max_tensor_bytes(0)


def test_whole_file_read_refused(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 100)
    with limits.max_tensor_bytes(50):
        _refused(lambda: ([], tf.read_file(str(path))))


def test_negative_sizes_are_invalid_arguments():
    for fn, feed in [(lambda d: tf.fill(d, 1.0), [-1, 2]), (lambda m: tf.tile([[1.0]], m), [1, -2]),
                     (lambda s: tf.random_normal(s), [-3])]:
        with tf.Graph().as_default():
            p = tf.placeholder(tf.int32)
            with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                                     match="non-negative|must be >= 0"):
                sess.run(fn(p), {p: np.array(feed)})
