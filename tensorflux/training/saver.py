"""tf.train.Saver: saves and restores variables as TensorFlow V2 checkpoints.

The Saver adds ops to the graph, as TensorFlow's does, so its SaverDef works for anyone holding
the graph (a MetaGraphDef importer included):

    save/Const            the checkpoint prefix, fed at save and restore time
    save/SaveV2           writes every variable (one SaveV2 per device when sharded, then
                          save/MergeV2Checkpoints joins the shards)
    save/control_dependency   the prefix, after the save: `save_tensor_name`
    save/RestoreV2 + save/Assign_*   read the checkpoint and assign each variable
    save/restore_all      groups the assigns: `restore_op_name`

`Saver(write_version=V1)` writes TF 0.9's V1 format instead: save/SaveSlices (one file, or one
shard per device named by save/ShardedFilespec's `prefix-?????-of-N`), save/RestoreSlice per
variable. RestoreV2 reads V1 checkpoints too, so a default Saver restores 0.9's checkpoints.

`save()` writes the bundle (data then index, each via temp + fsync + rename), then the `.meta`
file, then the `checkpoint` state file, and only then deletes checkpoints beyond `max_to_keep`;
a crash at any point leaves the previous checkpoint readable and named by the state file.
"""
import glob
import numbers
import os
import re
import time

from tensorflux.framework import meta_graph
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.lib.io import tensor_bundle
from tensorflux.ops import array_ops
from tensorflux.ops import constant_op
from tensorflux.ops import control_flow_ops
from tensorflux.ops import io_ops
from tensorflux.ops import io_v1_ops
from tensorflux.ops import state_ops
from tensorflux.ops import variables
from tensorflux.platform import gfile
from tensorflux.platform import tf_logging as logging
from tensorflux.training.checkpoint_state import (  # noqa: F401 (tf.train re-exports these)
    CheckpointReader, NewCheckpointReader, checkpoint_exists, generate_checkpoint_state_proto,
    get_checkpoint_mtimes, get_checkpoint_state, latest_checkpoint, list_variables,
    load_checkpoint, load_variable, update_checkpoint_state)

__all__ = [
    "Saver",
    "BaseSaverBuilder",
    "latest_checkpoint",
    "get_checkpoint_state",
    "update_checkpoint_state",
    "generate_checkpoint_state_proto",
    "checkpoint_exists",
    "get_checkpoint_mtimes",
    "NewCheckpointReader",
    "CheckpointReader",
    "load_checkpoint",
    "load_variable",
    "list_variables",
    "export_meta_graph",
    "import_meta_graph",
]

V1 = protos.SaverDef.V1
V2 = protos.SaverDef.V2


# ---- what gets saved ----------------------------------------------------------------------------
class SaveableSlice:
    """One tensor of the checkpoint: its key, the ref it is read from and assigned to, and the
    `shape_and_slices` spec ("" unless it is a slice of a partitioned variable)."""

    def __init__(self, name, ref, spec=""):
        self.name = name
        self.ref = ref
        self.spec = spec
        self.dtype = ref.dtype.base_dtype
        self.device = ref.device or ""

    def __repr__(self):
        return f"<saveable {self.name} {self.spec or ''}>"


def _ref_of(var):
    if isinstance(var, variables.Variable):
        return var._ref()
    if isinstance(var, ops.Tensor) and var.op.type in ("VariableV2", "Variable"):
        return var
    raise TypeError(f"Saver can only save variables (tf.Variable or a Variable op's output), "
                    f"got {var!r}")


def _default_name(var):
    return _ref_of(var).op.name


def _slice_spec(var):
    info = getattr(var, "_save_slice_info", None)
    if info is None:
        return None, ""
    spec = getattr(info, "spec", None)
    if spec is None:
        full = " ".join(str(d) for d in info.full_shape)
        parts = ":".join(f"{o},{n}" for o, n in zip(info.var_offset, info.var_shape))
        spec = f"{full} {parts}"
    return info.full_name, spec


