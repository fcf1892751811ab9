"""tf.saved_model.loader: loads a SavedModel's meta graph into a session and restores its
variables (TF 1.0's `load`, with its `legacy_init_op`/`main_op` and assets)."""
import os

from google.protobuf import text_format

from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.platform import gfile
from tensorflux.platform import tf_logging as logging
from tensorflux.saved_model import constants
from tensorflux.saved_model import saved_model_pb
from tensorflux.training import saver as saver_lib


def _join(*parts):
    return "/".join([parts[0].rstrip("/")] + list(parts[1:])) if gfile.is_url(parts[0]) \
        else os.path.join(*parts)


def _parse_saved_model(export_dir):
    """The SavedModel proto in `export_dir` (saved_model.pb, else saved_model.pbtxt)."""
    pb = _join(export_dir, constants.SAVED_MODEL_FILENAME_PB)
    pbtxt = _join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
    saved_model = saved_model_pb.SavedModel()
    if gfile.Exists(pb):
        with gfile.GFile(pb, "rb") as f:
            data = f.read()
        try:
            saved_model.ParseFromString(data)
        except Exception as e:  # noqa: BLE001 - protobuf's DecodeError varies by backend
            raise IOError("Cannot parse file %s: %s." % (pb, e)) from e
    elif gfile.Exists(pbtxt):
        with gfile.GFile(pbtxt, "r") as f:
            text_format.Merge(f.read(), saved_model)
    else:
        raise IOError("SavedModel file does not exist at: %s/{%s|%s}"
                      % (export_dir, constants.SAVED_MODEL_FILENAME_PBTXT,
                         constants.SAVED_MODEL_FILENAME_PB))
    return saved_model


def maybe_saved_model_directory(export_dir):
    """Whether `export_dir` holds a saved_model.pb or saved_model.pbtxt."""
    return (gfile.Exists(_join(export_dir, constants.SAVED_MODEL_FILENAME_PB))
            or gfile.Exists(_join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)))


def _meta_graph_for(saved_model, tags):
    for meta in saved_model.meta_graphs:
        if set(meta.meta_info_def.tags) == set(tags):
            return meta
    available = [sorted(m.meta_info_def.tags) for m in saved_model.meta_graphs]
    raise RuntimeError("MetaGraphDef associated with tags " + str(tags).strip("[]")
                       + " could not be found in SavedModel. To inspect available tag-sets in "
                       "the SavedModel, please use the SavedModel CLI: `saved_model_cli` "
                       "(tag-sets here: %s)" % available)


def _asset_feeds(export_dir, meta, import_scope):
    """{asset tensor name: path of the file under export_dir/assets}."""
    feeds = {}
    # By bytes, not Any.Unpack: the packed type is tensorflow.AssetFileDef, ours is named
    # tensorboard.AssetFileDef (the same fields).
    assets = [protos.AssetFileDef.FromString(packed.value) for packed in
              meta.collection_def[constants.ASSETS_KEY].any_list.value]
    for asset in list(assets) + list(meta.asset_file_def):
        name = asset.tensor_info.name
        if import_scope:
            name = import_scope + "/" + name
        feeds[name] = _join(export_dir, constants.ASSETS_DIRECTORY, asset.filename)
    return feeds


def _init_op():
    for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
        found = ops.get_collection(key)
        if len(found) > 1:
            raise RuntimeError("Expected exactly one SavedModel %s." % key)
        if found:
            return found[0]
    return None


def load(sess, tags, export_dir, import_scope=None, allowed_ops=None, **saver_kwargs):
    """Loads the meta graph tagged `tags` from `export_dir` into `sess`'s graph, restores its
    variables and runs its main_op (or legacy_init_op); returns the MetaGraphDef.

    Loading runs ops the SavedModel names (its restore op, main_op): for one from an untrusted
    source pass `allowed_ops` (e.g. importer.SAFE_OPS | importer.SAVER_OPS); a graph using
    other op types is then refused with PermissionDeniedError before anything is imported or
    run (tensorflux.framework.importer, SECURITY.md).

    Raises:
      RuntimeError: if no meta graph has exactly these tags.
      IOError: if there is no SavedModel in `export_dir`.
    """
    export_dir = str(export_dir)
    meta = _meta_graph_for(_parse_saved_model(export_dir), tags)
    with sess.graph.as_default():
        saver = saver_lib.import_meta_graph(meta, import_scope=import_scope,
                                            allowed_ops=allowed_ops, **saver_kwargs)
        variables_path = _join(export_dir, constants.VARIABLES_DIRECTORY,
                               constants.VARIABLES_FILENAME)
        if saver is not None and gfile.Exists(variables_path + ".index"):
            saver.restore(sess, variables_path)
        else:
            logging.info("The specified SavedModel has no variables; no checkpoints were "
                         "restored.")
        init_op = _init_op()
        if init_op is not None:
            sess.run(fetches=[init_op], feed_dict=_asset_feeds(export_dir, meta, import_scope))
    return meta
