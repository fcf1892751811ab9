"""What travels between tasks: the RPC messages, tensors on the wire, and error codes.

Messages are protocol buffers built at import time from the table below (no generated code,
no protoc); they embed TensorFlow's own GraphDef, TensorProto, ConfigProto, RunOptions,
RunMetadata and ClusterDef from the protos tensorflux already uses. Field numbers of
`ServerDef` are TensorFlow's. Nothing is pickled: tensors travel as TensorProtos (feeds and
fetches) or, for RecvTensor, as a small header message followed by the tensor's raw bytes in
chunks.

gRPC status codes and TensorFlow error codes are the same numbers, so an OpError raised in a
handler reaches the caller as the same error class with the same message.
"""
import grpc
import numpy as np
from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message as protobuf_message
from google.protobuf import message_factory

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import protos
from tensorflux.framework import tensor_util

PACKAGE = "tensorflux.distributed"
WORKER_SERVICE = f"{PACKAGE}.WorkerService"
MASTER_SERVICE = f"{PACKAGE}.MasterService"
CHUNK_BYTES = 4 << 20            # RecvTensor sends raw tensor bytes in frames of this size
DEFAULT_MAX_MESSAGE_BYTES = 1 << 30

_T = ".tensorboard."
# name -> [(field, number, type, repeated)]; a type starting with "." is a message.
_MESSAGES = {
    "ServerDef": [("cluster", 1, _T + "ClusterDef", False), ("job_name", 2, "string", False),
                  ("task_index", 3, "int32", False),
                  ("default_session_config", 4, _T + "ConfigProto", False),
                  ("protocol", 5, "string", False), ("port", 6, "int32", False)],
    "NamedTensor": [("name", 1, "string", False), ("tensor", 2, _T + "TensorProto", False)],
    "DeviceAttrs": [("name", 1, "string", False), ("device_type", 2, "string", False),
                    ("memory_limit", 3, "int64", False), ("incarnation", 4, "int64", False)],
    "GetStatusRequest": [],
    "GetStatusResponse": [("device", 1, ".DeviceAttrs", True), ("task", 2, "string", False)],
    "RegisterGraphRequest": [("session_handle", 1, "string", False),
                             ("graph_def", 2, _T + "GraphDef", False),
                             ("incarnation", 3, "int64", False)],
    "RegisterGraphResponse": [("graph_handle", 1, "string", False)],
    "DeregisterGraphRequest": [("graph_handle", 1, "string", False)],
    "DeregisterGraphResponse": [],
    "RunGraphRequest": [("graph_handle", 1, "string", False), ("step_id", 2, "int64", False),
                        ("send", 3, ".NamedTensor", True), ("recv_key", 4, "string", True),
                        ("timeout_ms", 5, "int64", False),
                        ("completed_step", 6, "int64", True), ("trace", 7, "bool", False)],
    "RunGraphResponse": [("recv", 1, ".NamedTensor", True),
                         ("step_stats", 2, _T + "StepStats", False)],
    "AbortStepRequest": [("step_id", 1, "int64", False), ("code", 2, "int32", False),
                         ("message", 3, "string", False)],
    "AbortStepResponse": [],
    "RecvTensorRequest": [("step_id", 1, "int64", False), ("rendezvous_key", 2, "string", False)],
    "RecvTensorHeader": [("dtype", 1, "int32", False), ("shape", 2, "int64", True),
                         ("is_dead", 3, "bool", False), ("nbytes", 4, "int64", False),
                         ("tensor", 5, _T + "TensorProto", False), ("chunked", 6, "bool", False)],
    "ResetRequest": [("container", 1, "string", True)],
    "ResetResponse": [],
    "CreateSessionRequest": [("graph_def", 1, _T + "GraphDef", False),
                             ("config", 2, _T + "ConfigProto", False)],
    "CreateSessionResponse": [("session_handle", 1, "string", False)],
    "ExtendSessionRequest": [("session_handle", 1, "string", False),
                             ("graph_def", 2, _T + "GraphDef", False)],
    "ExtendSessionResponse": [],
    "RunStepRequest": [("session_handle", 1, "string", False),
                       ("feed", 2, ".NamedTensor", True), ("fetch", 3, "string", True),
                       ("target", 4, "string", True), ("options", 5, _T + "RunOptions", False)],
    "RunStepResponse": [("tensor", 1, ".NamedTensor", True),
                        ("metadata", 2, _T + "RunMetadata", False)],
    "CloseSessionRequest": [("session_handle", 1, "string", False)],
    "CloseSessionResponse": [],
    "ListDevicesRequest": [],
    "ListDevicesResponse": [("device", 1, ".DeviceAttrs", True)],
}
_SCALARS = {"string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
            "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
            "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
            "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
            "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL}


def _build_messages():
    deps = {protos.ClusterDef, protos.ConfigProto, protos.TensorProto, protos.GraphDef,
            protos.StepStats, protos.RunOptions, protos.RunMetadata}
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflux/distributed/wire.proto", package=PACKAGE, syntax="proto3")
    file_proto.dependency.extend(sorted({m.DESCRIPTOR.file.name for m in deps}))
    label = descriptor_pb2.FieldDescriptorProto
    for name, fields in _MESSAGES.items():
        message = file_proto.message_type.add(name=name)
        for field, number, kind, repeated in fields:
            f = message.field.add(name=field, number=number,
                                  label=label.LABEL_REPEATED if repeated else label.LABEL_OPTIONAL)
            if kind in _SCALARS:
                f.type = _SCALARS[kind]
            else:
                f.type = label.TYPE_MESSAGE
                f.type_name = kind if kind.startswith(_T) else f".{PACKAGE}{kind}"
    pool = descriptor_pool.Default()
    try:
        pool.Add(file_proto)
    except TypeError:  # already added (module reloaded)
        pass
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
            for name in _MESSAGES}