def _partitions(value):
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "_get_variable_list"):
        return list(value._get_variable_list())
    return None


def op_list_to_dict(var_list):
    """{checkpoint key: variable or list of slice variables} for a Saver's `var_list`."""
    if isinstance(var_list, dict):
        return dict(var_list)
    result = {}
    for var in var_list:
        parts = _partitions(var)
        if parts is not None:
            name = _slice_spec(parts[0])[0] or _default_name(parts[0])
        else:
            name = _slice_spec(var)[0] or _default_name(var)
            if _slice_spec(var)[0]:
                parts = [var]
        if name in result and not (parts and isinstance(result[name], list)):
            raise ValueError(f"At least two variables have the same name: {name}")
        if parts is not None:
            result.setdefault(name, []).extend(parts)
        else:
            result[name] = var
    return result


def saveables_for(names_to_vars):
    """SaveableSlices sorted by key (the order TensorFlow writes them)."""
    saveables, seen = [], set()
    for name in sorted(names_to_vars):
        value = names_to_vars[name]
        parts = _partitions(value)
        for var in parts if parts is not None else [value]:
            ref = _ref_of(var)
            if ref in seen:
                raise ValueError(f"The same variable {ref.op.name} is saved twice")
            seen.add(ref)
            spec = _slice_spec(var)[1] if parts is not None else ""
            saveables.append(SaveableSlice(name, ref, spec))
    return saveables


# ---- the graph ops ------------------------------------------------------------------------------
class BaseSaverBuilder:
    """Builds a Saver's save and restore ops; returns the SaverDef naming them.

    Args:
      write_version: V2 (SaveV2/RestoreV2) or V1 (TF 0.9's SaveSlices/RestoreSlice).
    """

    def __init__(self, write_version=V2):
        if write_version not in (V1, V2):
            raise ValueError(f"Unknown write_version {write_version!r}: expected "
                             "SaverDef.V1 or SaverDef.V2")
        self._write_version = write_version

    def build(self, names_to_vars, reshape=False, sharded=False, max_to_keep=5,
              keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
              filename="model"):
        saveables = saveables_for(names_to_vars)
        refs = [s.ref for s in saveables]
        with ops.name_scope(name, "save", refs):
            filename_tensor = constant_op.constant(filename or "model")
            if sharded:
                save_tensor = self._add_sharded_save(filename_tensor, saveables)
            else:
                save_tensor = self._add_save(filename_tensor, saveables)
            restore_op = self._add_restore(filename_tensor, saveables, reshape,
                                           restore_sequentially, sharded)
        return protos.SaverDef(
            filename_tensor_name=filename_tensor.name, save_tensor_name=save_tensor.name,
            restore_op_name=restore_op.name, max_to_keep=max_to_keep or 0, sharded=sharded,
            keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours,
            version=self._write_version)

    def _save_op(self, prefix, saveables):
        args = (prefix, [s.name for s in saveables], [s.spec for s in saveables],
                [s.ref for s in saveables])
        if self._write_version == V1:
            return io_v1_ops.save_slices(*args)
        return io_ops.save_v2(*args, name="SaveV2")

    def _add_save(self, filename_tensor, saveables):
        save = self._save_op(filename_tensor, saveables)
        return control_flow_ops.with_dependencies([save], filename_tensor)

    def _add_sharded_save(self, filename_tensor, saveables):
        by_device = _group_by_device(saveables)
        prefixes, saves = [], []
        for shard, (device, group) in enumerate(by_device):
            with ops.device(device):
                prefix = io_ops.sharded_filename(filename_tensor, shard, len(by_device))
                prefixes.append(prefix)
                saves.append(self._save_op(prefix, group))
        with ops.control_dependencies(saves):
            if self._write_version == V1:  # the shards stay apart, named by one pattern
                return io_ops.sharded_filespec(filename_tensor, len(by_device))
            merge = io_ops.merge_v2_checkpoints(array_ops.stack(prefixes), filename_tensor)
            with ops.control_dependencies([merge]):
                return array_ops.identity(filename_tensor)

    def _add_restore(self, filename_tensor, saveables, reshape, sequentially, sharded):
        groups = _group_by_device(saveables) if sharded else [("", saveables)]
        assigns, previous = [], []
        for device, group in groups:
            with ops.device(device):
                for batch in ([[s] for s in group] if sequentially else [group]):
                    with ops.control_dependencies(previous):
                        values = self._restore_values(filename_tensor, batch)
                    new = [_assign(s, v, reshape) for s, v in zip(batch, values)]
                    assigns.extend(new)
                    previous = [a.op for a in new] if sequentially else []
        return control_flow_ops.group(*assigns, name="restore_all")


    def _restore_values(self, filename_tensor, saveables):
        if self._write_version == V1:  # one RestoreSlice per tensor, as TF 0.9's graphs
            return [io_v1_ops.restore_slice(filename_tensor, s.name, s.spec, s.dtype)
                    for s in saveables]
        return io_ops.restore_v2(filename_tensor, [s.name for s in saveables],
                                 [s.spec for s in saveables], [s.dtype for s in saveables])


