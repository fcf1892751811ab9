"""_Send and _Recv: the ops the partitioner puts on cross-device edges.

A _Send on the source device leaves its input in the step's rendezvous under a key built from
its attrs (see tensorflux/runtime/rendezvous.py); the _Recv on the destination device with the
same attrs takes it out. Both are asynchronous kernels: they get a `call` object from the
executor (call.rendezvous, call.frame_iter, call.is_dead, call.done(outputs, is_dead),
call.fail(error)), so a waiting _Recv holds no thread.
"""
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op

__all__ = []

_TRANSFER_ATTRS = {"tensor_name": "string", "send_device": "string",
                   "send_device_incarnation": "int", "recv_device": "string",
                   "client_terminated": False}

Send = registry.register_op("_Send", inputs=["tensor: T"], attrs=dict(T="type", **_TRANSFER_ATTRS),
                            stateful=True)
Send.not_differentiable()


@Send.shape
def _send_shape(op):
    return []


def _key(ctx, call):
    """The rendezvous key of this transfer in the caller's frame and iteration."""
    frame_iter = call.frame_iter
    if frame_iter == (0, 0) and ctx.state is not None:
        return ctx.state
    attrs = ctx.attrs
    key = call.rendezvous.create_key(attrs["send_device"], attrs["send_device_incarnation"],
                                     attrs["recv_device"], attrs["tensor_name"], frame_iter)
    if frame_iter == (0, 0):
        ctx.state = key
    return key


@Send.kernel("CPU", "GPU", is_async=True)
def _send_kernel(ctx, call, tensor):
    call.rendezvous.send(_key(ctx, call), tensor, call.is_dead)
    call.done(())


Recv = registry.register_op("_Recv", outputs=["tensor: tensor_type"],
                            attrs=dict(tensor_type="type", **_TRANSFER_ATTRS), stateful=True)
Recv.not_differentiable()


@Recv.shape
def _recv_shape(op):
    return tensor_shape.unknown_shape()  # the partitioner copies the sent tensor's shape


@Recv.kernel("CPU", "GPU", is_async=True)
def _recv_kernel(ctx, call):
    def received(error, value, is_dead):
        if error is not None:
            call.fail(error)
        else:
            call.done(value, is_dead)
    call.rendezvous.recv_async(_key(ctx, call), received)


def send(tensor, tensor_name, send_device, send_device_incarnation, recv_device,
         client_terminated=False, name=None):
    """Adds a _Send of `tensor` (the partitioner adds these; exposed for tests and tools)."""
    return apply_op("_Send", tensor, tensor_name=tensor_name, send_device=send_device,
                    send_device_incarnation=send_device_incarnation, recv_device=recv_device,
                    client_terminated=client_terminated, name=name or "Send")


def recv(tensor_type, tensor_name, send_device, send_device_incarnation, recv_device,
         client_terminated=False, shape=None, name=None):
    """Adds a _Recv of a `tensor_type` tensor; `shape` (optional) is its static shape."""
    tensor = apply_op("_Recv", tensor_type=tensor_type, tensor_name=tensor_name,
                      send_device=send_device, send_device_incarnation=send_device_incarnation,
                      recv_device=recv_device, client_terminated=client_terminated,
                      name=name or "Recv")
    if shape is not None:
        tensor.set_shape(shape)
    return tensor
