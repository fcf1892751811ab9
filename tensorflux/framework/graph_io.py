"""tf.train.write_graph: a Graph or GraphDef written to a file, atomically."""
import os

from google.protobuf import text_format

from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.platform import gfile


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Writes a GraphDef to `logdir/name` (text format by default) and returns the path.

    The file is replaced atomically: readers see the old file or the new one, never a part.

    Args:
      graph_or_graph_def: a tf.Graph or a GraphDef proto.
      logdir: the directory (created if missing; a gs:// style path is not supported).
      name: the file name.
      as_text: True for protobuf text format, False for binary.

    Returns:
      The path written.

    Raises:
      TypeError: for anything but a Graph or GraphDef.
    """
    if isinstance(graph_or_graph_def, ops.Graph):
        graph_def = graph_or_graph_def.as_graph_def()
    elif isinstance(graph_or_graph_def, protos.GraphDef):
        graph_def = graph_or_graph_def
    else:
        raise TypeError(f"write_graph expects a tf.Graph or GraphDef, got "
                        f"{type(graph_or_graph_def).__name__}")
    if not gfile.IsDirectory(logdir):
        gfile.MakeDirs(logdir)
    path = os.path.join(logdir, name)
    if as_text:
        with gfile.GFile(path, "w") as f:
            f.write(text_format.MessageToString(graph_def))
    else:
        with gfile.GFile(path, "wb") as f:
            f.write(graph_def.SerializeToString())
    return path
