"""Harness entries for the image ops: resizing against loop-by-loop NumPy references of TF's
documented sampling rules, PNG and JPEG coding, AdjustContrastv2."""
import io

import numpy as np
import pytest
from PIL import Image as PIL

import tensorflux as tf
from op_harness import OpSpec, run_spec, uniform
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import gradient_checker
from tensorflux.ops import image_ops



# ---- NumPy references, one output pixel at a time ------------------------------------------------
def _scale(in_size, out_size, align_corners):
    if align_corners and out_size > 1:
        return (in_size - 1) / (out_size - 1)
    return in_size / out_size


def _clamp(i, n):
    return min(max(i, 0), n - 1)


def ref_bilinear(images, out_h, out_w, align_corners=False, half_pixel=False):
    b, h, w, c = images.shape
    out = np.zeros((b, out_h, out_w, c))
    sy, sx = _scale(h, out_h, align_corners), _scale(w, out_w, align_corners)
    for y in range(out_h):
        fy = (y + 0.5) * sy - 0.5 if half_pixel else y * sy
        y0 = int(np.floor(fy))
        for x in range(out_w):
            fx = (x + 0.5) * sx - 0.5 if half_pixel else x * sx
            x0 = int(np.floor(fx))
            dy, dx = fy - y0, fx - x0
            for yy, wy in ((y0, 1 - dy), (y0 + 1, dy)):
                for xx, wx in ((x0, 1 - dx), (x0 + 1, dx)):
                    out[:, y, x] += wy * wx * images[:, _clamp(yy, h), _clamp(xx, w)]
    return out.astype(np.float32)


def ref_bilinear_grad(grads, image, align_corners=False, half_pixel=False):
    """The adjoint: each output gradient goes back to the four pixels it blended."""
    _, h, w, _ = image.shape
    out = np.zeros(image.shape)
    out_h, out_w = grads.shape[1:3]
    sy, sx = _scale(h, out_h, align_corners), _scale(w, out_w, align_corners)
    for y in range(out_h):
        fy = (y + 0.5) * sy - 0.5 if half_pixel else y * sy
        y0 = int(np.floor(fy))
        for x in range(out_w):
            fx = (x + 0.5) * sx - 0.5 if half_pixel else x * sx
            x0 = int(np.floor(fx))
            dy, dx = fy - y0, fx - x0
            for yy, wy in ((y0, 1 - dy), (y0 + 1, dy)):
                for xx, wx in ((x0, 1 - dx), (x0 + 1, dx)):
                    out[:, _clamp(yy, h), _clamp(xx, w)] += wy * wx * grads[:, y, x]
    return out.astype(image.dtype)


def _nearest_source(i, in_size, out_size, align_corners, half_pixel):
    scale = _scale(in_size, out_size, align_corners)
    src = (i + 0.5) * scale if half_pixel else i * scale
    return _clamp(int(np.floor(src + 0.5)) if align_corners else int(np.floor(src)), in_size)


def ref_nearest(images, out_h, out_w, align_corners=False, half_pixel=False):
    b, h, w, c = images.shape
    out = np.zeros((b, out_h, out_w, c), images.dtype)
    for y in range(out_h):
        for x in range(out_w):
            out[:, y, x] = images[:, _nearest_source(y, h, out_h, align_corners, half_pixel),
                                  _nearest_source(x, w, out_w, align_corners, half_pixel)]
    return out


def ref_nearest_grad(grads, in_h, in_w, align_corners=False, half_pixel=False):
    b, out_h, out_w, c = grads.shape
    out = np.zeros((b, in_h, in_w, c), grads.dtype)
    for y in range(out_h):
        for x in range(out_w):
            out[:, _nearest_source(y, in_h, out_h, align_corners, half_pixel),
                _nearest_source(x, in_w, out_w, align_corners, half_pixel)] += grads[:, y, x]
    return out


def ref_contrast(images, factor):
    mean = images.mean(axis=(-3, -2), keepdims=True)
    return ((images - mean) * factor + mean).astype(images.dtype)


def test_references_match_known_values():
    """The loop references reproduce TF's documented 4 -> 8 and align_corners results."""
    row = np.arange(4.0).reshape(1, 1, 4, 1)
    up = ref_bilinear(row, 1, 8)[0, 0, :, 0]
    np.testing.assert_allclose(up, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3])
    aligned = ref_bilinear(row, 1, 7, align_corners=True)[0, 0, :, 0]
    np.testing.assert_allclose(aligned, [0, 0.5, 1, 1.5, 2, 2.5, 3])
    half = ref_bilinear(row, 1, 8, half_pixel=True)[0, 0, :, 0]
    np.testing.assert_allclose(half, [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])
    np.testing.assert_array_equal(ref_nearest(row, 1, 2)[0, 0, :, 0], [0, 2])
    np.testing.assert_array_equal(ref_nearest(row, 1, 3, align_corners=True)[0, 0, :, 0],
                                  [0, 2, 3])  # 1.5 rounds up


