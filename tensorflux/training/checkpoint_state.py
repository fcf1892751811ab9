"""Checkpoints on disk: the `checkpoint` state file of a directory, and checkpoint readers.

The state file is a text-format CheckpointState proto naming the newest checkpoint and those
still kept:

    model_checkpoint_path: "model.ckpt-2000"
    all_model_checkpoint_paths: "model.ckpt-1000"
    all_model_checkpoint_paths: "model.ckpt-2000"
    all_model_checkpoint_timestamps: 1475000000.5
    all_model_checkpoint_timestamps: 1475000600.25
    last_preserved_timestamp: 1474999000.0

It is rewritten via a temp file and a rename, so readers see the old state or the new, never a
mix. Relative paths are relative to the directory holding the state file.
"""
import codecs
import os
import re

from tensorflux.framework import protos
from tensorflux.lib.io import tensor_bundle
from tensorflux.lib.io import tensor_slice_v1
from tensorflux.platform import gfile
from tensorflux.platform import tf_logging as logging

__all__ = [
    "CheckpointState",
    "CheckpointReader",
    "NewCheckpointReader",
    "checkpoint_exists",
    "generate_checkpoint_state_proto",
    "get_checkpoint_mtimes",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_variables",
    "load_checkpoint",
    "load_variable",
    "update_checkpoint_state",
]

_STATE_FILE = "checkpoint"
_STRING_FIELDS = ("model_checkpoint_path", "all_model_checkpoint_paths")
_FLOAT_FIELDS = ("all_model_checkpoint_timestamps", "last_preserved_timestamp")
_LINE_RE = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([-+0-9.eEinfa]+))\s*$')


class CheckpointState:
    """The contents of a `checkpoint` state file (TF's CheckpointState proto fields)."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def to_text(self):
        """The text-format proto, as written to the state file."""
        lines = [f'model_checkpoint_path: "{_escape(self.model_checkpoint_path)}"']
        lines += [f'all_model_checkpoint_paths: "{_escape(p)}"'
                  for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {t!r}"
                  for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {self.last_preserved_timestamp!r}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text):
        """Parses a state file's text; ValueError naming the bad line."""
        state = cls()
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LINE_RE.match(line)
            if not match:
                raise ValueError(f"line {number}: cannot parse {line!r}")
            field, quoted, number_text = match.groups()
            _set_field(state, field, quoted, number_text, number)
        return state

    def __eq__(self, other):
        return isinstance(other, CheckpointState) and vars(self) == vars(other)

    def __repr__(self):
        return self.to_text()

    __str__ = __repr__


def _set_field(state, field, quoted, number_text, line_number):
    if field in _STRING_FIELDS and quoted is not None:
        value = codecs.escape_decode(quoted.encode("utf-8"))[0].decode("utf-8")
        if field == "model_checkpoint_path":
            state.model_checkpoint_path = value
        else:
            state.all_model_checkpoint_paths.append(value)
    elif field in _FLOAT_FIELDS and number_text is not None:
        if field == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(number_text)
        else:
            state.all_model_checkpoint_timestamps.append(float(number_text))
    elif field in _STRING_FIELDS + _FLOAT_FIELDS:
        raise ValueError(f"line {line_number}: field {field} has a value of the wrong kind")
    # Unknown fields are skipped, as newer writers may add some.


def _escape(text):
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return "".join(out)


def _state_path(save_dir, latest_filename):
    return os.path.join(save_dir, latest_filename or _STATE_FILE)


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                    all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None,
                                    last_preserved_timestamp=None):
    """A CheckpointState whose path list ends with `model_checkpoint_path`.

    When `save_dir` is relative, relative paths are rewritten relative to it (as TensorFlow
    does): `save/model.ckpt-1` in `save` is stored as `model.ckpt-1`, which
    `get_checkpoint_state("save")` joins back to `save/model.ckpt-1`.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if save_dir and not _isabs(save_dir):
        model_checkpoint_path = _relative_to_dir(model_checkpoint_path, save_dir)
        paths = [_relative_to_dir(p, save_dir) for p in paths]
    return CheckpointState(model_checkpoint_path, paths, all_model_checkpoint_timestamps or (),
                           last_preserved_timestamp or 0.0)


def _relative_to_dir(path, save_dir):
    return path if _isabs(path) else os.path.relpath(path, save_dir)


def _isabs(path):
    return gfile.is_url(path) or os.path.isabs(path)


def _abspath(path):
    return path if gfile.is_url(path) else os.path.abspath(path)


def _relative(path, save_dir):
    if gfile.is_url(path):
        base = save_dir.rstrip("/") + "/"
        return path[len(base):] if path.startswith(base) else path
    if os.path.isabs(path):
        return os.path.relpath(path, os.path.abspath(save_dir))
    return path


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=False):
    """Atomically rewrites the state file in `save_dir`."""
    state = generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                            all_model_checkpoint_paths,
                                            all_model_checkpoint_timestamps,
                                            last_preserved_timestamp)
    if save_relative_paths:
        state.model_checkpoint_path = _relative(state.model_checkpoint_path, save_dir)
        state.all_model_checkpoint_paths = [_relative(p, save_dir)
                                            for p in state.all_model_checkpoint_paths]
    path = _state_path(save_dir, latest_filename)
    if _abspath(path) == _abspath(model_checkpoint_path):
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for "
                           "checkpoint state. Please use a different save path.")
    if save_dir:
        gfile.MakeDirs(save_dir)
    tensor_bundle.write_atomically(path, state.to_text().encode("utf-8"))


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState in `checkpoint_dir`, or None if there is no (readable) state file.

    Relative paths in the file are returned joined to `checkpoint_dir`.
    """
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with gfile.GFile(path, "rb") as f:
            state = CheckpointState.from_text(f.read().decode("utf-8"))
    except (FileNotFoundError, gfile.errors.NotFoundError):
        return None
    except gfile.errors.OpError as e:
        logging.warning("%s: Checkpoint ignored: %s", path, e.message)
        return None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        logging.warning("%s: Checkpoint ignored: %s", path, e)
        return None
    if not state.model_checkpoint_path:
        logging.warning("%s: Checkpoint ignored: no model_checkpoint_path", path)
        return None
    state.model_checkpoint_path = _absolute(state.model_checkpoint_path, checkpoint_dir)
    state.all_model_checkpoint_paths = [_absolute(p, checkpoint_dir)
                                        for p in state.all_model_checkpoint_paths]
    return state


