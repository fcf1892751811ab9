# The TensorFlow calls Keras 1.x's TensorFlow backend makes (keras/backend/tensorflow_backend.py
# of Keras 1.0-1.2), written here without Keras; each result is checked against NumPy.
import numpy as np
import tensorflow as tf
from tensorflow.python.ops import control_flow_ops
from tensorflow.python.ops import tensor_array_ops
from tensorflow.python.training import moving_averages

tf.python.control_flow_ops = tf  # the 2016 fix users pasted for TF 0.12: must stay harmless
tf.python.control_flow_ops = control_flow_ops

sess = tf.Session()
learning_phase = tf.placeholder(dtype="bool", name="keras_learning_phase")

# K.in_train_phase / K.switch (Keras 1.0: tf.python.control_flow_ops.cond)
x = tf.placeholder(tf.float32, shape=(None, 3))
dropped = tf.nn.dropout(x * 1.0, 0.5, seed=1)
out = tf.python.control_flow_ops.cond(tf.cast(learning_phase, "bool"),
                                      lambda: dropped, lambda: x)
data = np.arange(6, dtype=np.float32).reshape(2, 3)
assert np.allclose(sess.run(out, {x: data, learning_phase: False}), data)
train_out = sess.run(out, {x: data, learning_phase: True})
assert set(np.unique(train_out / np.maximum(data, 1e-9))) <= {0.0, 2.0}

# K.rnn (Keras 1.1+): a while_loop over time with TensorArrays.
inputs = tf.placeholder(tf.float32, shape=(None, 4, 2))   # (samples, time, dim)
w = tf.Variable(np.full((2, 2), 0.5, np.float32))
states = [tf.zeros_like(inputs[:, 0, :])]
steps = tf.transpose(inputs, (1, 0, 2))
time_steps = tf.shape(steps)[0]
output_ta = tensor_array_ops.TensorArray(dtype=tf.float32, size=time_steps, tensor_array_name="out")
input_ta = tensor_array_ops.TensorArray(dtype=steps.dtype, size=time_steps,
                                        tensor_array_name="in")
input_ta = input_ta.unpack(steps) if hasattr(input_ta, "unpack") else input_ta.unstack(steps)
time = tf.constant(0, dtype="int32", name="time")


def _step(time, output_ta_t, *states):
    current_input = input_ta.read(time)
    output = tf.tanh(tf.matmul(current_input, w) + states[0])
    return (time + 1, output_ta_t.write(time, output), output)


final = control_flow_ops.while_loop(cond=lambda time, *_: time < time_steps, body=_step,
                                    loop_vars=(time, output_ta) + tuple(states),
                                    parallel_iterations=32, swap_memory=True)
outputs = tf.transpose(final[1].pack(), (1, 0, 2))
seq = np.random.RandomState(0).randn(3, 4, 2).astype(np.float32)
sess.run(tf.initialize_all_variables())
got = sess.run(outputs, {inputs: seq})
h = np.zeros((3, 2), np.float32)
for t in range(4):
    h = np.tanh(seq[:, t] @ np.full((2, 2), 0.5) + h)
    assert np.allclose(got[:, t], h, atol=1e-5)

# BatchNormalization's running statistics (K.moving_average_update).
mean = tf.Variable(np.zeros(2, np.float32))
update = moving_averages.assign_moving_average(mean, tf.constant([1.0, 3.0]), 0.9,
                                               zero_debias=False)
sess.run(tf.initialize_variables([mean]))
sess.run(update)
assert np.allclose(sess.run(mean), [0.1, 0.3])

# K.gradients, K.function with updates (control_dependencies + group).
v = tf.Variable(np.ones(3, np.float32))
loss = tf.reduce_sum(tf.square(v))
grad = tf.gradients(loss, [v])[0]
with tf.control_dependencies([tf.group(tf.assign_sub(v, 0.25 * grad))]):
    after = tf.identity(loss)
sess.run(tf.initialize_variables([v]))
sess.run(after)
assert np.allclose(sess.run(v), 0.5)
print("OK keras backend calls")
