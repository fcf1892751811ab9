"""tensorflow.python.ops.candidate_sampling_ops -> tensorflux.ops.candidate_sampling_ops."""
from tensorflux.ops.candidate_sampling_ops import (  # noqa: F401
    all_candidate_sampler, compute_accidental_hits, fixed_unigram_candidate_sampler,
    learned_unigram_candidate_sampler, log_uniform_candidate_sampler, uniform_candidate_sampler)
