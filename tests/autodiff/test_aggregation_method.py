"""tf.AggregationMethod: gradients sums fan-out terms as the chosen method says."""
import numpy as np
import pytest

import tensorflux as tf


def _fan_out_grad(method, uses=5):
    g = tf.Graph()
    with g.as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.add_n([x * float(i + 1) for i in range(uses)])
        (dx,) = tf.gradients(y, x, aggregation_method=method)
        with tf.Session() as sess:
            value = sess.run(dx)
    addn_arities = [len(op.inputs) for op in g.get_operations()
                    if op.type == "AddN" and op.name.startswith("gradients")]
    return value, addn_arities


@pytest.mark.parametrize("method", [None, tf.AggregationMethod.ADD_N,
                                    tf.AggregationMethod.EXPERIMENTAL_TREE,
                                    tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N])
def test_every_method_gives_the_same_sum(method):
    value, _ = _fan_out_grad(method)
    np.testing.assert_allclose(value, [15.0, 15.0])


def test_add_n_sums_all_terms_at_once_and_tree_in_pairs():
    assert tf.AggregationMethod.DEFAULT == tf.AggregationMethod.ADD_N
    _, default_arities = _fan_out_grad(tf.AggregationMethod.ADD_N)
    assert default_arities == [5]
    _, tree_arities = _fan_out_grad(tf.AggregationMethod.EXPERIMENTAL_TREE)
    assert sorted(tree_arities) == [2, 2, 2, 2]


def test_unknown_method_is_refused_with_tf_wording():
    with tf.Graph().as_default():
        x = tf.constant(1.0)
        with pytest.raises(ValueError, match="Invalid aggregation_method specified 7"):
            tf.gradients(x * x, x, aggregation_method=7)


def test_optimizer_passes_the_method_through():
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0])
        loss = tf.reduce_sum(v * v + v * 3.0)
        opt = tf.train.GradientDescentOptimizer(0.1)
        with pytest.raises(ValueError, match="Invalid aggregation_method"):
            opt.minimize(loss, aggregation_method=9)
        ((grad, _),) = opt.compute_gradients(
            loss, aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(grad), [5.0, 7.0])


def test_indexed_slices_of_int32_and_int64_ids_sum_with_int64_indices():
    # word2vec's sm_w_t: gathered by int32 labels and by int64 sampled ids, as TF aggregates
    params = tf.Variable(np.arange(8.0, dtype=np.float32).reshape(4, 2))
    loss = (tf.reduce_sum(tf.gather(params, tf.constant([0, 2], tf.int32)))
            + 2 * tf.reduce_sum(tf.gather(params, tf.constant([2, 3], tf.int64))))
    (grad,) = tf.gradients(loss, [params])
    assert isinstance(grad, tf.IndexedSlices) and grad.indices.dtype == tf.int64
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        dense = sess.run(tf.convert_to_tensor(grad))
        np.testing.assert_allclose(dense, [[1, 1], [0, 0], [3, 3], [2, 2]])
        sess.run(tf.train.GradientDescentOptimizer(1.0).minimize(loss))
        np.testing.assert_allclose(sess.run(params)[2], [1.0, 2.0])
