"""Seed each test's graph so random initial weights (and so tolerances) are reproducible."""
import pytest


@pytest.fixture(autouse=True)
def _seeded_graph(_fresh_default_graph):
    import tensorflux as tf
    tf.set_random_seed(0)
    yield
