"""tf.image: resizing, cropping and padding, flips, colour adjustments, dtype conversion and
the PNG/JPEG codecs, built from ops.

Images are 3-D [height, width, channels] tensors; the resize, crop and pad functions also take
4-D [batch, height, width, channels] batches. Sizes and offsets may be Python ints or scalar
tensors; where they are ints and the image's shape is known, bad values raise ValueError when
the graph is built, and the result's static shape is known.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import tensor_util
from tensorflux.ops import array_ops
from tensorflux.ops import clip_ops
from tensorflux.ops import math_ops
from tensorflux.ops import random_ops
from tensorflux.ops import reduction_ops
from tensorflux.ops.image_ops import (  # noqa: F401 (re-exported as tf.image.*)
    adjust_contrastv2, decode_jpeg, decode_png, encode_jpeg, encode_png, resize_bilinear,
    resize_nearest_neighbor)


class ResizeMethod:
    """The `method` values of resize_images."""
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


# ---- helpers -----------------------------------------------------------------------------------
def _image_tensor(image, ranks=(3,), what="image"):
    image = ops.convert_to_tensor(image, name="image")
    ndims = image.get_shape().ndims
    if ndims not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ValueError(f"'{what}' must have rank {wanted} ([batch,] height, width, channels) "
                         f"and a statically known rank, got shape {image.get_shape()}")
    return image


def _dims(image):
    """The image's dimensions: ints where static, scalar int32 tensors elsewhere."""
    dims, dynamic = [], None
    for i, d in enumerate(image.get_shape().as_list()):
        if d is None:
            dynamic = array_ops.shape(image) if dynamic is None else dynamic
            d = dynamic[i]
        dims.append(d)
    return dims


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _static(x):
    """x as a Python int if it is known before running, else None."""
    if _is_int(x):
        return int(x)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return int(x)
    return None


def _max(a, b):
    return max(a, b) if _is_int(a) and _is_int(b) else math_ops.maximum(a, b)


def _min(a, b):
    return min(a, b) if _is_int(a) and _is_int(b) else math_ops.minimum(a, b)


def _vector(values):
    """A 1-D int32 tensor from ints and scalar tensors."""
    if all(_is_int(v) for v in values):
        return ops.convert_to_tensor(np.asarray(values, np.int32))
    return array_ops.stack([ops.convert_to_tensor(v, dtype=dtypes.int32) for v in values])


def _static_shape(*dims):
    return [_static(d) for d in dims]


def _check(condition, message):
    if condition:
        raise ValueError(message)


# ---- flips and transposes ------------------------------------------------------------------
def flip_left_right(image):
    """`image` ([batch,] height, width, channels) mirrored horizontally."""
    image = _image_tensor(image, (3, 4))
    return array_ops.reverse_v2(image, [image.get_shape().ndims - 2])


def flip_up_down(image):
    """`image` ([batch,] height, width, channels) mirrored vertically."""
    image = _image_tensor(image, (3, 4))
    return array_ops.reverse_v2(image, [image.get_shape().ndims - 3])


def _random_flip(image, axis, seed):
    image = _image_tensor(image)
    mirror = math_ops.less(random_ops.random_uniform([], 0, 1.0, seed=seed), 0.5)
    flags = [mirror if i == axis else ops.convert_to_tensor(False) for i in range(3)]
    return array_ops.reverse(image, array_ops.stack(flags))


def random_flip_left_right(image, seed=None):
    """A 3-D image mirrored horizontally with probability 1/2 (drawn each run)."""
    return _random_flip(image, 1, seed)


def random_flip_up_down(image, seed=None):
    """A 3-D image mirrored vertically with probability 1/2 (drawn each run)."""
    return _random_flip(image, 0, seed)


def transpose_image(image):
    """A 3-D image with height and width swapped."""
    return array_ops.transpose(_image_tensor(image), [1, 0, 2])