# ---- input generators ---------------------------------------------------------------------------
def _fixed(dtype, base=uniform):
    def gen(rng, shape, _):
        return base(rng, shape, dtype)
    gen.dtype = dtype
    return gen


def _factor(rng, shape, _):
    return np.float32(rng.uniform(0.3, 2.0))


_factor.dtype = tf.float32


def _png_bytes(image):
    out = io.BytesIO()
    PIL.fromarray(image).save(out, "PNG")
    return out.getvalue()


def _jpeg_bytes(image, **kwargs):
    out = io.BytesIO()
    grey = image.ndim == 3 and image.shape[2] == 1
    PIL.fromarray(image[:, :, 0] if grey else image).save(out, "JPEG", **kwargs)
    return out.getvalue()


def _pil_decode(data, mode=None):
    img = PIL.open(io.BytesIO(data))
    pixels = np.asarray(img.convert(mode) if mode else img)
    return pixels.reshape(pixels.shape[0], pixels.shape[1], -1)


def _smooth_rgb(h=24, w=32):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (h + w)], -1).astype(np.uint8)


RGB = _smooth_rgb()
RGBA16 = np.random.default_rng(5).integers(0, 65536, size=(5, 7, 4)).astype(np.uint16)


def _known(decoded, shape):
    """Decoded images have unknown static height and width; give the harness the shape."""
    return tf.reshape(decoded, shape)


# ---- gradient checks for ops whose float32 results defeat the harness's 1e-6 differences -------
def _check_linear_grad(build, x_shape, x_dtype, tol=1e-3):
    """build(x) is linear in x, so central differences with a step of 1 are exact."""
    with tf.Graph().as_default(), tf.Session():
        x = tf.placeholder(x_dtype, x_shape)
        y = build(x)
        value = np.random.default_rng(2).uniform(-1, 1, x_shape)
        error = gradient_checker.compute_gradient_error(x, x_shape, y, y.get_shape().as_list(),
                                                        x_init_value=value, delta=1.0)
    assert error < tol, f"gradient error {error}"


def check_bilinear_grad(spec):
    for x_dtype in (tf.float32, tf.float64):
        _check_linear_grad(lambda x: image_ops.resize_bilinear(x, [5, 3]), [2, 3, 4, 2], x_dtype)
        _check_linear_grad(lambda x: image_ops.resize_bilinear(x, [2, 7], align_corners=True),
                           [1, 4, 3, 1], x_dtype)


def check_bilinear_grad_grad(spec):
    _check_linear_grad(lambda g: apply_op("ResizeBilinearGrad", g, tf.zeros([1, 3, 4, 2],
                                                                             tf.float64)),
                       [1, 5, 6, 2],
                       tf.float32)


def check_contrast_factor_grad(spec):
    images = np.random.default_rng(3).uniform(-1, 1, (2, 3, 4, 2))
    with tf.Graph().as_default(), tf.Session():
        f = tf.placeholder(tf.float32, [])
        y = image_ops.adjust_contrastv2(tf.constant(images, tf.float64), f)
        error = gradient_checker.compute_gradient_error(f, [], y, [2, 3, 4, 2],
                                                        x_init_value=np.float32(1.3), delta=0.5)
    assert error < 1e-4


def check_jpeg_close_to_source(spec):
    with tf.Graph().as_default(), tf.Session() as sess:
        data = sess.run(image_ops.encode_jpeg(RGB, quality=95))
        decoded, grey, half = sess.run([image_ops.decode_jpeg(data),
                                        image_ops.decode_jpeg(data, channels=1),
                                        image_ops.decode_jpeg(data, ratio=2)])
    assert data[:2] == b"\xff\xd8"
    assert decoded.shape == RGB.shape and grey.shape == RGB.shape[:2] + (1,)
    assert half.shape == (12, 16, 3)
    assert np.abs(decoded.astype(int) - RGB).mean() < 3


