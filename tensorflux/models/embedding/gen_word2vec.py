"""tensorflow.models.embedding.gen_word2vec: TF 0.9's generated wrappers of the word2vec ops
(TF loaded them from word2vec_ops.so), made from the ops registered in
tensorflux/ops/word2vec_ops.py:

    skipgram(filename, batch_size, window_size=5, min_count=5, subsample=1e-3, name=None)
    neg_train(w_in, w_out, examples, labels, lr, vocab_count, num_negative_samples, name=None)
"""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/word2vec_ops',
])
