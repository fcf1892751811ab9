"""tf.saved_model.builder: TF 1.0's SavedModelBuilder.

    export_dir/
      saved_model.pb            a SavedModel proto: one MetaGraphDef per tag set, each with its
                                SignatureDefs, SaverDef and collections
      variables/variables.index, variables/variables.data-00000-of-00001   (a V2 checkpoint)
      assets/                   files named by the asset tensors, copied here

The variables are written once, with the first meta graph; later meta graphs share them.
Everything goes through gfile, so export_dir may be any fsspec URL.
"""
import os

from google.protobuf import text_format

from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.ops import variables
from tensorflux.platform import gfile
from tensorflux.platform import tf_logging as logging
from tensorflux.saved_model import constants
from tensorflux.saved_model import saved_model_pb
from tensorflux.saved_model import utils
from tensorflux.training import saver as saver_lib


ASSET_TYPE_URL = "type.googleapis.com/tensorflow.AssetFileDef"


def _join(*parts):
    return "/".join([parts[0].rstrip("/")] + list(parts[1:])) if gfile.is_url(parts[0]) \
        else os.path.join(*parts)


class SavedModelBuilder:
    """Builds a SavedModel in `export_dir`, which must not exist yet."""

    def __init__(self, export_dir):
        self._export_dir = str(export_dir)
        if gfile.Exists(self._export_dir):
            raise AssertionError("Export directory already exists. Please specify a different "
                                 "export directory: %s" % self._export_dir)
        gfile.MakeDirs(self._export_dir)
        self._saved_model = saved_model_pb.SavedModel(
            saved_model_schema_version=constants.SAVED_MODEL_SCHEMA_VERSION)
        self._has_saved_variables = False

    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None,
                                     assets_collection=None, legacy_init_op=None,
                                     clear_devices=False, main_op=None):
        """Saves the session's variables and the default graph as the meta graph for `tags`."""
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been "
                                 "saved. Please invoke `add_meta_graph()` instead.")
        _check_signatures(signature_def_map)
        self._add_init_op(legacy_init_op, main_op)
        variables_dir = _join(self._export_dir, constants.VARIABLES_DIRECTORY)
        gfile.MakeDirs(variables_dir)
        saver = _saver()
        saver.save(sess, _join(variables_dir, constants.VARIABLES_FILENAME),
                   write_meta_graph=False, write_state=False)
        self._add_meta_graph(saver, tags, signature_def_map, assets_collection, clear_devices)
        self._has_saved_variables = True

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None,
                       legacy_init_op=None, clear_devices=False, main_op=None):
        """Adds the default graph as the meta graph for `tags`, sharing the saved variables."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been "
                                 "saved yet. Please invoke `add_meta_graph_and_variables()` "
                                 "first.")
        _check_signatures(signature_def_map)
        self._add_init_op(legacy_init_op, main_op)
        self._add_meta_graph(_saver(), tags, signature_def_map, assets_collection, clear_devices)

    def save(self, as_text=False):
        """Writes saved_model.pb (or .pbtxt); returns its path, as bytes (as TF 1.0 does)."""
        if as_text:
            path = _join(self._export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
            data = text_format.MessageToString(self._saved_model).encode("utf-8")
        else:
            path = _join(self._export_dir, constants.SAVED_MODEL_FILENAME_PB)
            data = self._saved_model.SerializeToString()
        with gfile.GFile(path, "wb") as f:
            f.write(data)
        logging.info("SavedModel written to: %s", path)
        return path.encode("utf-8")

    # -- helpers --------------------------------------------------------------------------
    def _add_init_op(self, legacy_init_op, main_op):
        key, op = ((constants.MAIN_OP_KEY, main_op) if main_op is not None
                   else (constants.LEGACY_INIT_OP_KEY, legacy_init_op))
        if op is None:
            return
        graph = ops.get_default_graph()
        if graph.get_collection(key):
            raise ValueError("Graph already contains one or more %s ops under the collection "
                             "%s." % (key.replace("saved_model_", ""), key))
        if not isinstance(op, ops.Operation):
            raise TypeError("%s needs to be an Operation: %r" % (key, op))
        graph.add_to_collection(key, op)

    def _add_meta_graph(self, saver, tags, signature_def_map, assets_collection, clear_devices):
        meta = saver.export_meta_graph(clear_devices=clear_devices)
        meta.meta_info_def.tags.extend(tags)
        for key, signature in (signature_def_map or {}).items():
            meta.signature_def[key].CopyFrom(signature)
        self._add_assets(meta, assets_collection)
        self._saved_model.meta_graphs.add().CopyFrom(meta)

    def _add_assets(self, meta, assets_collection):
        """Copies each asset file to assets/ and records it as an AssetFileDef (packed in Any,
        as TF writes it) under the saved_model_assets collection."""
        if not assets_collection:
            return
        assets_dir = _join(self._export_dir, constants.ASSETS_DIRECTORY)
        gfile.MakeDirs(assets_dir)
        for tensor in assets_collection:
            source = _constant_string(tensor)
            name = os.path.basename(source)
            destination = _join(assets_dir, name)
            if not gfile.Exists(destination):
                gfile.Copy(source, destination)
            asset = protos.AssetFileDef(filename=name,
                                        tensor_info=utils.build_tensor_info(tensor))
            packed = meta.collection_def[constants.ASSETS_KEY].any_list.value.add()
            packed.type_url = ASSET_TYPE_URL  # TF's message name, which its loader unpacks
            packed.value = asset.SerializeToString()


def _constant_string(tensor):
    if tensor.op.type != "Const":
        raise ValueError("Asset tensors must be string constants (file paths): %s" % tensor.name)
    raw = tensor.op.get_attr("value").item()
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def _saver():
    saveables = variables.global_variables() + ops.get_collection(
        ops.GraphKeys.SAVEABLE_OBJECTS)
    return saver_lib.Saver(saveables or None, sharded=True, allow_empty=True,
                           write_version=saver_lib.V2)


def _check_signatures(signature_def_map):
    for key, signature in (signature_def_map or {}).items():
        if not isinstance(signature, protos.SignatureDef):
            raise TypeError("signature_def_map[%r] must be a SignatureDef, got %r"
                            % (key, type(signature).__name__))
