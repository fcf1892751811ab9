"""row_sums.add_rows against NumPy's reference np.add.at / np.subtract.at."""
import numpy as np
import pytest

from tensorflux.ops import row_sums

pytestmark = pytest.mark.timeout(60)


def _reference(target, indices, rows, subtract):
    out = target.copy()
    (np.subtract if subtract else np.add).at(out, indices, rows)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.complex64])
@pytest.mark.parametrize("subtract", [False, True])
@pytest.mark.parametrize("repeats", [False, True])
def test_add_rows_matches_ufunc_at(dtype, subtract, repeats):
    rng = np.random.default_rng(0)
    target = (rng.standard_normal((50, 3, 4)) * 10).astype(dtype)
    indices = (rng.zipf(1.3, 40) - 1) % 50 if repeats else rng.permutation(50)[:40]
    assert (len(np.unique(indices)) < len(indices)) == repeats
    rows = (rng.standard_normal((40, 3, 4)) * 10).astype(dtype)
    want = _reference(target, indices, rows, subtract)
    got = target.copy()
    row_sums.add_rows(got, indices, rows, subtract=subtract)
    np.testing.assert_array_equal(got, want)  # the same additions in the same order
    untouched = np.setdiff1d(np.arange(50), indices)
    np.testing.assert_array_equal(got[untouched], target[untouched])


def test_add_rows_nd_indices_vector_target_and_empty():
    rng = np.random.default_rng(1)
    target = rng.standard_normal(20).astype(np.float32)
    indices = np.array([[3, 3, 7], [0, 3, 19]])
    rows = rng.standard_normal((2, 3)).astype(np.float32)
    got = target.copy()
    row_sums.add_rows(got, indices, rows)
    np.testing.assert_allclose(got, _reference(target, indices, rows, False), rtol=1e-6)
    row_sums.add_rows(got, np.zeros((0,), np.int32), np.zeros((0,), np.float32))
    np.testing.assert_allclose(got, _reference(target, indices, rows, False), rtol=1e-6)


def test_add_rows_inf_stays_in_its_row():
    target = np.zeros((4, 2), np.float32)
    rows = np.array([[np.inf, 1], [1, 1], [2, 2]], np.float32)
    row_sums.add_rows(target, np.array([1, 1, 2]), rows)
    np.testing.assert_array_equal(target, [[0, 0], [np.inf, 2], [2, 2], [0, 0]])


@pytest.mark.parametrize("distinct_share", [0.0, 0.3, 0.8, 1.0])
def test_add_rows_mixed_repeats_match_ufunc_at(distinct_share):
    # The kernel picks a path by how many indices occur once: each must equal np.add.at.
    rng = np.random.default_rng(2)
    n_once = int(60 * distinct_share)
    once = rng.permutation(np.arange(100, 1000))[:n_once]
    repeated = rng.integers(0, 8, 60 - n_once)
    indices = rng.permutation(np.concatenate([once, repeated])).astype(np.int32)
    target = rng.standard_normal((1000, 7)).astype(np.float32)
    rows = rng.standard_normal((60, 7)).astype(np.float32)
    for subtract in (False, True):
        got = target.copy()
        row_sums.add_rows(got, indices, rows, subtract=subtract)
        np.testing.assert_array_equal(got, _reference(target, indices, rows, subtract))


@pytest.mark.parametrize("row_shape", [(2, 3), (5,), (1,), (4, 2)])
def test_add_rows_odd_and_even_widths(row_shape):
    # even last axes of floats go through a complex view (pairs of floats): still np.add.at
    rng = np.random.default_rng(3)
    indices = np.array([2, 0, 2, 5, 2, 0])
    for dtype in (np.float32, np.float64):
        target = rng.standard_normal((6,) + row_shape).astype(dtype)
        rows = rng.standard_normal((6,) + row_shape).astype(dtype)
        got = target.copy()
        row_sums.add_rows(got, indices, rows, subtract=True)
        np.testing.assert_array_equal(got, _reference(target, indices, rows, True))


def test_add_rows_non_contiguous_target_is_updated_in_place():
    base = np.zeros((10, 6), np.float32)
    target = base[:, ::2]  # a strided view: no flat view of it exists
    rows = np.ones((3, 3), np.float32)
    row_sums.add_rows(target, np.array([4, 4, 1]), rows)
    want = np.zeros((10, 3), np.float32)
    want[4], want[1] = 2, 1
    np.testing.assert_array_equal(target, want)
    assert base[4, 0] == 2