M = type("Messages", (), _build_messages())


# ---- tensors -----------------------------------------------------------------------------------
def to_proto(value):
    """A fetched or fed value as a TensorProto (InvalidArgumentError for what cannot travel)."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype == object and array.size and not isinstance(array.flat[0], (bytes, str)):
        raise errors.InvalidArgumentError(
            None, None, f"A {type(array.flat[0]).__name__} (a resource handle) cannot be sent "
                        "to another task: keep the ops that use it on the task that owns it")
    return tensor_util.make_tensor_proto(array)


def from_proto(proto):
    """The array a TensorProto from another process holds.

    Raises:
      errors.DataLossError: for a proto that does not decode (a dtype without a NumPy
        counterpart, values that do not fit the shape).
      errors.ResourceExhaustedError: for a tensor over the per-tensor limit."""
    try:
        return tensor_util.MakeNdarray(proto)
    except errors.OpError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise errors.DataLossError(
            None, None, f"A TensorProto received does not decode: {e}") from None


def named(name, value):
    return M.NamedTensor(name=name, tensor=to_proto(value))


def _header_of(value, is_dead):
    """(RecvTensorHeader, contiguous array or None) of a value to send."""
    header = M.RecvTensorHeader(is_dead=is_dead)
    if is_dead or value is None:
        return header, None
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype == object:
        header.tensor.CopyFrom(to_proto(array))
        return header, None
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
        array = np.ascontiguousarray(array)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    header.dtype = dtypes.as_dtype(array.dtype).as_datatype_enum
    header.shape.extend(array.shape)
    header.nbytes = array.nbytes
    return header, array


def encode_response(value, is_dead, chunk=CHUNK_BYTES):
    """RecvTensor's answer: 4 bytes of header length, the header, the raw bytes. Returns
    (bytes, array left to send in chunks or None): a tensor over `chunk` bytes is answered
    with a header marked `chunked`, and travels in RecvTensorChunks' frames."""
    header, array = _header_of(value, is_dead)
    if array is not None and array.nbytes > chunk:
        header.chunked = True
        array, rest = None, array
    else:
        rest = None
    head = header.SerializeToString()
    parts = [len(head).to_bytes(4, "little"), head]
    if array is not None:
        parts.append(memoryview(array.reshape(-1).view(np.uint8)))
    return b"".join(parts), rest


def decode_response(data):
    """(value, is_dead, header) of RecvTensor's answer; value None when `header.chunked`.

    Raises:
      errors.DataLossError: for an answer that does not hold what its header says (checked
        before the tensor is allocated).
      errors.ResourceExhaustedError: for a tensor over the per-tensor limit."""
    if len(data) < 4:
        raise errors.DataLossError(None, None, f"RecvTensor answer of {len(data)} bytes")
    size = int.from_bytes(data[:4], "little")
    if size > len(data) - 4:
        raise errors.DataLossError(
            None, None, f"RecvTensor header of {size} bytes in an answer of {len(data)}")
    try:
        header = M.RecvTensorHeader.FromString(bytes(data[4:4 + size]))
    except protobuf_message.DecodeError as e:
        raise errors.DataLossError(
            None, None, f"RecvTensor answer with a malformed {size}-byte header: {e}") from None
    if header.is_dead:
        return None, True, header
    if header.HasField("tensor"):
        return from_proto(header.tensor), False, header
    if header.chunked:
        return None, False, header
    raw = memoryview(data)[4 + size:]
    out = _empty_for(header, available=raw.nbytes)
    memoryview(out.reshape(-1).view(np.uint8))[:] = raw
    return out, False, header


