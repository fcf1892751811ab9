"""VariableRef: the buffer a Variable op's reference output points to.

It lives in the framework (not the runtime) because op kernels under tensorflux/ops/ create and
update it, and ops never import the runtime.
"""
import threading

from tensorflux.framework import errors


class VariableRef:
    """The buffer behind a Variable op's reference output (TF's `float32_ref` tensors).

    Kernels with `Ref(T)` inputs get the VariableRef itself and mutate `value`; every other
    consumer gets the current array through `get()`.
    """

    __slots__ = ("name", "value", "lock")

    def __init__(self, name):
        self.name = name
        self.value = None
        self.lock = threading.Lock()

    def get(self):
        value = self.value
        if value is None:
            raise errors.FailedPreconditionError(
                None, None, f"Attempting to use uninitialized value {self.name}")
        return value

    @property
    def is_initialized(self):
        return self.value is not None

    def __repr__(self):
        return f"VariableRef({self.name}, initialized={self.value is not None})"
