"""tf.train: optimizers, savers, input pipelines and training helpers (re-exports only)."""
from tensorflux.training.optimizer import Optimizer  # noqa: F401
from tensorflux.training.gradient_descent import GradientDescentOptimizer  # noqa: F401
from tensorflux.training.momentum import MomentumOptimizer  # noqa: F401
from tensorflux.training.adagrad import AdagradOptimizer  # noqa: F401
from tensorflux.training.adadelta import AdadeltaOptimizer  # noqa: F401
from tensorflux.training.adam import AdamOptimizer  # noqa: F401
from tensorflux.training.rmsprop import RMSPropOptimizer  # noqa: F401
from tensorflux.training.ftrl import FtrlOptimizer  # noqa: F401
from tensorflux.training.learning_rate_decay import (  # noqa: F401
    exponential_decay, inverse_time_decay, natural_exp_decay, piecewise_constant,
    polynomial_decay)
from tensorflux.training.training_util import (  # noqa: F401
    assert_global_step, create_global_step, get_global_step, get_or_create_global_step,
    global_step)
from tensorflux.summary.writer import FileWriter as SummaryWriter  # noqa: F401
from tensorflux.summary.summary_iterator import summary_iterator  # noqa: F401
from tensorflux.framework.graph_io import write_graph  # noqa: F401
from tensorflux.framework.meta_graph import export_meta_graph, import_meta_graph  # noqa: F401
from tensorflux.training.saver import Saver  # noqa: F401
from tensorflux.training.checkpoint_state import (  # noqa: F401
    CheckpointState, latest_checkpoint, get_checkpoint_state, update_checkpoint_state,
    checkpoint_exists, NewCheckpointReader, load_checkpoint, load_variable, list_variables)
from tensorflux.framework.protos import SaverDef  # noqa: F401
