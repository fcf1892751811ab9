"""Running a cell over a sequence: static_rnn (tf.nn.rnn), dynamic_rnn, bidirectional RNNs.

static_rnn unrolls the cell once per element of a Python list of inputs, sharing the cell's
variables across steps (the scope reuses them from step 1 on). dynamic_rnn builds one step
inside tf.while_loop, reading and writing TensorArrays.

With `sequence_length`, steps past an example's length copy its state through and emit zeros
(row-wise Select), so the final state is the state at each example's last valid step.
Scopes follow TensorFlow 1.0: "rnn", "bidirectional_rnn/fw", "bidirectional_rnn/bw".
"""
from tensorflux.framework import dtypes, ops
from tensorflux.ops import array_ops, indexing_ops, joining_ops, math_ops, slicing_ops
from tensorflux.ops import control_flow_ops, tensor_array_ops
from tensorflux.ops import variable_scope as vs
from tensorflux.rnn import nest, rnn_cell

__all__ = [
    "bidirectional_dynamic_rnn",
    "bidirectional_rnn",
    "dynamic_rnn",
    "rnn",
    "static_bidirectional_rnn",
    "static_rnn",
]


# ---- shared helpers --------------------------------------------------------------------------
def _check_cell(cell):
    if not isinstance(cell, rnn_cell.RNNCell):
        raise TypeError(f"cell must be an instance of RNNCell, got {type(cell).__name__}")


def _batch_size(flat_inputs, axis):
    """The batch dimension of the first input: an int if static, else a scalar tensor."""
    first = flat_inputs[0]
    shape = first.get_shape().with_rank_at_least(axis + 1)
    if shape[axis].value is not None:
        return shape[axis].value
    return array_ops.shape(first)[axis]


def _initial_state(cell, initial_state, batch_size, dtype):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If no initial_state is provided, dtype must be specified")
    return cell.zero_state(batch_size, dtype)


def _sequence_length(sequence_length):
    if sequence_length is None:
        return None
    lengths = math_ops.to_int32(ops.convert_to_tensor(sequence_length, name="sequence_length"))
    if lengths.get_shape().ndims not in (None, 1):
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw "
                         f"shape: {lengths.get_shape()}")
    return array_ops.identity(lengths, name="sequence_length")


def _zero_output(cell, batch_size, dtype):
    return nest.map_structure(lambda size: rnn_cell._zeros_for(size, batch_size, dtype),
                              cell.output_size)


def _copy_through(done, old, new):
    """Per row: `old` where done (a [batch] bool), else `new`; for nested structures."""
    return nest.map_structure(lambda o, n: math_ops.select(done, o, n), old, new)


def _masked_step(time, lengths, zero_output, state, output, new_state):
    """After each example's length: a zero output and the state carried through unchanged."""
    done = math_ops.greater_equal(time, lengths)
    return _copy_through(done, zero_output, output), _copy_through(done, state, new_state)


# ---- static_rnn ------------------------------------------------------------------------------
def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Unrolls `cell` over a list of inputs (`tf.nn.rnn` in 0.9, `tf.contrib.rnn.static_rnn`).

    Args:
      cell: an RNNCell.
      inputs: a list of T tensors [batch, input_size] (or nested structures of them).
      initial_state: the starting state; if None, `cell.zero_state` with `dtype`.
      dtype: the state's dtype when no initial_state is given.
      sequence_length: int vector [batch]; past it the output is 0 and the state is copied.
      scope: variable scope (default "rnn").
    Returns:
      (outputs, state): a list of T outputs, and the final state.
    Raises:
      TypeError: if cell is not an RNNCell or inputs is not a list.
      ValueError: if inputs is empty, or neither initial_state nor dtype is given.
    """
    _check_cell(cell)
    if not nest.is_sequence(inputs):
        raise TypeError(f"inputs must be a sequence (a list of tensors, one per time step), "
                        f"got {type(inputs).__name__}")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with vs.variable_scope(scope or "rnn") as varscope:
        batch_size = _batch_size(nest.flatten(inputs[0]), 0)
        state = _initial_state(cell, initial_state, batch_size, dtype)
        lengths = _sequence_length(sequence_length)
        if lengths is not None:
            out_dtype = nest.flatten(state)[0].dtype.base_dtype
            zero_output = _zero_output(cell, batch_size, out_dtype)
        outputs = []
        for time, step_input in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            output, new_state = cell(step_input, state)
            if lengths is not None:
                output, new_state = _masked_step(time, lengths, zero_output, state, output,
                                                 new_state)
            outputs.append(output)
            state = new_state
        return outputs, state


rnn = static_rnn


# ---- reversing sequences ---------------------------------------------------------------------
def _reverse_batch_major(x, lengths):
    """x [batch, time, ...] with each row's first lengths[b] steps reversed (the rest kept)."""
    shape = array_ops.shape(x)
    batch, steps = shape[0], shape[1]
    t = array_ops.expand_dims(array_ops.range(steps), 0)                 # [1, T]
    lens = array_ops.expand_dims(lengths, 1)                             # [B, 1]
    t_full = t + array_ops.zeros_like(lens)                              # [B, T]
    source_t = math_ops.select(math_ops.less(t_full, lens), lens - 1 - t_full, t_full)
    rows = array_ops.expand_dims(array_ops.range(batch) * steps, 1)      # [B, 1]
    flat_index = array_ops.reshape(source_t + rows, [-1])                # [B * T]
    rest = slicing_ops.slice(shape, [2], [-1])
    flat_x = array_ops.reshape(x, joining_ops.concat([[-1], rest], 0))   # [B * T, ...]
    result = array_ops.reshape(indexing_ops.gather(flat_x, flat_index), shape)
    result.set_shape(x.get_shape())
    return result