def _group_by_device(saveables):
    groups = {}
    for s in saveables:
        groups.setdefault(s.device, []).append(s)
    return sorted(groups.items())


def _assign(saveable, value, reshape):
    shape = saveable.ref.get_shape()
    if reshape:
        target = shape.as_list() if shape.is_fully_defined() else array_ops.shape(saveable.ref)
        value = array_ops.reshape(value, target)
    elif shape.ndims is not None:
        value.set_shape(shape)
    with ops.colocate_with(saveable.ref.op):
        return state_ops.assign(saveable.ref, value,
                                validate_shape=not reshape and shape.is_fully_defined())


# ---- the Saver ----------------------------------------------------------------------------------
class Saver:
    """Saves and restores variables (TF 0.9/1.x `tf.train.Saver`).

    Args:
      var_list: variables to save: a list (keys are the variables' op names) or a dict of
        checkpoint key -> variable (for partial restores and renaming). Default: all global
        variables.
      reshape: allow restoring a value of another shape with the same number of elements.
      sharded: one SaveV2 per device, merged into one multi-shard checkpoint.
      max_to_keep: how many recent checkpoints to keep (None or 0: keep all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
      name: name scope of the added ops ("save").
      restore_sequentially: restore one variable after another (bounds peak memory).
      saver_def: use the ops of an existing SaverDef instead of adding new ones.
      builder: a BaseSaverBuilder.
      defer_build: add the ops only when `build()` is called.
      allow_empty: with no variables, make a Saver that does nothing instead of raising.
      write_version: V2 (default) or V1, TF 0.9's format (SaveSlices, RestoreSlice).
      pad_step_number: write the global step as 8 digits (model-00000010).
      save_relative_paths: write paths relative to the directory in the state file.
      filename: the default prefix of the filename tensor.
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=V2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._write_version = write_version
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._restore_sequentially = restore_sequentially
        self.saver_def = saver_def
        self._builder = builder
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._is_built = False
        self._is_empty = False
        self._last_checkpoints = []
        self._checkpoints_to_be_deleted = []
        self._last_preserved_timestamp = time.time()
        if not defer_build:
            self.build()
        if self.saver_def is not None:
            self._next_checkpoint_time = (time.time()
                                          + self.saver_def.keep_checkpoint_every_n_hours * 3600)

    def build(self):
        """Adds the save and restore ops (once)."""
        if self._is_built:
            return
        self._is_built = True
        if self.saver_def is not None:
            self._check_saver_def()
            return
        var_list = self._var_list
        if var_list is None:
            var_list = variables.global_variables()
        if not var_list:
            if self._allow_empty:
                self._is_empty = True
                return
            raise ValueError("No variables to save")
        names_to_vars = op_list_to_dict(var_list)
        self.saver_def = (self._builder or BaseSaverBuilder(self._write_version)).build(
            names_to_vars, reshape=self._reshape, sharded=self._sharded,
            max_to_keep=self._max_to_keep, keep_checkpoint_every_n_hours=self._keep_every_n_hours,
            name=self._name, restore_sequentially=self._restore_sequentially,
            filename=self._filename)
        self._next_checkpoint_time = time.time() + self._keep_every_n_hours * 3600

    def _check_saver_def(self):
        for field in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
            if not getattr(self.saver_def, field):
                raise ValueError(f"saver_def must specify the {field}: {self.saver_def}")
        if self.saver_def.version not in (V1, V2):
            raise ValueError(f"saver_def has unknown version {self.saver_def.version}")

    # ---- properties ---------------------------------------------------------------------------
    @property
    def last_checkpoints(self):
        """The paths of the kept checkpoints, oldest first."""
        return [path for path, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        """Sets the kept checkpoints (their times unknown: never kept by the hours rule)."""
        if not isinstance(last_checkpoints, list):
            raise TypeError(f"last_checkpoints must be a list, got {type(last_checkpoints)}")
        self._last_checkpoints = [(p, float("inf")) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        """Sets the kept checkpoints from a list of (path, timestamp)."""
        if not isinstance(last_checkpoints_with_time, list):
            raise TypeError("last_checkpoints_with_time must be a list of (path, time)")
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopts those of `checkpoint_paths` that exist, with their file times."""
        found = [(p, t) for p in checkpoint_paths
                 for t in get_checkpoint_mtimes([p])]
        self.set_last_checkpoints_with_time(found)

    def as_saver_def(self):
        """The SaverDef naming this Saver's ops."""
        return self.saver_def

    def to_proto(self, export_scope=None):
        return self.saver_def

    @staticmethod
    def from_proto(saver_def, import_scope=None):
        return Saver(saver_def=_scoped_saver_def(saver_def, import_scope), name=import_scope)

    # ---- save ---------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True):
        """Saves the variables to `save_path` (with "-<global_step>" appended if given).

        Returns:
          The prefix of the written checkpoint, or None for an empty Saver.
        """
        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        if self._is_empty:
            return None
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        checkpoint_file = self._checkpoint_file(sess, str(save_path), global_step,
                                                latest_filename)
        parent = os.path.dirname(str(save_path))
        if parent and not _is_object_store(parent):  # TF's save ops create the folder
            gfile.MakeDirs(parent)
        _check_session(sess)
        result = sess.run(self.saver_def.save_tensor_name,
                          {self.saver_def.filename_tensor_name: checkpoint_file})
        model_checkpoint_path = _as_text(result)
        if write_meta_graph:
            self.export_meta_graph(f"{checkpoint_file}.{meta_graph_suffix}")
        if write_state:
            self._record_last_checkpoint(model_checkpoint_path)
            update_checkpoint_state(
                parent, model_checkpoint_path, self.last_checkpoints, latest_filename,
                [t for _, t in self._last_checkpoints if t != float("inf")] or None,
                self._last_preserved_timestamp, self._save_relative_paths)
            self._delete_old_checkpoints(meta_graph_suffix)
        return model_checkpoint_path

    def _checkpoint_file(self, sess, save_path, global_step, latest_filename):
        if global_step is None:
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError(f"'latest_filename' collides with 'save_path': "
                                 f"'{latest_filename}' and '{save_path}'")
            return save_path
        if not isinstance(global_step, numbers.Number):
            global_step = sess.run(global_step)
        step = int(global_step)
        return f"{save_path}-{step:08d}" if self._pad_step_number else f"{save_path}-{step}"

    def _record_last_checkpoint(self, path):
        if not self.saver_def.max_to_keep:
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        while len(self._last_checkpoints) > self.saver_def.max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _delete_old_checkpoints(self, meta_graph_suffix):
        while self._checkpoints_to_be_deleted:
            path, stamp = self._checkpoints_to_be_deleted.pop(0)
            hours = self.saver_def.keep_checkpoint_every_n_hours
            if hours and stamp != float("inf") and stamp > self._next_checkpoint_time:
                self._next_checkpoint_time += hours * 3600
                self._last_preserved_timestamp = stamp
                continue
            _delete_checkpoint_files(path, meta_graph_suffix)

    # ---- restore ------------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Restores the saved variables from the checkpoint `save_path` (a prefix)."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = str(save_path)
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        _check_session(sess)
        logging.info("Restoring parameters from %s", save_path)
        sess.run(self.saver_def.restore_op_name,
                 {self.saver_def.filename_tensor_name: save_path})

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False):
        """Writes a MetaGraphDef with this Saver's SaverDef; returns it."""
        graph = _graph_of_saver(self)
        return meta_graph.export_meta_graph(filename=filename, saver_def=self.saver_def,
                                            collection_list=collection_list, as_text=as_text,
                                            graph=graph, clear_devices=clear_devices,
                                            export_scope=export_scope)


