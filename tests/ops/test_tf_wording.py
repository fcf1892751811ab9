"""Error messages start with TensorFlow's own wording for the same condition (issue 10).

Each case builds (and, for run-time cases, runs) the same bad graph through a `tf` module. The
test without TensorFlow checks tensorflux's message starts with TF's wording (the strings below
were taken from TensorFlow 2.21's tf.compat.v1, or from TF 0.9/1.x where the case says so);
the `tensorflow`-marked test runs the same cases on a real TensorFlow and checks it says the
same, so the strings cannot drift from TF's.
"""
import re

import numpy as np
import pytest

import tensorflux

pytestmark = pytest.mark.timeout(120)

F32 = np.float32


def _fed(tf, value, shape=None):
    """A run-time value whose shape the graph does not know."""
    return tf.placeholder_with_default(np.asarray(value), shape)


def _run(tf, fetch):
    with tf.Session() as sess:
        return sess.run(fetch)


def _conv(tf, x, w, strides, padding="SAME", **kw):
    return tf.nn.conv2d(x, w, strides, padding, **kw)


X = np.zeros([1, 5, 5, 1], F32)
# (id, what to do with a tf module, "build" or "run", error class name, TF's wording, same in
# TF 2.21: False where tensorflux keeps TF 0.9/1.x's wording, which 2.21 changed)
CASES = [
    ("gather", lambda tf: tf.gather([1, 2, 3, 4, 5], _fed(tf, np.int32([0, 7]), [None])),
     "run", "InvalidArgumentError", "indices[1] = 7 is not in [0, 5)", True),
    ("dynamic_partition", lambda tf: tf.dynamic_partition(
        [1, 2, 3], _fed(tf, np.int32([0, 1, 99])), 4),
     "run", "InvalidArgumentError", "partitions[2] = 99 is not in [0, 4)", True),
    ("dynamic_partition_2d", lambda tf: tf.dynamic_partition(
        _fed(tf, np.zeros([2, 2])), _fed(tf, np.array([[0, 1], [5, 0]], np.int32)), 2),
     "run", "InvalidArgumentError", "partitions[1,0] = 5 is not in [0, 2)", True),
    ("dynamic_partition_prefix", lambda tf: tf.dynamic_partition(
        _fed(tf, np.zeros([3, 2])), _fed(tf, np.zeros([2], np.int32)), 2),
     "run", "InvalidArgumentError",
     "data.shape must start with partitions.shape, got data.shape = [3,2], partitions.shape = "
     "[2]", True),
    ("reshape_run", lambda tf: tf.reshape(_fed(tf, np.zeros(6, F32), [None]), [2, 2]),
     "run", "InvalidArgumentError",
     "Input to reshape is a tensor with 6 values, but the requested shape has 4", True),
    ("reshape_build", lambda tf: tf.reshape(tf.zeros([6]), [2, 2]),
     "build", "ValueError", "Cannot reshape a tensor with 6 elements to shape [2,2] (4 elements)",
     True),
    ("reshape_infer_build", lambda tf: tf.reshape(tf.zeros([7]), [2, -1]),
     "build", "ValueError", "Dimension size must be evenly divisible by 2 but is 7", True),
    ("squeeze_build", lambda tf: tf.squeeze(tf.zeros([2, 3]), [0]),
     "build", "ValueError", "Can not squeeze dim[0], expected a dimension of 1, got 2", True),
    ("squeeze_run", lambda tf: tf.squeeze(_fed(tf, np.ones([2, 3])), [0]),
     "run", "InvalidArgumentError", "Can not squeeze dim[0], expected a dimension of 1, got 2",
     True),
    ("expand_dims_build", lambda tf: tf.expand_dims(tf.zeros([2, 3]), 5),
     "build", "ValueError", "dim 5 not in the interval [-3, 2].", True),
    ("expand_dims_run", lambda tf: tf.expand_dims(
        _fed(tf, np.ones([2, 3])), _fed(tf, np.int32(5), [])),
     "run", "InvalidArgumentError", "Tried to expand dim index 5 for tensor with 2 dimensions.",
     True),
    ("range_delta_run", lambda tf: tf.range(0, 5, _fed(tf, np.int32(0), [])),
     "run", "InvalidArgumentError", "Requires delta != 0: 0", True),
    ("range_order_build", lambda tf: tf.range(5, 0, 1),
     "build", "ValueError", "Requires start <= limit when delta > 0: 5/0", True),
    ("one_hot_depth", lambda tf: tf.one_hot([1], _fed(tf, np.int32(-1), [])),
     "run", "InvalidArgumentError", "depth must be non-negative, got: -1", True),
    ("unsorted_segment_sum", lambda tf: tf.unsorted_segment_sum(
        tf.ones([3]), _fed(tf, np.int32([0, 5, 1])), 3),
     "run", "InvalidArgumentError", "segment_ids[1] = 5 is out of range [0, 3)", True),
    ("segment_sum_order", lambda tf: tf.segment_sum(tf.ones([3]), _fed(tf, np.int32([0, 2, 1]))),
     "run", "InvalidArgumentError", "segment ids are not increasing", True),
    ("segment_sum_vector", lambda tf: tf.segment_sum(tf.ones([3]), _fed(tf, np.int32([[0, 0, 1]]))),
     "run", "InvalidArgumentError", "segment_ids should be a vector.", True),
    ("softmax_xent", lambda tf: tf.nn.softmax_cross_entropy_with_logits(
        logits=_fed(tf, np.ones([2, 3], F32)), labels=tf.ones([2, 4])),
     "run", "InvalidArgumentError",
     "logits and labels must be same size: logits_size=[2,3] labels_size=[2,4]", False),
    ("sparse_softmax_xent", lambda tf: tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=tf.ones([2, 3]), labels=_fed(tf, np.int32([0, 5]))),
     "run", "InvalidArgumentError",
     "Received a label value of 5 which is outside the valid range of [0, 3).  Label values: 0 5",
     True),
    ("matmul_run", lambda tf: tf.matmul(
        tf.constant([[1.0, 2.0]]), _fed(tf, np.ones([3, 1], F32), [None, None])),
     "run", "InvalidArgumentError", "Matrix size-incompatible: In[0]: [1,2], In[1]: [3,1]", True),
    ("add_run", lambda tf: tf.add(_fed(tf, np.ones([2, 3], F32)), tf.ones([4])),
     "run", "InvalidArgumentError", "Incompatible shapes: [2,3] vs. [4]", True),
    ("dtype_mismatch", lambda tf: tf.add(tf.constant(1), tf.constant(1.0)),
     "build", "TypeError",
     "Input 'y' of 'Add' Op has type float32 that does not match type int32 of argument 'x'.",
     False),  # TF 2.21 names the op AddV2
    ("dtype_not_allowed", lambda tf: tf.one_hot(tf.constant([1.5]), 3),
     "build", "TypeError", "Value passed to parameter 'indices' has DataType float32 not in list "
                           "of allowed values: uint8, ", True),
    ("conv_padding", lambda tf: _conv(tf, X, tf.zeros([2, 2, 1, 1]), [1, 1, 1, 1], "FOO"),
     "build", "ValueError", "Attr 'padding' of 'Conv2D' Op passed string 'FOO' not in: \"SAME\", "
                            "\"VALID\"", True),
    ("conv_data_format", lambda tf: _conv(tf, X, tf.zeros([2, 2, 1, 1]), [1, 1, 1, 1],
                                          data_format="NWHC"),
     "build", "ValueError", "Attr 'data_format' of 'Conv2D' Op passed string 'NWHC' not in: "
                            "\"NHWC\", \"NCHW\".", True),
    ("conv_zero_stride", lambda tf: _conv(tf, X, tf.zeros([2, 2, 1, 1]), [1, 0, 0, 1]),
     "build", "ValueError", "Stride must be > 0, but got 0", True),
    ("conv_batch_stride", lambda tf: _conv(tf, X, tf.zeros([2, 2, 1, 1]), [2, 1, 1, 1]),
     "build", "ValueError", "Current implementation does not yet support strides in the batch "
                            "and depth dimensions", False),  # 0.9 at build; 2.21 at run time
    ("conv_depth_stride", lambda tf: _conv(tf, X, tf.zeros([2, 2, 1, 1]), [1, 1, 1, 2]),
     "build", "ValueError", "Current implementation does not yet support strides in the batch "
                            "and depth dimensions", False),
    ("conv_valid_too_big_build", lambda tf: _conv(tf, X, tf.zeros([7, 7, 1, 1]), [1, 1, 1, 1],
                                                  "VALID"),
     "build", "ValueError", "Negative dimension size caused by subtracting 7 from 5", True),
    ("conv_valid_too_big_run", lambda tf: _conv(
        tf, _fed(tf, X, [None, None, None, 1]), tf.zeros([7, 7, 1, 1]), [1, 1, 1, 1], "VALID"),
     "run", "InvalidArgumentError", "Computed output size would be negative: -1 [input_size: 5, "
                                    "effective_filter_size: 7, stride: 1]", True),
    ("conv_depth_mismatch_build", lambda tf: _conv(tf, np.zeros([1, 5, 5, 2], F32),
                                                   tf.zeros([2, 2, 3, 1]), [1, 1, 1, 1]),
     "build", "ValueError", "Dimensions must be equal, but are 2 and 3", False),
    ("conv_depth_mismatch_run", lambda tf: _conv(
        tf, _fed(tf, np.zeros([1, 5, 5, 2], F32), [None] * 4), tf.zeros([2, 2, 3, 1]),
        [1, 1, 1, 1]),
     "run", "InvalidArgumentError", "input and filter must have the same depth: 2 vs 3", False),
    ("conv_rank_run", lambda tf: _conv(tf, _fed(tf, np.zeros([5, 5, 1], F32)),
                                       tf.zeros([2, 2, 1, 1]), [1, 1, 1, 1]),
     "run", "InvalidArgumentError", "convolution input must be 4-dimensional: [5,5,1]", True),
    ("pool_ksize_length", lambda tf: tf.nn.max_pool(X, [1, 2, 2], [1, 1, 1, 1], "SAME"),
     "build", "ValueError", "Attr 'ksize' of 'MaxPool' Op passed list of length 3 less than "
                            "minimum 4.", False),  # 2.21's Python wrapper checks first
    ("pool_batch", lambda tf: tf.nn.max_pool(X, [2, 2, 2, 1], [1, 1, 1, 1], "SAME"),
     "build", "ValueError", "Pooling is not yet supported on the batch dimension.", False),
    ("pool_zero_stride", lambda tf: tf.nn.max_pool(X, [1, 2, 2, 1], [1, 0, 0, 1], "SAME"),
     "build", "ValueError", "Stride must be > 0, but got 0", True),
    ("pool_valid_too_big", lambda tf: tf.nn.avg_pool(X, [1, 7, 7, 1], [1, 1, 1, 1], "VALID"),
     "build", "ValueError", "Negative dimension size caused by subtracting 7 from 5", True),
    ("pool_valid_too_big_run", lambda tf: tf.nn.max_pool(
        _fed(tf, X, [None, None, None, 1]), [1, 7, 7, 1], [1, 1, 1, 1], "VALID"),
     "run", "InvalidArgumentError", "Computed output size would be negative: -1 [input_size: 5, "
                                    "effective_filter_size: 7, stride: 1]", True),
    ("placeholder_unfed", lambda tf: tf.placeholder(tf.float64, [None, 2], name="pp") + 1.0,
     "run", "InvalidArgumentError",
     "You must feed a value for placeholder tensor 'pp' with dtype double and shape [?,2]", True),
    ("top_k", lambda tf: tf.nn.top_k(_fed(tf, np.ones([2, 3], F32)), _fed(tf, np.int32(5), [])),
     "run", "InvalidArgumentError", "input must have at least k columns. Had 3, needed 5", True),
    ("bias_add", lambda tf: tf.nn.bias_add(_fed(tf, np.ones([2, 4], F32)),
                                           _fed(tf, np.ones([3], F32))),
     "run", "InvalidArgumentError",
     "Must provide as many biases as the last dimension of the input tensor: [3] vs. [2,4]", True),
    ("assign_shape_run", lambda tf: tf.assign(tf.Variable(np.zeros(2, F32), use_resource=False)
                                              if tf is not tensorflux else
                                              tf.Variable(np.zeros(2, F32)),
                                              _fed(tf, np.ones(3, F32))),
     "run_init", "InvalidArgumentError",
     "Assign requires shapes of both tensors to match. lhs shape= [2] rhs shape= [3]", True),
    ("softmax_scalar", lambda tf: tf.nn.softmax(_fed(tf, F32(1.0))),
     "run", "InvalidArgumentError", "logits must have >= 1 dimension, got []", True),
    ("split_axis", lambda tf: tf.split(_fed(tf, np.ones([2, 3], F32)), 2,
                                       axis=_fed(tf, np.int32(3), [])),
     "run", "InvalidArgumentError", "-input rank(-2) <= split_dim < input rank (2), but got 3",
     True),
    ("random_negative_shape", lambda tf: tf.random_uniform(_fed(tf, np.int32([-1, 2]))),
     "run", "InvalidArgumentError", "Dimension -1 must be >= 0", True),
    ("queue_closed", lambda tf: tf.FIFOQueue(10, tf.float32, name="qq"),
     "queue", "CancelledError", "FIFOQueue '", True),  # TF: Cancelled, not Aborted
    ("dimension_merge", lambda tf: tf.Dimension(37).merge_with(tf.Dimension(36)),
     "now", "ValueError", "Dimensions 37 and 36 are not compatible", True),
    ("shape_merge", lambda tf: tf.TensorShape([37]).merge_with(tf.TensorShape([36])),
     "now", "ValueError", "Shapes (37,) and (36,) are not compatible", True),
    ("shape_assert_compatible", lambda tf: tf.TensorShape([37]).assert_is_compatible_with(
        tf.TensorShape([36])),
     "now", "ValueError", "Shapes (37,) and (36,) are incompatible", True),
]


