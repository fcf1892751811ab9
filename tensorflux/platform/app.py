"""`tf.app`: the entry point 2016 TensorFlow scripts end with, `tf.app.run()`."""

import sys

from tensorflux.platform import flags

__all__ = ["run", "flags"]


def run(main=None, argv=None):
    """Parses flags, calls `main(argv)` and exits with its return value.

    Args:
      main: the function to run; defaults to the `main` of the `__main__` module.
      argv: the command line to parse, program name first; defaults to `sys.argv`.
        `main` receives the program name plus every argument that named no flag.

    Raises:
      SystemExit: always, carrying `main`'s return value (None means success).
      AttributeError: if `main` is None and `__main__` defines no `main`.
    """
    argv = sys.argv if argv is None else argv
    remaining = flags.FLAGS(argv)
    if main is None:
        module = sys.modules["__main__"]
        if not hasattr(module, "main"):
            raise AttributeError(
                "tf.app.run() was given no main function and module __main__ (%s) defines "
                "no 'main'" % getattr(module, "__file__", "<interactive>"))
        main = module.main
    sys.exit(main(remaining))