def _graph_of_saver(saver):
    if saver.saver_def is None:
        return ops.get_default_graph()
    graph = ops.get_default_graph()
    try:
        return graph.as_graph_element(saver.saver_def.filename_tensor_name).graph
    except (KeyError, ValueError, TypeError):
        return graph


def _as_text(value):
    value = value.item() if hasattr(value, "item") else value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _is_object_store(path):
    # gs://, s3://, memory://: directories are implied by object names, so none need exist.
    return gfile.is_url(path) and not path.startswith(("file://", "local://", "hdfs://"))


def _check_session(sess):
    if not hasattr(sess, "run"):
        raise TypeError(f"'sess' must be a Session; {sess!r}")


def _delete_checkpoint_files(prefix, meta_graph_suffix="meta"):
    """Removes the files of checkpoint `prefix` (V2 index/data, V1 file, meta graph)."""
    if gfile.is_url(prefix):
        shards = gfile.Glob(prefix + ".data-?????-of-?????")
    else:
        shards = glob.glob(glob.escape(prefix) + ".data-?????-of-?????")
        # a sharded V1 checkpoint is named by its pattern (prefix-?????-of-N)
        shards += glob.glob(prefix) if glob.has_magic(prefix) else []
    # its meta graph is named by the prefix before the pattern
    meta_prefix = re.sub(r"-[\d?]+-of-\d+$", "", prefix)
    paths = shards + [
        tensor_bundle.index_filename(prefix), f"{meta_prefix}.{meta_graph_suffix}", prefix]
    for path in paths:
        try:
            if gfile.is_url(path):
                if gfile.Exists(path):
                    gfile.Remove(path)
            else:
                os.remove(path)
        except FileNotFoundError:
            pass
        except (OSError, gfile.errors.OpError) as e:
            logging.warning("Ignoring: failed to delete %s: %s", path, e)