def _enqueue_after_close(tf, q):
    with tf.Session() as sess:
        sess.run(q.close())
        sess.run(q.enqueue(1.0))


def _error_of(tf, build, when):
    """The error building (and running) a case raises. A graph of its own: TensorFlow stays in
    eager mode outside it, so the other tests in the process see TF as they expect."""
    try:
        with tf.Graph().as_default():
            out = build(tf)
            if when == "run":
                _run(tf, out)
            elif when == "run_init":
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    sess.run(out)
            elif when == "queue":
                _enqueue_after_close(tf, out)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return e
    return None


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_message_starts_with_tf_wording(case):
    _, build, when, cls, wording, _ = case
    err = _error_of(tensorflux, build, when)
    assert type(err).__name__ == cls, repr(err)
    assert str(err).startswith(wording), str(err)


@pytest.mark.tensorflow
@pytest.mark.parametrize("case", [c for c in CASES if c[5]], ids=[c[0] for c in CASES if c[5]])
def test_tensorflow_says_the_same(case):
    real = pytest.importorskip("tensorflow")
    tf = real.compat.v1
    tf.Dimension = real.compat.v1.Dimension
    _, build, when, cls, wording, _ = case
    err = _error_of(tf, build, when)
    assert type(err).__name__ == cls, repr(err)
    assert wording in str(err).replace("AddV2", "Add"), str(err)


