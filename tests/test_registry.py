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


def _dtype_class(dtype):
    if dtype in (tf.float16, tf.bfloat16):
        return dtype.name
    if dtype.is_complex:
        return "complex"
    if dtype.is_integer:
        return "integer"
    return "float" if dtype.is_floating else dtype.name


LAYOUT_ATTRS = ("data_format", "padding")


# TF's OpDefs of the Apply*/SparseApply* training ops declare T: numbertype, but TF registers
# their kernels only for floating and complex types; nobody trains integer variables.
_NO_INTEGER_KERNELS = os.path.join("training", "training_ops.py")


def _required(op_def):
    """{key: values} an op's harness entries must exercise: every dtype class of each restricted
    type attr, every allowed value of data_format and padding, all four transpose/adjoint
    combinations, both keep_dims, unit and larger strides and dilations, both signs of an
    axis."""
    from op_harness import AXIS_INPUTS, FLAG_PAIRS
    need = {}
    for name, decl in op_def.attrs.items():
        if decl.type == "type" and decl.allowed:
            need[name] = {_dtype_class(d) for d in decl.allowed}
            if _NO_INTEGER_KERNELS in op_def.registered_at:
                need[name].discard("integer")
        elif name in LAYOUT_ATTRS and decl.allowed:
            need[name] = set(decl.allowed)
        elif name in ("strides", "dilations"):
            need[name] = {"unit", "non-unit"}
        elif name == "keep_dims":
            need[name] = {False, True}
        elif name == "axis" and decl.type == "int":
            need[name] = {"negative", "non-negative"}
    for pair in FLAG_PAIRS:
        if all(flag in op_def.attrs for flag in pair):
            need[",".join(pair)] = {(False, False), (False, True), (True, False), (True, True)}
    for arg in op_def.inputs:
        if arg.name in AXIS_INPUTS:
            need[f"input:{arg.name}"] = {"negative", "non-negative"}
    return need


def _exercised_by_harness():
    from op_harness import exercised
    seen = {}
    for spec in _harness_specs():
        for op_type, entry in exercised(spec).items():
            for key, values in entry.items():
                seen.setdefault(op_type, {}).setdefault(key, set()).update(values)
    return seen


def _as_classes(key, values):
    if values and all(isinstance(v, tf.DType) for v in values):
        return {_dtype_class(v) for v in values}
    return {v.decode() if isinstance(v, bytes) else v for v in values}


def test_harness_exercises_every_dtype_class_and_layout_attr():
    """Each op's harness entries run every dtype class its type attrs declare (float16,
    bfloat16, complex, integer, ...) and every layout attr value (docs/ARCHITECTURE.md)."""
    import sys
    sys.path.insert(0, os.path.join(TESTS_DIR, "ops"))
    seen = _exercised_by_harness()
    problems = []
    for name, op_def in sorted(_package_ops().items()):
        for key, values in sorted(_required(op_def).items()):
            got = _as_classes(key, seen.get(name, {}).get(key, set()))
            missing = values - got
            if missing:
                problems.append(f"{name}: {key} never exercised with "
                                f"{sorted(map(str, missing))}")
    assert not problems, (f"{len(problems)} gaps in the op harness (tests/ops/test_*.py SPECS):\n"
                          + "\n".join(problems))


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