def _empty_for(header, available=None):
    """An empty array for the tensor `header` announces, once its dtype, shape and size agree
    (and agree with the `available` bytes, when known)."""
    try:
        dtype = dtypes.as_dtype(header.dtype)
        np_dtype = np.dtype(dtype.as_numpy_dtype)
    except (TypeError, ValueError, KeyError):
        raise errors.DataLossError(
            None, None, f"RecvTensor header names dtype enum {header.dtype}, which cannot "
                        "travel as raw bytes") from None
    shape = list(header.shape)
    if np_dtype == object or any(d < 0 for d in shape):
        raise errors.DataLossError(
            None, None, f"RecvTensor header announces a {dtype.name} tensor of shape {shape}")
    nbytes = np_dtype.itemsize
    for d in shape:
        nbytes *= d
    if header.nbytes != nbytes:
        raise errors.DataLossError(
            None, None, f"RecvTensor header says {header.nbytes} bytes for a "
                        f"{shape} {np_dtype.name} tensor, which has {nbytes}")
    if available is not None and available != nbytes:
        raise errors.DataLossError(
            None, None, f"RecvTensor sent {available} bytes for a {shape} "
                        f"{np_dtype.name} tensor of {nbytes}")
    limits.check_allocation(None, shape, np_dtype)
    return np.empty(tuple(shape), dtype=np_dtype)


def encode_chunks(array, chunk=CHUNK_BYTES):
    """RecvTensorChunks' frames: the raw bytes of `array`, `chunk` bytes at a time."""
    raw = memoryview(array.reshape(-1).view(np.uint8))
    for start in range(0, array.nbytes, chunk):
        yield bytes(raw[start:start + chunk])


def decode_chunks(header, frames):
    """The tensor `header` announces, from RecvTensorChunks' frames."""
    out = _empty_for(header)
    buffer = memoryview(out.reshape(-1).view(np.uint8))
    offset = 0
    for frame in frames:
        end = offset + len(frame)
        if end > buffer.nbytes:
            raise errors.DataLossError(
                None, None, f"RecvTensor sent more than the {buffer.nbytes} bytes announced")
        buffer[offset:end] = frame
        offset = end
    if offset != buffer.nbytes:
        raise errors.DataLossError(
            None, None, f"RecvTensor ended after {offset} of {buffer.nbytes} bytes")
    return out


# ---- errors ------------------------------------------------------------------------------------
def error_from_rpc(rpc_error, what):
    """A grpc.RpcError as the TensorFlow error of the same code, naming the call."""
    code = rpc_error.code() if hasattr(rpc_error, "code") else None
    value = code.value[0] if code is not None else errors.UNKNOWN
    details = rpc_error.details() if hasattr(rpc_error, "details") else str(rpc_error)
    if code == grpc.StatusCode.UNAVAILABLE:
        details = f"{what}: {details}"
    elif code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        details = f"{what}: {details} (raise the message limit: Server(max_message_bytes=...))"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED and "Deadline" in (details or ""):
        details = f"{what}: {details}"
    cls = errors.exception_type_from_error_code(value) if value else errors.UnknownError
    return cls(None, None, details or what)


def abort_with(context, error):
    """Ends a handler's call with `error`'s code and message."""
    if isinstance(error, errors.OpError):
        code = _STATUS_BY_VALUE.get(error.error_code, grpc.StatusCode.UNKNOWN)
        message = error.message
    else:
        code = grpc.StatusCode.INTERNAL
        message = f"{type(error).__name__}: {error}"
    context.abort(code, message)


_STATUS_BY_VALUE = {s.value[0]: s for s in grpc.StatusCode}


def channel_options(max_message_bytes):
    return [("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0)]


def handlers(service, servicer, methods, stream_methods=(), raw_methods=()):
    """A generic gRPC handler for `service`: {method name: request class} of `servicer`.

    Requests are parsed in the handler, so a malformed payload is an INVALID_ARGUMENT answer
    (the server goes on serving); an OpError keeps its code; any other exception is INTERNAL.
    Unary responses are messages; stream responses are frames (bytes) already."""
    table = {}
    for name, request_cls in methods.items():
        fn = _guarded(f"{service}/{name}", getattr(servicer, name), request_cls)
        if name in stream_methods:
            table[name] = grpc.unary_stream_rpc_method_handler(fn)
        elif name in raw_methods:  # the handler returns bytes already
            table[name] = grpc.unary_unary_rpc_method_handler(fn)
        else:
            table[name] = grpc.unary_unary_rpc_method_handler(
                fn, response_serializer=lambda message: message.SerializeToString())
    return grpc.method_handlers_generic_handler(service, table)


def decode_request(request_cls, raw, what):
    """`raw` decoded as a `request_cls` message; InvalidArgumentError if it does not decode."""
    try:
        return request_cls.FromString(raw)
    except Exception as e:  # noqa: BLE001 - any decode failure is the caller's
        raise errors.InvalidArgumentError(
            None, None, f"Malformed {what} request ({len(raw)} bytes): {e}") from None


def _guarded(what, fn, request_cls):
    def handle(raw, context):
        try:
            request = decode_request(request_cls, raw, what)
        except errors.InvalidArgumentError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, e.message)
        try:
            return fn(request, context)
        except Exception as e:  # noqa: BLE001 - reported to the caller with its code
            error = e
        abort_with(context, error)
    return handle
