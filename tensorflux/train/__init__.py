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
from tensorflux.training.coordinator import Coordinator, LooperThread  # noqa: F401
from tensorflux.training.queue_runner import (  # noqa: F401
    QueueRunner, add_queue_runner, start_queue_runners)
from tensorflux.training.input import (  # noqa: F401
    match_filenames_once, limit_epochs, input_producer, string_input_producer, range_input_producer,
    slice_input_producer, batch, batch_join, shuffle_batch, shuffle_batch_join)
from tensorflux.framework.example_protos import (  # noqa: F401
    BytesList, FloatList, Int64List, Feature, Features, FeatureList, FeatureLists, Example,
    SequenceExample)
from tensorflux.training.moving_averages import ExponentialMovingAverage  # noqa: F401
from tensorflux.distributed.server import Server, ServerDef  # noqa: F401
from tensorflux.distributed.cluster import ClusterSpec  # noqa: F401
from tensorflux.framework.protos import ClusterDef, JobDef  # noqa: F401
from tensorflux.training.sync_replicas_optimizer import SyncReplicasOptimizer  # noqa: F401,E402
from tensorflux.training.device_setter import replica_device_setter  # noqa: F401
from tensorflux.training.session_run_hook import (  # noqa: F401
    SessionRunHook, SessionRunArgs, SessionRunContext, SessionRunValues)
from tensorflux.training.basic_session_run_hooks import (  # noqa: F401
    SecondOrStepTimer, LoggingTensorHook, StopAtStepHook, CheckpointSaverListener,
    CheckpointSaverHook, StepCounterHook, NanLossDuringTrainingError, NanTensorHook,
    SummarySaverHook, FinalOpsHook, FeedFnHook)
from tensorflux.training.session_manager import SessionManager  # noqa: F401
from tensorflux.training.monitored_session import (  # noqa: F401
    Scaffold, SessionCreator, ChiefSessionCreator, WorkerSessionCreator, MonitoredSession,
    SingularMonitoredSession, MonitoredTrainingSession)
from tensorflux.training.supervisor import Supervisor  # noqa: F401
from tensorflux.training.checkpoint_state import generate_checkpoint_state_proto  # noqa: F401,E402
