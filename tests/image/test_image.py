"""tf.image: crops, pads, resizes (0.9 and 1.0 signatures), flips, colour adjustments, dtype
conversion, standardization, and tf.random_crop on images."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux import image

IMG = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)


def _run(tensor, feed=None):
    with tf.Session() as sess:
        return sess.run(tensor, feed)


def _centered_crop_or_pad(x, th, tw):
    """Reference: crop (offset (size - target) // 2) then zero-pad (offset (target - size) // 2)."""
    h, w = x.shape[:2]
    ch, cw = max((h - th) // 2, 0), max((w - tw) // 2, 0)
    x = x[ch:ch + min(h, th), cw:cw + min(w, tw)]
    out = np.zeros((th, tw) + x.shape[2:], x.dtype)
    ph, pw = max((th - h) // 2, 0), max((tw - w) // 2, 0)
    out[ph:ph + x.shape[0], pw:pw + x.shape[1]] = x
    return out


@pytest.mark.parametrize("target", [(3, 8), (5, 6), (7, 2), (1, 1), (8, 9)])
def test_resize_image_with_crop_or_pad_static_and_dynamic(target):
    static = image.resize_image_with_crop_or_pad(IMG, *target)
    holder = tf.placeholder(tf.uint8, [None, None, 3])
    dynamic = image.resize_image_with_crop_or_pad(holder, *target)
    assert static.get_shape().as_list() == list(target) + [3]
    assert dynamic.get_shape().as_list() == list(target) + [3]
    want = _centered_crop_or_pad(IMG, *target)
    np.testing.assert_array_equal(_run(static), want)
    np.testing.assert_array_equal(_run(dynamic, {holder: IMG}), want)


def test_crop_and_pad_to_bounding_box_batched_and_errors():
    batch = np.stack([IMG, IMG + 1])
    crop = image.crop_to_bounding_box(batch, 1, 2, 3, 4)
    pad = image.pad_to_bounding_box(IMG, 2, 1, 8, 9)
    assert crop.get_shape().as_list() == [2, 3, 4, 3]
    np.testing.assert_array_equal(_run(crop), batch[:, 1:4, 2:6])
    want = np.zeros((8, 9, 3), np.uint8)
    want[2:7, 1:7] = IMG
    np.testing.assert_array_equal(_run(pad), want)
    with pytest.raises(ValueError, match="width"):
        image.crop_to_bounding_box(IMG, 0, 3, 2, 4)
    with pytest.raises(ValueError, match="offset_height must be >= 0"):
        image.pad_to_bounding_box(IMG, -1, 0, 8, 8)
    with pytest.raises(ValueError, match="overflows"):
        image.pad_to_bounding_box(IMG, 0, 0, 4, 8)
    with pytest.raises(ValueError, match="rank 3 or 4"):
        image.crop_to_bounding_box(np.zeros((4, 4)), 0, 0, 2, 2)


def test_resize_images_both_signatures_and_methods():
    batch = np.random.default_rng(0).uniform(0, 1, (2, 4, 6, 3)).astype(np.float32)
    v10 = image.resize_images(batch, [8, 3])
    v09 = image.resize_images(batch, 8, 3)
    nearest10 = image.resize_images(IMG, [10, 12], image.ResizeMethod.NEAREST_NEIGHBOR)
    nearest09 = image.resize_images(IMG, 10, 12, method=1)
    keyword = image.resize_images(IMG, new_height=10, new_width=12, method=1)
    size_kw = image.resize_images(images=IMG, size=[10, 12], method=1, align_corners=True)
    assert v10.get_shape().as_list() == [2, 8, 3, 3] and v10.dtype == tf.float32
    assert nearest10.get_shape().as_list() == [10, 12, 3] and nearest10.dtype == tf.uint8
    a, b, c, d, e = _run([v10, v09, nearest10, nearest09, keyword])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, np.repeat(np.repeat(IMG, 2, 0), 2, 1))
    np.testing.assert_array_equal(c, d)
    np.testing.assert_array_equal(c, e)
    assert size_kw.op.inputs[0].op.get_attr("align_corners") is True
    assert image.resize_images(IMG, [5, 6]).dtype == tf.uint8  # same size: unchanged
    with pytest.raises(ValueError, match="not implemented"):
        image.resize_images(IMG, [3, 3], image.ResizeMethod.BICUBIC)
    with pytest.raises(TypeError, match="requires size"):
        image.resize_images(IMG)


def test_resize_bilinear_of_constant_image_is_constant():
    flat = np.full((1, 3, 5, 2), 7.0, np.float32)
    out = _run(image.resize_bilinear(flat, [7, 4], align_corners=True))
    np.testing.assert_allclose(out, 7.0)


def test_flips_and_random_flips():
    np.testing.assert_array_equal(_run(image.flip_left_right(IMG)), IMG[:, ::-1])
    np.testing.assert_array_equal(_run(image.flip_up_down(IMG)), IMG[::-1])
    np.testing.assert_array_equal(_run(image.transpose_image(IMG)), IMG.transpose(1, 0, 2))
    lr = image.random_flip_left_right(IMG, seed=7)
    ud = image.random_flip_up_down(IMG, seed=7)
    assert lr.get_shape().as_list() == [5, 6, 3]
    with tf.Session() as sess:
        lrs = [sess.run(lr) for _ in range(40)]
        uds = [sess.run(ud) for _ in range(40)]
    flipped = sum(np.array_equal(x, IMG[:, ::-1]) for x in lrs)
    assert flipped + sum(np.array_equal(x, IMG) for x in lrs) == 40
    assert 8 <= flipped <= 32
    assert 8 <= sum(np.array_equal(x, IMG[::-1]) for x in uds) <= 32
    with pytest.raises(ValueError, match="rank 3"):
        image.random_flip_left_right(np.zeros((2, 3, 3, 1)))


def test_random_flip_is_reproducible_with_seeds():
    def draws():
        with tf.Graph().as_default():
            tf.set_random_seed(3)
            flip = image.random_flip_left_right(IMG, seed=1)
            with tf.Session() as sess:
                return [sess.run(flip)[0, 0, 0] for _ in range(10)]
    assert draws() == draws()


def test_flip_gradient_flows():
    x = tf.placeholder(tf.float32, [2, 3, 1])
    flipped = image.random_flip_left_right(x, seed=2)
    grad = tf.gradients(tf.reduce_sum(flipped * np.arange(6.0).reshape(2, 3, 1)), x)[0]
    g = _run(grad, {x: np.zeros((2, 3, 1))})
    assert sorted(g.ravel().tolist()) == [0, 1, 2, 3, 4, 5]


def test_brightness_and_contrast():
    floats = IMG.astype(np.float32) / 255
    np.testing.assert_allclose(_run(image.adjust_brightness(floats, 0.1)), floats + 0.1,
                               rtol=1e-6)
    bright = _run(image.adjust_brightness(IMG, 0.5))  # uint8 saturates
    np.testing.assert_array_equal(bright, np.minimum(IMG.astype(int) + 127, 255))
    contrast = _run(image.adjust_contrast(floats, 2.0))
    mean = floats.mean(axis=(0, 1))
    np.testing.assert_allclose(contrast, (floats - mean) * 2 + mean, rtol=1e-5, atol=1e-6)
    assert _run(image.adjust_contrast(IMG, 3.0)).dtype == np.uint8


def test_random_brightness_and_contrast_in_range():
    floats = np.random.default_rng(1).uniform(0, 1, (4, 5, 3)).astype(np.float32)
    bright = image.random_brightness(floats, max_delta=0.3, seed=4)
    contrast = image.random_contrast(floats, lower=0.2, upper=1.8, seed=4)
    mean = floats.mean(axis=(0, 1))
    deltas, factors = [], []
    with tf.Session() as sess:
        for _ in range(30):
            b, c = sess.run([bright, contrast])
            delta = b - floats
            np.testing.assert_allclose(delta, delta.flat[0], atol=1e-5)
            deltas.append(delta.flat[0])
            factors.append(((c - mean) / (floats - mean)).mean())
    assert -0.3 <= min(deltas) < max(deltas) <= 0.3 and len(set(deltas)) > 20
    assert 0.2 <= min(factors) - 1e-4 and max(factors) <= 1.8 + 1e-4
    with pytest.raises(ValueError, match="non-negative"):
        image.random_brightness(floats, -1.0)
    with pytest.raises(ValueError, match="upper must be > lower"):
        image.random_contrast(floats, 1.0, 0.5)


def test_per_image_standardization_and_whitening():
    x = np.random.default_rng(2).uniform(0, 255, (6, 7, 3)).astype(np.float32)
    out = _run(image.per_image_standardization(x))
    np.testing.assert_allclose(out, (x - x.mean()) / x.std(), rtol=1e-4, atol=1e-4)
    assert image.per_image_whitening is image.per_image_standardization
    flat = _run(image.per_image_standardization(np.full((2, 2, 1), 5, np.uint8)))
    np.testing.assert_array_equal(flat, np.zeros((2, 2, 1)))  # stddev floor 1/sqrt(N)


def test_convert_image_dtype():
    u8 = np.array([0, 1, 128, 255], np.uint8)
    np.testing.assert_allclose(_run(image.convert_image_dtype(u8, tf.float32)), u8 / 255.0,
                               rtol=1e-6)
    floats = np.array([0.0, 0.5, 1.0, 1.5, -0.2], np.float32)
    np.testing.assert_array_equal(
        _run(image.convert_image_dtype(floats, tf.uint8, saturate=True)), [0, 127, 255, 255, 0])
    np.testing.assert_array_equal(_run(image.convert_image_dtype(u8, tf.int32)),
                                  u8.astype(np.int64) * (2 ** 31 // 2 ** 8))
    back = image.convert_image_dtype(image.convert_image_dtype(u8, tf.int32), tf.uint8)
    np.testing.assert_array_equal(_run(back), u8)
    assert image.convert_image_dtype(u8, tf.uint8).op.type == "Identity"


def test_central_crop_and_grayscale():
    img = np.arange(8 * 10 * 3, dtype=np.float32).reshape(8, 10, 3)
    np.testing.assert_array_equal(_run(image.central_crop(img, 0.5)), img[2:6, 2:8])
    holder = tf.placeholder(tf.float32, [None, None, 3])
    np.testing.assert_array_equal(_run(image.central_crop(holder, 0.5), {holder: img}),
                                  img[2:6, 2:8])
    grey = _run(image.rgb_to_grayscale(IMG))
    assert grey.shape == (5, 6, 1) and grey.dtype == np.uint8
    assert _run(image.grayscale_to_rgb(grey)).shape == (5, 6, 3)


def test_random_crop_on_images():
    crop = tf.random_crop(IMG, [3, 4, 3], seed=5)
    assert crop.get_shape().as_list() == [3, 4, 3]
    seen = set()
    with tf.Session() as sess:
        for _ in range(30):
            c = sess.run(crop)
            y, x = np.argwhere(IMG[:, :, 0] == c[0, 0, 0])[0]
            np.testing.assert_array_equal(c, IMG[y:y + 3, x:x + 4])
            seen.add((y, x))
    assert len(seen) > 3 and all(y <= 2 and x <= 2 for y, x in seen)


def test_cifar_style_distortion_pipeline():
    """The cifar10 tutorial's chain builds with static shapes and runs."""
    raw = tf.placeholder(tf.uint8, [32, 32, 3])
    x = tf.random_crop(tf.cast(raw, tf.float32), [24, 24, 3])
    x = image.random_flip_left_right(x)
    x = image.random_brightness(x, max_delta=63)
    x = image.random_contrast(x, lower=0.2, upper=1.8)
    x = image.per_image_standardization(x)
    assert x.get_shape().as_list() == [24, 24, 3]
    out = _run(x, {raw: np.random.default_rng(0).integers(0, 256, (32, 32, 3))})
    assert abs(out.mean()) < 1e-4 and abs(out.std() - 1) < 1e-3


def test_codecs_exported():
    for name in ("decode_png", "encode_png", "decode_jpeg", "encode_jpeg", "resize_bilinear",
                 "resize_nearest_neighbor"):
        assert callable(getattr(image, name))
