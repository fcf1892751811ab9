"""The queue resources behind the queue ops: FIFO, random-shuffle and padding queues.

A queue lives in a session's ResourceMgr and outlives steps. Its elements are tuples of numpy
arrays (one per component). Enqueues and dequeues that cannot finish at once leave a waiter
and return: the queue holds no thread for them. Waiters are served in arrival order; a
dequeue of n elements takes elements as they arrive (so it can ask for more than the
capacity) and puts them back at the front if the queue closes before it has n.

Every completion callback `callback(error, value)` runs outside the queue's lock, so a
callback may enqueue, dequeue or cancel on the same queue.
"""
import collections
import heapq
import itertools
import threading

import numpy as np

from tensorflux.framework import errors


class Waiter:
    """A pending enqueue (its elements) or dequeue (how many it wants, what it has taken)."""

    __slots__ = ("allow_small", "callback", "done", "is_enqueue", "items", "n", "pos", "taken")

    def __init__(self, is_enqueue, callback, items=(), n=0, allow_small=False):
        self.is_enqueue = is_enqueue
        self.callback = callback
        self.items = items
        self.pos = 0
        self.n = n
        self.allow_small = allow_small
        self.taken = []
        self.done = False


class Queue:
    """A bounded FIFO queue of tuples of arrays (`capacity` < 0: unbounded)."""

    kind = "FIFOQueue"

    def __init__(self, name, dtypes, shapes, capacity):
        self.name = name
        self.dtypes = list(dtypes)
        self.shapes = list(shapes) if shapes else None
        self.capacity = capacity
        self._lock = threading.Lock()
        self._closed = False
        self._enqueuers = collections.deque()
        self._dequeuers = collections.deque()
        self._init_storage()

    # ---- storage (subclasses override) -----------------------------------------------------
    def _init_storage(self):
        self._elements = collections.deque()

    def _size(self):
        return len(self._elements)

    def _push(self, element):
        self._elements.append(element)

    def _push_front(self, element):
        self._elements.appendleft(element)

    def _pop(self):
        return self._elements.popleft()

    def _can_pop(self):
        return bool(self._elements)

    # ---- identity ------------------------------------------------------------------------
    def signature(self):
        """What two queue ops sharing one queue must agree on."""
        shapes = None if self.shapes is None else [s.as_list() if s.ndims is not None else None
                                                   for s in self.shapes]
        return (self.kind, [d.name for d in self.dtypes], shapes, self.capacity)

    def __repr__(self):
        return f"<{self.kind} '{self.name}' size={self.size()} closed={self._closed}>"

    # ---- operations ----------------------------------------------------------------------
    def size(self):
        with self._lock:
            return self._size()

    @property
    def closed(self):
        return self._closed

    def enqueue(self, elements, callback):
        """Adds `elements` (a list of tuples); returns the Waiter if they could not all go in."""
        waiter = Waiter(True, callback, items=elements)
        return self._submit(waiter, self._enqueuers)

    def dequeue(self, n, callback, allow_small=False):
        """Takes `n` elements (a list of tuples to the callback); returns the Waiter if pending."""
        waiter = Waiter(False, callback, n=n, allow_small=allow_small)
        return self._submit(waiter, self._dequeuers)

    def _submit(self, waiter, waiters):
        fire = []
        with self._lock:
            if waiter.is_enqueue and self._closed:
                waiter.done = True
                fire.append((waiter.callback, self._closed_error(), None))
            else:
                waiters.append(waiter)
                self._flush(fire)
        _fire(fire)
        return None if waiter.done else waiter

    def close(self, cancel_pending_enqueues=False):
        """Closes the queue: no more enqueues; pending dequeues that cannot finish fail."""
        fire = []
        with self._lock:
            self._closed = True
            if cancel_pending_enqueues:
                self._fail_all(self._enqueuers, self._closed_error(), fire)
            self._flush(fire)
        _fire(fire)

    def cancel(self, waiter, error):
        """Withdraws a pending waiter; True if it was still pending (its callback is not run)."""
        fire = []
        with self._lock:
            if waiter.done:
                return False
            waiter.done = True
            (self._enqueuers if waiter.is_enqueue else self._dequeuers).remove(waiter)
            self._restore(waiter)
            self._flush(fire)
        _fire(fire)
        return True

    def close_resource(self):
        """Called when the owning session closes: every waiter fails with CancelledError."""
        error = errors.CancelledError(None, None, f"{self.kind} '{self.name}' was destroyed: "
                                                  "its session has been closed.")
        fire = []
        with self._lock:
            self._closed = True
            self._fail_all(self._enqueuers, error, fire)
            self._fail_all(self._dequeuers, error, fire)
        _fire(fire)

    # ---- the scheduler -------------------------------------------------------------------
    def _closed_error(self):
        return errors.CancelledError(None, None, f"{self.kind} '{self.name}' is closed.")

    def _fail_all(self, waiters, error, fire):
        while waiters:
            waiter = waiters.popleft()
            waiter.done = True
            self._restore(waiter)
            fire.append((waiter.callback, error, None))

    def _restore(self, waiter):
        """Puts back the elements a dequeue waiter took, in their order, at the front."""
        if not waiter.is_enqueue:
            for element in reversed(waiter.taken):
                self._push_front(element)
            waiter.taken = []

    def _flush(self, fire):
        """Serves waiters in order until none can progress (called with the lock held)."""
        progress = True
        while progress:
            progress = self._serve_enqueuers(fire)
            progress = self._serve_dequeuers(fire) or progress

    def _serve_enqueuers(self, fire):
        progress = False
        capacity = self.capacity
        while self._enqueuers:
            waiter = self._enqueuers[0]
            items = waiter.items
            while waiter.pos < len(items) and (capacity < 0 or self._size() < capacity):
                self._push(items[waiter.pos])
                waiter.pos += 1
                progress = True
            if waiter.pos < len(items):
                break
            self._enqueuers.popleft()
            waiter.done = True
            fire.append((waiter.callback, None, None))
        return progress

    def _serve_dequeuers(self, fire):
        progress = False
        while self._dequeuers:
            waiter = self._dequeuers[0]
            while len(waiter.taken) < waiter.n and self._can_pop():
                waiter.taken.append(self._pop())
                progress = True
            if len(waiter.taken) < waiter.n:
                if not self._closed:
                    break
                self._finish_closed(waiter, fire)
            else:
                fire.append((waiter.callback, None, waiter.taken))
            self._dequeuers.popleft()
            waiter.done = True
            progress = True
        return progress

    def _finish_closed(self, waiter, fire):
        """A dequeue the closed queue cannot fill: a smaller batch if allowed, else OutOfRange."""
        if waiter.allow_small and waiter.taken:
            fire.append((waiter.callback, None, waiter.taken))
            return
        have = len(waiter.taken) + self._size()
        self._restore(waiter)
        fire.append((waiter.callback, errors.OutOfRangeError(
            None, None, f"{self.kind} '{self.name}' is closed and has insufficient elements "
                        f"(requested {waiter.n}, current size {have})"), None))