# ---- cropping and padding --------------------------------------------------------------------
def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The [target_height, target_width] window of `image` whose top-left corner is at
    (offset_height, offset_width)."""
    image = _image_tensor(image, (3, 4))
    batched = image.get_shape().ndims == 4
    dims = _dims(image)
    height, width = dims[-3], dims[-2]
    for value, what in ((offset_height, "offset_height"), (offset_width, "offset_width")):
        _check(_is_int(value) and value < 0, f"{what} must be >= 0, got {value}")
    for value, what in ((target_height, "target_height"), (target_width, "target_width")):
        _check(_is_int(value) and value <= 0, f"{what} must be > 0, got {value}")
    for size, offset, target, what in ((height, offset_height, target_height, "height"),
                                       (width, offset_width, target_width, "width")):
        _check(all(_is_int(v) for v in (size, offset, target)) and size < offset + target,
               f"image {what} ({size}) must be >= target_{what} + offset_{what} "
               f"({target} + {offset})")
    begin = ([0] if batched else []) + [offset_height, offset_width, 0]
    size = ([-1] if batched else []) + [target_height, target_width, -1]
    cropped = array_ops.slice(image, _vector(begin), _vector(size))
    cropped.set_shape(_static_shape(*dims[:-3]) + _static_shape(target_height, target_width)
                      + [_static(dims[-1])])
    return cropped


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """`image` placed at (offset_height, offset_width) in a [target_height, target_width]
    canvas of zeros."""
    image = _image_tensor(image, (3, 4))
    batched = image.get_shape().ndims == 4
    dims = _dims(image)
    height, width = dims[-3], dims[-2]
    after_h = target_height - offset_height - height
    after_w = target_width - offset_width - width
    for value, what in ((offset_height, "offset_height"), (offset_width, "offset_width")):
        _check(_is_int(value) and value < 0, f"{what} must be >= 0, got {value}")
    for value, what in ((after_h, "height"), (after_w, "width")):
        _check(_is_int(value) and value < 0,
               f"target_{what} must be >= offset_{what} + image {what}; the image overflows the "
               f"target by {-value if _is_int(value) else '?'} pixels")
    rows = ([[0, 0]] if batched else []) + [[offset_height, after_h], [offset_width, after_w],
                                            [0, 0]]
    paddings = array_ops.stack([_vector(r) for r in rows]) if not all(
        _is_int(v) for r in rows for v in r) else np.asarray(rows, np.int32)
    padded = array_ops.pad(image, paddings)
    padded.set_shape(_static_shape(*dims[:-3]) + _static_shape(target_height, target_width)
                     + [_static(dims[-1])])
    return padded


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """`image` centrally cropped and/or zero-padded to [target_height, target_width]."""
    image = _image_tensor(image, (3, 4))
    dims = _dims(image)
    height, width = dims[-3], dims[-2]
    for value, what in ((target_height, "target_height"), (target_width, "target_width")):
        _check(_is_int(value) and value <= 0, f"{what} must be > 0, got {value}")
    diff_h, diff_w = target_height - height, target_width - width
    cropped = crop_to_bounding_box(image, _max((-diff_h) // 2, 0), _max((-diff_w) // 2, 0),
                                   _min(target_height, height), _min(target_width, width))
    return pad_to_bounding_box(cropped, _max(diff_h // 2, 0), _max(diff_w // 2, 0),
                               target_height, target_width)


def central_crop(image, central_fraction):
    """The central `central_fraction` (in (0, 1]) of a 3-D image's height and width."""
    _check(not 0.0 < central_fraction <= 1.0,
           f"central_fraction must be in (0, 1], got {central_fraction}")
    image = _image_tensor(image)
    if central_fraction == 1.0:
        return image
    height, width, _ = _dims(image)
    start_h = _scaled_int(height, (1.0 - central_fraction) / 2.0)
    start_w = _scaled_int(width, (1.0 - central_fraction) / 2.0)
    return crop_to_bounding_box(image, start_h, start_w, height - 2 * start_h,
                                width - 2 * start_w)


