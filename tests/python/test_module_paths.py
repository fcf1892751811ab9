"""TensorFlow 0.9's internal module paths (tensorflow.python.*) under tensorflux.python: each
name is the object tensorflux defines elsewhere, and the generated op modules build real ops."""
import importlib
import inspect
import os

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import registry
from tensorflux.python.ops import _gen_ops
from tensorflux.rnn import nest
from tensorflux.training import moving_averages, training_ops

# module path -> {name: the tensorflux object it must be}
PATHS = {
    "ops.control_flow_ops": {"cond": tf.cond, "while_loop": tf.while_loop, "group": tf.group,
                             "tuple": tf.tuple, "with_dependencies": tf.with_dependencies,
                             "no_op": tf.no_op, "case": tf.case},
    "ops.array_ops": {"placeholder": tf.placeholder, "concat": tf.concat, "reshape": tf.reshape,
                      "gather": tf.gather, "zeros": tf.zeros, "constant": tf.constant},
    "ops.math_ops": {"matmul": tf.matmul, "reduce_sum": tf.reduce_sum, "cast": tf.cast,
                     "lgamma": tf.lgamma, "segment_sum": tf.segment_sum},
    "ops.nn_ops": {"relu": tf.nn.relu, "conv2d": tf.nn.conv2d, "bias_add": tf.nn.bias_add},
    "ops.nn": {"softmax": tf.nn.softmax, "embedding_lookup": tf.nn.embedding_lookup,
               "dynamic_rnn": tf.nn.dynamic_rnn},
    "ops.init_ops": {"constant_initializer": tf.constant_initializer},
    "ops.state_ops": {"assign": tf.assign, "assign_add": tf.assign_add},
    "ops.variable_scope": {"get_variable": tf.get_variable,
                           "variable_scope": tf.variable_scope},
    "ops.variables": {"Variable": tf.Variable,
                      "initialize_all_variables": tf.initialize_all_variables},
    "ops.rnn": {"rnn": tf.nn.rnn, "dynamic_rnn": tf.nn.dynamic_rnn},
    "ops.rnn_cell": {"BasicLSTMCell": tf.nn.rnn_cell.BasicLSTMCell,
                     "_linear": tf.nn.rnn_cell.linear},
    "ops.seq2seq": {"sequence_loss": tf.nn.seq2seq.sequence_loss},
    "ops.data_flow_ops": {"FIFOQueue": tf.FIFOQueue},
    "ops.io_ops": {"TFRecordReader": tf.TFRecordReader},
    "ops.clip_ops": {"clip_by_global_norm": tf.clip_by_global_norm},
    "ops.logging_ops": {"histogram_summary": tf.histogram_summary},
    "ops.random_ops": {"random_normal": tf.random_normal},
    "ops.embedding_ops": {"embedding_lookup": tf.nn.embedding_lookup},
    "ops.tensor_array_ops": {"TensorArray": tf.TensorArray},
    "ops.functional_ops": {"scan": tf.scan, "map_fn": tf.map_fn},
    "ops.sparse_ops": {"SparseTensor": tf.SparseTensor},
    "ops.gradients": {"gradients": tf.gradients},
    "framework.ops": {"Graph": tf.Graph, "RegisterGradient": tf.RegisterGradient,
                      "RegisterShape": tf.RegisterShape, "convert_to_tensor": tf.convert_to_tensor},
    "framework.dtypes": {"float32": tf.float32, "as_dtype": tf.as_dtype},
    "framework.tensor_shape": {"TensorShape": tf.TensorShape},
    "framework.constant_op": {"constant": tf.constant},
    "framework.errors": {"OutOfRangeError": tf.errors.OutOfRangeError},
    "framework.importer": {"import_graph_def": tf.import_graph_def},
    "framework.graph_util": {"convert_variables_to_constants":
                             tf.graph_util.convert_variables_to_constants},
    "framework.test_util": {"TensorFlowTestCase": tf.test.TestCase},
    "platform.gfile": {"GFile": tf.gfile.GFile},
    "platform.tf_logging": {"info": tf.logging.info},
    "platform.test": {"TestCase": tf.test.TestCase},
    "platform.googletest": {"main": tf.test.main},
    "platform.flags": {"DEFINE_integer": tf.flags.DEFINE_integer},
    "platform.app": {"run": tf.app.run},
    "client.session": {"Session": tf.Session, "InteractiveSession": tf.InteractiveSession},
    "summary": {"FileWriter": tf.summary.FileWriter},
    "util.nest": {"flatten": nest.flatten},
    "training.training_ops": {"apply_adam": training_ops.apply_adam},
    "training.moving_averages": {"assign_moving_average":
                                 moving_averages.assign_moving_average},
    "training.summary_io": {"SummaryWriter": tf.train.SummaryWriter},
    "training.saver": {"Saver": tf.train.Saver},
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_module_path_gives_the_tensorflux_object(path):
    mod = importlib.import_module(f"tensorflux.python.{path}")
    for name, obj in PATHS[path].items():
        assert getattr(mod, name) is obj, (path, name)


def test_tensor_shape_helpers():
    from tensorflux.python.framework import tensor_shape
    assert tensor_shape.unknown_shape().ndims is None
    assert tensor_shape.unknown_shape(ndims=2).as_list() == [None, None]
    assert tensor_shape.matrix(2, 3).as_list() == [2, 3]


@pytest.mark.parametrize("op_type,snake", [
    ("MatMul", "mat_mul"), ("Conv2DBackpropInput", "conv2d_backprop_input"),
    ("L2Loss", "l2_loss"), ("LRN", "lrn"), ("MaxPool3D", "max_pool3d"), ("AddN", "add_n"),
    ("BiasAddGrad", "bias_add_grad"), ("TensorArrayV3", "tensor_array_v3"),
    ("RGBToHSV", "rgb_to_hsv"), ("SoftmaxCrossEntropyWithLogits",
                                 "softmax_cross_entropy_with_logits")])
def test_generated_names_follow_tf_snake_case(op_type, snake):
    assert _gen_ops.snake_case(op_type) == snake


GEN_MODULES = ["gen_array_ops", "gen_math_ops", "gen_nn_ops", "gen_state_ops",
               "gen_data_flow_ops", "gen_io_ops", "gen_control_flow_ops", "gen_random_ops",
               "gen_logging_ops", "gen_image_ops", "gen_parsing_ops",
               "gen_candidate_sampling_ops", "gen_string_ops", "gen_script_ops",
               "gen_training_ops", "gen_ctc_ops", "gen_linalg_ops", "gen_sparse_ops",
               "gen_functional_ops"]


# TF 0.9 loaded its word2vec ops from a library of the tutorial's own (word2vec_ops.so).
OTHER_GEN_MODULES = ["tensorflux.models.embedding.gen_word2vec"]


def test_every_op_outside_sendrecv_is_in_one_gen_module():
    owners = {}
    for mod_name in [f"tensorflux.python.ops.{m}" for m in GEN_MODULES] + OTHER_GEN_MODULES:
        mod = importlib.import_module(mod_name)
        for name in mod.__all__:
            owners.setdefault(getattr(mod, name).__name__, set()).add(mod_name)
    package = os.path.dirname(tf.__file__) + os.sep  # not ops that tests register
    missing = [t for t, d in registry.registered_ops().items()
               if d.registered_at.startswith(package) and t not in ("_Send", "_Recv")
               and _gen_ops.snake_case(t) not in owners]
    assert missing == []
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_gen_functions_take_inputs_then_attrs_then_name():
    from tensorflux.python.ops import gen_array_ops, gen_math_ops, gen_nn_ops
    assert list(inspect.signature(gen_math_ops._mat_mul).parameters) == [
        "a", "b", "transpose_a", "transpose_b", "name"]
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    product = gen_math_ops._mat_mul(a, a, transpose_b=True, name="mm")
    total = gen_math_ops._sum(a, [1], True)
    joined = gen_array_ops._concat(0, [a, a])
    relu_grad = gen_nn_ops._relu_grad(tf.ones_like(a), a - 2.5)
    assert product.op.type == "MatMul" and product.op.name == "mm"
    assert product.op.get_attr("transpose_b") is True
    with tf.Session() as sess:
        p, t, j, g = sess.run([product, total, joined, relu_grad])
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(p, x @ x.T)
    np.testing.assert_allclose(t, x.sum(1, keepdims=True))
    assert j.shape == (4, 2)
    np.testing.assert_allclose(g, (x > 2.5).astype(float))
    with pytest.raises(TypeError):
        gen_math_ops._mat_mul(a)


def test_keras_style_calls_through_tf_python():
    """Keras 1.x wrote tf.python.control_flow_ops.cond; users patched it back with
    `tf.python.control_flow_ops = tf` when TF 0.12 dropped it."""
    from tensorflux.python.ops import control_flow_ops
    assert tf.python.control_flow_ops is control_flow_ops
    training = tf.placeholder(tf.bool, [])
    x = tf.constant([1.0, -2.0])
    y = tf.python.control_flow_ops.cond(training, lambda: x * 2.0, lambda: x)
    sw_false, sw_true = control_flow_ops.switch(x, training)
    merged, index = control_flow_ops.merge([sw_false, sw_true * 10.0])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {training: True}), [2.0, -4.0])
        np.testing.assert_allclose(sess.run(y, {training: False}), [1.0, -2.0])
        m, i = sess.run([merged, index], {training: True})
    np.testing.assert_allclose(m, [10.0, -20.0])
    assert i == 1


