"""tensorflow.python.framework.importer -> tensorflux.framework.importer."""
from tensorflux.framework.importer import *  # noqa: F401,F403
