"""Prints the tensors of a V2 checkpoint.

    python -m tensorflux.tools.inspect_checkpoint --file_name=/tmp/model.ckpt-1000
    python -m tensorflux.tools.inspect_checkpoint --file_name=... --tensor_name=layer1/weights
    python -m tensorflux.tools.inspect_checkpoint --file_name=... --all_tensors

Without a tensor name it lists each tensor's name, dtype and shape. A missing checkpoint or
tensor, or a corrupted file, is reported on stderr with exit status 1.
"""
import argparse
import sys

import numpy as np

from tensorflux.framework import errors
from tensorflux.training import checkpoint_state

__all__ = ["print_tensors_in_checkpoint_file", "main"]


def _print_tensor(reader, name, out):
    out.write(f"tensor_name:  {name}\n")
    out.write(f"{reader.get_tensor(name)}\n")


def print_tensors_in_checkpoint_file(file_name, tensor_name, all_tensors,
                                     all_tensor_names=False, out=None):
    """Prints one tensor, all tensors (with values), or the list of tensors of a checkpoint."""
    out = out or sys.stdout
    reader = checkpoint_state.NewCheckpointReader(file_name)
    if all_tensors or all_tensor_names:
        for name in sorted(reader.get_variable_to_shape_map()):
            if all_tensors:
                _print_tensor(reader, name, out)
            else:
                out.write(f"tensor_name:  {name}\n")
    elif not tensor_name:
        out.write(reader.debug_string().decode("utf-8"))
    else:
        if not reader.has_tensor(tensor_name):
            raise errors.NotFoundError(None, None, f"Key {tensor_name} not found in checkpoint "
                                                   f"{file_name}")
        _print_tensor(reader, tensor_name, out)


def _bool_flag(text):
    if text.lower() in ("1", "true", "yes", "y", "t"):
        return True
    if text.lower() in ("0", "false", "no", "n", "f"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {text!r}")


def _parser():
    parser = argparse.ArgumentParser(prog="python -m tensorflux.tools.inspect_checkpoint",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--file_name", required=True,
                        help="checkpoint prefix (e.g. model.ckpt-1000), not a .data/.index file")
    parser.add_argument("--tensor_name", default="", help="the tensor to print")
    parser.add_argument("--all_tensors", nargs="?", const=True, default=False, type=_bool_flag,
                        help="print every tensor with its value")
    parser.add_argument("--all_tensor_names", nargs="?", const=True, default=False,
                        type=_bool_flag, help="print every tensor's name")
    parser.add_argument("--printoptions", nargs="*", default=[],
                        help="numpy print options, e.g. threshold=100000")
    return parser


def _apply_printoptions(items):
    options = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            options[key] = int(value)
        except ValueError:
            options[key] = value
    if options:
        np.set_printoptions(**options)


def main(argv=None):
    """Runs the tool; returns the exit status."""
    args = _parser().parse_args(argv)
    _apply_printoptions(args.printoptions)
    try:
        print_tensors_in_checkpoint_file(args.file_name, args.tensor_name, args.all_tensors,
                                         args.all_tensor_names)
    except errors.OpError as e:
        sys.stderr.write(f"{type(e).__name__}: {e.message}\n")
        if isinstance(e, errors.DataLossError):
            sys.stderr.write("It's likely that your checkpoint file has been corrupted or "
                             "truncated.\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
