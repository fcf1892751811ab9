"""blas_threads.matmul: NumPy's product, small ones on one BLAS thread, the count restored."""
import numpy as np
import pytest

from tensorflux.ops import blas_threads

pytestmark = pytest.mark.timeout(60)


class _FakeBlas:
    def __init__(self, threads):
        self.threads = threads
        self.calls = []

    def get(self):
        return self.threads

    def set(self, n):
        self.calls.append(n)
        self.threads = n


@pytest.mark.parametrize("shape,small", [((30, 40, 50), True), ((1024, 256, 256), False)])
def test_small_products_run_on_one_thread_and_restore_it(monkeypatch, shape, small):
    m, k, n = shape
    fake = _FakeBlas(4)
    seen = []
    monkeypatch.setattr(blas_threads, "_blas", [(fake.get, fake.set)])
    real = np.matmul
    monkeypatch.setattr(blas_threads.np, "matmul", lambda a, b: seen.append(fake.threads)
                        or real(a, b))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    got = blas_threads.matmul(a, b.T.copy().T)  # an F-ordered operand too
    np.testing.assert_allclose(got, real(a, b), rtol=1e-5, atol=1e-4)
    assert seen == ([1] if small else [4]) and fake.threads == 4
    assert fake.calls == ([1, 4] if small else [])


def test_user_limit_of_one_thread_is_left_alone(monkeypatch):
    fake = _FakeBlas(1)
    monkeypatch.setattr(blas_threads, "_blas", [(fake.get, fake.set)])
    a = np.ones((3, 4))
    np.testing.assert_array_equal(blas_threads.matmul(a, a.T), np.full((3, 3), 4.0))
    assert fake.calls == []


def test_the_real_blas_is_restored():
    funcs = blas_threads._find_blas()
    before = [get() for get, _ in funcs]
    a = np.random.default_rng(1).standard_normal((64, 64)).astype(np.float32)
    np.testing.assert_allclose(blas_threads.matmul(a, a), a @ a, rtol=1e-5, atol=1e-4)
    assert [get() for get, _ in funcs] == before
