"""tf.train.write_graph: text and binary GraphDefs, written atomically."""
import os

import pytest
from google.protobuf import text_format

import tensorflux as tf
from tensorflux.framework import graph_io
from tensorflux.framework import protos


def test_write_graph_text_and_binary(tmp_path):
    with tf.Graph().as_default() as graph:
        tf.constant(1.0, name="c")
    path = graph_io.write_graph(graph, str(tmp_path / "new_dir"), "g.pbtxt")
    assert path == os.path.join(str(tmp_path / "new_dir"), "g.pbtxt")
    parsed = text_format.Parse(open(path).read(), protos.GraphDef())
    assert [n.name for n in parsed.node] == ["c"]
    binary = graph_io.write_graph(graph.as_graph_def(), str(tmp_path), "g.pb", as_text=False)
    assert protos.GraphDef.FromString(open(binary, "rb").read()) == graph.as_graph_def()
    graph_io.write_graph(protos.GraphDef(), str(tmp_path), "g.pb", as_text=False)  # replaces
    assert protos.GraphDef.FromString(open(binary, "rb").read()) == protos.GraphDef()
    assert sorted(os.listdir(tmp_path)) == ["g.pb", "new_dir"]  # no temporary files left


def test_write_graph_refuses_other_objects(tmp_path):
    with pytest.raises(TypeError, match="tf.Graph or GraphDef"):
        graph_io.write_graph("not a graph", str(tmp_path), "x")
