"""TensorFlow's error codes and exception classes (`tf.errors`).

Every runtime failure is an `OpError` subclass carrying one of the canonical codes, so scripts
written for TensorFlow (`except tf.errors.OutOfRangeError:`) work unchanged.
"""

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """A failure while running (or building) an operation.

    Args:
      node_def: the `NodeDef` of the failing op, or None.
      op: the failing `Operation`, or None.
      message: what went wrong.
      error_code: one of the codes above.
    """

    def __init__(self, node_def, op, message, error_code):
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code

    @property
    def message(self):
        """The error message."""
        return self._message

    @property
    def op(self):
        """The failing Operation, or None."""
        return self._op

    @property
    def node_def(self):
        """The NodeDef of the failing op, or None."""
        return self._node_def

    @property
    def error_code(self):
        """The integer error code."""
        return self._error_code

    def __str__(self):
        return str(self._message)


def _error_class(name, code, doc):
    def __init__(self, node_def, op, message):
        OpError.__init__(self, node_def, op, message, code)

    return type(name, (OpError,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


CancelledError = _error_class("CancelledError", CANCELLED, "An operation or step was cancelled.")
UnknownError = _error_class("UnknownError", UNKNOWN, "An error of unknown cause.")
InvalidArgumentError = _error_class(
    "InvalidArgumentError", INVALID_ARGUMENT, "An operation received an invalid argument."
)
DeadlineExceededError = _error_class(
    "DeadlineExceededError", DEADLINE_EXCEEDED, "A deadline expired before the operation finished."
)
NotFoundError = _error_class("NotFoundError", NOT_FOUND, "A requested entity was not found.")
AlreadyExistsError = _error_class(
    "AlreadyExistsError", ALREADY_EXISTS, "An entity to be created already exists."
)
PermissionDeniedError = _error_class(
    "PermissionDeniedError", PERMISSION_DENIED, "The caller may not run the operation."
)
UnauthenticatedError = _error_class(
    "UnauthenticatedError", UNAUTHENTICATED, "The request has no valid credentials."
)
ResourceExhaustedError = _error_class(
    "ResourceExhaustedError", RESOURCE_EXHAUSTED, "Some resource (memory, quota) ran out."
)
FailedPreconditionError = _error_class(
    "FailedPreconditionError",
    FAILED_PRECONDITION,
    "The system is not in a state to run the operation (e.g. an uninitialized variable).",
)
AbortedError = _error_class("AbortedError", ABORTED, "The operation was aborted.")
OutOfRangeError = _error_class(
    "OutOfRangeError", OUT_OF_RANGE, "An operation went past the valid range (e.g. a closed queue)."
)
UnimplementedError = _error_class(
    "UnimplementedError", UNIMPLEMENTED, "The operation is not implemented or supported."
)
InternalError = _error_class("InternalError", INTERNAL, "An internal invariant was broken.")
UnavailableError = _error_class(
    "UnavailableError", UNAVAILABLE, "The runtime is currently unavailable."
)
DataLossError = _error_class("DataLossError", DATA_LOSS, "Unrecoverable data loss or corruption.")

_CODE_TO_EXCEPTION_CLASS = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    UNAUTHENTICATED: UnauthenticatedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
}
_EXCEPTION_CLASS_TO_CODE = {cls: code for code, cls in _CODE_TO_EXCEPTION_CLASS.items()}


def exception_type_from_error_code(error_code):
    """The OpError subclass for a code.

    Raises:
      KeyError: for OK or an unknown code.
    """
    try:
        return _CODE_TO_EXCEPTION_CLASS[error_code]
    except KeyError:
        raise KeyError(
            f"No exception class for error code {error_code!r}; known codes are 1..16."
        ) from None


def error_code_from_exception_type(cls):
    """The code of an OpError subclass.

    Raises:
      KeyError: for a class that is not one of the subclasses above.
    """
    try:
        return _EXCEPTION_CLASS_TO_CODE[cls]
    except KeyError:
        raise KeyError(f"{cls!r} is not a tensorflux OpError subclass with a code.") from None
