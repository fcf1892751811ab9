"""Harness entries for IdentityReader and IdentityReaderV2 (tf.IdentityReader): queued strings
come back as both key and value."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import data_flow_ops, reader_ops

pytestmark = pytest.mark.timeout(60)


def _words(rng, shape, dtype):
    return np.array([b"w%d" % k for k in rng.integers(0, 100, size=3)], dtype=object)


_words.dtype = tf.string


def _read_three(words, v2=False):
    q = tf.FIFOQueue(5, [tf.string], shapes=[[]])
    reader = tf.IdentityReader()
    if v2:  # TF >= 1.2's ops: resource handles for the queue and the reader
        q = data_flow_ops.QueueBase(q.dtypes, q.shapes, None, apply_op(
            "FIFOQueueV2", component_types=[tf.string], shapes=[[]], capacity=5))
        reader = reader_ops.ReaderBase(apply_op("IdentityReaderV2"))
    enqueue = q.enqueue_many([words])
    with tf.control_dependencies([enqueue]):
        close = q.close()
    with tf.control_dependencies([close]):
        keys, values = reader.read_up_to(q, 5)
    return [tf.reshape(keys, [3]), tf.reshape(values, [3])]  # a static shape for the harness


SPECS = [
    OpSpec("IdentityReader", _read_three, lambda w: [w, w], [((3,),)], dtypes=[tf.string],
           inputs=_words, grad=()),
    OpSpec("IdentityReaderV2", lambda w: _read_three(w, v2=True), lambda w: [w, w], [((3,),)],
           dtypes=[tf.string], inputs=_words, grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_read_one_at_a_time_then_out_of_range():
    q = tf.FIFOQueue(5, [tf.string], shapes=[[]])
    reader = tf.IdentityReader()
    key, value = reader.read(q)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([["a", "b"]]))
        sess.run(q.close())
        assert sess.run([key, value]) == [b"a", b"a"]
        assert sess.run([key, value]) == [b"b", b"b"]
        assert sess.run([reader.num_records_produced(),
                         reader.num_work_units_completed()]) == [2, 2]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(value)