def _absolute(path, directory):
    return path if _isabs(path) else os.path.join(directory, path)


def checkpoint_exists(checkpoint_prefix):
    """Whether a V2 (`prefix.index`) or V1 (file `prefix`, or shards matching the pattern
    `prefix-?????-of-N`) checkpoint exists."""
    prefix = str(checkpoint_prefix)
    return (_isfile(tensor_bundle.index_filename(prefix)) or _isfile(prefix)
            or bool(tensor_slice_v1.matching_files(prefix)))


def _isfile(path):
    if gfile.is_url(path):
        return gfile.Exists(path) and not gfile.IsDirectory(path)
    return os.path.isfile(path)


def get_checkpoint_mtimes(checkpoint_prefixes):
    """Modification times (seconds) of the given checkpoints that exist."""
    times = []
    for prefix in checkpoint_prefixes:
        paths = [tensor_bundle.index_filename(prefix), prefix]
        for path in paths + tensor_slice_v1.matching_files(prefix):
            if _isfile(path):
                times.append(gfile.Stat(path).mtime_nsec / 1e9)
                break
    return times


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in `checkpoint_dir`, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        logging.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


# ---- readers ------------------------------------------------------------------------------------
class CheckpointReader:
    """Reads tensors from a V2 or V1 checkpoint (tf.train.NewCheckpointReader's object)."""

    def __init__(self, filepattern):
        prefix = _prefix_of(filepattern)
        if tensor_slice_v1.is_v1_checkpoint(prefix):
            self._reader = tensor_slice_v1.V1Reader(prefix)
        else:
            self._reader = tensor_bundle.BundleReader(prefix)

    def get_tensor(self, tensor_str):
        """The saved value of `tensor_str` as a NumPy array."""
        return self._reader.lookup(_strip_output(tensor_str))

    def has_tensor(self, tensor_str):
        return self._reader.has_tensor(_strip_output(tensor_str))

    def get_variable_to_shape_map(self):
        """{name: [dims]} for every saved tensor."""
        return {n: self._reader.shape(n) for n in self._reader.tensor_names()}

    def get_variable_to_dtype_map(self):
        """{name: DType} for every saved tensor."""
        return {n: self._reader.dtype(n) for n in self._reader.tensor_names()}

    def debug_string(self):
        """One line per tensor, `name (DT_FLOAT) [2,3]`, as bytes."""
        lines = []
        for name in self._reader.tensor_names():
            dtype = protos.types_pb2.DataType.Name(self._reader.dtype(name).as_datatype_enum)
            dims = ",".join(str(d) for d in self._reader.shape(name))
            lines.append(f"{name} ({dtype}) [{dims}]\n")
        return "".join(lines).encode("utf-8")


def _prefix_of(filepattern):
    """Accepts a prefix or the path of its `.index` file."""
    text = str(filepattern)
    if text.endswith(".index") and _isfile(text):
        return text[:-len(".index")]
    return text


def _strip_output(name):
    return name[:-2] if name.endswith(":0") else name


def NewCheckpointReader(filepattern):  # noqa: N802 (TensorFlow's name)
    """A CheckpointReader for the checkpoint `filepattern` (a prefix)."""
    return CheckpointReader(filepattern)


def _checkpoint_prefix(ckpt_dir_or_file):
    path = str(ckpt_dir_or_file)
    if gfile.IsDirectory(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


def load_checkpoint(ckpt_dir_or_file):
    """A CheckpointReader for a checkpoint prefix, or for the newest checkpoint in a directory."""
    return CheckpointReader(_checkpoint_prefix(ckpt_dir_or_file))


def load_variable(ckpt_dir_or_file, name):
    """The saved value of variable `name`."""
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file):
    """Sorted [(name, shape)] of the tensors in a checkpoint."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return sorted(shapes.items())

