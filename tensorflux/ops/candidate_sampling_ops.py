"""Candidate samplers (for sampled losses such as nce_loss and sampled_softmax_loss) and
ComputeAccidentalHits. Exposed as `tf.nn.*_candidate_sampler`, `tf.nn.compute_accidental_hits`.

Every sampler returns (sampled_candidates [num_sampled] int64, true_expected_count
[batch, num_true] float32, sampled_expected_count [num_sampled] float32). The expected count of
a class with probability p is num_sampled * p when sampling with replacement; with unique=True
the sampler draws until it has num_sampled distinct classes, taking num_tries draws, and the
expected count is 1 - (1 - p) ** num_tries, as TensorFlow documents.

Distributions: uniform P(k) = 1 / range_max; log-uniform (Zipfian)
P(k) = (log(k + 2) - log(k + 1)) / log(range_max + 1); fixed unigram P(k) proportional to
unigrams[k] ** distortion; learned unigram proportional to 1 + the times k was a true class in
earlier runs of the op (kept per session).
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import random_seed
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op

__all__ = []  # lives in tf.nn

_OUTPUTS = ["sampled_candidates: int64", "true_expected_count: float",
            "sampled_expected_count: float"]
_SAMPLER_ATTRS = {"num_true": "int", "num_sampled": "int", "unique": "bool", "range_max": "int",
                  "seed": 0, "seed2": 0}


def _sampler_shape(op):
    true = op.inputs[0].get_shape().with_rank(2)
    num_true, num_sampled = op.get_attr("num_true"), op.get_attr("num_sampled")
    if not true[1].is_compatible_with(num_true):
        raise ValueError(f"true_classes must be [batch_size, num_true={num_true}], got {true}")
    return [tensor_shape.vector(num_sampled), tensor_shape.matrix(true[0], num_true),
            tensor_shape.vector(num_sampled)]


def _register_sampler(name, extra_attrs=None):
    op_def = registry.register_op(name, inputs=["true_classes: int64"], outputs=_OUTPUTS,
                                  attrs=dict(_SAMPLER_ATTRS, **(extra_attrs or {})),
                                  stateful=True)
    op_def.shape(_sampler_shape)
    op_def.not_differentiable()
    return op_def


def _check_args(ctx, true_classes, range_max):
    a = ctx.attrs
    if true_classes.ndim != 2 or true_classes.shape[1] != a["num_true"]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"true_classes must be [batch_size, num_true={a['num_true']}], got "
                          f"shape {list(true_classes.shape)}")
    if a["unique"] and a["num_sampled"] > range_max:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"unique sampling needs num_sampled <= range_max, got num_sampled="
                          f"{a['num_sampled']} and range_max={range_max}")
    if a["num_sampled"] > 0 and range_max <= 0:
        raise errors.InvalidArgumentError(None, ctx.op, f"range_max must be positive, got "
                                                        f"{range_max}")


def _draw_unique(draw, rng, n):
    """(n distinct samples in order of first appearance, number of draws that took)."""
    if n == 0:
        return np.empty(0, np.int64), 0
    # A dict keeps first appearances in order: cheaper than np.unique + sort at this size.
    values = draw(rng, max(2 * n, 16)).tolist()
    distinct = dict.fromkeys(values)
    while len(distinct) < n:
        more = draw(rng, max(2 * n, 16)).tolist()
        values += more
        distinct.update(dict.fromkeys(more))
    distinct = list(distinct)[:n]
    return np.array(distinct, np.int64), values.index(distinct[-1]) + 1


def _expected(p, num_sampled, num_tries, unique, log1m_p=None):
    """Expected counts of classes with probabilities p; log1m_p(): log1p(-p), if known."""
    if not unique or num_tries == num_sampled:
        return p * num_sampled
    log1m = log1m_p() if log1m_p is not None else np.log1p(-np.minimum(p, 1.0))
    return -np.expm1(num_tries * log1m)


def _sample(ctx, true_classes, draw, prob, range_max, log1m_prob=None):
    """The three sampler outputs, given draw(rng, size) and prob(ids) -> probabilities
    (log1m_prob(ids): their log1p(-p), when the sampler has it at hand)."""
    _check_args(ctx, true_classes, range_max)
    n, unique = ctx.attrs["num_sampled"], ctx.attrs["unique"]
    if unique:
        sampled, tries = _draw_unique(draw, ctx.rng, n)
    else:
        sampled, tries = draw(ctx.rng, n), n
    sampled = sampled.astype(np.int64, copy=False)
    if true_classes.size and 0 <= true_classes.min() and true_classes.max() < range_max:
        # the usual case, no class to clip and zero out: one pass over true and sampled ids
        ids = np.concatenate([true_classes.reshape(-1), sampled])
        log1m = None if log1m_prob is None else (lambda: log1m_prob(ids))
        counts = _expected(prob(ids), n, tries, unique, log1m).astype(np.float32)
        return (sampled, counts[:true_classes.size].reshape(true_classes.shape),
                counts[true_classes.size:])
    true_p = prob(np.clip(true_classes, 0, max(range_max - 1, 0)))
    true_p = np.where((true_classes >= 0) & (true_classes < range_max), true_p, 0.0)
    return (sampled, _expected(true_p, n, tries, unique).astype(np.float32),
            _expected(prob(sampled), n, tries, unique).astype(np.float32))


# ---- uniform and log-uniform --------------------------------------------------------------------
UniformSampler = _register_sampler("UniformCandidateSampler")


@UniformSampler.kernel("CPU")
def _uniform_sampler_kernel(ctx, true_classes):
    range_max = ctx.attrs["range_max"]
    return _sample(ctx, true_classes, lambda rng, size: rng.integers(0, range_max, size),
                   lambda ids: np.full(np.shape(ids), 1.0 / range_max), range_max)


LogUniformSampler = _register_sampler("LogUniformCandidateSampler")


def log_uniform_probability(ids, range_max):
    """TF's log-uniform (Zipfian) probability of each id in [0, range_max)."""
    ids = np.asarray(ids, np.float64)
    return (np.log(ids + 2) - np.log(ids + 1)) / np.log(range_max + 1)


