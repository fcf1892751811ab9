"""TensorArray: the V2 ops (tf.TensorArray's), TF 0.9's V1 ops and the V3 ops through the
harness (values and gradients), errors, loops, handle types."""
import functools

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import control_flow_ops as cf
from tensorflux.ops import tensor_array_ops
from tensorflux.ops.tensor_array_ops import TensorArray

pytestmark = pytest.mark.timeout(60)


def make(dtype, size, version=2, **kwargs):
    """A TensorArray built on the `version` family's constructor op (2: tf.TensorArray's)."""
    if version == 2:
        return TensorArray(dtype, size=size, **kwargs)
    size = tf.convert_to_tensor(size, dtype=tf.int32)
    if version == 1:
        return TensorArray(dtype, handle=apply_op("TensorArray", size, dtype=dtype))
    handle, flow = apply_op("TensorArrayV3", size, dtype=dtype)
    return TensorArray(dtype, handle=handle, flow=flow)


def _write_read(x, version=2):
    ta = make(x.dtype, 2, version)
    return ta.write(0, x).write(1, x * 2.0).read(1)


def _unstack_gather(x, version=2):
    return make(x.dtype, 3, version).unstack(x).gather([2, 0])


def _scatter_stack(x, version=2):  # V1: TensorArrayScatter, then TensorArrayPack
    return make(x.dtype, 3, version).scatter([2, 0, 1], x).stack()


def _split_concat(x, version=2):
    ta = make(x.dtype, 2, version).split(x, [1, 2])
    return tf.reshape(ta.concat() * 3.0, tf.shape(x))


def _closed_after_read(x, version=2):
    value = make(x.dtype, 1, version).write(0, x).read(0)
    with tf.control_dependencies([value]):
        close = make(x.dtype, 1, version).close()
    with tf.control_dependencies([close]):
        return tf.identity(value)


def _family_specs(version):
    """The harness entries of one family's ops."""
    family = tensor_array_ops.FAMILIES[version]
    fn = functools.partial
    specs = [
        OpSpec((family[""], family["Write"], family["Read"], family["Grad"]),
               fn(_write_read, version=version), lambda x: 2 * x, [((3, 2),), ((),)]),
        OpSpec((family["Scatter"], family["Gather"]), fn(_unstack_gather, version=version),
               lambda x: x[[2, 0]], [((3, 2),), ((3,),)]),
        OpSpec((family["Split"], family["Concat"]), fn(_split_concat, version=version),
               lambda x: 3 * x, [((3, 2),), ((3,),)]),
        OpSpec(family["Size"], lambda x: make(x.dtype, 3, version).unstack(x).size(),
               lambda x: np.int32(3), [((3, 2),)], grad=()),
        OpSpec(family["Close"], fn(_closed_after_read, version=version), lambda x: x,
               [((2,),), ((),)]),
    ]
    if version == 1:  # 0.9's pack and unpack (stack/unstack build them on V1 handles)
        specs.append(OpSpec((family["Unpack"], family["Pack"]),
                            lambda x: make(x.dtype, 3, 1).unstack(x).stack(), lambda x: x,
                            [((3, 2),), ((3,),)], data_dependent_shape=True))
        specs.append(OpSpec(family["Scatter"], fn(_scatter_stack, version=1),
                            lambda x: x[[1, 2, 0]], [((3, 2),)], data_dependent_shape=True,
                            name="TensorArrayScatter_pack"))
    return specs


SPECS = _family_specs(2) + _family_specs(1) + _family_specs(3)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetch):
    with tf.Session() as sess:
        return sess.run(fetch)


def test_stack_pack_unstack_unpack_and_sizes():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    ta = TensorArray(tf.float32, size=3, clear_after_read=False).unpack(x)
    stacked, packed, size = ta.stack(), ta.pack(), ta.size()
    got = _run([stacked, packed, size])
    np.testing.assert_array_equal(got[0], got[1])
    assert got[2] == 3
    assert stacked.get_shape().as_list()[1:] == [2]


def test_dynamic_size_grows_and_fixed_size_does_not():
    grown = TensorArray(tf.float32, size=0, dynamic_size=True).write(4, 1.0)
    assert _run(grown.size()) == 5
    fixed = TensorArray(tf.float32, size=2).write(2, 1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not resizeable"):
        _run(fixed.flow)


def test_read_and_write_errors_name_the_problem():
    ta = TensorArray(tf.float32, size=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not yet been written"):
        _run(ta.read(0))
    twice = ta.write(0, 1.0).write(0, 2.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="already been written"):
        _run(twice.flow)
    written = TensorArray(tf.float32, size=1).write(0, 1.0)
    value = written.read(0)
    with tf.control_dependencies([value]):
        again = written.read(0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="cleared"):
        _run(again)
    keep = TensorArray(tf.float32, size=1, clear_after_read=False).write(0, 5.0)
    first = keep.read(0)
    with tf.control_dependencies([first]):
        second = keep.read(0)
    assert _run(second) == 5.0


def test_inconsistent_element_shapes_are_rejected_at_build_time():
    ta = TensorArray(tf.float32, size=2).write(0, tf.zeros([2]))
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        ta.write(1, tf.zeros([3]))


def test_tensor_array_as_while_loop_variable_with_gradient():
    x = tf.placeholder(tf.float64, [4, 2])
    inputs = TensorArray(tf.float64, size=4).unstack(x)
    outputs = TensorArray(tf.float64, size=4)

    def body(i, state, out):
        state = state * 0.5 + inputs.read(i)
        return i + 1, state, out.write(i, tf.tanh(state))
    _, final, out = tf.while_loop(lambda i, s, o: i < 4, body,
                                  [tf.constant(0), tf.zeros([2], tf.float64), outputs])
    stacked = out.stack()
    loss = tf.reduce_sum(stacked * stacked) + tf.reduce_sum(final)
    grad = tf.gradients(loss, x)[0]
    value = np.random.default_rng(0).uniform(-1, 1, (4, 2))

    def reference(v):
        state, rows = np.zeros(2), []
        for row in v:
            state = state * 0.5 + row
            rows.append(np.tanh(state))
        return np.sum(np.square(rows)) + state.sum()
    eps, numeric = 1e-6, np.zeros_like(value)
    for k in range(value.size):
        d = np.zeros_like(value)
        d.flat[k] = eps
        numeric.flat[k] = (reference(value + d) - reference(value - d)) / (2 * eps)
    with tf.Session() as sess:
        got_loss, got_grad = sess.run([loss, grad], {x: value})
    assert got_loss == pytest.approx(reference(value))
    np.testing.assert_allclose(got_grad, numeric, rtol=1e-5, atol=1e-7)


def test_tensor_array_through_cond():
    p = tf.placeholder(tf.bool, [])
    ta = TensorArray(tf.float32, size=1)
    chosen = cf.cond(p, lambda: ta.write(0, 1.0), lambda: ta.write(0, 2.0))
    assert isinstance(chosen, TensorArray)
    with tf.Session() as sess:
        assert sess.run(chosen.read(0), {p: False}) == 2.0
