"""The reader mutation fuzzer (tools/fuzz/readers.py) in CI: a fixed seed, 64 mutated inputs per
target (128-320 per reader family), and no BAD outcome. `make fuzz` runs the long campaign.
The fuzzer's own classifier is checked on planted bugs, so that this test can fail."""
import os
import struct
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "fuzz"))

import reader_targets  # noqa: E402
import readers  # noqa: E402
from tensorflux.framework import errors  # noqa: E402

pytestmark = pytest.mark.timeout(120)
MUTATIONS = 64
SEED = 11

TARGETS = {t.name: t for t in reader_targets.all_targets()}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_bad_outcome(name):
    with readers.guarded_memory():
        cases = readers.fuzz_target(TARGETS[name], MUTATIONS, SEED)
    bad = [f"#{c.index} {c.kind}: {c.detail}" for c in cases if c.outcome == "BAD"]
    assert not bad, "\n".join(bad)
    assert len(cases) == MUTATIONS
    # the mutations reach the readers' checks: most targets see errors of their own
    assert any(c.outcome == "tf-error" for c in cases) or name == "cifar10_reader_op"


def test_every_reader_family_is_covered():
    families = {t.family for t in TARGETS.values()}
    assert families == {"tfrecord", "checkpoint", "graphdef", "idx", "cifar", "image", "wire"}


def test_mutations_are_deterministic_and_change_the_bytes():
    import random
    data = bytes(range(64))
    for kind in ("bitflip", "truncate", "insert", "delete"):
        a = readers.mutate(data, random.Random("s"), kind)
        assert a == readers.mutate(data, random.Random("s"), kind)
        assert a != data


# ---- the classifier, on planted bugs ------------------------------------------------------------
class Planted(reader_targets.Target):
    name = "planted"
    family = "test"
    checksummed = True

    def __init__(self, read):
        self._read = read

    def make(self, workdir):
        with open(os.path.join(workdir, "f"), "wb") as f:
            f.write(bytes(range(32)))
        return {"f": bytes(range(32))}

    def read(self, workdir):
        with open(os.path.join(workdir, "f"), "rb") as f:
            return self._read(f.read())


def _outcomes(read, n=16):
    with readers.guarded_memory():
        cases = readers.fuzz_target(Planted(read), n, 0)
    return {c.outcome for c in cases}, [c.detail for c in cases]


def test_a_foreign_exception_is_bad():
    def read(data):
        if data != bytes(range(32)):
            struct.unpack("<Q", data[:3])  # struct.error, as a careless parser raises
        return list(data)
    outcomes, details = _outcomes(read)
    assert "BAD" in outcomes and any(d.startswith("error: unpack") for d in details)


def test_silently_different_values_of_a_checksummed_format_are_bad():
    outcomes, details = _outcomes(lambda data: list(data))
    assert "BAD" in outcomes
    assert any("checksums cover" in d for d in details)


def test_a_tf_error_is_clean():
    def read(data):
        if data != bytes(range(32)):
            raise errors.DataLossError(None, None, "corrupt")
        return list(data)
    outcomes, _ = _outcomes(read)
    assert outcomes <= {"tf-error", "ok-identical"} and "tf-error" in outcomes


def test_an_allocation_far_over_the_file_is_bad():
    outcomes, details = _outcomes(lambda data: np.ones(len(data) << 22, np.uint8).sum(), n=2)
    assert outcomes == {"BAD"} and all("peak allocation" in d for d in details)


def test_a_hang_is_bad(monkeypatch):
    monkeypatch.setattr(readers, "CASE_SECONDS", 0.2)

    def read(data):
        while data != bytes(range(32)):
            pass
        return list(data)
    outcomes, details = _outcomes(read, n=2)
    assert outcomes == {"BAD"} and all(d.startswith("hang") for d in details)
