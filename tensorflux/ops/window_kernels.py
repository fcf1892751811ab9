"""The NumPy cores of conv_ops' window ops, in NHWC and the compute dtype: the geometry of a
window op, im2col GEMM convolutions, max pooling and its gradient, LRN's depth window.

Convolutions copy a sliding_window_view of the padded input, a batch chunk of CHUNK_ELEMENTS at
a time, into a [pixels, kh * kw * C] matrix and multiply it with the filter (chunks small
enough to stay in cache make the copy nearly free: the kernels are GEMM-bound); chunks may run
on several threads (intra_op). Backprop to the filter multiplies the same columns with
out_backprop; backprop to the input is, for stride 1 and 16 or more input channels, the
convolution of the padded out_backprop with the flipped filter, and otherwise multiplies the
other way and adds each tap's columns back (one strided add per filter tap). Every GEMM gets
C-contiguous operands (or a transposed view, which BLAS takes as is).

Pooling takes np.maximum over strided tap views, a few images at a time for overlapping
windows (so per-tap masks stay in cache); over windows that tile the input, MaxPoolGrad writes
disjoint slices of a reshaped view. The plain loop references these kernels are checked
against are in tests/ops/test_conv_ops.py.
"""
import numpy as np

from tensorflux.ops import intra_op

POOL_CHUNK_ELEMENTS = 1 << 16  # pooled outputs per batch chunk of the pooling kernels
CHUNK_ELEMENTS = 1 << 20  # im2col columns per batch chunk (4 MiB in float32: measured the
#                            fastest of 2^16..2^24 on mnist_deep and cifar10 shapes)


# ---- geometry -----------------------------------------------------------------------------------
def out_and_pad(size, k, stride, dilation, padding):
    """(output size, pad before, pad after) along one spatial dimension."""
    k_eff = (k - 1) * dilation + 1
    if padding in ("VALID", b"VALID"):
        return max(-(-(size - k_eff + 1) // stride), 0), 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2, total - total // 2


def _taps(kh, kw, sh, sw, dh, dw, oh, ow):
    """(i, j, rows slice, cols slice) of the padded input each filter tap reads."""
    for i in range(kh):
        for j in range(kw):
            yield (i, j, slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
                   slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))


# ---- convolutions ------------------------------------------------------------------------------
class Geometry:
    """Everything a 2-D window op needs about one call: sizes, strides, dilations, padding."""

    def __init__(self, in_shape, kh, kw, strides, dilations, padding):
        self.n, self.h, self.w, self.c = in_shape
        self.kh, self.kw = kh, kw
        (self.sh, self.sw), (self.dh, self.dw) = strides, dilations
        self.oh, self.pt, self.pb = out_and_pad(self.h, kh, self.sh, self.dh, padding)
        self.ow, self.pl, self.pr = out_and_pad(self.w, kw, self.sw, self.dw, padding)

    def pad(self, x, value=0):
        widths = ((0, 0), (self.pt, self.pb), (self.pl, self.pr), (0, 0))
        return np.pad(x, widths, constant_values=value) if any(sum(p) for p in widths) else x

    def crop(self, xp):
        return xp[:, self.pt:self.pt + self.h, self.pl:self.pl + self.w, :]

    def taps(self):
        return _taps(self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.oh, self.ow)

    def chunks(self):
        per_image = max(self.oh * self.ow * self.kh * self.kw * self.c, 1)
        step = max(1, CHUNK_ELEMENTS // per_image)
        return [slice(s, s + step) for s in range(0, self.n, step)]

    def columns(self, xp):
        """im2col of a padded chunk: [n * oh * ow, kh * kw * C]."""
        keh, kew = (self.kh - 1) * self.dh + 1, (self.kw - 1) * self.dw + 1
        view = np.lib.stride_tricks.sliding_window_view(xp, (keh, kew), axis=(1, 2))
        view = view[:, :(self.oh - 1) * self.sh + 1:self.sh, :(self.ow - 1) * self.sw + 1:self.sw,
                    :, ::self.dh, ::self.dw]
        return np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3)).reshape(
            -1, self.kh * self.kw * self.c)


def _gemm_flops(g, out_channels):
    return 2.0 * g.n * g.oh * g.ow * g.kh * g.kw * g.c * out_channels


