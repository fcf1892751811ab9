"""Image ops: resizing (bilinear, nearest neighbour) with gradients, PNG and JPEG codecs,
contrast adjustment.

Resizing follows TensorFlow's documented sampling. Output pixel `i` of `out` reads input
coordinate `i * scale`, with `scale = in / out`, or `(in - 1) / (out - 1)` when `align_corners`;
with `half_pixel_centers` it reads `(i + 0.5) * scale - 0.5` (bilinear) or `(i + 0.5) * scale`
(nearest). Bilinear interpolates between floor and ceil of that coordinate (clamped to the
image); nearest takes its floor (rounded when `align_corners`). ResizeBilinear always returns
float32, as TensorFlow's does.

PNG uses tensorflux.lib.png; JPEG uses Pillow (imported when a JPEG kernel first runs).
The composite functions of `tf.image` live in tensorflux/image/.
"""
import io

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib import png
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import math_ops
from tensorflux.ops import reduction_ops
from tensorflux.ops import slicing_ops

__all__ = [
    "resize_bilinear", "resize_nearest_neighbor", "decode_png", "encode_png", "decode_jpeg",
    "encode_jpeg", "adjust_contrastv2",
]

_RESIZE_T = registry.Attr("type", allowed=sorted(
    common.FLOATS - {dtypes.bfloat16} | {dtypes.int8, dtypes.uint8, dtypes.int16, dtypes.uint16,
                                         dtypes.int32, dtypes.int64},
    key=lambda d: d.as_datatype_enum))
_GRAD_T = registry.Attr("type", allowed=[dtypes.float16, dtypes.float32, dtypes.float64])
_RESIZE_ATTRS = {"align_corners": False, "half_pixel_centers": False}


# ---- sampling grids (shared by the resize kernels) --------------------------------------------
def _scale(in_size, out_size, align_corners):
    if align_corners and out_size > 1:
        return np.float32((in_size - 1) / (out_size - 1))
    return np.float32(in_size / out_size)


def _linear_grid(in_size, out_size, attrs):
    """(lower index, upper index, weight of upper) for each output position, TF's rule."""
    scale = _scale(in_size, out_size, attrs["align_corners"])
    pos = np.arange(out_size, dtype=np.float32)
    src = (pos + 0.5) * scale - 0.5 if attrs["half_pixel_centers"] else pos * scale
    low = np.floor(src)
    lower = np.clip(low.astype(np.int64), 0, in_size - 1)
    upper = np.clip(np.ceil(src).astype(np.int64), 0, in_size - 1)
    return lower, upper, (src - low).astype(np.float32)


def _nearest_grid(in_size, out_size, attrs):
    """The input index each output position copies."""
    scale = _scale(in_size, out_size, attrs["align_corners"])
    pos = np.arange(out_size, dtype=np.float32)
    src = (pos + 0.5) * scale if attrs["half_pixel_centers"] else pos * scale
    index = np.floor(src + 0.5) if attrs["align_corners"] else np.floor(src)
    return np.clip(index.astype(np.int64), 0, in_size - 1)


def _linear_matrix(in_size, out_size, attrs):
    """[out, in] matrix of interpolation weights: output = W @ input along one axis."""
    lower, upper, weight = _linear_grid(in_size, out_size, attrs)
    matrix = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    np.add.at(matrix, (rows, lower), 1.0 - weight.astype(np.float64))
    np.add.at(matrix, (rows, upper), weight.astype(np.float64))
    return matrix


def _nearest_matrix(in_size, out_size, attrs):
    matrix = np.zeros((out_size, in_size), np.float64)
    matrix[np.arange(out_size), _nearest_grid(in_size, out_size, attrs)] = 1.0
    return matrix


def _apply_adjoint(grads, row_matrix, col_matrix):
    """Sums each output gradient back onto the input pixels it was computed from."""
    return np.einsum("yh,byxc,xw->bhwc", row_matrix, grads, col_matrix, optimize=True)