class RandomShuffleQueue(Queue):
    """Dequeues a uniformly random element, keeping at least `min_after_dequeue` until closed."""

    kind = "RandomShuffleQueue"

    def __init__(self, name, dtypes, shapes, capacity, min_after_dequeue, rng):
        self.min_after_dequeue = min_after_dequeue
        self._rng = rng
        super().__init__(name, dtypes, shapes, capacity)

    def signature(self):
        return super().signature() + (self.min_after_dequeue,)

    def _init_storage(self):
        self._elements = []

    def _push_front(self, element):
        self._elements.append(element)

    def _pop(self):
        elements = self._elements
        i = int(self._rng.integers(len(elements)))
        elements[i], elements[-1] = elements[-1], elements[i]
        return elements.pop()

    def _can_pop(self):
        size = len(self._elements)
        return size > self.min_after_dequeue or (self._closed and size > 0)


class PaddingFIFOQueue(Queue):
    """A FIFO queue whose shapes may have unknown dimensions; batches are zero-padded."""

    kind = "PaddingFIFOQueue"


class PriorityQueue(Queue):
    """Dequeues the element with the smallest int64 priority (component 0) first; equal
    priorities leave in the order they came (elements put back go first)."""

    kind = "PriorityQueue"

    def _init_storage(self):
        self._elements = []
        self._later = itertools.count()
        self._sooner = itertools.count(-1, -1)

    def _push(self, element):
        heapq.heappush(self._elements, (int(element[0]), next(self._later), element))

    def _push_front(self, element):
        heapq.heappush(self._elements, (int(element[0]), next(self._sooner), element))

    def _pop(self):
        return heapq.heappop(self._elements)[2]