def _reverse_seq(input_seq, lengths):
    """A list of per-step tensors reversed in time (per example up to its length)."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_steps = [nest.flatten(step) for step in input_seq]
    reversed_flat = []
    for k in range(len(flat_steps[0])):
        stacked = joining_ops.stack([step[k] for step in flat_steps], axis=1)   # [B, T, ...]
        reversed_flat.append(joining_ops.unstack(_reverse_batch_major(stacked, lengths),
                                                 num=len(input_seq), axis=1))
    return [nest.pack_sequence_as(input_seq[t], [flat[t] for flat in reversed_flat])
            for t in range(len(input_seq))]


def _concat_outputs(fw, bw):
    return nest.map_structure(lambda f, b: joining_ops.concat([f, b], 1), fw, bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """A forward and a backward static RNN over the same inputs
    (`tf.nn.bidirectional_rnn` in 0.9).

    Returns:
      (outputs, output_state_fw, output_state_bw): outputs is a list of T tensors, each the
      forward and backward outputs concatenated along axis 1.
    """
    _check_cell(cell_fw)
    _check_cell(cell_bw)
    if not nest.is_sequence(inputs) or not inputs:
        raise TypeError(f"inputs must be a non-empty list of tensors, got {inputs!r}")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                             sequence_length, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            lengths = _sequence_length(sequence_length)
            reversed_inputs = _reverse_seq(inputs, lengths)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype,
                                       lengths, scope=bw_scope)
    output_bw = _reverse_seq(tmp, lengths)
    outputs = [_concat_outputs(f, b) for f, b in zip(output_fw, output_bw)]
    return outputs, state_fw, state_bw


bidirectional_rnn = static_bidirectional_rnn


# ---- dynamic_rnn -----------------------------------------------------------------------------
def _swap_batch_time(x):
    """[a, b, ...] -> [b, a, ...] (batch-major <-> time-major)."""
    ndims = x.get_shape().ndims
    if ndims is None or ndims < 2:
        raise ValueError(f"dynamic_rnn inputs must be at least [batch, time] with a known rank, "
                         f"got shape {x.get_shape()}")
    return array_ops.transpose(x, [1, 0] + list(range(2, ndims)))


def _ta_unstack(ta, value):
    return ta.unstack(value) if hasattr(ta, "unstack") else ta.unpack(value)


def _ta_stack(ta):
    return ta.stack() if hasattr(ta, "stack") else ta.pack()


def _static_shape(dims):
    """dims if all are Python ints (a gradient TensorArray then knows its zeros), else None."""
    return dims if all(isinstance(d, int) for d in dims) else None


def _dynamic_rnn_loop(cell, inputs, flat_inputs, state, lengths, parallel_iterations,
                      swap_memory):
    """Runs the cell over time-major flat_inputs in a while_loop; returns (outputs, state)."""
    time_steps = array_ops.shape(flat_inputs[0])[0]
    batch_size = _batch_size(flat_inputs, 1)
    input_tas = [_ta_unstack(tensor_array_ops.TensorArray(
        x.dtype.base_dtype, size=time_steps, tensor_array_name=f"input_{k}"), x)
        for k, x in enumerate(flat_inputs)]
    out_dtype = nest.flatten(state)[0].dtype.base_dtype
    out_sizes = nest.flatten(cell.output_size)
    output_tas = tuple(tensor_array_ops.TensorArray(
        out_dtype, size=time_steps, tensor_array_name=f"output_{k}",
        element_shape=_static_shape(rnn_cell._size_with_prefix(size, [batch_size])))
        for k, size in enumerate(out_sizes))
    zero_output = _zero_output(cell, batch_size, out_dtype) if lengths is not None else None

    def body(time, output_tas, state):
        step = [ta.read(time) for ta in input_tas]
        for x, full in zip(step, flat_inputs):
            x.set_shape(full.get_shape()[1:])
        output, new_state = cell(nest.pack_sequence_as(inputs, step), state)
        if lengths is not None:
            output, new_state = _masked_step(time, lengths, zero_output, state, output,
                                             new_state)
        writes = tuple(ta.write(time, o) for ta, o in zip(output_tas, nest.flatten(output)))
        return time + 1, writes, new_state

    time0 = ops.convert_to_tensor(0, dtype=dtypes.int32, name="time")
    _, output_tas, final_state = control_flow_ops.while_loop(
        lambda time, *_: math_ops.less(time, time_steps), body, (time0, output_tas, state),
        parallel_iterations=parallel_iterations or 32, swap_memory=swap_memory)
    outputs = [_ta_stack(ta) for ta in output_tas]
    for out, size in zip(outputs, out_sizes):
        out.set_shape(rnn_cell._size_with_prefix(size, [flat_inputs[0].get_shape()[0].value,
                                                        flat_inputs[0].get_shape()[1].value]))
    return nest.pack_sequence_as(cell.output_size, outputs), final_state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Runs `cell` over a [batch, time, ...] tensor with tf.while_loop (needs tf.while_loop
    and TensorArray).

    Args:
      cell: an RNNCell.
      inputs: [batch, time, input_size] (or [time, batch, input_size] with time_major=True),
        or a nested structure of such tensors.
      sequence_length: int vector [batch]; past it outputs are 0 and the state is copied.
      initial_state, dtype: as for static_rnn.
      parallel_iterations, swap_memory: passed to tf.while_loop.
      time_major: whether inputs and outputs are [time, batch, ...].
      scope: variable scope (default "rnn").
    Returns:
      (outputs, state): outputs [batch, time, output_size] (time-major if time_major).
    """
    _check_cell(cell)
    with vs.variable_scope(scope or "rnn"):
        flat = [ops.convert_to_tensor(x, name="inputs") for x in nest.flatten(inputs)]
        if not time_major:
            flat = [_swap_batch_time(x) for x in flat]
        state = _initial_state(cell, initial_state, _batch_size(flat, 1), dtype)
        lengths = _sequence_length(sequence_length)
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, flat, state, lengths,
                                                 parallel_iterations, swap_memory)
        if not time_major:
            outputs = nest.map_structure(_swap_batch_time, outputs)
        return outputs, final_state


def _reverse_time(x, lengths, time_major):
    time_axis = 0 if time_major else 1
    if lengths is None:
        return array_ops.reverse_v2(x, [time_axis])
    if time_major:
        return _swap_batch_time(_reverse_batch_major(_swap_batch_time(x), lengths))
    return _reverse_batch_major(x, lengths)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """Forward and backward dynamic_rnn over one [batch, time, ...] input.

    Returns:
      ((output_fw, output_bw), (output_state_fw, output_state_bw)).
    """
    _check_cell(cell_fw)
    _check_cell(cell_bw)
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(
                cell_fw, inputs, sequence_length, initial_state_fw, dtype, parallel_iterations,
                swap_memory, time_major, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            lengths = _sequence_length(sequence_length)
            reverse = lambda x: _reverse_time(x, lengths, time_major)
            tmp, state_bw = dynamic_rnn(
                cell_bw, nest.map_structure(reverse, inputs), lengths, initial_state_bw, dtype,
                parallel_iterations, swap_memory, time_major, scope=bw_scope)
    return (output_fw, nest.map_structure(reverse, tmp)), (state_fw, state_bw)