def test_slot_creator_names_and_colocates_like_optimizer_slots():
    from tensorflux.python.training import slot_creator
    with tf.variable_scope("layer"):
        w = tf.Variable(tf.ones([2, 3]), name="w")
    with tf.name_scope("anywhere"):
        slot = slot_creator.create_zeros_slot(w, "Momentum")
        half = slot_creator.create_slot(w, tf.fill([2, 3], 0.5), "avg")
    assert slot.op.name == "layer/w/Momentum" and half.op.name == "layer/w/avg"
    assert slot not in tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(slot), np.zeros([2, 3]))
        np.testing.assert_allclose(sess.run(half), np.full([2, 3], 0.5))


def test_rnn_cell_private_linear_takes_tf09_scope():
    from tensorflux.python.ops import rnn_cell
    x = tf.ones([2, 3])
    y = rnn_cell._linear([x, x], 4, True, bias_start=1.0, scope="proj")
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ["proj/biases", "proj/weights"]
    assert y.get_shape().as_list() == [2, 4]


def test_device_lib_lists_the_devices_a_session_gets():
    from tensorflux.python.client import device_lib
    devices = device_lib.list_local_devices()
    with tf.Session() as sess:
        assert [d.name for d in devices] == [d.name for d in sess.list_devices()]
    assert devices[0].device_type == "CPU" and devices[0].memory_limit > 0
    two = device_lib.list_local_devices(tf.ConfigProto(device_count={"CPU": 2}))
    assert [d.name[-5:] for d in two] == ["CPU:0", "CPU:1"]