def _log_uniform_draw(rng, size, range_max):
    """Inverse CDF: CDF(k) = log(k + 2) / log(range_max + 1)."""
    u = rng.random(size)
    # exp(...) lies in [1, range_max + 1): truncation is floor, and only the top needs a clamp.
    ids = np.exp(u * np.log(range_max + 1)).astype(np.int64) - 1
    return np.minimum(ids, range_max - 1, out=ids)


# Ranges up to _TABLE_MAX keep their probabilities (and log1p(-p)) in a per-session table, so
# a step looks them up instead of computing logs (word2vec's 50000 words: 800 KB).
_TABLE_MAX = 1 << 18  # 4 MiB of tables at most


def _log_uniform_table(range_max):
    p = log_uniform_probability(np.arange(range_max), range_max)
    return p, np.log1p(-np.minimum(p, 1.0))


@LogUniformSampler.kernel("CPU")
def _log_uniform_sampler_kernel(ctx, true_classes):
    range_max = ctx.attrs["range_max"]
    draw = lambda rng, size: _log_uniform_draw(rng, size, range_max)  # noqa: E731
    if not 0 < range_max <= _TABLE_MAX:
        return _sample(ctx, true_classes, draw,
                       lambda ids: log_uniform_probability(ids, range_max), range_max)
    p, log1m = ctx.init_state(lambda: _log_uniform_table(range_max))
    return _sample(ctx, true_classes, draw, p.take, range_max, log1m.take)


# ---- unigram samplers ---------------------------------------------------------------------------
def _weighted(ctx, true_classes, weights):
    total = weights.sum()
    if not total > 0:
        raise errors.InvalidArgumentError(None, ctx.op, "the unigram weights sum to zero; "
                                                        "nothing can be sampled")
    cdf = np.cumsum(weights) / total
    probs = weights / total

    def draw(rng, size):
        return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"),
                          weights.size - 1).astype(np.int64)
    return _sample(ctx, true_classes, draw, lambda ids: probs[ids], weights.size)


LearnedUnigram = _register_sampler("LearnedUnigramCandidateSampler")


@LearnedUnigram.kernel("CPU")
def _learned_unigram_kernel(ctx, true_classes):
    range_max = ctx.attrs["range_max"]
    counts = ctx.init_state(lambda: np.ones(range_max, np.float64))
    result = _weighted(ctx, true_classes, counts)
    seen = true_classes[(true_classes >= 0) & (true_classes < range_max)]
    np.add.at(counts, seen, 1.0)
    return result


FixedUnigram = _register_sampler("FixedUnigramCandidateSampler", {
    "vocab_file": "", "distortion": 1.0, "num_reserved_ids": 0, "num_shards": 1, "shard": 0,
    "unigrams": registry.Attr("list(float)", [])})


def _fixed_unigram_weights(ctx):
    a = ctx.attrs
    counts = [float(u) for u in a["unigrams"]]
    vocab = a["vocab_file"].decode() if isinstance(a["vocab_file"], bytes) else a["vocab_file"]
    if vocab:
        with open(vocab, encoding="utf-8") as f:
            counts = [float(line.rstrip("\n").split(",")[-1]) for line in f if line.strip()]
    if bool(vocab) == bool(a["unigrams"]):
        raise errors.InvalidArgumentError(None, ctx.op, "give exactly one of vocab_file and "
                                                        "unigrams")
    weights = np.concatenate([np.zeros(a["num_reserved_ids"]), counts]) ** a["distortion"]
    weights[:a["num_reserved_ids"]] = 0.0
    if weights.size != a["range_max"]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"range_max ({a['range_max']}) must equal num_reserved_ids + the "
                          f"number of unigrams ({weights.size})")
    weights[np.arange(weights.size) % a["num_shards"] != a["shard"]] = 0.0
    return weights


