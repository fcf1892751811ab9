"""Random ops: uniform, normal and truncated normal samples, shuffles, multinomial draws.

Every random op carries the attrs seed and seed2 (from random_seed.get_seed) and draws from
ctx.rng, a Generator seeded from them that lives as long as the session: successive runs give
successive values, and two sessions with the same seeds give the same sequence.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import random_seed
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.framework.random_seed import set_random_seed  # noqa: F401 (tf.set_random_seed)
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import math_ops

__all__ = [
    "set_random_seed",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "random_shuffle",
    "multinomial",
    "random_crop",
]

_SEEDS = {"seed": 0, "seed2": 0}
_SHAPE_TYPE = registry.Attr("type", allowed=common.INDEX)


def _shape_from_input(op):
    return tensor_util.constant_value_as_shape(op.inputs[0])


def _sample_op(name, extra_inputs=(), attrs=None, out="output: dtype"):
    """Registers a stateful, non-differentiable op sampling a tensor of shape input 0."""
    op_def = registry.register_op(name, inputs=["shape: T"] + list(extra_inputs), outputs=[out],
                                  attrs=dict(_SEEDS, T=_SHAPE_TYPE, **(attrs or {})),
                                  stateful=True)
    op_def.shape(_shape_from_input)
    op_def.not_differentiable()
    return op_def


def _sample_shape(ctx, shape):
    """The output shape from the `shape` input, checked: a vector of non-negative sizes whose
    float64 samples (drawn before the cast) fit the per-tensor limit."""
    negative = [int(d) for d in np.ravel(shape) if d < 0]
    if np.ndim(shape) == 1 and negative:
        raise errors.InvalidArgumentError(None, ctx.op, f"Dimension {negative[0]} must be >= 0")
    if np.ndim(shape) != 1:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"shape must be a vector of non-negative sizes, got "
                          f"{np.asarray(shape).tolist()}")
    dims = tuple(int(d) for d in shape)
    limits.check_allocation(ctx.op, dims, np.float64)
    return dims


# ---- RandomUniform / RandomUniformInt ---------------------------------------------------------
RandomUniform = _sample_op("RandomUniform", attrs={"dtype": common.FLOATS})


@RandomUniform.kernel("CPU")
def _random_uniform_kernel(ctx, shape):
    return ctx.rng.random(_sample_shape(ctx, shape)).astype(ctx.attrs["dtype"].as_numpy_dtype)


RandomUniformInt = _sample_op("RandomUniformInt", ["minval: Tout", "maxval: Tout"],
                              attrs={"Tout": common.INDEX}, out="output: Tout")


@RandomUniformInt.kernel("CPU")
def _random_uniform_int_kernel(ctx, shape, minval, maxval):
    if np.ndim(minval) or np.ndim(maxval):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"minval and maxval must be scalars, got shapes {np.shape(minval)} and "
                          f"{np.shape(maxval)}")
    if minval >= maxval:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Need minval < maxval, got {minval} >= {maxval}")
    np_type = ctx.attrs["Tout"].as_numpy_dtype
    return ctx.rng.integers(minval, maxval, size=_sample_shape(ctx, shape), dtype=np_type)


# ---- RandomStandardNormal / TruncatedNormal ---------------------------------------------------
RandomStandardNormal = _sample_op("RandomStandardNormal", attrs={"dtype": common.FLOATS})


@RandomStandardNormal.kernel("CPU")
def _random_normal_kernel(ctx, shape):
    samples = ctx.rng.standard_normal(_sample_shape(ctx, shape))
    return samples.astype(ctx.attrs["dtype"].as_numpy_dtype)


TruncatedNormal = _sample_op("TruncatedNormal", attrs={"dtype": common.FLOATS})


@TruncatedNormal.kernel("CPU")
def _truncated_normal_kernel(ctx, shape):
    rng = ctx.rng
    shape = _sample_shape(ctx, shape)
    x = rng.standard_normal(int(np.prod(shape, dtype=np.int64)))
    bad = np.flatnonzero(np.abs(x) > 2.0)
    while bad.size:  # each pass redraws the ~4.6% that fell beyond two standard deviations
        x[bad] = rng.standard_normal(bad.size)
        bad = bad[np.abs(x[bad]) > 2.0]
    return x.reshape(tuple(shape)).astype(ctx.attrs["dtype"].as_numpy_dtype)


# ---- RandomShuffle ---------------------------------------------------------------------------
RandomShuffle = registry.register_op("RandomShuffle", inputs=["value: T"], outputs=["output: T"],
                                     attrs=dict(_SEEDS, T="type"), stateful=True)
RandomShuffle.shape(common.unchanged_shape)
RandomShuffle.not_differentiable()


@RandomShuffle.kernel("CPU")
def _random_shuffle_kernel(ctx, value):
    value = np.asarray(value)
    if value.ndim == 0 or value.shape[0] <= 1:
        return value
    return value[ctx.rng.permutation(value.shape[0])]


# ---- Multinomial -----------------------------------------------------------------------------
Multinomial = registry.register_op("Multinomial", inputs=["logits: T", "num_samples: int32"],
                                   outputs=["output: int64"],
                                   attrs=dict(_SEEDS, T=common.REALS), stateful=True)
Multinomial.not_differentiable()


@Multinomial.shape
def _multinomial_shape(op):
    logits = op.inputs[0].get_shape().with_rank(2)
    n = tensor_util.constant_value(op.inputs[1])
    return tensor_shape.TensorShape([logits[0], None if n is None else int(n)])


@Multinomial.kernel("CPU")
def _multinomial_kernel(ctx, logits, num_samples):
    if np.ndim(logits) != 2 or np.shape(logits)[1] == 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"logits must be a matrix [batch_size, num_classes] with "
                          f"num_classes > 0, got shape {np.shape(logits)}")
    logits = np.asarray(logits, dtype=np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    batch, classes = logits.shape
    if num_samples < 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"num_samples should be nonnegative, got {int(num_samples)}")
    limits.check_allocation(ctx.op, [batch, int(num_samples)], np.float64)
    rows = np.arange(batch)[:, None]
    u = ctx.rng.random((batch, int(num_samples))) + rows  # row r searches cdf row r (+ r)
    flat = np.searchsorted((cdf + rows).ravel(), u.ravel(), side="right")
    samples = flat.reshape(u.shape) - rows * classes
    return np.minimum(samples, classes - 1).astype(np.int64)


# ---- Python wrappers -------------------------------------------------------------------------
def _shape_tensor(shape):
    """A 1-D int32 tensor from a list, TensorShape, array or tensor."""
    if isinstance(shape, ops.Tensor):
        return shape
    if isinstance(shape, tensor_shape.TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and any(isinstance(d, ops.Tensor) for d in shape):
        return array_ops.stack([ops.convert_to_tensor(d, dtype=dtypes.int32) for d in shape])
    return ops.convert_to_tensor(np.asarray(shape, dtype=np.int32).reshape(-1), name="shape")


def _seed_attrs(seed):
    seed1, seed2 = random_seed.get_seed(seed)
    return {"seed": seed1 or 0, "seed2": seed2 or 0}


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform values in [minval, maxval) (maxval defaults to 1 for floats; ints need it)."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        maxval = 1
    with ops.name_scope(name, "random_uniform", [shape, minval, maxval]) as name:
        shape = _shape_tensor(shape)
        minval = ops.convert_to_tensor(minval, dtype=dtype, name="min")
        maxval = ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            return apply_op("RandomUniformInt", shape, minval, maxval, name=name,
                            **_seed_attrs(seed))
        rnd = apply_op("RandomUniform", shape, dtype=dtype, **_seed_attrs(seed))
        return math_ops.add(rnd * (maxval - minval), minval, name=name)


def _scaled_sample(op_type, default_name, shape, mean, stddev, dtype, seed, name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    with ops.name_scope(name, default_name, [shape, mean, stddev]) as name:
        shape = _shape_tensor(shape)
        mean = ops.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev = ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = apply_op(op_type, shape, dtype=dtype, **_seed_attrs(seed))
        return math_ops.add(rnd * stddev, mean, name=name)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normally distributed values with the given mean and standard deviation."""
    return _scaled_sample("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype,
                          seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal values, redrawn when more than two standard deviations from the mean."""
    return _scaled_sample("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype,
                          seed, name)


def random_shuffle(value, seed=None, name=None):
    """`value` with its first dimension randomly permuted."""
    return apply_op("RandomShuffle", value, name=name, **_seed_attrs(seed))


def multinomial(logits, num_samples, seed=None, name=None):
    """int64 [batch, num_samples] class draws from the unnormalized log-probabilities `logits`."""
    with ops.name_scope(name, "multinomial", [logits]):
        return apply_op("Multinomial", logits, num_samples, **_seed_attrs(seed))


def random_crop(value, size, seed=None, name=None):
    """A random slice of `value` of shape `size` (same rank as value)."""
    with ops.name_scope(name, "random_crop", [value, size]) as name:
        value = ops.convert_to_tensor(value, name="value")
        size = ops.convert_to_tensor(size, dtype=dtypes.int32, name="size")
        shape = array_ops.shape(value)
        limit = shape - size + 1
        offset = random_uniform(array_ops.shape(shape), dtype=dtypes.int32, maxval=2 ** 31 - 1,
                                seed=seed)
        return array_ops.slice(value, math_ops.floormod(offset, limit), size, name=name)
