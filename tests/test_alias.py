"""tensorflux.alias: `import tensorflow...` gives tensorflux's modules (in a subprocess, so the
alias never leaks into this process)."""
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(120)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code, *args, cwd=None):
    env = dict(os.environ, PYTHONPATH=REPO, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_tensorflow_modules_are_the_tensorflux_modules():
    out = _run("""
        import tensorflux.alias
        tensorflux.alias.install()
        import tensorflow as tf
        import tensorflow.python.ops.array_ops as a
        from tensorflow.python.ops import control_flow_ops
        from tensorflow.models.rnn.ptb import reader
        import tensorflux, tensorflux.python.ops.array_ops as b, tensorflux.models.rnn.ptb
        assert tf is tensorflux and a is b and reader is tensorflux.models.rnn.ptb.reader
        assert a.__spec__.name == "tensorflux.python.ops.array_ops"
        assert control_flow_ops.cond is tf.cond
        try:
            import tensorflow.contrib.no_such_module
        except ModuleNotFoundError as e:
            print("missing:", e.name)
        tensorflux.alias.uninstall()
        import importlib.util
        print("after uninstall:", importlib.util.find_spec("tensorflow") is None
              or importlib.util.find_spec("tensorflow").origin)
    """)
    assert "missing: tensorflow.contrib.no_such_module" in out
    # after uninstall a real TensorFlow (if installed) would be found again, never ours
    assert "after uninstall: True" in out or "tensorflux" not in out.split("after")[-1]


def test_main_runs_a_script_and_a_module(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import sys, tensorflow as tf\n"
                      "print(tf.Session().run(tf.add(2, 3)), sys.argv[1:])\n")
    out = _run("import tensorflux.alias, sys; tensorflux.alias.main(sys.argv[1:])",
               str(script), "--flag=1")
    assert "5 ['--flag=1']" in out
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "run.py").write_text(
        "import tensorflow as tf\nif __name__ == '__main__':\n    print('main', tf.__name__)\n")
    out = _run("import tensorflux.alias, sys; tensorflux.alias.main(sys.argv[1:])",
               "-m", "mypkg.run", cwd=tmp_path)
    assert "main tensorflux" in out
