"""Fixtures of the multi-process distributed tests."""
import pytest

from procs import Cluster


@pytest.fixture
def cluster_of(tmp_path):
    """make(num_ps, num_workers, *args): a Cluster of train_mlp tasks writing their JSON
    summaries under tmp_path; every cluster made is closed (and checked) at teardown."""
    made = []

    def make(num_ps, num_workers, *args):
        cluster = Cluster(tmp_path, num_ps, num_workers,
                          args=["--out", str(tmp_path / "out.json")] + list(args))
        made.append(cluster)
        return cluster
    yield make
    for cluster in made:
        cluster.close()