# ---- shape and argument checks ----------------------------------------------------------------
def _size_dims(size_tensor):
    """The [height, width] a size input holds, with None where unknown."""
    size_shape = size_tensor.get_shape()
    if size_shape.ndims is not None and size_shape.as_list() not in ([2], [None]):
        raise ValueError(f"size must be a 1-D tensor of 2 elements (new_height, new_width), "
                         f"got shape {size_shape}")
    dims = tensor_util.constant_value_as_shape(size_tensor)
    return dims.as_list() if dims.ndims == 2 else [None, None]


def _resized_shape(op):
    images = op.inputs[0].get_shape().with_rank(4)
    height, width = _size_dims(op.inputs[1])
    return tensor_shape.TensorShape([images[0], height, width, images[3]])


def _check_resize_args(ctx, images, size):
    if np.ndim(images) != 4:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"input must be 4-dimensional [batch, height, width, channels], got "
                          f"shape {list(np.shape(images))}")
    if np.shape(size) != (2,) or np.any(np.asarray(size) <= 0):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"size must be a 1-D int32 tensor of 2 positive elements, got "
                          f"{np.asarray(size).tolist()}")
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"input image must have height and width > 0, got shape "
                          f"{list(images.shape)}")
    out_shape = [images.shape[0], int(size[0]), int(size[1]), images.shape[3]]
    limits.check_allocation(ctx.op, out_shape, np.float32)
    return int(size[0]), int(size[1])


def _resize_attrs(align_corners, half_pixel_centers):
    if align_corners and half_pixel_centers:
        raise ValueError("If half_pixel_centers is True, align_corners must be False")
    return {"align_corners": bool(align_corners), "half_pixel_centers": bool(half_pixel_centers)}


# ---- ResizeBilinear / ResizeBilinearGrad ------------------------------------------------------
ResizeBilinear = registry.register_op(
    "ResizeBilinear", inputs=["images: T", "size: int32"], outputs=["resized_images: float"],
    attrs=dict(_RESIZE_ATTRS, T=_RESIZE_T))
ResizeBilinear.shape(_resized_shape)


@ResizeBilinear.gradient
def _resize_bilinear_grad(op, grad):
    if not op.inputs[0].dtype.base_dtype.is_floating:
        return [None, None]
    return [apply_op("ResizeBilinearGrad", grad, op.inputs[0],
                     align_corners=op.get_attr("align_corners"),
                     half_pixel_centers=op.get_attr("half_pixel_centers")), None]


@ResizeBilinear.kernel("CPU")
def _resize_bilinear_kernel(ctx, images, size):
    out_h, out_w = _check_resize_args(ctx, images, size)
    images = np.asarray(images).astype(np.float32)
    y0, y1, wy = _linear_grid(images.shape[1], out_h, ctx.attrs)
    x0, x1, wx = _linear_grid(images.shape[2], out_w, ctx.attrs)
    left, right = images[:, :, x0], images[:, :, x1]
    rows = left + (right - left) * wx[:, None]
    top, bottom = rows[:, y0], rows[:, y1]
    return (top + (bottom - top) * wy[:, None, None]).astype(np.float32)


ResizeBilinearGrad = registry.register_op(
    "ResizeBilinearGrad", inputs=["grads: float", "original_image: T"], outputs=["output: T"],
    attrs=dict(_RESIZE_ATTRS, T=_GRAD_T))


@ResizeBilinearGrad.shape
def _resize_bilinear_grad_shape(op):
    op.inputs[0].get_shape().with_rank(4)
    return op.inputs[1].get_shape().with_rank(4)


@ResizeBilinearGrad.gradient
def _resize_bilinear_grad_grad(op, grad):
    """The op is linear in `grads`; its adjoint is the forward resize to grads' size."""
    size = slicing_ops.strided_slice(array_ops.shape(op.inputs[0]), [1], [3], [1])
    return [apply_op("ResizeBilinear", grad, size, align_corners=op.get_attr("align_corners"),
                     half_pixel_centers=op.get_attr("half_pixel_centers")), None]


