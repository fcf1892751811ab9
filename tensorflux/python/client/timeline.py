"""tensorflow.python.client.timeline -> tensorflux.client.timeline."""
from tensorflux.client.timeline import *  # noqa: F401,F403
from tensorflux.client.timeline import Timeline  # noqa: F401
