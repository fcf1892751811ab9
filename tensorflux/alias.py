"""Runs TensorFlow code unchanged on tensorflux: `import tensorflow` (and every
`tensorflow.x.y` module path) gives the tensorflux module at `tensorflux.x.y`.

    import tensorflux.alias; tensorflux.alias.install()      # then: import tensorflow as tf
    python -m tensorflux.alias script.py [args]               # a TF script, as is
    python -m tensorflux.alias -m tensorflow.models.image.mnist.convolutional [args]

The alias is a meta-path finder, not copies: `tensorflow.python.ops.array_ops` *is*
`tensorflux.python.ops.array_ops`, so each module is executed once and ops are registered once.
"""
import importlib
import importlib.abc
import importlib.util
import runpy
import sys

__all__ = ["install", "uninstall", "main"]


class _ExistingModuleLoader(importlib.abc.Loader):
    """Hands the import system an already imported tensorflux module."""

    def __init__(self, module):
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        module.__spec__ = self._spec  # the import system set the alias's spec; keep the real one


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, alias, target):
        self.alias, self.target = alias, target

    def real_name(self, fullname):
        if fullname == self.alias or fullname.startswith(self.alias + "."):
            return self.target + fullname[len(self.alias):]
        return None

    def find_spec(self, fullname, path=None, target=None):
        real = self.real_name(fullname)
        if real is None:
            return None
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name is not None and (real == e.name or real.startswith(e.name + ".")):
                return None  # tensorflux has no such module: "No module named 'tensorflow.x'"
            raise
        return importlib.util.spec_from_loader(fullname, _ExistingModuleLoader(module),
                                               is_package=hasattr(module, "__path__"))


def install(alias="tensorflow"):
    """Makes `import <alias>...` import tensorflux. Returns the finder (for `uninstall`)."""
    for finder in sys.meta_path:
        if isinstance(finder, _AliasFinder) and finder.alias == alias:
            return finder
    finder = _AliasFinder(alias, "tensorflux")
    sys.meta_path.insert(0, finder)
    return finder


def uninstall(alias="tensorflow"):
    """Removes the alias and the `<alias>.*` entries it put in sys.modules."""
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not (isinstance(f, _AliasFinder) and f.alias == alias)]
    for name in [n for n in sys.modules if n == alias or n.startswith(alias + ".")]:
        del sys.modules[name]


def main(argv=None):
    """`python -m tensorflux.alias [-m module | script.py] [args...]` with the alias installed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        print(__doc__.strip().splitlines()[0] + "\nusage: python -m tensorflux.alias "
              "[-m module | script.py] [args...]")
        return 2
    finder = install()
    if argv[0] == "-m":
        module = finder.real_name(argv[1]) or argv[1]
        sys.argv = [argv[1]] + argv[2:]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