def _scoped_saver_def(saver_def, import_scope):
    if not import_scope:
        return saver_def
    scoped = protos.SaverDef()
    scoped.CopyFrom(saver_def)
    for field in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
        setattr(scoped, field, f"{import_scope}/{getattr(saver_def, field)}")
    return scoped


def _saver_factory(saver_def, import_scope):
    if saver_def is not None:
        return Saver.from_proto(saver_def, import_scope)
    if variables.global_variables():
        return Saver()
    logging.info("Saver not created because there are no variables in the graph to restore")
    return None


meta_graph.register_saver_factory(_saver_factory)
# Savers in the SAVERS collection (Scaffold, Supervisor) travel as SaverDefs, as in TF.
meta_graph.register_proto_function(ops.GraphKeys.SAVERS, protos.SaverDef,
                                   lambda saver, scope=None: saver.to_proto(scope),
                                   Saver.from_proto)


def export_meta_graph(filename=None, **kwargs):
    """tf.train.export_meta_graph (from tensorflux.framework.meta_graph)."""
    return meta_graph.export_meta_graph(filename, **kwargs)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """tf.train.import_meta_graph: imports the graph; returns its Saver (or None)."""
    return meta_graph.import_meta_graph(meta_graph_or_file, clear_devices=clear_devices,
                                        import_scope=import_scope, **kwargs)