def conv_forward(x, w, g):
    out = np.empty((g.n, g.oh, g.ow, w.shape[3]), dtype=x.dtype)
    if out.size == 0:
        return out
    wf = w.reshape(-1, w.shape[3])
    xp = g.pad(x)

    def run(_, parts):  # each chunk's GEMM writes straight into its rows of `out`
        for part in parts:
            np.matmul(g.columns(xp[part]), wf, out=out[part].reshape(-1, w.shape[3]))
    intra_op.run_split(run, g.chunks(), _gemm_flops(g, w.shape[3]))
    return out


def conv_backprop_filter(x, w_shape, dy, g):
    if dy.size == 0:
        return np.zeros(w_shape, dtype=dy.dtype)
    xp = g.pad(x)
    partial = {}  # per worker, summed in worker order below: the result is deterministic

    def run(k, parts):
        dw = np.zeros((g.kh * g.kw * g.c, w_shape[3]), dtype=dy.dtype)
        for part in parts:
            dw += g.columns(xp[part]).T @ dy[part].reshape(-1, w_shape[3])
        partial[k] = dw
    intra_op.run_split(run, g.chunks(), _gemm_flops(g, w_shape[3]))
    total = partial[0]
    for k in range(1, len(partial)):
        total += partial[k]
    return total.reshape(w_shape)


def _transposed_geometry(dy_shape, g):
    """For stride 1: the VALID conv of dy (padded by k_eff - 1 - pad) with the flipped filter
    that gives the input gradient directly."""
    t = Geometry(dy_shape, g.kh, g.kw, (1, 1), (g.dh, g.dw), "VALID")
    keh, kew = (g.kh - 1) * g.dh + 1, (g.kw - 1) * g.dw + 1
    t.pt, t.pb, t.pl, t.pr = keh - 1 - g.pt, keh - 1 - g.pb, kew - 1 - g.pl, kew - 1 - g.pr
    t.oh, t.ow = g.h, g.w
    return t


def conv_backprop_input(w, dy, g):
    if g.sh == g.sw == 1 and dy.size and g.c >= 16:
        # The convolution of dy with the flipped filter: one GEMM with a long inner dimension
        # (kh * kw * out_channels). With few input channels its output is too narrow for an
        # efficient GEMM, and multiplying the other way (below) wins.
        flipped = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
        return conv_forward(dy, flipped, _transposed_geometry(dy.shape, g))
    hp, wp = g.h + g.pt + g.pb, g.w + g.pl + g.pr
    dxp = np.zeros((g.n, hp, wp, g.c), dtype=dy.dtype)
    wf = w.reshape(-1, w.shape[3])

    def run(_, parts):  # chunks add into disjoint images of dxp
        for part in parts:
            cols = (dy[part].reshape(-1, w.shape[3]) @ wf.T).reshape(
                -1, g.oh, g.ow, g.kh, g.kw, g.c)
            target = dxp[part]
            for i, j, rows, cols_ in g.taps():
                view = target[:, rows, cols_, :]
                np.add(view, cols[:, :, :, i, j, :], out=view)
    intra_op.run_split(run, g.chunks(), _gemm_flops(g, w.shape[3]))
    return np.ascontiguousarray(g.crop(dxp))


# ---- pooling ------------------------------------------------------------------------------------
def lowest(dtype):
    # bfloat16 (ml_dtypes) is no np.floating subtype: ask for integers instead.
    return np.iinfo(dtype).min if np.issubdtype(dtype, np.integer) else -np.inf


def _tiles(g):
    """True when the windows tile the padded input (k == stride: SAME pads to exactly out * k,
    VALID's windows start at 0), so every pixel is in at most one window: MaxPoolGrad writes
    each tap's share into a disjoint slice of a reshaped view (mnist_deep's 2x2 pools)."""
    return (g.kh, g.kw) == (g.sh, g.sw)


def _tile_view(xp, g):
    """[n, oh, kh, ow, kw, c] view (a copy only when VALID drops edge pixels) of the windows."""
    xp = xp[:, :g.oh * g.kh, :g.ow * g.kw, :]
    return xp.reshape(xp.shape[0], g.oh, g.kh, g.ow, g.kw, g.c)


