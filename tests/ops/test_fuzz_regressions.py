"""Bugs the op fuzzer (tests/op_fuzz.py) found, one test each."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("build", [
    lambda: tf.split(tf.zeros([4]), 2 ** 31 - 1),
    lambda: tf.unstack(tf.zeros([2]), num=2 ** 31 - 1),
    lambda: tf.dynamic_partition(tf.zeros([2]), [0, 1], 2 ** 31 - 1),
], ids=["split", "unstack", "dynamic_partition"])
def test_huge_list_attr_is_refused_at_build_time(build):
    with pytest.raises(ValueError, match="tensors; at most 65536 are supported"):
        build()


def test_negative_list_attr_is_refused():
    with pytest.raises(ValueError, match="of -1 must be at least minimum 0"):
        tf.unstack(tf.zeros([2]), num=-1)


def test_softmax_xent_of_scalars_is_a_value_error():
    with pytest.raises(ValueError, match="Shape must be at least rank 1 but is rank 0"):
        tf.nn.softmax_cross_entropy_with_logits(labels=1.0, logits=np.float32(1.0))


def test_lrn_with_huge_or_negative_radius():
    x = np.random.default_rng(0).uniform(size=(1, 2, 2, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        p = tf.placeholder(tf.float32)
        huge = tf.nn.local_response_normalization(p, depth_radius=2 ** 31 - 1)
        wide = tf.nn.local_response_normalization(p, depth_radius=3)  # covers the depth too
        got_huge, got_wide = sess.run([huge, wide], {p: x})
        np.testing.assert_allclose(got_huge, got_wide, rtol=1e-6)
        grad = tf.gradients(huge, p)[0]
        assert sess.run(grad, {p: x}).shape == x.shape
        with pytest.raises(tf.errors.InvalidArgumentError, match="depth_radius must be non-neg"):
            sess.run(tf.nn.local_response_normalization(p, depth_radius=-1), {p: x})


@pytest.mark.parametrize("build", [
    lambda x: tf.split(0, 3, x), lambda x: tf.split(x, [1, 2], 0), lambda x: tf.unstack(x),
    lambda x: tf.nn.softmax(x, dim=0),
], ids=["split", "split_v", "unstack", "softmax_dim"])
def test_rank0_inputs_to_axis_ops_are_value_errors(build):
    with pytest.raises(ValueError, match="at least rank 1 but is rank 0"):
        build(tf.constant(1.0))


def test_slice_with_begin_and_size_of_different_lengths():
    with pytest.raises(ValueError, match="begin and size arguments to be 1-D tensors of the same"):
        tf.slice(tf.zeros([2, 3]), tf.constant(np.zeros(0, np.int32)), [1, 1])


def test_one_hot_of_no_indices_with_huge_depth_allocates_nothing():
    with tf.Graph().as_default(), tf.Session() as sess:
        p = tf.placeholder(tf.int32)
        out = sess.run(tf.one_hot(p, 2 ** 31 - 1), {p: np.zeros([0, 2], np.int32)})
    assert out.shape == (0, 2, 2 ** 31 - 1) and out.dtype == np.float32


def test_concat_of_scalars_is_refused():
    with pytest.raises(ValueError, match=r"Can't concatenate scalars \(use tf.stack instead\)"):
        tf.concat(0, [tf.constant(1.0), tf.constant(2.0)])


def test_strided_slice_with_begin_end_strides_of_different_lengths():
    with pytest.raises(ValueError, match="begin, end, and strides to be 1D equal size"):
        tf.strided_slice(tf.zeros([3, 3]), [0, 0], [1], [1, 1])


@pytest.mark.parametrize("build", [
    lambda i, d: tf.dynamic_stitch([i], [d]),
    lambda i, d: _strided_slice_grad(i, d),
], ids=["dynamic_stitch", "strided_slice_grad"])
def test_value_sized_outputs_respect_the_tensor_limit(build):
    with tf.Graph().as_default(), tf.Session() as sess:
        i, d = tf.placeholder(tf.int32), tf.placeholder(tf.float32)
        with pytest.raises(tf.errors.ResourceExhaustedError, match="OOM when allocating"):
            sess.run(build(i, d), {i: np.array([2 ** 31 - 1]), d: np.ones([1], np.float32)})


def _strided_slice_grad(shape, dy):
    from tensorflux.framework.op_def_library import apply_op
    return apply_op("StridedSliceGrad", shape, [0], [1], [1], dy)


@pytest.mark.parametrize("build", [
    lambda x, a: tf.cumsum(x, a), lambda x, a: tf.concat(a, [x, x]),
    lambda x, a: tf.split(a, 2, x), lambda x, a: tf.one_hot([1], a),
    lambda x, a: tf.unsorted_segment_sum(x, [0, 1], a), lambda x, a: tf.argmax(x, a),
], ids=["cumsum", "concat", "split", "one_hot", "unsorted_segment_sum", "argmax"])
def test_vector_fed_where_a_scalar_belongs(build):
    """int() of a vector raised NumPy's TypeError inside the kernels."""
    with tf.Graph().as_default(), tf.Session() as sess:
        x, a = tf.placeholder(tf.float32), tf.placeholder(tf.int32)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"must be a scalar, but it has shape \[2\]") as info:
            sess.run(build(x, a), {x: np.ones([2, 2], np.float32), a: np.array([0, 1])})
        assert "TypeError" not in str(info.value)


