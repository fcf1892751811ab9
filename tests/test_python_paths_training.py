"""TensorFlow's tensorflow.python.training module paths that distributed 2016-17 scripts
import, under tensorflux.python.training."""
import importlib

import pytest

import tensorflux as tf

PATHS = {
    "server_lib": ["Server", "ClusterSpec"],
    "device_setter": ["replica_device_setter"],
    "supervisor": ["Supervisor"],
    "sync_replicas_optimizer": ["SyncReplicasOptimizer"],
    "monitored_session": ["MonitoredTrainingSession", "MonitoredSession", "Scaffold"],
    "basic_session_run_hooks": ["StopAtStepHook", "CheckpointSaverHook"],
    "session_run_hook": ["SessionRunHook", "SessionRunArgs"],
    "session_manager": ["SessionManager"],
    "coordinator": ["Coordinator"],
    "queue_runner": ["QueueRunner"],
}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_training_module_paths_give_the_tf_train_objects(module):
    mod = importlib.import_module(f"tensorflux.python.training.{module}")
    for name in PATHS[module]:
        assert getattr(mod, name) is getattr(tf.train, name), (module, name)
