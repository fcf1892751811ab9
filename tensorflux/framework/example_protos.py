"""tf.train.Example and friends, built at import time from descriptors.

The messages are declared with TensorFlow's package, message names and field numbers
(tensorflow/core/example/feature.proto and example.proto), so their serialized bytes are
TensorFlow's: an Example written here parses in TensorFlow and the other way round. They live
in a private descriptor pool, so they never clash with another copy of these files.

    example = Example(features=Features(feature={
        "label": Feature(int64_list=Int64List(value=[3])),
        "image": Feature(bytes_list=BytesList(value=[raw]))}))
"""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = [
    "BytesList",
    "Example",
    "Feature",
    "FeatureList",
    "FeatureLists",
    "Features",
    "FloatList",
    "Int64List",
    "SequenceExample",
]

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "tensorflow"


def _field(message, name, number, kind, label=_F.LABEL_OPTIONAL, type_name=None,
           packed=False, oneof_index=None):
    field = message.field.add(name=name, number=number, type=kind, label=label,
                              json_name=_camel(name))
    if type_name is not None:
        field.type_name = type_name
    if packed:
        field.options.packed = True
    if oneof_index is not None:
        field.oneof_index = oneof_index
    return field


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _list_message(file, name, kind, packed):
    message = file.message_type.add(name=name)
    _field(message, "value", 1, kind, _F.LABEL_REPEATED, packed=packed)


def _map_field(message, name, value_type):
    """A proto3 map<string, value_type> field `name` = 1 with its nested entry message."""
    entry_name = _camel(name)[0].upper() + _camel(name)[1:] + "Entry"
    entry = message.nested_type.add(name=entry_name)
    entry.options.map_entry = True
    _field(entry, "key", 1, _F.TYPE_STRING)
    _field(entry, "value", 2, _F.TYPE_MESSAGE, type_name=value_type)
    _field(message, name, 1, _F.TYPE_MESSAGE, _F.LABEL_REPEATED,
           type_name=f".{_PACKAGE}.{message.name}.{entry_name}")


def _feature_file():
    file = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/feature.proto",
                                              package=_PACKAGE, syntax="proto3")
    _list_message(file, "BytesList", _F.TYPE_BYTES, packed=False)
    _list_message(file, "FloatList", _F.TYPE_FLOAT, packed=True)
    _list_message(file, "Int64List", _F.TYPE_INT64, packed=True)
    feature = file.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, (field, kind) in enumerate((("bytes_list", "BytesList"),
                                            ("float_list", "FloatList"),
                                            ("int64_list", "Int64List")), 1):
        _field(feature, field, number, _F.TYPE_MESSAGE, type_name=f".{_PACKAGE}.{kind}",
               oneof_index=0)
    _map_field(file.message_type.add(name="Features"), "feature", f".{_PACKAGE}.Feature")
    feature_list = file.message_type.add(name="FeatureList")
    _field(feature_list, "feature", 1, _F.TYPE_MESSAGE, _F.LABEL_REPEATED,
           type_name=f".{_PACKAGE}.Feature")
    _map_field(file.message_type.add(name="FeatureLists"), "feature_list",
               f".{_PACKAGE}.FeatureList")
    return file


def _example_file():
    file = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/example.proto",
                                              package=_PACKAGE, syntax="proto3",
                                              dependency=["tensorflow/core/example/feature.proto"])
    example = file.message_type.add(name="Example")
    _field(example, "features", 1, _F.TYPE_MESSAGE, type_name=f".{_PACKAGE}.Features")
    sequence = file.message_type.add(name="SequenceExample")
    _field(sequence, "context", 1, _F.TYPE_MESSAGE, type_name=f".{_PACKAGE}.Features")
    _field(sequence, "feature_lists", 2, _F.TYPE_MESSAGE,
           type_name=f".{_PACKAGE}.FeatureLists")
    return file


def _build():
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_feature_file())
    pool.Add(_example_file())
    names = __all__
    descriptors = [pool.FindMessageTypeByName(f"{_PACKAGE}.{n}") for n in names]
    if hasattr(message_factory, "GetMessageClass"):
        classes = [message_factory.GetMessageClass(d) for d in descriptors]
    else:  # protobuf < 4.21
        factory = message_factory.MessageFactory(pool)
        classes = [factory.GetPrototype(d) for d in descriptors]
    return dict(zip(names, classes))


_CLASSES = _build()
BytesList = _CLASSES["BytesList"]
FloatList = _CLASSES["FloatList"]
Int64List = _CLASSES["Int64List"]
Feature = _CLASSES["Feature"]
Features = _CLASSES["Features"]
FeatureList = _CLASSES["FeatureList"]
FeatureLists = _CLASSES["FeatureLists"]
Example = _CLASSES["Example"]
SequenceExample = _CLASSES["SequenceExample"]
