"""Harness entries and behaviour tests for tensorflux/ops/segment_ops.py."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, uniform, run_in_session as _run


def segment_ids(rng, shape, dtype):
    return rng.integers(0, 4, size=shape).astype(np.int32)


segment_ids.dtype = tf.int32

SPECS = [
    OpSpec("UnsortedSegmentSum", lambda d, i: tf.unsorted_segment_sum(d, i, 4),
           lambda d, i: np.stack([d[i == k].sum(0) for k in range(4)]),
           [((5, 3), (5,)), ((6,), (6,))], inputs=[uniform, segment_ids]),
    OpSpec("UnsortedSegmentSum",
           lambda d: tf.unsorted_segment_sum(d, tf.constant([[0, 2], [2, 1]]), 3),
           lambda d: np.stack([d[0, 0], d[1, 1], d[0, 1] + d[1, 0]]), [((2, 2, 3),)],
           name="UnsortedSegmentSum_2d_ids"),
    OpSpec("SegmentSum", lambda d: tf.segment_sum(d, tf.constant([0, 0, 1, 3, 3])),
           lambda d: np.stack([d[0] + d[1], d[2], 0 * d[0], d[3] + d[4]]),
           [((5, 3),), ((5,),)]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



def test_segment_sums():
    data = tf.constant([1.0, 2.0, 3.0, 4.0])
    got = _run(tf.unsorted_segment_sum(data, [2, -1, 0, 2], 3))
    np.testing.assert_allclose(got, [3, 0, 5])  # negative ids are dropped
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        _run(tf.unsorted_segment_sum(data, [0, 1, 5, 0], 3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="^segment ids are not increasing"):
        _run(tf.segment_sum(data, tf.constant([1, 0, 0, 0])))
