"""IdentityReader (TF 0.9's `tf.IdentityReader`): each work string dequeued from the queue is
one record, output as both key and value. Built on reader_ops' Reader resource; as in TF, a
work unit counts as completed as soon as its one record is produced."""
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import data_flow_ops
from tensorflux.ops import reader_ops

__all__ = ["IdentityReader"]


def _one_record(work):
    yield work, work


class _IdentityReader(reader_ops.Reader):
    def _fill(self, request):
        while len(request.records) < request.n:
            work = self._work
            if work is None:
                return False
            request.records.append(next(work))
            with self._lock:  # the work's only record: it is done
                self._close_work()
                self.produced += 1
                self.completed += 1
        return True


IdentityReaderV2 = registry.register_op(
    "IdentityReaderV2", outputs=["reader_handle: resource"],
    attrs={"container": "", "shared_name": ""}, stateful=True)
IdentityReaderV2.not_differentiable()
IdentityReaderV2.shape(lambda op: tensor_shape.scalar())


@IdentityReaderV2.kernel("CPU")
def _identity_reader_kernel(ctx):
    def create(display):
        return _IdentityReader(display, "IdentityReader", _one_record, [])
    return data_flow_ops.lookup_resource(ctx, create, "reader")[1]


class IdentityReader(reader_ops.ReaderBase):
    """A reader whose records are the queued strings themselves: read() gives (work, work)."""

    def __init__(self, name=None):
        super().__init__(apply_op("IdentityReaderV2", name=name))