@FixedUnigram.kernel("CPU")
def _fixed_unigram_kernel(ctx, true_classes):
    return _weighted(ctx, true_classes, ctx.init_state(lambda: _fixed_unigram_weights(ctx)))


AllSampler = registry.register_op("AllCandidateSampler", inputs=["true_classes: int64"],
                                  outputs=_OUTPUTS,
                                  attrs={"num_true": "int", "num_sampled": "int",
                                         "unique": "bool", "seed": 0, "seed2": 0},
                                  stateful=True)
AllSampler.shape(_sampler_shape)
AllSampler.not_differentiable()


@AllSampler.kernel("CPU")
def _all_sampler_kernel(ctx, true_classes):
    n = ctx.attrs["num_sampled"]
    return (np.arange(n, dtype=np.int64), np.ones(true_classes.shape, np.float32),
            np.ones(n, np.float32))


# ---- ComputeAccidentalHits ----------------------------------------------------------------------
AccidentalHits = registry.register_op(
    "ComputeAccidentalHits", inputs=["true_classes: int64", "sampled_candidates: int64"],
    outputs=["indices: int32", "ids: int64", "weights: float"],
    attrs={"num_true": "int", "seed": 0, "seed2": 0})
AccidentalHits.not_differentiable()


@AccidentalHits.shape
def _accidental_hits_shape(op):
    op.inputs[0].get_shape().with_rank(2)
    op.inputs[1].get_shape().with_rank(1)
    return [tensor_shape.vector(None)] * 3


@AccidentalHits.kernel("CPU")
def _accidental_hits_kernel(ctx, true_classes, sampled):
    if true_classes.ndim != 2 or true_classes.shape[1] != ctx.attrs["num_true"]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"true_classes must be [batch_size, num_true="
                          f"{ctx.attrs['num_true']}], got shape {list(true_classes.shape)}")
    rows, _, positions = np.nonzero(true_classes[:, :, None] == sampled.reshape(1, 1, -1))
    weights = np.full(rows.size, -np.finfo(np.float32).max, np.float32)
    return rows.astype(np.int32), positions.astype(np.int64), weights


# ---- Python wrappers ----------------------------------------------------------------------------
def _seeds(seed):
    seed1, seed2 = random_seed.get_seed(seed)
    return {"seed": seed1 or 0, "seed2": seed2 or 0}


def _classes(true_classes):
    from tensorflux.framework import ops
    from tensorflux.ops import math_ops
    t = ops.convert_to_tensor(true_classes, name="true_classes")
    return t if t.dtype.base_dtype == dtypes.int64 else math_ops.cast(t, dtypes.int64)


def _sampler(op_type, true_classes, num_true, num_sampled, unique, range_max, seed, name,
             **extra):
    return tuple(apply_op(op_type, _classes(true_classes), num_true=int(num_true),
                          num_sampled=int(num_sampled), unique=bool(unique),
                          range_max=int(range_max), name=name, **_seeds(seed), **extra))


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None,
                              name=None):
    """Samples num_sampled classes uniformly from [0, range_max)."""
    return _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name)


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Samples from the log-uniform (Zipfian) distribution over [0, range_max)."""
    return _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name)


def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                      seed=None, name=None):
    """Samples from the unigram distribution of the true classes seen so far."""
    return _sampler("LearnedUnigramCandidateSampler", true_classes, num_true, num_sampled,
                    unique, range_max, seed, name)


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                    vocab_file="", distortion=1.0, num_reserved_ids=0,
                                    num_shards=1, shard=0, unigrams=(), seed=None, name=None):
    """Samples from given unigram counts (a list or the last CSV column of vocab_file)."""
    return _sampler("FixedUnigramCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name, vocab_file=vocab_file, distortion=float(distortion),
                    num_reserved_ids=int(num_reserved_ids), num_shards=int(num_shards),
                    shard=int(shard), unigrams=[float(u) for u in unigrams])


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """The classes 0 .. num_sampled - 1, each with expected count 1."""
    return tuple(apply_op("AllCandidateSampler", _classes(true_classes), num_true=int(num_true),
                          num_sampled=int(num_sampled), unique=bool(unique), name=name,
                          **_seeds(seed)))


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """(indices, ids, weights) of sampled candidates that equal a true class: row index,
    position in sampled_candidates, and a weight of -FLOAT_MAX to add to that logit."""
    return tuple(apply_op("ComputeAccidentalHits", _classes(true_classes),
                          _classes(sampled_candidates), num_true=int(num_true), name=name,
                          **_seeds(seed)))
