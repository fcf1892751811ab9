"""Initializers: callables (shape, dtype=None, partition_info=None) -> initial value tensor.

TensorFlow 1.x names are classes (`tf.random_normal_initializer(stddev=0.1)` builds one);
TensorFlow 0.9's `zeros_initializer` / `ones_initializer` were functions called with the shape,
so both `initializer=tf.zeros_initializer` and `initializer=tf.zeros_initializer()` work.
"""
import math

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import tensor_shape

__all__ = [
    "zeros_initializer",
    "ones_initializer",
    "constant_initializer",
    "random_uniform_initializer",
    "random_normal_initializer",
    "truncated_normal_initializer",
    "uniform_unit_scaling_initializer",
    "variance_scaling_initializer",
    "glorot_uniform_initializer",
    "glorot_normal_initializer",
    "orthogonal_initializer",
]


def _array_ops():
    from tensorflux.ops import array_ops
    return array_ops


def _random_ops():
    from tensorflux.ops import random_ops
    return random_ops


def _as_list(shape):
    shape = tensor_shape.as_shape(shape)
    if not shape.is_fully_defined():
        raise ValueError(f"An initializer needs a fully defined shape, got {shape}")
    return shape.as_list()


def _float_dtype(dtype, who):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if not dtype.is_floating:
        raise ValueError(f"{who} requires a floating point dtype, got {dtype.name}")
    return dtype


class Initializer:
    """Base class: `__call__(shape, dtype=None, partition_info=None)` returns a tensor."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}


class Zeros(Initializer):
    """All zeros."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _array_ops().zeros(_as_list(shape), dtype or self.dtype)


class Ones(Initializer):
    """All ones."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _array_ops().ones(_as_list(shape), dtype or self.dtype)


def _zero_or_one_initializer(cls):
    def initializer(shape=None, dtype=dtypes.float32, partition_info=None):
        if shape is None or isinstance(shape, dtypes.DType):  # TF 1.x: returns an Initializer
            return cls(shape if isinstance(shape, dtypes.DType) else dtype)
        return cls(dtype)(shape, dtype, partition_info)  # TF 0.9: called with the shape
    initializer.__name__ = cls.__name__.lower() + "_initializer"
    initializer.__doc__ = (f"TF 1.x: `{initializer.__name__}(dtype)` returns an initializer; "
                           f"TF 0.9: `{initializer.__name__}(shape, dtype)` returns the tensor.")
    return initializer


zeros_initializer = _zero_or_one_initializer(Zeros)
ones_initializer = _zero_or_one_initializer(Ones)


class Constant(Initializer):
    """`value` (a scalar, broadcast, or a list/array with exactly `prod(shape)` elements)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self.verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None):
        from tensorflux.ops import constant_op
        return constant_op.constant(self.value, dtype=dtype or self.dtype, shape=_as_list(shape),
                                    verify_shape=self.verify_shape)


class RandomUniform(Initializer):
    """Uniform values in [minval, maxval)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random_ops().random_uniform(_as_list(shape), self.minval, self.maxval,
                                            dtype or self.dtype, seed=self.seed)


class RandomNormal(Initializer):
    """Normal values with `mean` and `stddev`."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype, "random_normal_initializer")

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random_ops().random_normal(_as_list(shape), self.mean, self.stddev,
                                           dtype or self.dtype, seed=self.seed)


class TruncatedNormal(Initializer):
    """Normal values with `mean` and `stddev`, redrawn when more than 2 stddevs from the mean."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype, "truncated_normal_initializer")

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random_ops().truncated_normal(_as_list(shape), self.mean, self.stddev,
                                              dtype or self.dtype, seed=self.seed)


class UniformUnitScaling(Initializer):
    """Uniform in ±sqrt(3 / fan_in) * factor, fan_in = prod(shape[:-1]) (keeps variance)."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor, self.seed = factor, seed
        self.dtype = _float_dtype(dtype, "uniform_unit_scaling_initializer")

    def __call__(self, shape, dtype=None, partition_info=None):
        full = _as_list(partition_info.full_shape if partition_info is not None else shape)
        input_size = max(1, int(np.prod(full[:-1], dtype=np.int64)))
        limit = math.sqrt(3.0 / input_size) * self.factor
        return _random_ops().random_uniform(_as_list(shape), -limit, limit,
                                            dtype or self.dtype, seed=self.seed)


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape: dense [in, out], conv [..., in, out]."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2], dtype=np.int64))
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    """Samples with variance scale / n, n = fan_in, fan_out or their mean (`mode`).

    distribution "normal": truncated normal with stddev sqrt(scale / n); "uniform": uniform in
    ±sqrt(3 * scale / n).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: expected one of fan_in, fan_out, "
                             f"fan_avg; got {mode!r}")
        if distribution not in ("normal", "uniform"):
            raise ValueError(f"Invalid `distribution` argument: expected 'normal' or "
                             f"'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _float_dtype(dtype, "variance_scaling_initializer")

    def __call__(self, shape, dtype=None, partition_info=None):
        full = _as_list(partition_info.full_shape if partition_info is not None else shape)
        fan_in, fan_out = compute_fans(full)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, n[self.mode])
        if self.distribution == "normal":
            return _random_ops().truncated_normal(_as_list(shape), 0.0, math.sqrt(scale),
                                                  dtype or self.dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return _random_ops().random_uniform(_as_list(shape), -limit, limit, dtype or self.dtype,
                                            seed=self.seed)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a normal sample.

    The shape is flattened to [prod(shape[:-1]), shape[-1]]. The sample is drawn at graph-build
    time (seeded by `seed` and the graph seed), so it is a constant of the graph.
    """

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        self.gain, self.seed = gain, seed
        self.dtype = _float_dtype(dtype, "orthogonal_initializer")

    def __call__(self, shape, dtype=None, partition_info=None):
        from tensorflux.ops import constant_op
        shape = _as_list(shape)
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional, got "
                             f"shape {shape}")
        rows, cols = int(np.prod(shape[:-1], dtype=np.int64)), shape[-1]
        from tensorflux.framework import random_seed
        seeds = [s for s in random_seed.get_seed(self.seed) if s is not None]
        rng = np.random.default_rng(seeds or None)
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        dtype = dtypes.as_dtype(dtype or self.dtype)
        return constant_op.constant((self.gain * q).reshape(shape).astype(dtype.as_numpy_dtype),
                                    dtype=dtype)


constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
orthogonal_initializer = Orthogonal


def glorot_uniform_initializer(seed=None, dtype=dtypes.float32):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    return VarianceScaling(1.0, "fan_avg", "uniform", seed, dtype)


def glorot_normal_initializer(seed=None, dtype=dtypes.float32):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""
    return VarianceScaling(1.0, "fan_avg", "normal", seed, dtype)


def xavier_initializer(uniform=True, seed=None, dtype=dtypes.float32):
    """tf.contrib.layers.xavier_initializer: uniform ±sqrt(6 / (fan_in + fan_out)), or a
    truncated normal with stddev sqrt(1.3 * 2 / (fan_in + fan_out))."""
    if uniform:
        return VarianceScaling(1.0, "fan_avg", "uniform", seed, dtype)
    return VarianceScaling(1.3, "fan_avg", "normal", seed, dtype)
