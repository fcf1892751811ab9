# Keras 1.x (2016-17, unmodified) on its TensorFlow backend, with `tensorflow` aliased to
# tensorflux: an MLP, a small conv net with batch normalization and an LSTM (rows as time
# steps: Keras's K.rnn while_loop) on scikit-learn's 8x8 digits.
import collections
import collections.abc
import sys

# Keras 1.2 imports collections.Iterable, which Python 3.10 removed: restore the stdlib alias
# (a Python-version shim; nothing in Keras or tensorflux is patched).
for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "Callable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras  # noqa: E402
from keras import backend as K  # noqa: E402
from keras.layers import (  # noqa: E402
    LSTM, BatchNormalization, Convolution2D, Dense, Dropout, Flatten, MaxPooling2D)
from keras.models import Sequential  # noqa: E402
from keras.optimizers import RMSprop  # noqa: E402
from keras.utils import np_utils  # noqa: E402

assert K.backend() == "tensorflow", K.backend()
print("keras", keras.__version__, "tensorflow module:", K.tf.__name__)
np.random.seed(0)
digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = np_utils.to_categorical(digits.target, 10)
order = np.random.permutation(len(x))
train, test = order[:1400], order[1400:]

mlp = Sequential()
mlp.add(Dense(64, input_dim=64, activation="relu"))
mlp.add(Dropout(0.2))
mlp.add(Dense(10, activation="softmax"))
mlp.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
mlp.fit(x[train], y[train], nb_epoch=int(sys.argv[1]), batch_size=32, verbose=0)
print("mlp accuracy %.4f" % mlp.evaluate(x[test], y[test], verbose=0)[1])

images = x.reshape(-1, 8, 8, 1)
conv = Sequential()
conv.add(Convolution2D(8, 3, 3, activation="relu", border_mode="same", input_shape=(8, 8, 1)))
conv.add(MaxPooling2D((2, 2)))
conv.add(BatchNormalization())
conv.add(Flatten())
conv.add(Dense(10, activation="softmax"))
conv.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
conv.fit(images[train], y[train], nb_epoch=int(sys.argv[1]), batch_size=32, verbose=0)
print("conv accuracy %.4f" % conv.evaluate(images[test], y[test], verbose=0)[1])

lstm = Sequential()
lstm.add(LSTM(16, input_shape=(8, 8)))
lstm.add(Dense(10, activation="softmax"))
lstm.compile(loss="categorical_crossentropy", optimizer=RMSprop(lr=0.01), metrics=["accuracy"])
rows = x.reshape(-1, 8, 8)
lstm.fit(rows[train[:600]], y[train[:600]], nb_epoch=int(sys.argv[1]) // 2, batch_size=32,
         verbose=0)
print("lstm accuracy %.4f" % lstm.evaluate(rows[test], y[test], verbose=0)[1])
