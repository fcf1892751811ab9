"""tf.saved_model (TF 1.0): SavedModelBuilder, loader.load and the signature helpers that
TensorFlow Serving's models are made with (re-exports only)."""
from tensorflux.saved_model import builder  # noqa: F401
from tensorflux.saved_model import constants  # noqa: F401
from tensorflux.saved_model import loader  # noqa: F401
from tensorflux.saved_model import main_op  # noqa: F401
from tensorflux.saved_model import signature_constants  # noqa: F401
from tensorflux.saved_model import signature_def_utils  # noqa: F401
from tensorflux.saved_model import tag_constants  # noqa: F401
from tensorflux.saved_model import utils  # noqa: F401
