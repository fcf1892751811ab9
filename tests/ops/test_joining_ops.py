"""Harness entries and behaviour tests for tensorflux/ops/joining_ops.py."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as run
from tensorflux.framework.op_def_library import apply_op


def mirror_pad_adjoint(width, mode):
    """NumPy reference for MirrorPadGrad: sums each padded entry back into its source."""
    def ref(g):
        in_shape = tuple(d - a - b for d, (a, b) in zip(g.shape, width))
        n = int(np.prod(in_shape, dtype=np.int64))
        source = np.pad(np.arange(n).reshape(in_shape), width, mode=mode)
        return np.bincount(source.ravel(), weights=g.ravel(), minlength=n).reshape(in_shape)
    return ref


SPECS = [
    OpSpec("Concat", lambda x, y: tf.concat(1, [x, y]), lambda x, y: np.concatenate([x, y], 1),
           [((2, 3), (2, 4)), ((2, 1, 2), (2, 2, 2))]),
    OpSpec("ConcatV2", lambda x, y, z: tf.concat([x, y, z], -1),
           lambda x, y, z: np.concatenate([x, y, z], -1), [((2, 3), (2, 1), (2, 2)), ((1,),) * 3]),
    OpSpec("Split", lambda x: tf.split(x, 2, axis=1), lambda x: np.split(x, 2, 1),
           [((3, 4),), ((2, 2, 3),)], dtypes=[tf.float32, tf.float64, tf.int32]),
    OpSpec("Split", lambda x: tf.split(0, 3, x), lambda x: np.split(x, 3, 0), [((6,),)],
           name="Split_0.9"),
    OpSpec("Split", lambda x: tf.split(x, 3, axis=-2), lambda x: np.split(x, 3, -2),
           [((2, 3, 2),)], name="Split_negative_axis"),
    OpSpec("SplitV", lambda x: tf.split(x, [2, 1], -1), lambda x: np.split(x, [2], -1),
           [((2, 3),)], name="SplitV_negative_axis"),
    OpSpec("Concat", lambda x, y: tf.concat(-2, [x, y]), lambda x, y: np.concatenate([x, y], -2),
           [((2, 3), (1, 3))], name="Concat_negative_axis"),
    OpSpec("SplitV", lambda x: tf.split(x, [1, -1, 2], 1), lambda x: np.split(x, [1, 3], 1),
           [((2, 5),)], dtypes=[tf.float32, tf.float64, tf.int32]),
    OpSpec("Pack", lambda x, y: tf.stack([x, y], axis=1), lambda x, y: np.stack([x, y], 1),
           [((2, 3), (2, 3))]),
    OpSpec("Pack", lambda x, y: tf.stack([x, y], axis=-1), lambda x, y: np.stack([x, y], -1),
           [((), ()), ((2,), (2,))], name="Pack_last"),
    OpSpec("Pack", lambda x, y: tf.pack([x, y]), lambda x, y: np.stack([x, y]),
           [((3,), (3,))], name="Pack_0.9"),
    OpSpec("Unpack", lambda x: tf.unstack(x, num=3, axis=1),
           lambda x: list(np.moveaxis(x, 1, 0)), [((2, 3),), ((1, 3, 2),)]),
    OpSpec("Unpack", lambda x: tf.unpack(x, 3), list, [((3,),)], name="Unpack_0.9"),
    OpSpec("Unpack", lambda x: tf.unstack(x, num=3, axis=-1), lambda x: list(np.moveaxis(x, -1, 0)),
           [((2, 3),)], name="Unpack_negative_axis"),
    OpSpec("Tile", lambda x: tf.tile(x, [2, 1, 3]), lambda x: np.tile(x, (2, 1, 3)),
           [((2, 1, 2),)]),
    OpSpec("Tile", lambda x: tf.tile(x, []), lambda x: x, [((),)],
           name="Tile_0d"),
    OpSpec("Pad", lambda x: tf.pad(x, [[1, 0], [2, 3]]),
           lambda x: np.pad(x, [(1, 0), (2, 3)]), [((2, 3),)]),
    OpSpec("Pad", lambda x: tf.pad(x, np.zeros((0, 2), np.int64)), lambda x: x, [((),)],
           name="Pad_0d"),
    OpSpec("PadV2", lambda x, c: tf.pad(x, [[1, 0], [2, 3]], constant_values=c),
           lambda x, c: np.pad(x, [(1, 0), (2, 3)], constant_values=c), [((2, 3), ())]),
    OpSpec("MirrorPad", lambda x: tf.pad(x, [[1, 2], [2, 0]], "REFLECT"),
           lambda x: np.pad(x, [(1, 2), (2, 0)], "reflect"), [((3, 4),)]),
    OpSpec("MirrorPad", lambda x: tf.pad(x, [[2, 1], [0, 3]], "SYMMETRIC"),
           lambda x: np.pad(x, [(2, 1), (0, 3)], "symmetric"), [((3, 4),)],
           name="MirrorPad_symmetric"),
    OpSpec("MirrorPadGrad", lambda g: apply_op("MirrorPadGrad", g, [[1, 2], [2, 0]],
                                               mode="REFLECT"),
           mirror_pad_adjoint([(1, 2), (2, 0)], "reflect"), [((6, 6),)]),
    OpSpec("MirrorPadGrad", lambda g: apply_op("MirrorPadGrad", g, [[1, 1]], mode="SYMMETRIC"),
           mirror_pad_adjoint([(1, 1)], "symmetric"), [((5,),)], name="MirrorPadGrad_symmetric"),
    OpSpec("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3, 4]),
           lambda x: np.broadcast_to(x, (2, 3, 4)), [((3, 1),), ((1, 4),), ((),)]),
    OpSpec("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3]), lambda x: x, [((2, 3),)],
           name="BroadcastTo_same_shape"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



# ---- API generations and errors ---------------------------------------------------------------
def test_concat_dispatches_on_first_argument():
    x, y = tf.constant([[1, 2]]), tf.constant([[3, 4]])
    assert tf.concat(0, [x, y]).op.type == "Concat"
    assert tf.concat([x, y], 1).op.type == "ConcatV2"
    axis = tf.constant(1)
    np.testing.assert_array_equal(run(tf.concat(axis, [x, y])), [[1, 2, 3, 4]])
    np.testing.assert_array_equal(run(tf.concat([x, y], axis=0)), [[1, 2], [3, 4]])
    assert tf.concat([x], 0).op.type == "Identity"


def test_split_generations():
    x = tf.constant(np.arange(12).reshape(3, 4))
    old = tf.split(1, 2, x)
    new = tf.split(x, 2, axis=1)
    keywords = tf.split(split_dim=1, num_split=2, value=x)
    sizes = tf.split(x, [3, 1], 1)
    a, b, c, d = run([old, new, keywords, sizes])
    for pieces in (a, b, c):
        np.testing.assert_array_equal(pieces[1], [[2, 3], [6, 7], [10, 11]])
    assert [p.shape for p in d] == [(3, 3), (3, 1)]


def test_pack_unpack_names_and_iteration():
    x = tf.pack([1, 2, 3])
    assert [t.get_shape().as_list() for t in tf.unpack(x)] == [[], [], []]
    assert run(tf.unstack(x)) == [1, 2, 3]


def test_concat_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 3\)|must match"):
        tf.concat([tf.zeros([2, 3]), tf.zeros([3, 3])], 1)


def test_split_uneven_is_a_build_error():
    with pytest.raises(ValueError, match="equal pieces"):
        tf.split(tf.zeros([5]), 2)


def test_single_output_of_a_list_output_op_is_an_array():
    x = tf.constant(np.arange(6.0).reshape(2, 3))
    (part,) = tf.split(x, 1, axis=1)
    (row,) = tf.unstack(tf.reshape(x, [1, 6]))
    got_part, got_row = run([part * 2.0, row + 1.0])
    np.testing.assert_array_equal(got_part, np.arange(6.0).reshape(2, 3) * 2.0)
    np.testing.assert_array_equal(got_row, np.arange(6.0) + 1.0)


def test_split_of_an_integer_tensor_of_unknown_rank_is_the_1_0_signature():
    """An int32 value of unknown rank followed by an int axis is split (it was taken for 0.9's
    split_dim, and the step failed in the kernel)."""
    x = tf.placeholder(tf.int32)
    pieces = tf.split(x, 2, axis=1)
    sizes = tf.split(x, [1, 2], 1)
    old = tf.split(tf.constant(1), 2, tf.constant([[1, 2], [3, 4]]))  # 0.9: split_dim first
    value = np.arange(6, dtype=np.int32).reshape(2, 3)
    with tf.Session() as sess:
        got = sess.run(sizes, {x: value})
        np.testing.assert_array_equal(got[1], value[:, 1:])
        halves = sess.run(pieces, {x: np.arange(8, dtype=np.int32).reshape(2, 4)})
        np.testing.assert_array_equal(halves[0], [[0, 1], [4, 5]])
        np.testing.assert_array_equal(sess.run(old)[1], [[2], [4]])


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_, np.complex128, np.bytes_])
def test_zero_pad_matches_np_pad(dtype):
    from tensorflux.ops.joining_ops import zero_pad
    x = np.arange(24).reshape(2, 3, 4).astype(dtype)
    for width in ([(1, 0), (0, 0), (2, 3)], [(0, 0)] * 3, [(3, 1), (1, 1), (0, 2)]):
        got = zero_pad(x, width)
        want = np.pad(x, width)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_broadcast_to_refuses_what_does_not_broadcast():
    with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
        tf.broadcast_to(tf.zeros([2, 3]), [3, 3])
    with pytest.raises(ValueError, match="must be no greater than rank"):
        tf.broadcast_to(tf.zeros([2, 3]), [3])
    x = tf.placeholder(tf.float32)
    y = tf.broadcast_to(x, [4, 3])
    assert y.get_shape().as_list() == [4, 3]
    with tf.Session() as sess:
        assert sess.run(y, {x: [1.0, 2.0, 3.0]}).tolist() == [[1.0, 2.0, 3.0]] * 4
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] "
                                                                 r"vs. \[4,3\]"):
            sess.run(y, {x: [1.0, 2.0]})


def test_broadcast_to_result_is_writable_and_unshared():
    x = tf.placeholder(tf.float32, [3])
    with tf.Session() as sess:
        value = sess.run(tf.broadcast_to(x, [2, 3]), {x: np.arange(3, dtype=np.float32)})
    value[0, 0] = 7.0  # a read-only broadcast view would refuse; a shared one would change row 1
    assert value.tolist() == [[7.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
