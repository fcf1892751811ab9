"""The `SavedModel` message of TensorFlow's saved_model.proto, which the tensorboard package
does not ship: built here at import time from its documented fields, so its bytes are TF's.

    message SavedModel {
      int64 saved_model_schema_version = 1;
      repeated MetaGraphDef meta_graphs = 2;
    }
"""
from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message_factory

from tensorflux.framework import protos

_PACKAGE = "tensorflux.saved_model"


def _build():
    meta = protos.MetaGraphDef.DESCRIPTOR
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflux/saved_model/saved_model.proto", package=_PACKAGE, syntax="proto3")
    file_proto.dependency.append(meta.file.name)
    field = descriptor_pb2.FieldDescriptorProto
    message = file_proto.message_type.add(name="SavedModel")
    message.field.add(name="saved_model_schema_version", number=1, type=field.TYPE_INT64,
                      label=field.LABEL_OPTIONAL)
    message.field.add(name="meta_graphs", number=2, type=field.TYPE_MESSAGE,
                      type_name="." + meta.full_name, label=field.LABEL_REPEATED)
    pool = descriptor_pool.Default()
    try:
        pool.Add(file_proto)
    except TypeError:  # already added (module reloaded)
        pass
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(_PACKAGE + ".SavedModel"))


SavedModel = _build()
