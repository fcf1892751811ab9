"""IdentityReader (TF 0.9's `tf.IdentityReader`): each work string dequeued from the queue is
one record, output as both key and value. Built on reader_ops' Reader resource; as in TF, a
work unit counts as completed as soon as its one record is produced."""
from tensorflux.framework.op_def_library import apply_op
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


IdentityReaderV2 = reader_ops.register_reader("IdentityReader", {}, lambda: _one_record, [],
                                              _IdentityReader)


class IdentityReader(reader_ops.ReaderBase):
    """A reader whose records are the queued strings themselves: read() gives (work, work)."""

    def __init__(self, name=None):
        super().__init__(apply_op("IdentityReader", name=name))
