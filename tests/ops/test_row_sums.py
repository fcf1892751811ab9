"""row_sums.add_rows and group_sums against NumPy's reference np.add.at / np.subtract.at."""
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
    tol = 1e-2 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
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


def test_group_sums():
    rows = np.arange(12, dtype=np.float32).reshape(6, 2)
    got = row_sums.group_sums(np.array([2, 0, 2, 2, 1, 0]), rows, 4)
    np.testing.assert_array_equal(got, [[12, 14], [8, 9], [10, 13], [0, 0]])
    assert got.dtype == np.float32
