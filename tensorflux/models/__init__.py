"""Helpers of TensorFlow's tutorial models, at the import paths tutorial code used:
`tensorflux.models.rnn.ptb.reader`, `tensorflux.models.image.cifar10.cifar10_input`,
`tensorflux.models.embedding.text8`, `tensorflux.models.rnn.translate.data_utils`.

They read local files only; nothing here downloads.
"""
