"""The talk's MNIST softmax example trains to >= 90% test accuracy on the digits stand-in."""
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "mnist_softmax.py")


def test_slide_code_is_verbatim():
    with open(EXAMPLE) as f:
        source = f.read()
    for line in ['x = tf.placeholder("float", shape=[None, 784])',
                 "W = tf.Variable(tf.zeros([784,10]))",
                 "y = tf.nn.softmax(tf.matmul(x, W) + b)",
                 "cross_entropy = -tf.reduce_sum(y_ * tf.log(y))",
                 "train_op = opt.minimize(cross_entropy)",
                 "init = tf.initialize_all_variables()",
                 "batch_xs, batch_ys = mnist.train.next_batch(100)",
                 "sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})"]:
        assert line in source, line


def _load_example():
    spec = importlib.util.spec_from_file_location("mnist_softmax_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_are_the_slides(tmp_path):
    example = _load_example()
    flags = example.parse_args(["--data_dir", str(tmp_path)])
    assert flags.learning_rate == example.SLIDE_LEARNING_RATE == 0.01
    assert flags.steps == 1000
    assert example.parse_args(["--learning_rate", "0.5"]).learning_rate == 0.5


def test_reaches_ninety_percent(tmp_path):
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--data_dir", str(tmp_path / "MNIST_data")],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("test accuracy: ")]
    assert lines, proc.stdout[-2000:]
    accuracy = float(lines[-1].split(": ")[1])
    assert accuracy >= 0.90, proc.stdout[-2000:]


def test_export_dir_writes_a_saved_model_that_loads_and_scores_the_same(tmp_path):
    import numpy as np
    import tensorflux as tf
    from tensorflux.examples.tutorials.mnist import input_data
    data_dir, export_dir = str(tmp_path / "MNIST_data"), str(tmp_path / "export")
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--data_dir", data_dir, "--steps", "100",
         "--export_dir", export_dir], capture_output=True, text=True, timeout=300,
        cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"exported the model to {export_dir}" in proc.stdout
    printed = float([line for line in proc.stdout.splitlines()
                     if line.startswith("test accuracy: ")][-1].split(": ")[1])
    mnist = input_data.read_data_sets(data_dir, one_hot=True)
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        assert set(meta.signature_def) == {"predict_images", "serving_default"}
        sig = meta.signature_def["predict_images"]
        assert sig.method_name == "tensorflow/serving/predict"
        scores = sess.run(sig.outputs["scores"].name,
                          {sig.inputs["images"].name: mnist.test.images})
    assert scores.shape == (len(mnist.test.images), 10)
    accuracy = np.mean(np.argmax(scores, 1) == np.argmax(mnist.test.labels, 1))
    assert abs(accuracy - printed) < 1e-4