BUILD_CASES = [  # shape-inference errors, the way TF's shape functions word them
    ("matmul", lambda tf: tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 2])),
     "Dimensions must be equal, but are 3 and 4"),
    ("pack_rank", lambda tf: tf.stack([tf.zeros([2, 3]), tf.zeros([2])]),
     "Shapes must be equal rank, but are 2 and 1"),
    ("reduce_axis", lambda tf: tf.reduce_sum(tf.zeros([2, 3]), 5),
     "Invalid reduction dimension 5 for input with 2 dimensions."),
    ("transpose_perm", lambda tf: tf.transpose(tf.zeros([2, 3]), [0, 2]),
     "perm dim 2 is out of range of input rank 2"),
    ("tile_multiples", lambda tf: tf.tile(tf.zeros([2, 3]), [1, 2, 3]),
     "Shape must be rank 2 but is rank 3"),
]


@pytest.mark.parametrize("case", BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_shape_function_errors_start_with_tf_wording(case):
    _, build, wording = case
    with pytest.raises(ValueError) as info:
        build(tensorflux)
    assert str(info.value).startswith(wording), str(info.value)


@pytest.mark.tensorflow
@pytest.mark.parametrize("case", BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_tensorflow_shape_functions_say_the_same(case):
    real = pytest.importorskip("tensorflow")
    tf = real.compat.v1
    _, build, wording = case
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="^" + re.escape(wording)):
            build(tf)