def test_unsorted_segment_sum_checks_num_segments():
    with tf.Graph().as_default(), tf.Session() as sess:
        n = tf.placeholder(tf.int32)
        out = tf.unsorted_segment_sum(tf.ones([2]), [0, 0], n)
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_segments must be >= 0"):
            sess.run(out, {n: -1})
        with pytest.raises(tf.errors.ResourceExhaustedError, match="UnsortedSegmentSum"):
            sess.run(out, {n: 2 ** 31 - 1})


def test_empty_reductions_and_softmax():
    """NumPy refuses max/min of nothing; TF gives the identity and an empty softmax."""
    with tf.Graph().as_default(), tf.Session() as sess:
        f, i = tf.placeholder(tf.float32), tf.placeholder(tf.int32)
        got = sess.run([tf.reduce_max(f, 1), tf.reduce_min(f, 1, keep_dims=True),
                        tf.reduce_max(i), tf.nn.softmax(f), tf.nn.log_softmax(f)],
                       {f: np.zeros([2, 0], np.float32), i: np.zeros([0], np.int32)})
    np.testing.assert_array_equal(got[0], [-np.inf, -np.inf])
    np.testing.assert_array_equal(got[1], [[np.inf], [np.inf]])
    assert got[2] == np.iinfo(np.int32).min and got[2].dtype == np.int32
    assert got[3].shape == got[4].shape == (2, 0)


def test_conv_backprop_kernels_check_ranks_and_sizes():
    w, dy = np.ones([2, 2, 1, 1], np.float32), np.ones([1, 2, 2, 1], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        s, a, b = tf.placeholder(tf.int32), tf.placeholder(tf.float32), tf.placeholder(tf.float32)
        dx = tf.nn.conv2d_backprop_input(s, a, b, [1, 1, 1, 1], "SAME")
        dw = tf.nn.conv2d_backprop_filter(a, s, b, [1, 1, 1, 1], "SAME")
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"filter must be 4-dimensional"):
            sess.run(dx, {s: [1, 2, 2, 1], a: np.ones([2, 2], np.float32), b: dy})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"input must be 4-dimensional"):
            sess.run(dw, {s: [2, 2, 1, 1], a: np.ones([2, 2], np.float32), b: dy})
        with pytest.raises(tf.errors.InvalidArgumentError, match="4 non-negative elements"):
            sess.run(dx, {s: [1, -2, 2, 1], a: w, b: dy})
        with pytest.raises(tf.errors.ResourceExhaustedError, match="Conv2DBackpropInput"):
            sess.run(dx, {s: [2 ** 20, 2 ** 20, 2, 1], a: w, b: dy})
        assert sess.run(dx, {s: [1, 2, 2, 1], a: w, b: dy}).shape == (1, 2, 2, 1)


def _run_fed(build, *feeds):
    with tf.Graph().as_default(), tf.Session() as sess:
        holders = [tf.placeholder(tf.as_dtype(np.asarray(f).dtype)) for f in feeds]
        return sess.run(build(*holders), dict(zip(holders, feeds)))


def test_add_n_does_not_broadcast():
    """AddN of [2,3] and [3] silently broadcast (a wrong answer; TF refuses)."""
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"must have the same size and shape.  Input 0: \[2,3\] != input 1"):
        _run_fed(lambda a, b: tf.add_n([a, b]), np.ones([2, 3]), np.ones([3]))


@pytest.mark.parametrize("build,feeds,message", [
    (lambda a, b: tf.stack([a, b]), [np.ones(2), np.ones(3)],
     r"Shapes of all inputs must match: values\[0\].shape = \[2\] != values\[1\].shape = \[3\]"),
    (lambda a, b: tf.stack([a, b], axis=3), [np.ones(2), np.ones(2)], r"axis = 3 not in \[-2, 2\)"),
    (lambda a, b: tf.reverse_v2(a, b), [np.ones(2), np.array([3])],
     r"'axis'\[0\] = 3 is out of valid range \[0, 1\)"),
    (lambda a, b: tf.reverse_v2(a, b), [np.ones(2), np.array([0, -1])], "more than once"),
    (lambda a, b: tf.cumsum(a, b), [np.float64(1), np.int32(0)], "input must be at least 1D"),
    (lambda a, b: tf.cumprod(a, b), [np.ones(2), np.int32(2)],
     r"Expected scan axis in the range \[-1, 1\), but got 2"),
], ids=["stack_shapes", "stack_axis", "reverse_axis", "reverse_repeat", "cumsum_0d",
        "cumprod_axis"])
def test_run_time_shape_and_axis_errors_in_tf_words(build, feeds, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message) as info:
        _run_fed(build, *feeds)
    assert "Error:" not in str(info.value).splitlines()[0]
