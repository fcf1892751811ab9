"""tensorflow.python.framework.function -> tensorflux.framework.function (Defun)."""
from tensorflux.framework.function import *  # noqa: F401,F403
from tensorflux.framework.function import _DefinedFunction, _OverloadedFunction  # noqa: F401