@ResizeBilinearGrad.kernel("CPU")
def _resize_bilinear_grad_kernel(ctx, grads, original_image):
    _check_resize_args(ctx, original_image, np.array(np.shape(original_image)[1:3]))
    in_h, in_w = original_image.shape[1:3]
    rows = _linear_matrix(in_h, grads.shape[1], ctx.attrs)
    cols = _linear_matrix(in_w, grads.shape[2], ctx.attrs)
    out = _apply_adjoint(np.asarray(grads, np.float64), rows, cols)
    return out.astype(ctx.attrs["T"].as_numpy_dtype)


# ---- ResizeNearestNeighbor / ResizeNearestNeighborGrad ----------------------------------------
ResizeNearestNeighbor = registry.register_op(
    "ResizeNearestNeighbor", inputs=["images: T", "size: int32"], outputs=["resized_images: T"],
    attrs=dict(_RESIZE_ATTRS, T=_RESIZE_T))
ResizeNearestNeighbor.shape(_resized_shape)


@ResizeNearestNeighbor.gradient
def _resize_nearest_grad(op, grad):
    if not op.inputs[0].dtype.base_dtype.is_floating:
        return [None, None]
    size = slicing_ops.strided_slice(array_ops.shape(op.inputs[0]), [1], [3], [1])
    return [apply_op("ResizeNearestNeighborGrad", grad, size,
                     align_corners=op.get_attr("align_corners"),
                     half_pixel_centers=op.get_attr("half_pixel_centers")), None]


@ResizeNearestNeighbor.kernel("CPU")
def _resize_nearest_kernel(ctx, images, size):
    out_h, out_w = _check_resize_args(ctx, images, size)
    rows = _nearest_grid(images.shape[1], out_h, ctx.attrs)
    cols = _nearest_grid(images.shape[2], out_w, ctx.attrs)
    return np.ascontiguousarray(np.asarray(images)[:, rows][:, :, cols])


ResizeNearestNeighborGrad = registry.register_op(
    "ResizeNearestNeighborGrad", inputs=["grads: T", "size: int32"], outputs=["output: T"],
    attrs=dict(_RESIZE_ATTRS, T=registry.Attr("type", allowed=[
        dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8, dtypes.uint8,
        dtypes.int32])))
ResizeNearestNeighborGrad.shape(_resized_shape)


@ResizeNearestNeighborGrad.gradient
def _resize_nearest_grad_grad(op, grad):
    size = slicing_ops.strided_slice(array_ops.shape(op.inputs[0]), [1], [3], [1])
    return [apply_op("ResizeNearestNeighbor", grad, size,
                     align_corners=op.get_attr("align_corners"),
                     half_pixel_centers=op.get_attr("half_pixel_centers")), None]


@ResizeNearestNeighborGrad.kernel("CPU")
def _resize_nearest_grad_kernel(ctx, grads, size):
    in_h, in_w = _check_resize_args(ctx, grads, size)
    rows = _nearest_matrix(in_h, grads.shape[1], ctx.attrs)
    cols = _nearest_matrix(in_w, grads.shape[2], ctx.attrs)
    out = _apply_adjoint(np.asarray(grads, np.float64), rows, cols)
    return out.astype(ctx.attrs["T"].as_numpy_dtype)


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """4-D `images` resized to `size` = [new_height, new_width] by bilinear interpolation
    (float32 result)."""
    return apply_op("ResizeBilinear", images, _size_input(size), name=name,
                    **_resize_attrs(align_corners, half_pixel_centers))


