"""python -m tensorflux.tools.inspect_checkpoint."""
import io
import os
import subprocess
import sys

import pytest

from tensorflux.framework import errors
from tensorflux.tools import inspect_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "data", "checkpoints", "golden")


def _printed(**kwargs):
    out = io.StringIO()
    inspect_checkpoint.print_tensors_in_checkpoint_file(
        GOLDEN, kwargs.get("tensor_name", ""), kwargs.get("all_tensors", False),
        kwargs.get("all_tensor_names", False), out=out)
    return out.getvalue()


def test_lists_tensors_with_dtype_and_shape():
    text = _printed()
    assert "a (DT_FLOAT) [2,3]\n" in text
    assert "s (DT_STRING) [4]\n" in text
    assert "part (DT_DOUBLE) [300,2]\n" in text
    assert text.count("\n") == 14


def test_one_tensor_and_all_tensors():
    assert _printed(tensor_name="i16") == "tensor_name:  i16\n[ -7 300]\n"
    text = _printed(all_tensors=True)
    assert text.count("tensor_name:  ") == 14 and "[[0. 1. 2.]\n [3. 4. 5.]]" in text
    assert _printed(all_tensor_names=True).splitlines()[0] == "tensor_name:  a"


def test_missing_tensor():
    with pytest.raises(errors.NotFoundError, match="Key nope not found"):
        _printed(tensor_name="nope")


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tensorflux.tools.inspect_checkpoint", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_command_line(tmp_path):
    result = _run(f"--file_name={GOLDEN}", "--tensor_name=b")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tensor_name:  b\n7\n"
    result = _run(f"--file_name={tmp_path / 'none'}")
    assert result.returncode == 1
    assert "NotFoundError" in result.stderr


def test_corrupt_checkpoint_reports_data_loss(tmp_path, capsys):
    for suffix in (".index", ".data-00000-of-00001"):
        data = open(GOLDEN + suffix, "rb").read()
        if suffix == ".data-00000-of-00001":
            data = data[:100]
        (tmp_path / ("c" + suffix)).write_bytes(data)
    status = inspect_checkpoint.main([f"--file_name={tmp_path / 'c'}", "--all_tensors"])
    assert status == 1
    err = capsys.readouterr().err
    assert "DataLossError" in err and "truncated" in err
