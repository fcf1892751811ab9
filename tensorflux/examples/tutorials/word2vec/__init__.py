"""TF 0.9's word2vec tutorial (tensorflow.examples.tutorials.word2vec)."""