SPECS = [
    OpSpec("ResizeBilinear", lambda x: image_ops.resize_bilinear(x, [5, 7]),
           lambda x: ref_bilinear(x, 5, 7), [((2, 4, 6, 3),), ((1, 1, 1, 1),)],
           dtypes=[tf.float32, tf.float64, tf.uint8, tf.int32],
           tol={tf.float64: 1e-5, tf.uint8: 1e-5, tf.int32: 1e-5},
           grad=(), check=check_bilinear_grad),
    OpSpec("ResizeBilinear", lambda x: image_ops.resize_bilinear(x, [3, 2], align_corners=True),
           lambda x: ref_bilinear(x, 3, 2, align_corners=True), [((2, 5, 6, 1),)],
           tol={tf.float64: 1e-5}, grad=(), name="ResizeBilinear_align_corners"),
    OpSpec("ResizeBilinear",
           lambda x: image_ops.resize_bilinear(x, [7, 3], half_pixel_centers=True),
           lambda x: ref_bilinear(x, 7, 3, half_pixel=True), [((1, 4, 5, 2),)],
           tol={tf.float64: 1e-5, tf.int32: 1e-6}, grad=(), name="ResizeBilinear_half_pixel"),
    OpSpec("ResizeBilinearGrad", lambda g, x: apply_op("ResizeBilinearGrad", g, x),
           ref_bilinear_grad, [((2, 5, 7, 3), (2, 4, 6, 3)), ((1, 2, 2, 1), (1, 3, 5, 1))],
           inputs=[_fixed(tf.float32), uniform], tol={tf.float64: 1e-5}, grad=(),
           check=check_bilinear_grad_grad),
    OpSpec("ResizeBilinearGrad",
           lambda g, x: apply_op("ResizeBilinearGrad", g, x, align_corners=True),
           lambda g, x: ref_bilinear_grad(g, x, align_corners=True),
           [((1, 6, 4, 2), (1, 3, 5, 2))], inputs=[_fixed(tf.float32), uniform],
           tol={tf.float64: 1e-5}, grad=(), name="ResizeBilinearGrad_align_corners"),
    OpSpec("ResizeNearestNeighbor", lambda x: image_ops.resize_nearest_neighbor(x, [5, 4]),
           lambda x: ref_nearest(x, 5, 4), [((2, 3, 7, 2),), ((1, 1, 1, 1),)],
           dtypes=[tf.float32, tf.float64, tf.uint8, tf.int64]),
    OpSpec("ResizeNearestNeighbor",
           lambda x: image_ops.resize_nearest_neighbor(x, [3, 5], align_corners=True),
           lambda x: ref_nearest(x, 3, 5, align_corners=True), [((1, 4, 6, 2),)],
           name="ResizeNearestNeighbor_align_corners"),
    OpSpec("ResizeNearestNeighbor",
           lambda x: image_ops.resize_nearest_neighbor(x, [7, 2], half_pixel_centers=True),
           lambda x: ref_nearest(x, 7, 2, half_pixel=True), [((1, 3, 5, 1),)],
           name="ResizeNearestNeighbor_half_pixel"),
    OpSpec("ResizeNearestNeighborGrad",
           lambda g: apply_op("ResizeNearestNeighborGrad", g, tf.constant([3, 4])),
           lambda g: ref_nearest_grad(g, 3, 4), [((2, 5, 7, 2),), ((1, 2, 2, 1),)],
           dtypes=[tf.float32, tf.float64, tf.int32]),
    OpSpec("ResizeNearestNeighborGrad",
           lambda g: apply_op("ResizeNearestNeighborGrad", g, tf.constant([5, 3]),
                              align_corners=True),
           lambda g: ref_nearest_grad(g, 5, 3, align_corners=True), [((1, 3, 4, 1),)],
           name="ResizeNearestNeighborGrad_align_corners"),
    OpSpec("AdjustContrastv2", image_ops.adjust_contrastv2, ref_contrast,
           [((3, 4, 2), ()), ((2, 3, 5, 3), ()), ((1, 1, 1), ())],
           inputs=[uniform, _factor], tol={tf.float32: 1e-5, tf.float64: 1e-6},
           check=check_contrast_factor_grad),
    OpSpec("DecodePng", lambda: _known(image_ops.decode_png(_png_bytes(RGB)), RGB.shape),
           lambda: RGB, [()], dtypes=[tf.uint8]),
    OpSpec("DecodePng", lambda: _known(image_ops.decode_png(_png_bytes(RGB), channels=1),
                                       (24, 32, 1)),
           lambda: np.round(RGB @ [0.299, 0.587, 0.114]).astype(np.uint8)[:, :, None], [()],
           dtypes=[tf.uint8], name="DecodePng_grey"),
    OpSpec(("EncodePng", "DecodePng"),
           lambda x: _known(image_ops.decode_png(image_ops.encode_png(x), dtype=x.dtype),
                            tf.shape(x)),
           lambda x: x, [((4, 5, 3),), ((1, 1, 1),), ((3, 2, 4),), ((2, 3, 2),)],
           dtypes=[tf.uint8, tf.uint16], name="PNG_round_trip"),
    OpSpec("DecodePng", lambda: _known(image_ops.decode_png(image_ops.encode_png(RGBA16),
                                                            dtype=tf.uint16), RGBA16.shape),
           lambda: RGBA16, [()], dtypes=[tf.uint16], name="DecodePng_16bit"),
    OpSpec("DecodeJpeg", lambda: _known(image_ops.decode_jpeg(_jpeg_bytes(RGB)), RGB.shape),
           lambda: _pil_decode(_jpeg_bytes(RGB)), [()], dtypes=[tf.uint8]),
    OpSpec("DecodeJpeg", lambda: _known(image_ops.decode_jpeg(_jpeg_bytes(RGB[:, :, 0])),
                                        (24, 32, 1)),
           lambda: _pil_decode(_jpeg_bytes(RGB[:, :, 0])), [()], dtypes=[tf.uint8],
           name="DecodeJpeg_grey"),
    OpSpec("EncodeJpeg", lambda x: _known(image_ops.decode_jpeg(
        image_ops.encode_jpeg(x, quality=90)), tf.shape(x)),
           lambda x: _pil_decode(_jpeg_bytes(x, quality=90, subsampling=2)),
           [((8, 8, 3),), ((5, 9, 1),)], dtypes=[tf.uint8], check=check_jpeg_close_to_source),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- behaviour the harness cannot express -----------------------------------------------------
def test_decode_static_shapes_and_attrs():
    contents = tf.placeholder(tf.string, [])
    assert image_ops.decode_png(contents, channels=3).get_shape().as_list() == [None, None, 3]
    assert image_ops.decode_jpeg(contents).get_shape().as_list() == [None, None, None]
    assert image_ops.encode_png(tf.zeros([2, 2, 1], tf.uint8)).get_shape().ndims == 0
    op = image_ops.decode_jpeg(contents, ratio=2, dct_method="INTEGER_ACCURATE").op
    assert op.type == "DecodeJpeg" and op.get_attr("ratio") == 2
    with pytest.raises(ValueError, match="rank"):
        image_ops.decode_png(tf.placeholder(tf.string, [2]))


def test_resize_static_shapes_and_arg_errors():
    images = tf.placeholder(tf.float32, [None, 4, 4, 3])
    assert image_ops.resize_bilinear(images, [2, 9]).get_shape().as_list() == [None, 2, 9, 3]
    h = tf.placeholder(tf.int32, [])
    dynamic = image_ops.resize_nearest_neighbor(images, [h, 5])
    assert dynamic.get_shape().as_list() == [None, None, 5, 3]
    with pytest.raises(ValueError, match="half_pixel_centers"):
        image_ops.resize_bilinear(images, [2, 2], align_corners=True, half_pixel_centers=True)
    with pytest.raises(ValueError, match="2 elements"):
        image_ops.resize_bilinear(images, [2, 2, 2])
    with pytest.raises(ValueError, match="rank"):
        image_ops.resize_bilinear(tf.zeros([4, 4, 3]), [2, 2])


def test_kernel_errors_name_what_was_wrong():
    with tf.Session() as sess:
        size = tf.placeholder(tf.int32, [2])
        resized = image_ops.resize_bilinear(tf.zeros([1, 2, 2, 1]), size)
        with pytest.raises(tf.errors.InvalidArgumentError, match="positive"):
            sess.run(resized, {size: [0, 3]})
        contents = tf.placeholder(tf.string, [])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid PNG"):
            sess.run(image_ops.decode_png(contents), {contents: b"not a png"})
        with pytest.raises(tf.errors.InvalidArgumentError, match="not a JPEG"):
            sess.run(image_ops.decode_jpeg(contents), {contents: _png_bytes(RGB)})
        with pytest.raises(tf.errors.InvalidArgumentError, match="1-4 channels"):
            sess.run(image_ops.encode_png(tf.zeros([2, 2, 5], tf.uint8)))


def test_png_interoperates_with_pillow_and_converts_depth():
    with tf.Session() as sess:
        ours = sess.run(image_ops.encode_png(RGB))
        np.testing.assert_array_equal(_pil_decode(ours), RGB)
        grey16 = (np.arange(12, dtype=np.uint16).reshape(3, 4, 1) * 5000)
        data = sess.run(image_ops.encode_png(grey16))
        as8 = sess.run(image_ops.decode_png(data))
        as16 = sess.run(image_ops.decode_png(_png_bytes(RGB), dtype=tf.uint16))
        rgba = sess.run(image_ops.decode_png(_png_bytes(RGB), channels=4))
    np.testing.assert_array_equal(as8, (grey16 >> 8).astype(np.uint8))
    np.testing.assert_array_equal(as16, RGB.astype(np.uint16) * 257)
    assert rgba.shape == (24, 32, 4) and (rgba[:, :, 3] == 255).all()


def test_resize_bilinear_integer_images_have_no_gradient():
    images = tf.placeholder(tf.uint8, [1, 2, 2, 1])
    resized = image_ops.resize_bilinear(images, [4, 4])
    assert tf.gradients(tf.reduce_sum(resized), images) == [None]
