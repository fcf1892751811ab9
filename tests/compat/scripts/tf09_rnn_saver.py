# A TF 0.8/0.9-era sequence model: the RNN library imported from tensorflow.models.rnn, a
# 0.9 LSTM (concatenated state), summaries via tf.train.SummaryWriter, and a Saver round trip.
import os
import sys

import numpy as np
import tensorflow as tf
from tensorflow.models.rnn import rnn, rnn_cell, seq2seq
from tensorflow.python.ops import variable_scope

train_dir = sys.argv[1]
batch_size, num_steps, vocab, hidden = 8, 6, 5, 32
rng = np.random.RandomState(0)


def batches():
    """Sequences counting up modulo `vocab` from a random start: the next token is learnable."""
    start = rng.randint(0, vocab, size=(batch_size, 1))
    seq = (start + np.arange(num_steps + 1)) % vocab
    return seq[:, :-1], seq[:, 1:]


inputs = tf.placeholder(tf.int32, [batch_size, num_steps])
targets = tf.placeholder(tf.int32, [batch_size, num_steps])
with variable_scope.variable_scope("model"):
    embedding = tf.get_variable("embedding", [vocab, hidden])
    embedded = tf.nn.embedding_lookup(embedding, inputs)
    steps = [tf.squeeze(s, [1]) for s in tf.split(1, num_steps, embedded)]
    cell = rnn_cell.BasicLSTMCell(hidden)
    state0 = cell.zero_state(batch_size, tf.float32)
    outputs, state = rnn.rnn(cell, steps, initial_state=state0)
    softmax_w = tf.get_variable("softmax_w", [hidden, vocab])
    softmax_b = tf.get_variable("softmax_b", [vocab])
    logits = [tf.matmul(o, softmax_w) + softmax_b for o in outputs]
    loss = seq2seq.sequence_loss_by_example(
        logits, [tf.squeeze(t, [1]) for t in tf.split(1, num_steps, targets)],
        [tf.ones([batch_size])] * num_steps)
    cost = tf.reduce_sum(loss) / batch_size
assert state.get_shape().as_list() == [batch_size, 2 * hidden], state.get_shape()
train_op = tf.train.AdamOptimizer(0.02).minimize(cost)
tf.scalar_summary("cost", cost)
summary_op = tf.merge_all_summaries()
saver = tf.train.Saver(tf.all_variables())

with tf.Session() as sess:
    writer = tf.train.SummaryWriter(train_dir, sess.graph)
    sess.run(tf.initialize_all_variables())
    x, y = batches()
    first = sess.run(cost, {inputs: x, targets: y})
    for step in range(150):
        x, y = batches()
        _, c, summary = sess.run([train_op, cost, summary_op], {inputs: x, targets: y})
        writer.add_summary(summary, step)
    writer.close()
    path = saver.save(sess, os.path.join(train_dir, "model.ckpt"), global_step=150)
    weights = sess.run(softmax_w)

with tf.Session() as sess:
    saver.restore(sess, tf.train.latest_checkpoint(train_dir))
    assert np.array_equal(sess.run(softmax_w), weights)
    x, y = batches()
    restored = sess.run(cost, {inputs: x, targets: y})
print("cost %.3f -> %.3f restored %.3f saved %s" % (first, c, restored, os.path.basename(path)))
events = [f for f in os.listdir(train_dir) if f.startswith("events.out.tfevents")]
print("event files", len(events))