def _pool_chunks(g):
    """Batch slices whose pooled outputs are ~256 KiB of float32: the per-tap masks and
    temporaries of overlapping windows then stay in cache (1.5-2x on cifar10's pools; tiling
    windows read every input once and gain nothing: one slice)."""
    step = g.n if _tiles(g) else max(1, POOL_CHUNK_ELEMENTS // max(g.oh * g.ow * g.c, 1))
    return [slice(s, s + step) for s in range(0, g.n, step)]


def window_max(x, g):
    """The max over each window (MaxPool's forward)."""
    out = np.empty((g.n, g.oh, g.ow, g.c), dtype=x.dtype)
    for part in _pool_chunks(g) if out.size else ():
        xp = g.pad(x[part], lowest(x.dtype))
        # np.maximum over strided tap views, also for tiling windows: 4x faster than a
        # .max(axis=(2, 4)) reduction of their reshaped view
        taps, best = g.taps(), out[part]
        _, _, rows, cols = next(taps)
        np.copyto(best, xp[:, rows, cols, :])
        for _, _, rows, cols in taps:
            np.maximum(best, xp[:, rows, cols, :], out=best)
    return out


def max_pool_backprop(x, y, dy, g):
    """dy routed to the first tap (in window order) equal to its window's max `y`: the first
    maximum wins ties, as in TensorFlow (ties are common after a ReLU)."""
    parts = _pool_chunks(g) if dy.size else []
    if len(parts) == 1:
        return np.ascontiguousarray(_max_pool_backprop_chunk(x, y, dy, g))
    dx = np.zeros(x.shape, dtype=dy.dtype)
    for part in parts:
        dx[part] = _max_pool_backprop_chunk(x[part], y[part], dy[part], g)
    return dx


def _max_pool_backprop_chunk(x, y, dy, g):
    """max_pool_backprop on a few images. Masks are multiplied in (np.where is ~10x slower);
    taps of tiling windows write disjoint slices."""
    xp = g.pad(x, lowest(x.dtype))
    tiled = _tiles(g)
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    taps = _tile_view(xp, g) if tiled else xp
    into = _tile_view(dxp, g) if tiled else dxp
    free = np.ones(y.shape, dtype=bool)  # windows whose max no earlier tap took
    hit = np.empty(y.shape, dtype=bool)
    share = np.empty(y.shape, dtype=dy.dtype)
    for i, j, rows, cols in g.taps():
        tap = taps[:, :, i, :, j, :] if tiled else taps[:, rows, cols, :]
        np.equal(tap, y, out=hit)
        hit &= free
        np.greater(free, hit, out=free)  # free and not hit
        np.multiply(dy, hit, out=share)
        if tiled:
            into[:, :, i, :, j, :] = share
        else:
            view = into[:, rows, cols, :]
            np.add(view, share, out=view)
    return g.crop(dxp)


def max_and_argmax(x, g):
    """Max over each window and the tap index of its first maximum (row-major in the window)."""
    xp = g.pad(x, lowest(x.dtype))
    best, arg = None, np.zeros((g.n, g.oh, g.ow, g.c), dtype=np.int32)
    for t, (_, _, rows, cols) in enumerate(g.taps()):
        tap = xp[:, rows, cols, :]
        if best is None:
            best = tap.copy()
            continue
        better = tap > best
        best = np.where(better, tap, best)
        arg[better] = t
    if best is None:
        best = np.zeros((g.n, g.oh, g.ow, g.c), dtype=x.dtype)
    return best, arg


# ---- LRN ----------------------------------------------------------------------------------------
def depth_window_sum(v, r):
    """sum of v[..., d - r : d + r + 1] along the last axis, for every d."""
    r = min(r, v.shape[-1])  # a wider window covers nothing more: keeps huge radii cheap
    depth = v.shape[-1]
    if 0 < depth <= 32 * (2 * r + 1) and v.dtype in (np.float32, np.float64):
        # One GEMM with the 0/1 band matrix sums the same terms as 2r + 1 shifted adds, at a
        # fraction of the memory traffic for the depths of conv nets (64 in cifar10).
        idx = np.arange(depth)
        band = (np.abs(idx[:, None] - idx[None, :]) <= r).astype(v.dtype)
        return (v.reshape(-1, depth) @ band).reshape(v.shape)
    padded = np.pad(v, [(0, 0)] * (v.ndim - 1) + [(r, r)])
    total = padded[..., :depth].copy()
    for k in range(1, 2 * r + 1):
        total += padded[..., k:k + depth]
    return total


def neg_pow(base, beta):
    """base ** -beta, with the common betas (0.5, 0.75, 1) by square roots and a division:
    np.power is ~10x slower than sqrt on float32."""
    if beta == 0.5:
        return np.reciprocal(np.sqrt(base), out=base)
    if beta == 0.75:
        root = np.sqrt(base)
        return np.reciprocal(np.multiply(np.sqrt(root), root, out=root), out=root)
    if beta == 1:
        return np.reciprocal(base, out=base)
    return base ** -beta