def resize_nearest_neighbor(images, size, align_corners=False, name=None,
                            half_pixel_centers=False):
    """4-D `images` resized to `size` = [new_height, new_width] by nearest-neighbour sampling."""
    return apply_op("ResizeNearestNeighbor", images, _size_input(size), name=name,
                    **_resize_attrs(align_corners, half_pixel_centers))


def _size_input(size):
    if isinstance(size, ops.Tensor):
        return size
    if isinstance(size, (list, tuple)) and any(isinstance(d, ops.Tensor) for d in size):
        return array_ops.stack([ops.convert_to_tensor(d, dtype=dtypes.int32) for d in size])
    return ops.convert_to_tensor(np.asarray(size, dtype=np.int32), name="size")


# ---- AdjustContrastv2 -------------------------------------------------------------------------
AdjustContrastv2 = registry.register_op(
    "AdjustContrastv2", inputs=["images: T", "contrast_factor: float"], outputs=["output: T"],
    attrs={"T": registry.Attr("type", dtypes.float32,
                              allowed=[dtypes.float16, dtypes.float32, dtypes.float64])})


@AdjustContrastv2.shape
def _adjust_contrast_shape(op):
    op.inputs[1].get_shape().with_rank(0)
    return op.inputs[0].get_shape().with_rank_at_least(3)


@AdjustContrastv2.gradient
def _adjust_contrast_grad(op, grad):
    """x -> f*x + (1-f)*mean(x) is self-adjoint in x; d/df = sum((x - mean(x)) * grad)."""
    images, factor = op.inputs
    centered = images - reduction_ops.reduce_mean(images, [-3, -2], keep_dims=True)
    d_factor = reduction_ops.reduce_sum(math_ops.cast(centered * grad, dtypes.float32))
    return [apply_op("AdjustContrastv2", grad, factor), d_factor]


@AdjustContrastv2.kernel("CPU")
def _adjust_contrast_kernel(ctx, images, factor):
    if np.ndim(images) < 3 or np.ndim(factor) != 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"images must be at least 3-D [..., height, width, channels] and "
                          f"contrast_factor a scalar, got shapes {list(np.shape(images))} and "
                          f"{list(np.shape(factor))}")
    mean = np.mean(images, axis=(-3, -2), keepdims=True, dtype=np.float64).astype(images.dtype)
    return ((images - mean) * images.dtype.type(factor) + mean).astype(images.dtype)


def adjust_contrastv2(images, contrast_factor, name=None):
    """(x - mean) * contrast_factor + mean, with the mean taken per image and channel."""
    return apply_op("AdjustContrastv2", images,
                    ops.convert_to_tensor(contrast_factor, dtype=dtypes.float32), name=name)


# ---- PNG ----------------------------------------------------------------------------------------
def _contents(ctx, contents, what):
    if np.ndim(contents) != 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"contents must be a scalar string ({what} file bytes), got shape "
                          f"{list(np.shape(contents))}")
    value = contents.item() if isinstance(contents, np.ndarray) else contents
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


def _decoded_shape(op):
    op.inputs[0].get_shape().with_rank(0)
    channels = op.get_attr("channels")
    return tensor_shape.TensorShape([None, None, channels or None])


def _encoded_shape(op):
    op.inputs[0].get_shape().with_rank(3)
    return tensor_shape.scalar()


def _check_channels(ctx, channels, allowed):
    if channels not in allowed:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"channels must be one of {allowed}, got {channels}")


DecodePng = registry.register_op(
    "DecodePng", inputs=["contents: string"], outputs=["image: dtype"],
    attrs={"channels": 0, "dtype": registry.Attr("type", dtypes.uint8,
                                                 allowed=[dtypes.uint8, dtypes.uint16])})
DecodePng.shape(_decoded_shape)
DecodePng.not_differentiable()