def _fire(fire):
    for callback, error, value in fire:
        callback(error, value)


# ---- element conversion (used by the kernels) ------------------------------------------------
def check_components(queue, components, batched):
    """Validates an enqueue's arrays against the queue; returns the list of element tuples."""
    if len(components) != len(queue.dtypes):
        raise errors.InvalidArgumentError(
            None, None, f"{queue.kind} '{queue.name}' has {len(queue.dtypes)} components, the "
                        f"enqueue gave {len(components)}")
    arrays = [np.array(c, dtype=d.as_numpy_dtype) for c, d in zip(components, queue.dtypes)]
    if isinstance(queue, PriorityQueue) and arrays[0].ndim != int(batched):
        raise errors.InvalidArgumentError(
            None, None, f"Expected the priority element to be a {'vector' if batched else 'scalar'}"
                        f", but received shape: {list(arrays[0].shape)} (PriorityQueue "
                        f"'{queue.name}')")
    if not batched:
        _check_shapes(queue, [a.shape for a in arrays], "")
        return [tuple(arrays)]
    if any(a.ndim == 0 for a in arrays):
        raise errors.InvalidArgumentError(
            None, None, f"QueueEnqueueMany on {queue.kind} '{queue.name}' requires every "
                        f"component to have rank >= 1, got shapes {[a.shape for a in arrays]}")
    sizes = {a.shape[0] for a in arrays}
    if len(sizes) != 1:
        raise errors.InvalidArgumentError(
            None, None, f"QueueEnqueueMany requires all components to have the same size in "
                        f"dimension 0, got shapes {[list(a.shape) for a in arrays]}")
    _check_shapes(queue, [a.shape[1:] for a in arrays], " (after dimension 0)")
    return [tuple(a[i, ...] for a in arrays) for i in range(sizes.pop())]


def _check_shapes(queue, shapes, what):
    if queue.shapes is None:
        return
    for i, (got, want) in enumerate(zip(shapes, queue.shapes)):
        if not want.is_compatible_with(got):
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch in tuple component {i} of {queue.kind} "
                            f"'{queue.name}'. Expected {want}, got {list(got)}{what}")


def batch_components(queue, elements):
    """Stacks dequeued element tuples into one array per component (padding if needed)."""
    result = []
    for i, dtype in enumerate(queue.dtypes):
        parts = [e[i] for e in elements]
        np_dtype = dtype.as_numpy_dtype
        if not parts:
            result.append(np.empty([0] + _known_dims(queue, i), dtype=np_dtype))
        elif isinstance(queue, PaddingFIFOQueue):
            result.append(_pad_stack(parts, np_dtype))
        else:
            result.append(_stack(queue, i, parts))
    return result


def _stack(queue, i, parts):
    shapes = {p.shape for p in parts}
    if len(shapes) > 1:
        raise errors.InvalidArgumentError(
            None, None, f"{queue.kind} '{queue.name}': cannot batch component {i}: its elements "
                        f"have different shapes {sorted(shapes)[:4]}; give the queue `shapes` "
                        "or use a PaddingFIFOQueue")
    return np.stack(parts)


def _known_dims(queue, i):
    if queue.shapes is None or queue.shapes[i].ndims is None:
        return []
    return [d if d is not None else 0 for d in queue.shapes[i].as_list()]


def _pad_stack(parts, np_dtype):
    ndim = parts[0].ndim
    dims = [max(p.shape[k] for p in parts) for k in range(ndim)]
    fill = b"" if np_dtype == np.object_ else 0
    out = np.full([len(parts)] + dims, fill, dtype=np_dtype)
    for j, p in enumerate(parts):
        out[(j,) + tuple(slice(0, s) for s in p.shape)] = p
    return out
