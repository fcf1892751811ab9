"""RNN cells (`tf.contrib.rnn` in TF 1.0, `tf.nn.rnn_cell` in TF 0.9), built only from ops.

A cell maps (inputs [batch, input_size], state) to (output [batch, output_size], new_state). Its
variables come from tf.get_variable inside a variable scope, so running one cell object at every
time step under a reusing scope shares its weights across time.

Variable names follow TensorFlow 1.0: `<scope>/basic_lstm_cell/weights`, `.../biases`,
`gru_cell/gates/weights`, `gru_cell/candidate/weights`, `lstm_cell/w_f_diag`,
`lstm_cell/projection/weights`, `multi_rnn_cell/cell_0/...`, `embedding_wrapper/embedding`,
`output_projection_wrapper/weights` (0.9 used `BasicLSTMCell/Linear/Matrix`; see docs in
tensorflux/nn/rnn_cell.py).
"""
import collections
import math
import numbers

from tensorflux.framework import dtypes, ops, tensor_shape
from tensorflux.ops import (
    array_ops,
    clip_ops,
    indexing_ops,
    init_ops,
    joining_ops,
    linalg_ops,
    math_ops,
    nn_ops,
    slicing_ops,
)
from tensorflux.ops import variable_scope as vs
from tensorflux.rnn import nest

__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "DropoutWrapper",
    "EmbeddingWrapper",
    "GRUCell",
    "InputProjectionWrapper",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "OutputProjectionWrapper",
    "RNNCell",
    "linear",
]