@DecodePng.kernel("CPU")
def _decode_png_kernel(ctx, contents):
    _check_channels(ctx, ctx.attrs["channels"], (0, 1, 2, 3, 4))
    data = _contents(ctx, contents, "PNG")
    try:
        image = png.decode(data, 0)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, ctx.op, f"Invalid PNG data: {e}") from None
    except errors.ResourceExhaustedError as e:  # the header's size, over the tensor cap
        raise errors.ResourceExhaustedError(None, ctx.op, e.message) from None
    image = _png_channels(image, ctx.attrs["channels"])
    want = ctx.attrs["dtype"].as_numpy_dtype
    if image.dtype == np.uint16 and want == np.uint8:
        return (image >> 8).astype(np.uint8)
    if image.dtype == np.uint8 and want == np.uint16:
        return image.astype(np.uint16) * np.uint16(257)
    return image


def _png_channels(image, channels):
    if channels == 2:  # grey + alpha: grey from the colour, alpha kept or made opaque
        grey = png.convert_channels(image, 1)
        alpha = png.convert_channels(image, 4)[:, :, 3:]
        return np.concatenate([grey, alpha], axis=2)
    return png.convert_channels(image, channels)


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None):
    """A PNG file's bytes as a uint8 (or uint16) [height, width, channels] image; channels 0
    keeps the file's."""
    return apply_op("DecodePng", contents, channels=channels, dtype=dtype, name=name)


EncodePng = registry.register_op(
    "EncodePng", inputs=["image: T"], outputs=["contents: string"],
    attrs={"compression": -1,
           "T": registry.Attr("type", dtypes.uint8, allowed=[dtypes.uint8, dtypes.uint16])})
EncodePng.shape(_encoded_shape)
EncodePng.not_differentiable()


@EncodePng.kernel("CPU")
def _encode_png_kernel(ctx, image):
    level = ctx.attrs["compression"]
    if np.ndim(image) != 3 or not 1 <= np.shape(image)[2] <= 4 or not -1 <= level <= 9:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"image must be 3-D [height, width, 1-4 channels] and compression in "
                          f"[-1, 9], got shape {list(np.shape(image))}, compression {level}")
    try:
        data = png.encode(image, 6 if level == -1 else level)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, ctx.op, str(e)) from None
    return np.array(data, dtype=object)


def encode_png(image, compression=-1, name=None):
    """PNG bytes (a scalar string) of a uint8/uint16 [height, width, channels] image."""
    return apply_op("EncodePng", image, compression=compression, name=name)


# ---- JPEG (Pillow) ---------------------------------------------------------------------------
def _pillow(ctx):
    try:
        from PIL import Image
    except ImportError:
        raise errors.UnimplementedError(
            None, ctx.op, "JPEG coding needs Pillow; install it with `pip install Pillow`"
        ) from None
    return Image


DecodeJpeg = registry.register_op(
    "DecodeJpeg", inputs=["contents: string"], outputs=["image: uint8"],
    attrs={"channels": 0, "ratio": 1, "fancy_upscaling": True, "try_recover_truncated": False,
           "acceptable_fraction": 1.0, "dct_method": ""})
DecodeJpeg.shape(_decoded_shape)
DecodeJpeg.not_differentiable()


