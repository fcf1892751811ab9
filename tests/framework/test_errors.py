import pytest

from tensorflux.framework import errors

CLASSES = {
    "CancelledError": 1, "UnknownError": 2, "InvalidArgumentError": 3,
    "DeadlineExceededError": 4, "NotFoundError": 5, "AlreadyExistsError": 6,
    "PermissionDeniedError": 7, "ResourceExhaustedError": 8, "FailedPreconditionError": 9,
    "AbortedError": 10, "OutOfRangeError": 11, "UnimplementedError": 12, "InternalError": 13,
    "UnavailableError": 14, "DataLossError": 15, "UnauthenticatedError": 16,
}
CODES = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12,
    "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}


@pytest.mark.parametrize("name,code", sorted(CODES.items()))
def test_codes(name, code):
    assert getattr(errors, name) == code


@pytest.mark.parametrize("name,code", sorted(CLASSES.items()))
def test_subclass(name, code):
    cls = getattr(errors, name)
    assert cls.__name__ == name
    assert issubclass(cls, errors.OpError) and issubclass(cls, Exception)
    node_def, op = object(), object()
    err = cls(node_def, op, "went wrong")
    assert err.error_code == code
    assert err.message == "went wrong" and str(err) == "went wrong"
    assert err.node_def is node_def and err.op is op
    assert errors.exception_type_from_error_code(code) is cls
    assert errors.error_code_from_exception_type(cls) == code
    with pytest.raises(errors.OpError, match="went wrong"):
        raise err


def test_subclasses_are_distinct():
    assert not issubclass(errors.OutOfRangeError, errors.InvalidArgumentError)
    with pytest.raises(errors.OutOfRangeError, match="queue closed"):
        try:
            raise errors.OutOfRangeError(None, None, "queue closed")
        except errors.InvalidArgumentError:
            pytest.fail("caught by the wrong class")


def test_op_error_direct():
    err = errors.OpError(None, None, "msg", errors.INTERNAL)
    assert err.error_code == 13 and str(err) == "msg" and err.op is None and err.node_def is None


def test_lookup_misses():
    with pytest.raises(KeyError, match="No exception class for error code 0"):
        errors.exception_type_from_error_code(errors.OK)
    with pytest.raises(KeyError, match="No exception class for error code 99"):
        errors.exception_type_from_error_code(99)
    with pytest.raises(KeyError, match="not a tensorflux OpError subclass"):
        errors.error_code_from_exception_type(ValueError)