tanh = math_ops.tanh
sigmoid = math_ops.sigmoid


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM state (c, h): the memory cell and the output (hidden) state."""
    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype.name} vs {h.dtype.name}")
        return c.dtype


# ---- helpers ---------------------------------------------------------------------------------
def _size_with_prefix(size, prefix):
    """[prefix..., size...] as a list; size is an int or a TensorShape-like."""
    dims = [size] if isinstance(size, numbers.Integral) else tensor_shape.as_shape(size).as_list()
    return list(prefix) + dims


def _zeros_for(size, batch_size, dtype):
    if isinstance(batch_size, numbers.Integral):
        return array_ops.zeros(_size_with_prefix(size, [batch_size]), dtype=dtype)
    batch = ops.convert_to_tensor(batch_size, dtype=dtypes.int32, name="batch_size")
    dims = joining_ops.stack([batch] + [d for d in _size_with_prefix(size, [])])
    zeros = array_ops.zeros(dims, dtype=dtype)
    zeros.set_shape(_size_with_prefix(size, [None]))
    return zeros


def _linear(args, output_size, bias, bias_start=0.0):
    """concat(args, 1) @ weights (+ biases), with variables `weights` [sum of input sizes,
    output_size] and `biases` [output_size] in the current variable scope."""
    if args is None or (nest.is_sequence(args) and not args):
        raise ValueError("`args` must be specified")
    args = list(args) if nest.is_sequence(args) else [args]
    shapes = [a.get_shape() for a in args]
    total = 0
    for shape in shapes:
        if shape.ndims != 2:
            raise ValueError(f"linear is expecting 2D arguments, got shapes "
                             f"{[str(s) for s in shapes]}")
        if shape[1].value is None:
            raise ValueError(f"linear expects shape[1] to be known for shape {shape}, but saw "
                             f"{shape[1]}")
        total += shape[1].value
    dtype = args[0].dtype.base_dtype
    weights = vs.get_variable("weights", [total, output_size], dtype=dtype)
    x = args[0] if len(args) == 1 else joining_ops.concat(args, 1)
    res = linalg_ops.matmul(x, weights)
    if not bias:
        return res
    biases = vs.get_variable("biases", [output_size], dtype=dtype,
                             initializer=init_ops.constant_initializer(bias_start))
    return nn_ops.bias_add(res, biases)


def linear(args, output_size, bias, bias_start=0.0, scope=None):
    """sum_i(args[i] @ W[i]) + b under variable scope `scope` (default "Linear", as in TF 0.9).

    Args:
      args: a 2-D tensor or a list of them, [batch, n_i].
      output_size: second dimension of W.
      bias: whether to add a bias `biases` initialized to `bias_start`.
    Returns:
      A [batch, output_size] tensor.
    """
    with vs.variable_scope(scope or "Linear"):
        return _linear(args, output_size, bias, bias_start)


# ---- the base class --------------------------------------------------------------------------
class RNNCell:
    """Abstract RNN cell: `output, new_state = cell(inputs, state)`.

    Subclasses define `state_size` (an int, a TensorShape or a tuple of them), `output_size`
    and `__call__(inputs, state, scope=None)`.
    """

    def __call__(self, inputs, state, scope=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    @property
    def state_size(self):
        raise NotImplementedError(f"{type(self).__name__} must define state_size")

    @property
    def output_size(self):
        raise NotImplementedError(f"{type(self).__name__} must define output_size")

    def zero_state(self, batch_size, dtype):
        """All-zero state: a [batch_size, s] tensor per entry of state_size (same nesting).

        Args:
          batch_size: an int or a scalar int32 tensor.
          dtype: the state's dtype.
        """
        with ops.name_scope(type(self).__name__ + "ZeroState"):
            return nest.map_structure(lambda s: _zeros_for(s, batch_size, dtype),
                                      self.state_size)


def _check_activation(activation):
    if not callable(activation):
        raise TypeError(f"activation must be callable, got {activation!r}")
    return activation


class BasicRNNCell(RNNCell):
    """output = new_state = activation(W [inputs, state] + b)."""

    def __init__(self, num_units, input_size=None, activation=tanh, reuse=None):
        self._num_units = num_units
        self._activation = _check_activation(activation)
        self._reuse = reuse

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def __call__(self, inputs, state, scope=None):
        with vs.variable_scope(scope or "basic_rnn_cell", reuse=self._reuse):
            output = self._activation(_linear([inputs, state], self._num_units, True))
        return output, output


class GRUCell(RNNCell):
    """Gated recurrent unit (Cho et al. 2014), TF's formulation:
    r, u = sigmoid(W_g [x, h] + b_g) (b_g starts at 1); c = activation(W_c [x, r * h] + b_c);
    new_h = u * h + (1 - u) * c."""

    def __init__(self, num_units, input_size=None, activation=tanh, reuse=None):
        self._num_units = num_units
        self._activation = _check_activation(activation)
        self._reuse = reuse

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def __call__(self, inputs, state, scope=None):
        with vs.variable_scope(scope or "gru_cell", reuse=self._reuse):
            with vs.variable_scope("gates"):
                gates = sigmoid(_linear([inputs, state], 2 * self._num_units, True, 1.0))
                r, u = joining_ops.split(gates, 2, axis=1)
            with vs.variable_scope("candidate"):
                c = self._activation(_linear([inputs, r * state], self._num_units, True))
            new_h = u * state + (1 - u) * c
        return new_h, new_h


def _split_state(state, sizes, who):
    """A concatenated [batch, sum(sizes)] state cut into pieces of the given sizes."""
    pieces, start = [], 0
    width = state.get_shape().with_rank(2)[1].value
    if width is not None and width != sum(sizes):
        raise ValueError(f"{who}: expected a concatenated state of width {sum(sizes)}, got a "
                         f"state of shape {state.get_shape()}")
    for size in sizes:
        pieces.append(slicing_ops.slice(state, [0, start], [-1, size]))
        start += size
    return pieces


def _lstm_state_parts(state, state_is_tuple, c_size, h_size, who):
    if state_is_tuple:
        if not nest.is_sequence(state) or len(state) != 2:
            raise ValueError(f"{who} with state_is_tuple=True needs a (c, h) state, got "
                             f"{state!r}")
        return state[0], state[1]
    if nest.is_sequence(state):
        raise ValueError(f"{who} with state_is_tuple=False needs one concatenated [batch, "
                         f"{c_size + h_size}] state tensor, got a tuple {state!r}")
    return _split_state(state, [c_size, h_size], who)


def _lstm_state(c, h, state_is_tuple):
    return LSTMStateTuple(c, h) if state_is_tuple else joining_ops.concat([c, h], 1)


class BasicLSTMCell(RNNCell):
    """LSTM without peepholes or projection (Zaremba et al. 2014):
    i, j, f, o = split(W [x, h] + b, 4); new_c = c * sigmoid(f + forget_bias) +
    sigmoid(i) * activation(j); new_h = activation(new_c) * sigmoid(o).

    state_is_tuple=True keeps the state as LSTMStateTuple(c, h); False concatenates [c, h]
    along axis 1 (TF 0.9's default).
    """

    def __init__(self, num_units, forget_bias=1.0, input_size=None, state_is_tuple=True,
                 activation=tanh, reuse=None):
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _check_activation(activation)
        self._reuse = reuse

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def __call__(self, inputs, state, scope=None):
        with vs.variable_scope(scope or "basic_lstm_cell", reuse=self._reuse):
            c, h = _lstm_state_parts(state, self._state_is_tuple, self._num_units,
                                     self._num_units, type(self).__name__)
            gates = _linear([inputs, h], 4 * self._num_units, True)
            i, j, f, o = joining_ops.split(gates, 4, axis=1)
            new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * self._activation(j)
            new_h = self._activation(new_c) * sigmoid(o)
            return new_h, _lstm_state(new_c, new_h, self._state_is_tuple)


class LSTMCell(RNNCell):
    """LSTM with optional peepholes (Gers & Schmidhuber 2000), cell clipping and an output
    projection (Sak et al. 2014).

    Args:
      num_units: size of the memory cell c.
      use_peepholes: add diagonal connections w_f_diag, w_i_diag, w_o_diag from c to the gates.
      cell_clip: clip c to [-cell_clip, cell_clip] after each step.
      initializer: initializer for the weights (the variable scope's initializer).
      num_proj: if set, h = (o * activation(c)) @ projection/weights, of size num_proj.
      proj_clip: clip the projected h to [-proj_clip, proj_clip].
      num_unit_shards, num_proj_shards: accepted for compatibility; weights are not sharded.
      forget_bias: added to the forget gate's pre-activation.
      state_is_tuple: state is LSTMStateTuple(c, h) (else concatenated [c, h]).
    """

    def __init__(self, num_units, input_size=None, use_peepholes=False, cell_clip=None,
                 initializer=None, num_proj=None, proj_clip=None, num_unit_shards=1,
                 num_proj_shards=1, forget_bias=1.0, state_is_tuple=True, activation=tanh,
                 reuse=None):
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _check_activation(activation)
        self._reuse = reuse

    @property
    def state_size(self):
        h = self._num_proj or self._num_units
        return (LSTMStateTuple(self._num_units, h) if self._state_is_tuple
                else self._num_units + h)

    output_size = property(lambda self: self._num_proj or self._num_units)

    def __call__(self, inputs, state, scope=None):
        c_prev, h_prev = _lstm_state_parts(state, self._state_is_tuple, self._num_units,
                                           self.output_size, type(self).__name__)
        with vs.variable_scope(scope or "lstm_cell", initializer=self._initializer,
                               reuse=self._reuse):
            gates = _linear([inputs, h_prev], 4 * self._num_units, True)
            i, j, f, o = joining_ops.split(gates, 4, axis=1)
            peep = self._peepholes(inputs.dtype.base_dtype) if self._use_peepholes else None
            c = self._new_memory(c_prev, i, j, f, peep)
            h = self._new_output(c, o, peep)
        return h, _lstm_state(c, h, self._state_is_tuple)

    def _peepholes(self, dtype):
        """(w_f_diag, w_i_diag, w_o_diag), each [num_units]."""
        return tuple(vs.get_variable(name, shape=[self._num_units], dtype=dtype)
                     for name in ("w_f_diag", "w_i_diag", "w_o_diag"))

    def _new_memory(self, c_prev, i, j, f, peep):
        if peep is not None:
            f = f + peep[0] * c_prev
            i = i + peep[1] * c_prev
        c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = clip_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        return c

    def _new_output(self, c, o, peep):
        if peep is not None:
            o = o + peep[2] * c
        h = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            with vs.variable_scope("projection"):
                h = _linear(h, self._num_proj, False)
            if self._proj_clip is not None:
                h = clip_ops.clip_by_value(h, -self._proj_clip, self._proj_clip)
        return h


class MultiRNNCell(RNNCell):
    """Cells stacked in layers: layer k's output is layer k+1's input; the state is a tuple of
    the layers' states (state_is_tuple=True) or their concatenation along axis 1."""

    def __init__(self, cells, state_is_tuple=True):
        cells = list(cells)
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        self._cells = cells
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(nest.is_sequence(c.state_size) for c in cells):
            raise ValueError(f"Some cells return tuples of states, but the flag state_is_tuple "
                             f"is not set. State sizes are: "
                             f"{[c.state_size for c in cells]}")

    @property
    def state_size(self):
        sizes = [cell.state_size for cell in self._cells]
        return tuple(sizes) if self._state_is_tuple else sum(sizes)

    output_size = property(lambda self: self._cells[-1].output_size)

    def _layer_states(self, state):
        if self._state_is_tuple:
            if not nest.is_sequence(state) or len(state) != len(self._cells):
                raise ValueError(f"Expected state to be a tuple of length {len(self._cells)}, "
                                 f"but received: {state!r}")
            return list(state)
        return _split_state(state, [c.state_size for c in self._cells], "MultiRNNCell")

    def __call__(self, inputs, state, scope=None):
        with vs.variable_scope(scope or "multi_rnn_cell"):
            layer_input, new_states = inputs, []
            for k, (cell, cell_state) in enumerate(zip(self._cells, self._layer_states(state))):
                with vs.variable_scope(f"cell_{k}"):
                    layer_input, new_state = cell(layer_input, cell_state)
                new_states.append(new_state)
        new_state = (tuple(new_states) if self._state_is_tuple
                     else joining_ops.concat(new_states, 1))
        return layer_input, new_state


def _check_keep_prob(value, what):
    if isinstance(value, numbers.Real) and not 0.0 < value <= 1.0:
        raise ValueError(f"Parameter {what} must be between 0 and 1, got {value}")
    return value


def _maybe_dropout(x, keep_prob, seed):
    if isinstance(keep_prob, numbers.Real) and keep_prob >= 1.0:
        return x
    return nn_ops.dropout(x, keep_prob, seed=seed)


class DropoutWrapper(RNNCell):
    """Dropout on a cell's inputs and/or outputs (keep probabilities may be tensors)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, seed=None):
        if not isinstance(cell, RNNCell):
            raise TypeError(f"The parameter cell is not a RNNCell, got {cell!r}")
        self._cell = cell
        self._input_keep_prob = _check_keep_prob(input_keep_prob, "input_keep_prob")
        self._output_keep_prob = _check_keep_prob(output_keep_prob, "output_keep_prob")
        self._seed = seed

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def __call__(self, inputs, state, scope=None):
        inputs = _maybe_dropout(inputs, self._input_keep_prob, self._seed)
        output, new_state = self._cell(inputs, state, scope)
        return _maybe_dropout(output, self._output_keep_prob, self._seed), new_state


class EmbeddingWrapper(RNNCell):
    """Feeds the cell embedding[ids] for integer inputs ids ([batch] or [batch, 1]); the
    variable `embedding_wrapper/embedding` is [embedding_classes, embedding_size]."""

    def __init__(self, cell, embedding_classes, embedding_size, initializer=None):
        if not isinstance(cell, RNNCell):
            raise TypeError(f"The parameter cell is not RNNCell, got {cell!r}")
        if embedding_classes <= 0 or embedding_size <= 0:
            raise ValueError(f"Both embedding_classes and embedding_size must be > 0: "
                             f"{embedding_classes}, {embedding_size}.")
        self._cell = cell
        self._embedding_classes = embedding_classes
        self._embedding_size = embedding_size
        self._initializer = initializer

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def _initializer_or_default(self):
        if self._initializer is not None:
            return self._initializer
        if vs.get_variable_scope().initializer is not None:
            return vs.get_variable_scope().initializer
        return init_ops.random_uniform_initializer(-math.sqrt(3), math.sqrt(3))

    def __call__(self, inputs, state, scope=None):
        with vs.variable_scope(scope or "embedding_wrapper"):
            dtype = nest.flatten(state)[0].dtype.base_dtype
            embedding = vs.get_variable(
                "embedding", [self._embedding_classes, self._embedding_size], dtype=dtype,
                initializer=self._initializer_or_default())
            embedded = indexing_ops.gather(embedding, array_ops.reshape(inputs, [-1]))
            return self._cell(embedded, state)


class InputProjectionWrapper(RNNCell):
    """Projects the inputs to num_proj units (`input_projection_wrapper/weights`, `biases`)
    before the cell."""

    def __init__(self, cell, num_proj, input_size=None):
        if not isinstance(cell, RNNCell):
            raise TypeError(f"The parameter cell is not RNNCell, got {cell!r}")
        self._cell = cell
        self._num_proj = num_proj

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def __call__(self, inputs, state, scope=None):
        with vs.variable_scope(scope or "input_projection_wrapper"):
            projected = _linear(inputs, self._num_proj, True)
            return self._cell(projected, state)


class OutputProjectionWrapper(RNNCell):
    """Projects the cell's output to output_size units (`output_projection_wrapper/weights`,
    `biases`)."""

    def __init__(self, cell, output_size):
        if not isinstance(cell, RNNCell):
            raise TypeError(f"The parameter cell is not RNNCell, got {cell!r}")
        if output_size < 1:
            raise ValueError(f"Parameter output_size must be > 0: {output_size}.")
        self._cell = cell
        self._output_size = output_size

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._output_size)

    def __call__(self, inputs, state, scope=None):
        output, new_state = self._cell(inputs, state)
        with vs.variable_scope(scope or "output_projection_wrapper"):
            return _linear(output, self._output_size, True), new_state
