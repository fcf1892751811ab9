"""Harness entries for SerializeSparse, SerializeManySparse, DeserializeManySparse (round
trips against the SparseTensor itself); TensorFlow reads our serializations and we read its."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run

TYPES = [tf.float32, tf.float64, tf.int32, tf.string]
INDICES = np.array([[0, 1], [2, 0], [2, 3]], np.int64)
SHAPE = np.array([3, 4], np.int64)


def _round_trip_many(values):
    st = tf.SparseTensor(INDICES, values, SHAPE)
    back = tf.deserialize_many_sparse(tf.serialize_many_sparse(st), values.dtype, rank=2)
    return [tf.reshape(back.indices, [3, 2]), tf.reshape(back.values, [3]), back.dense_shape]


def _round_trip_two(values):
    """Two 1-D SparseTensors serialized one by one, joined into one [2, max size] batch."""
    first = tf.SparseTensor([[1]], tf.slice(values, [0], [1]), [5])
    second = tf.SparseTensor([[0], [3]], tf.slice(values, [1], [2]), [7])
    batch = tf.stack([tf.serialize_sparse(first), tf.serialize_sparse(second)])
    back = tf.deserialize_many_sparse(batch, values.dtype, rank=2)
    return [tf.reshape(back.indices, [3, 2]), tf.reshape(back.values, [3]), back.dense_shape]


SPECS = [
    OpSpec(("SerializeManySparse", "DeserializeManySparse"), _round_trip_many,
           lambda v: [INDICES, v, SHAPE], [((3,),)], dtypes=TYPES, grad=()),
    OpSpec("SerializeSparse", _round_trip_two,
           lambda v: [np.array([[0, 1], [1, 0], [1, 3]]), v, np.array([2, 7])], [((3,),)],
           dtypes=TYPES, grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_serialization_errors():
    x = tf.placeholder(tf.string, [None, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requested SparseTensor of type"):
        st = tf.SparseTensor([[0]], [1.0], [2])
        _run(tf.deserialize_many_sparse(x, tf.int32),
             {x: _run(tf.stack([tf.serialize_sparse(st)]))})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse"):
        _run(tf.deserialize_many_sparse(x, tf.int32), {x: [[b"\xff", b"", b""]]})
    with pytest.raises(TypeError, match="must be a SparseTensor"):
        tf.serialize_sparse(tf.constant([1]))


@pytest.mark.tensorflow
def test_tensorflow_reads_ours_and_we_read_tensorflows():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    ours = _run(tf.serialize_many_sparse(tf.SparseTensor(INDICES, [1.0, 2.0, 3.0], SHAPE)))
    graph = tf1.Graph()
    with graph.as_default():
        theirs_in = tf1.SparseTensor(INDICES, tf1.constant([4.0, 5.0, 6.0]), SHAPE)
        theirs = tf1.serialize_many_sparse(theirs_in)
        read = tf1.deserialize_many_sparse(ours, tf1.float32)
        with tf1.Session(graph=graph) as sess:
            theirs_value, read_value = sess.run([theirs, read])
    np.testing.assert_array_equal(read_value.indices, INDICES)
    np.testing.assert_array_equal(read_value.values, [1.0, 2.0, 3.0])
    back = _run(tf.deserialize_many_sparse(theirs_value, tf.float32))
    np.testing.assert_array_equal(back.indices, INDICES)
    np.testing.assert_array_equal(back.values, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(back.dense_shape, SHAPE)