def _scaled_int(size, factor):
    """int(size * factor) for an int or an int32 scalar tensor."""
    if isinstance(size, ops.Tensor):
        return math_ops.cast(math_ops.cast(size, dtypes.float32) * factor, dtypes.int32)
    return int(size * factor)


# ---- resizing ----------------------------------------------------------------------------------
def _is_scalar(x):
    if isinstance(x, ops.Tensor):
        return x.get_shape().ndims == 0
    return np.ndim(x) == 0


def _resize_args(args, kwargs):
    """(size, method, align_corners) from 1.0's (size, method, align_corners) or 0.9's
    (new_height, new_width, method, align_corners) arguments."""
    if "new_height" in kwargs or "new_width" in kwargs or (args and _is_scalar(args[0])):
        names = ("new_height", "new_width", "method", "align_corners")
    else:
        names = ("size", "method", "align_corners")
    if len(args) > len(names):
        raise TypeError(f"resize_images takes at most {len(names) + 1} positional arguments "
                        f"(images, {', '.join(names)}), got {len(args) + 1}")
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names or key in values:
            raise TypeError(f"resize_images got an unexpected or repeated argument {key!r}; "
                            f"arguments are images, {', '.join(names)}")
        values[key] = value
    if "size" in names:
        size = values.get("size")
    else:
        size = [values.get("new_height"), values.get("new_width")]
    if size is None or (isinstance(size, list) and None in size):
        raise TypeError("resize_images requires size=[new_height, new_width] (or 0.9's "
                        "new_height and new_width)")
    return size, values.get("method", ResizeMethod.BILINEAR), values.get("align_corners", False)


def resize_images(images, *args, **kwargs):
    """Resizes 3-D or 4-D `images`: `resize_images(images, size, method=0, align_corners=False)`
    (1.0) or `resize_images(images, new_height, new_width, method=0, align_corners=False)` (0.9).

    method is ResizeMethod.BILINEAR (float32 result) or NEAREST_NEIGHBOR (dtype kept).
    """
    size, method, align_corners = _resize_args(args, kwargs)
    images = _image_tensor(images, (3, 4), "images")
    batched = images.get_shape().ndims == 4
    if not batched:
        images = array_ops.expand_dims(images, 0)
    size = size if isinstance(size, ops.Tensor) else _vector(list(size))
    wanted = tensor_util.constant_value(size)
    if wanted is not None and images.get_shape().as_list()[1:3] == list(wanted):
        resized = images
    elif method == ResizeMethod.BILINEAR:
        resized = resize_bilinear(images, size, align_corners=align_corners)
    elif method == ResizeMethod.NEAREST_NEIGHBOR:
        resized = resize_nearest_neighbor(images, size, align_corners=align_corners)
    else:
        raise ValueError(f"Resize method {method} is not implemented in tensorflux; use "
                         f"ResizeMethod.BILINEAR (0) or ResizeMethod.NEAREST_NEIGHBOR (1)")
    return resized if batched else array_ops.squeeze(resized, [0])


# ---- dtype conversion --------------------------------------------------------------------------
def _saturate_cast(x, dtype):
    """x cast to `dtype`, clipped to its range first."""
    low, high = dtype.min, dtype.max
    if x.dtype.min < low or x.dtype.max > high:
        np_type = x.dtype.as_numpy_dtype
        x = clip_ops.clip_by_value(x, np_type(max(low, x.dtype.min)),
                                   np_type(min(high, x.dtype.max)))
    return math_ops.cast(x, dtype)