@DecodeJpeg.kernel("CPU")
def _decode_jpeg_kernel(ctx, contents):
    image_module = _pillow(ctx)
    channels, ratio = ctx.attrs["channels"], ctx.attrs["ratio"]
    _check_channels(ctx, channels, (0, 1, 3))
    if ratio not in (1, 2, 4, 8):
        raise errors.InvalidArgumentError(None, ctx.op,
                                          f"ratio must be 1, 2, 4 or 8, got {ratio}")
    try:
        img = image_module.open(io.BytesIO(_contents(ctx, contents, "JPEG")))
        if img.format != "JPEG":
            raise ValueError(f"the data is a {img.format} image, not a JPEG")
        mode = {1: "L", 3: "RGB"}.get(channels) or ("L" if img.mode == "L" else "RGB")
        if ratio > 1:  # libjpeg scales by 1/ratio while decoding
            img.draft(mode, (-(-img.width // ratio), -(-img.height // ratio)))
        # the frame header's size, before Pillow allocates it (a few bytes may claim 65535^2)
        limits.check_allocation(ctx.op, [img.height, img.width, len(mode)], np.uint8)
        pixels = np.asarray(img.convert(mode), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, image_module.DecompressionBombError) as e:
        raise errors.InvalidArgumentError(None, ctx.op, f"Invalid JPEG data: {e}") from None
    return pixels.reshape(pixels.shape[0], pixels.shape[1], -1)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1.0, dct_method="", name=None):
    """A JPEG file's bytes as a uint8 [height, width, channels] image (0: the file's channels,
    1 grey, 3 RGB); `ratio` 2, 4 or 8 downscales while decoding.

    fancy_upscaling, try_recover_truncated, acceptable_fraction and dct_method are recorded
    as attrs (GraphDef compatibility); decoding uses Pillow's libjpeg settings.
    """
    return apply_op("DecodeJpeg", contents, channels=channels, ratio=ratio,
                    fancy_upscaling=fancy_upscaling,
                    try_recover_truncated=try_recover_truncated,
                    acceptable_fraction=float(acceptable_fraction), dct_method=dct_method,
                    name=name)


EncodeJpeg = registry.register_op(
    "EncodeJpeg", inputs=["image: uint8"], outputs=["contents: string"],
    attrs={"format": registry.Attr("string", "", allowed=["", "grayscale", "rgb"]),
           "quality": 95, "progressive": False, "optimize_size": False,
           "chroma_downsampling": True, "density_unit": registry.Attr("string", "in",
                                                                      allowed=["in", "cm"]),
           "x_density": 300, "y_density": 300, "xmp_metadata": ""})
EncodeJpeg.shape(_encoded_shape)
EncodeJpeg.not_differentiable()


@EncodeJpeg.kernel("CPU")
def _encode_jpeg_kernel(ctx, image):
    image_module = _pillow(ctx)
    channels = np.shape(image)[2] if np.ndim(image) == 3 else None
    fmt = ctx.attrs["format"] or {1: "grayscale", 3: "rgb"}.get(channels)
    if fmt is None or channels != {"grayscale": 1, "rgb": 3}[fmt] or not 0 <= ctx.attrs[
            "quality"] <= 100:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"image must be 3-D [height, width, 1 or 3 channels] matching format "
                          f"{ctx.attrs['format']!r} and quality in [0, 100], got shape "
                          f"{list(np.shape(image))}, quality {ctx.attrs['quality']}")
    img = image_module.fromarray(image[:, :, 0] if channels == 1 else image,
                                 "L" if channels == 1 else "RGB")
    out = io.BytesIO()
    dpi = (ctx.attrs["x_density"], ctx.attrs["y_density"])
    if ctx.attrs["density_unit"] == "cm":
        dpi = tuple(d * 2.54 for d in dpi)
    img.save(out, "JPEG", quality=ctx.attrs["quality"], progressive=ctx.attrs["progressive"],
             optimize=ctx.attrs["optimize_size"], dpi=dpi,
             subsampling=2 if ctx.attrs["chroma_downsampling"] else 0)
    return np.array(out.getvalue(), dtype=object)


def encode_jpeg(image, format="", quality=95, progressive=False,  # noqa: A002 - TF's name
                optimize_size=False, chroma_downsampling=True, density_unit="in", x_density=300,
                y_density=300, xmp_metadata="", name=None):
    """JPEG bytes (a scalar string) of a uint8 [height, width, 1 or 3] image."""
    return apply_op("EncodeJpeg", image, format=format, quality=quality,
                    progressive=progressive, optimize_size=optimize_size,
                    chroma_downsampling=chroma_downsampling, density_unit=density_unit,
                    x_density=x_density, y_density=y_density, xmp_metadata=xmp_metadata,
                    name=name)
