"""The word2vec tutorial's corpus helpers."""
