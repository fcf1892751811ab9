"""SparseTensors through tf.train.batch, batch_join and shuffle_batch: serialized into the
queue, joined back into one SparseTensor with a leading batch dimension (as TF 0.9)."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


def _examples():
    """Three examples: a label and a 1-D SparseTensor of k entries, from a queue of k."""
    ks = tf.train.range_input_producer(3, shuffle=False).dequeue()  # 0, 1, 2, 0, ...
    k64 = tf.cast(ks, tf.int64)
    indices = tf.reshape(tf.range(k64), [-1, 1])
    values = tf.cast(tf.range(k64) + 10 * k64, tf.float32)
    return ks, tf.SparseTensor(indices, values, tf.reshape(k64 + 1, [1]))


def _run_batches(fetches, n=1):
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            return [sess.run(fetches) for _ in range(n)]
        finally:
            coord.request_stop()
            sess.run(tf.get_default_graph().get_collection(tf.GraphKeys.QUEUE_RUNNERS)[0]
                     .queue.close(cancel_pending_enqueues=True))
            coord.join(threads, stop_grace_period_secs=5)


def test_batch_of_sparse_tensors():
    label, sparse = _examples()
    labels, batched = tf.train.batch([label, sparse], batch_size=3)
    assert isinstance(batched, tf.SparseTensor)
    assert batched.indices.get_shape().as_list() == [None, 2]
    (got_labels, got), = _run_batches([labels, batched])
    np.testing.assert_array_equal(got_labels, [0, 1, 2])
    # example 0: nothing (shape [1]); 1: [10] (shape [2]); 2: [20, 21] (shape [3])
    np.testing.assert_array_equal(got.indices, [[1, 0], [2, 0], [2, 1]])
    np.testing.assert_array_equal(got.values, [10.0, 20.0, 21.0])
    np.testing.assert_array_equal(got.dense_shape, [3, 3])


def test_dict_batch_join_and_enqueue_many():
    label, sparse = _examples()
    out = tf.train.batch_join([{"l": label, "s": sparse}], batch_size=2)
    assert set(out) == {"l", "s"} and isinstance(out["s"], tf.SparseTensor)
    (got,) = _run_batches(out["s"])
    np.testing.assert_array_equal(got.values, [10.0])
    np.testing.assert_array_equal(got.dense_shape, [2, 2])
    with tf.Graph().as_default():
        many = tf.SparseTensor([[0, 0], [1, 1], [1, 2]], [1, 2, 3], [2, 4])
        batched = tf.train.batch([many], batch_size=2, enqueue_many=True)
        (got,) = _run_batches(batched)
        np.testing.assert_array_equal(got.indices, [[0, 0], [1, 1], [1, 2]])
        np.testing.assert_array_equal(got.dense_shape, [2, 4])


def test_shuffle_batch_keeps_each_example_whole():
    label, sparse = _examples()
    labels, batched = tf.train.shuffle_batch([label, sparse], batch_size=4, capacity=20,
                                             min_after_dequeue=5, seed=1)
    for got_labels, got in _run_batches([labels, batched], n=3):
        for row, k in enumerate(got_labels):
            mine = got.indices[:, 0] == row
            np.testing.assert_array_equal(got.values[mine], 10.0 * k + np.arange(k))
        assert got.dense_shape[0] == 4
