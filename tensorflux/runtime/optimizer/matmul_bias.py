"""MatMul + bias (TF's remapper makes _FusedMatMul of it): `MatMul(a, b) + bias` runs as one
step that adds the bias into the product's own buffer, so the sum needs no array of its own
(PTB's logits are 400 x 10000: 16 MB allocated, filled and freed per step) and the plan one
step fewer per layer and time step.

The Add (AddV2, or BiasAdd in NHWC) qualifies when one operand is the output of a MatMul step
that runs its registered kernel, read by this Add alone and not fetched, the other broadcasts
into the product (static shapes say so: the result has the product's shape), the dtype is
float32 or float64, and no operand is a variable's buffer. The product is computed where the
Add ran, so no node that writes state may lie between the two. Values are bit for bit the
unfused plan's: the same kernel computes the product, the same np.add adds the bias. An error
of the product names the MatMul, one of the sum names the Add.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.runtime import kernel_binding
from tensorflux.runtime.optimizer import fusion

_ADDS = ("Add", "AddV2", "BiasAdd")
_FLOATS = (dtypes.float32, dtypes.float64)


def run(graph, context_for, device):
    """Rewrites qualifying MatMul + bias pairs of `graph`; returns how many."""
    producer = {t: (k, node) for k, node in enumerate(graph.nodes) for t in node.outputs}
    readers = graph.read_counts()
    writes_between = graph.writes_between()
    count = 0
    for k, node in enumerate(graph.nodes):
        found = _product_and_bias(graph, node, producer, readers)
        if found is None or writes_between(found[0], k):
            continue
        _, product, bias = found
        matmul = product.op
        kernel = kernel_binding.kernel_def(matmul, device).fn
        fn = _matmul_bias(matmul, kernel, context_for(matmul, device))
        graph.nodes[k] = type(node)(node.op, product.inputs + [bias], node.outputs, fn=fn,
                                    ops=(matmul, node.op))
        count += 1
    if count:
        graph.remove_dead()
    return count


def _product_and_bias(graph, node, producer, readers):
    """(position of the MatMul node, the MatMul node, the bias tensor), or None."""
    op = node.op
    if node.fn is not None or op.type not in _ADDS or op._attrs.get("T") not in _FLOATS:
        return None
    if op.type == "BiasAdd" and op._attrs.get("data_format", b"NHWC") not in (b"NHWC", "NHWC"):
        return None
    for pos in ((0, 1) if op.type != "BiasAdd" else (0,)):
        t, bias = node.inputs[pos], node.inputs[1 - pos]
        k, product = producer.get(t, (None, None))
        if (product is None or product.fn is not None or product.op.type != "MatMul"
                or readers.get(t) != 1 or t in graph.fetched or graph.keeps(product.op)):
            continue
        if any(u.dtype._is_ref_dtype for u in product.inputs + [bias]):
            continue
        if fusion._broadcasts_into(bias.get_shape(), t.get_shape()) and (
                op.type != "BiasAdd" or _one_bias_per_column(bias, t)):
            return k, product, bias
    return None


def _one_bias_per_column(bias, product):
    """BiasAdd's own condition (a [C] bias, C the product's last dimension), known statically:
    a [1] bias broadcasts, but BiasAdd rejects it."""
    shape = bias.get_shape()
    columns = product.get_shape()[-1].value
    return shape.ndims == 1 and columns is not None and shape.as_list() == [columns]


def _matmul_bias(matmul, kernel, matmul_ctx):
    def matmul_bias(ctx, a, b, bias):
        try:
            product = kernel(matmul_ctx, a, b)
        except Exception as e:  # noqa: BLE001 - the MatMul's own error, naming it
            raise kernel_binding.member_error(matmul, e, [a, b]) from e
        return np.add(product, bias, out=product)
    return matmul_bias
