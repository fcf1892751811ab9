"""View ops with constant arguments get kernels specialized at compile time (an arithmetic
rewrite): Reshape, ExpandDims and Squeeze become one `x.reshape(shape)`, Slice one basic index,
with the shape and the index computed once instead of every step from the argument arrays.

Gradient graphs are full of them: word2vec's step has four Slices, seven Reshapes and an
ExpandDims, each a few microseconds of argument checking around a view. A node qualifies when
its arguments (everything but the sliced or reshaped tensor) are constants, the static shapes of
its input and output are fully known, and its input is no reference. The specialized kernel
checks the input's shape, and an input of any other shape (which a correct shape function never
lets through) goes to the op's own kernel, errors and all. Results are the same views of the
same data the op's kernel returns.
"""
import numpy as np

from tensorflux.ops import slicing_ops
from tensorflux.runtime import kernel_binding

_RESHAPES = ("Reshape", "ExpandDims", "Squeeze")


def run(graph, device):
    """Specializes the qualifying view nodes of `graph`; returns how many."""
    count = 0
    for node in graph.nodes:
        op = node.op
        if node.fn is not None or op.type not in _RESHAPES + ("Slice",):
            continue
        x = node.inputs[0] if node.inputs else None
        if x is None or x.dtype._is_ref_dtype or len(node.outputs) != 1:
            continue
        params = [graph.constant(t) for t in node.inputs[1:]]
        before, after = x.get_shape(), node.outputs[0].get_shape()
        if (any(p is None for p in params) or not before.is_fully_defined()
                or not after.is_fully_defined()):
            continue
        kernel = kernel_binding.kernel_def(op, device).fn
        in_shape, out_shape = tuple(before.as_list()), tuple(after.as_list())
        if op.type == "Slice":
            index = _slice_index(params, in_shape, out_shape)
            if index is None:
                continue
            node.fn = _sliced(kernel, in_shape, index)
        else:
            node.fn = _reshaped(kernel, in_shape, out_shape)
        count += 1
    return count


def _slice_index(params, in_shape, out_shape):
    """The Slice kernel's index of (begin, size) on in_shape, or None when it is out of range
    (the op's kernel then raises its error at run time)."""
    begin, size = params
    if not np.size(begin) == np.size(size) == len(in_shape):
        return None
    try:
        index = slicing_ops.slice_index(begin, size, in_shape)
    except IndexError:
        return None
    return index if tuple(e.stop - e.start for e in index) == out_shape else None


def _reshaped(kernel, in_shape, out_shape):
    def view(ctx, x, *params):
        if type(x) is np.ndarray and x.shape == in_shape:
            return x.reshape(out_shape)
        return kernel(ctx, x, *params)
    return view


def _sliced(kernel, in_shape, index):
    def view(ctx, x, *params):
        if type(x) is np.ndarray and x.shape == in_shape:
            return x[index]
        return kernel(ctx, x, *params)
    return view
