"""The Mechanics 101 model (inference, loss, training, evaluation) lives at TF's import path,
tensorflux.examples.tutorials.mnist.mnist; this re-exports it for scripts beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tensorflux.examples.tutorials.mnist.mnist import *  # noqa: F401,F403,E402
from tensorflux.examples.tutorials.mnist.mnist import (  # noqa: F401,E402
    IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES)
