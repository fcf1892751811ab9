"""The op registry is complete, and every registered op goes through the op harness."""
import glob
import importlib
import os

import tensorflux as tf  # noqa: F401  (registers every op)
from tensorflux.framework import registry

TESTS_DIR = os.path.dirname(__file__)
PACKAGE_DIR = os.path.dirname(os.path.abspath(tf.__file__))


def _package_ops():
    """Ops tensorflux itself registers (tests register throwaway ops of their own)."""
    return {name: op_def for name, op_def in registry.registered_ops().items()
            if op_def.registered_at.startswith(PACKAGE_DIR)}


def _harness_specs():
    specs = []
    for path in sorted(glob.glob(os.path.join(TESTS_DIR, "ops", "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        module = importlib.import_module(f"ops.{name}" if _ops_is_package() else name)
        specs.extend(getattr(module, "SPECS", []))
    return specs


def _ops_is_package():
    return os.path.exists(os.path.join(TESTS_DIR, "ops", "__init__.py"))


def test_every_op_has_shape_gradient_and_cpu_kernel():
    problems = []
    for name, op_def in sorted(_package_ops().items()):
        if op_def.shape_fn is None:
            problems.append(f"{name}: no shape function ({op_def.registered_at})")
        if op_def.differentiable is None:
            problems.append(f"{name}: neither a gradient nor not_differentiable() "
                            f"({op_def.registered_at})")
        if "CPU" not in op_def.kernels:
            problems.append(f"{name}: no CPU kernel ({op_def.registered_at})")
    assert not problems, "Incomplete op registrations:\n" + "\n".join(problems)


def test_every_op_has_a_harness_entry():
    import sys
    sys.path.insert(0, os.path.join(TESTS_DIR, "ops"))
    covered = set()
    for spec in _harness_specs():
        covered.update(spec.op_types)
    missing = sorted(set(_package_ops()) - covered)
    assert not missing, "Ops without an op-harness entry (tests/ops/test_*.py SPECS): " + \
        ", ".join(missing)


def test_duplicate_registration_names_both_places():
    import pytest
    with pytest.raises(ValueError, match="already registered at"):
        registry.register_op("MatMul")


def test_layering_framework_and_ops_never_import_runtime():
    """Imports point down the pipeline (docs/ARCHITECTURE.md)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    offenders = []
    for folder, banned in (("framework", ("tensorflux.runtime", "tensorflux.ops",
                                          "tensorflux.training", "tensorflux.nn")),
                           ("ops", ("tensorflux.runtime", "tensorflux.training")),
                           ("autodiff", ("tensorflux.runtime",)),
                           ("runtime", ("tensorflux.nn", "tensorflux.training"))):
        for path in glob.glob(os.path.join(root, "tensorflux", folder, "**", "*.py"),
                              recursive=True):
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    stripped = line.strip()
                    if stripped.startswith(("import ", "from ")) and any(
                            b in stripped for b in banned):
                        offenders.append(f"{os.path.relpath(path, root)}:{lineno}: {stripped}")
    assert not offenders, "Imports against the pipeline:\n" + "\n".join(offenders)


def test_protos_are_imported_in_one_module_only():
    root = os.path.dirname(os.path.abspath(tf.__file__))
    users = []
    for path in glob.glob(os.path.join(root, "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            if "tensorboard.compat.proto" in f.read():
                users.append(os.path.relpath(path, root))
    assert users == [os.path.join("framework", "protos.py")], users