def _convert_int_int(image, dtype, saturate):
    scale_in, scale_out = int(image.dtype.max), int(dtype.max)
    if scale_in > scale_out:
        scaled = math_ops.floordiv(image, (scale_in + 1) // (scale_out + 1))
        return _saturate_cast(scaled, dtype) if saturate else math_ops.cast(scaled, dtype)
    cast = _saturate_cast(image, dtype) if saturate else math_ops.cast(image, dtype)
    return math_ops.multiply(cast, (scale_out + 1) // (scale_in + 1))


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """`image` converted to `dtype`, rescaling values: floats span [0, 1), integers [0, MAX].

    Float to integer scales by MAX + 0.5 and truncates; `saturate` clips before casting.
    """
    image = ops.convert_to_tensor(image, name="image")
    dtype = dtypes.as_dtype(dtype).base_dtype
    source = image.dtype.base_dtype
    with ops.name_scope(name, "convert_image", [image]):
        if source == dtype:
            return array_ops.identity(image)
        if source.is_integer and dtype.is_integer:
            return _convert_int_int(image, dtype, saturate)
        if source.is_floating and dtype.is_floating:
            return math_ops.cast(image, dtype)
        if source.is_integer:
            return math_ops.multiply(math_ops.cast(image, dtype), 1.0 / float(source.max))
        scaled = math_ops.multiply(image, float(dtype.max) + 0.5)
        return _saturate_cast(scaled, dtype) if saturate else math_ops.cast(scaled, dtype)


# ---- colour adjustments ------------------------------------------------------------------------
def _in_float(image, fn):
    """fn applied to `image` converted to float32; the result converted back (saturating)."""
    image = ops.convert_to_tensor(image, name="image")
    source = image.dtype.base_dtype
    adjusted = fn(convert_image_dtype(image, dtypes.float32))
    return convert_image_dtype(adjusted, source, saturate=True)


def adjust_brightness(image, delta):
    """`image` + `delta`, computed in float32 and converted back to the image's dtype."""
    return _in_float(image, lambda x: x + math_ops.cast(delta, dtypes.float32))


def random_brightness(image, max_delta, seed=None):
    """adjust_brightness by a delta drawn uniformly from [-max_delta, max_delta) each run."""
    _check(max_delta < 0, f"max_delta must be non-negative, got {max_delta}")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def adjust_contrast(images, contrast_factor):
    """(x - mean) * contrast_factor + mean per image and channel (the mean is over height and
    width), computed in float32 and converted back to the images' dtype."""
    return _in_float(images, lambda x: adjust_contrastv2(x, contrast_factor))


def random_contrast(image, lower, upper, seed=None):
    """adjust_contrast by a factor drawn uniformly from [lower, upper) each run."""
    _check(upper <= lower, f"upper must be > lower, got lower={lower}, upper={upper}")
    _check(lower < 0, f"lower must be non-negative, got {lower}")
    factor = random_ops.random_uniform([], lower, upper, seed=seed)
    return adjust_contrast(image, factor)


def per_image_standardization(image):
    """A 3-D image scaled to zero mean and unit variance: (x - mean) / max(stddev,
    1 / sqrt(number of elements)); float32 result."""
    image = math_ops.cast(_image_tensor(image), dtypes.float32)
    num_pixels = math_ops.cast(reduction_ops.reduce_prod(array_ops.shape(image)), dtypes.float32)
    mean = reduction_ops.reduce_mean(image)
    variance = math_ops.maximum(
        reduction_ops.reduce_mean(math_ops.square(image)) - math_ops.square(mean), 0.0)
    stddev = math_ops.maximum(math_ops.sqrt(variance), math_ops.rsqrt(num_pixels))
    return (image - mean) / stddev


per_image_whitening = per_image_standardization  # TF 0.9's name


def rgb_to_grayscale(images):
    """[..., 3] RGB images as [..., 1] luminance (weights 0.2989, 0.5870, 0.1140)."""
    images = ops.convert_to_tensor(images, name="images")
    flt = convert_image_dtype(images, dtypes.float32)
    weights = ops.convert_to_tensor(np.array([0.2989, 0.5870, 0.1140], np.float32))
    grey = reduction_ops.reduce_sum(flt * weights, [-1], keep_dims=True)
    return convert_image_dtype(grey, images.dtype.base_dtype)


def grayscale_to_rgb(images):
    """[..., 1] images with the channel repeated three times."""
    images = ops.convert_to_tensor(images, name="images")
    ndims = images.get_shape().ndims
    _check(ndims is None, "grayscale_to_rgb needs images of known rank")
    return array_ops.tile(images, [1] * (ndims - 1) + [3])
