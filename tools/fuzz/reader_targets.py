"""The readers tools/fuzz/readers.py mutates: how each writes its valid file with tensorflux,
reads it back, forges length-field lies, and what a structurally valid result is.

A target's `read(workdir)` returns plain data (lists, dicts, arrays, bytes) so that results
compare with `readers.same`. `checksummed` says whether the format has checksums over every
byte that matters (then a silently different result is a failure); `lie(name, data, rng)`
returns (bytes, forged) where forged means the checksums were recomputed over the lie.
"""
import gzip
import os
import struct
import zlib

import numpy as np
from google.protobuf import message as protobuf_message

import readers
import tensorflux as tf
from tensorflux.distributed import wire
from tensorflux.examples.tutorials.mnist import input_data
from tensorflux.lib.io import table
from tensorflux.lib.io import tensor_bundle as tb
from tensorflux.lib.io import tensor_slice_v1
from tensorflux.lib.io import tf_record
from tensorflux.models.image.cifar10 import cifar10_input


class Target:
    """One reader under test. Subclasses set name, family, checksummed and define make/read."""
    name = family = ""
    checksummed = False
    prefix_ok = False  # a truncation may return a prefix of the records (TFRecord's clean end)
    api_errors = ()  # non-OpError classes TF's own API raises for this reader

    def make(self, workdir):
        """Writes the valid files into workdir; returns {file name: bytes}."""
        raise NotImplementedError

    def read(self, workdir):
        raise NotImplementedError

    def check(self, result):
        """None when `result` is structurally valid, else what is wrong."""
        return None

    def lie(self, name, data, rng):
        """A length-field lie in file `name`: (bytes, forged)."""
        width = rng.choice((4, 8))
        pos = rng.randrange(max(len(data) - width, 0) + 1)
        value = readers.interesting_int(rng, width).to_bytes(width, rng.choice(("little", "big")))
        return data[:pos] + value + data[pos + width:], False

    def proto_rejected(self, exc):
        return False


def _files(workdir, *names):
    out = {}
    for name in names:
        with open(os.path.join(workdir, name), "rb") as f:
            out[name] = f.read()
    return out


def _huge(rng):
    return rng.choice((2**63, 2**64 - 1, 2**63 - 1, 10**12, 2**32, 2**31, 2**32 - 1))


# ---- TFRecord and event files -------------------------------------------------------------------
def _record_offsets(stream):
    offsets, pos = [], 0
    while pos + 12 <= len(stream):
        offsets.append(pos)
        (length,) = struct.unpack_from("<Q", stream, pos)
        pos += 16 + length
    return offsets


def _lie_in_records(stream, rng):
    """A record's length replaced, with its length CRC forged so the lie is believed; or a
    record's data replaced by junk with both CRCs forged (the parser behind gets junk)."""
    pos = rng.choice(_record_offsets(stream))
    (length,) = struct.unpack_from("<Q", stream, pos)
    if rng.random() < 0.3:
        junk = bytearray(stream[pos + 12:pos + 12 + length])
        for _ in range(rng.randint(1, 4)):
            if junk:
                junk[rng.randrange(len(junk))] = rng.randrange(256)
        junk += rng.randbytes(rng.choice((0, 0, 1, 5)))
        return stream[:pos] + tf_record.encode_record(bytes(junk)) + stream[pos + 16 + length:]
    value = rng.choice((_huge(rng), length + 1, max(length - 1, 0), 0, length + 4))
    field = struct.pack("<Q", value & (2**64 - 1))
    head = field + struct.pack("<I", tf_record.masked_crc32c(field))
    return stream[:pos] + head + stream[pos + 12:]


class TFRecordTarget(Target):
    family = "tfrecord"
    checksummed = prefix_ok = True

    def __init__(self, compression=""):
        self.compression = compression
        self.name = "tfrecord" + (f"_{compression.lower()}" if compression else "")
        self.file = "data.tfrecord"

    def make(self, workdir):
        rng = np.random.RandomState(1)
        with tf.python_io.TFRecordWriter(os.path.join(workdir, self.file),
                                         self.compression or None) as writer:
            for n in (1, 7, 30, 3, 120):
                writer.write(rng.bytes(n))
        return _files(workdir, self.file)

    def read(self, workdir):
        path = os.path.join(workdir, self.file)
        return list(tf.python_io.tf_record_iterator(path, self.compression or None))

    def lie(self, name, data, rng):
        if self.compression == "GZIP":
            return gzip.compress(_lie_in_records(gzip.decompress(data), rng)), True
        if self.compression == "ZLIB":
            return zlib.compress(_lie_in_records(zlib.decompress(data), rng)), True
        return _lie_in_records(data, rng), True


class TFRecordReaderTarget(TFRecordTarget):
    """tf.TFRecordReader reading the file through a filename queue, in a session."""

    def __init__(self):
        super().__init__()
        self.name = "tfrecord_reader_op"
        self._graph = self._workdir = None

    def _build(self, workdir):
        self._graph = tf.Graph()
        with self._graph.as_default():
            queue = tf.FIFOQueue(1, tf.string)
            self._enqueue = queue.enqueue([os.path.join(workdir, self.file)])
            self._close = queue.close()
            _, self._value = tf.TFRecordReader().read(queue)

    def read(self, workdir):
        if self._graph is None or self._workdir != workdir:  # the file's path is in the graph
            self._workdir = workdir
            self._build(workdir)
        out = []
        with tf.Session(graph=self._graph) as sess:
            sess.run(self._enqueue)
            sess.run(self._close)
            try:
                while True:
                    out.append(sess.run(self._value))
            except tf.errors.OutOfRangeError:
                return out


class EventFileTarget(Target):
    name = "events"
    family = "tfrecord"
    checksummed = prefix_ok = True
    file = "events.out.tfevents"

    def make(self, workdir):
        logdir = os.path.join(workdir, "run")
        writer = tf.summary.FileWriter(logdir)
        for step in range(4):
            value = tf.Summary.Value(tag="loss", simple_value=1.0 / (step + 1))
            writer.add_summary(tf.Summary(value=[value]), global_step=step)
        writer.close()
        (written,) = os.listdir(logdir)
        os.rename(os.path.join(logdir, written), os.path.join(workdir, self.file))
        os.rmdir(logdir)
        return _files(workdir, self.file)

    def read(self, workdir):
        return [e.SerializeToString(deterministic=True)
                for e in tf.train.summary_iterator(os.path.join(workdir, self.file))]

    def lie(self, name, data, rng):
        return _lie_in_records(data, rng), True


# ---- checkpoints --------------------------------------------------------------------------------
def _checkpoint_values():
    rng = np.random.RandomState(2)
    return {"w": rng.randn(3, 4).astype(np.float32), "step": np.array(17, np.int64),
            "names": np.array([b"a", b"bcd", b""], dtype=object),
            "b": rng.randn(5).astype(np.float64), "half": rng.randn(2, 2).astype(np.float16)}


def _read_checkpoint(prefix):
    reader = tf.train.NewCheckpointReader(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    return {name: (dtypes[name].name, list(shapes[name]), reader.get_tensor(name))
            for name in sorted(shapes)}


def _check_checkpoint(result):
    for name, (_, shape, value) in result.items():
        if list(np.shape(value)) != shape:
            return f"{name}: value of shape {list(np.shape(value))}, map says {shape}"
    return None


def _forge_table(data, rng, lie_value):
    """The table `data` rebuilt (valid block CRCs) with one entry's value replaced."""
    items = list(table.Table(data).items())
    i = rng.randrange(len(items))
    items[i] = (items[i][0], lie_value(items[i][0], items[i][1], rng))
    return table.build_table(items)


def _lie_entry(key, value, rng):
    if key == b"":
        header = tb.BundleHeader.parse(value)
        header.num_shards = rng.choice((0, -1, 2, 2**31 - 1))
        return header.serialize()
    entry = tb.BundleEntry.parse(value)
    field = rng.choice(("shape", "offset", "size", "dtype", "shard_id", "slices"))
    if field == "shape":
        entry.shape = rng.choice(([10**6, 10**6], [2**62], [10**12], [0], list(entry.shape)[::-1],
                                  [2**31, 2**31, 4]))
    elif field == "slices":
        entry.slices = [tb.TensorSlice([(0, -1)] * len(entry.shape) + [(0, 2**40)])]
    else:
        setattr(entry, field, rng.choice((_huge(rng) % 2**63, 2**31 - 1, 1, 3, 1000)))
    return entry.serialize()


class CheckpointV2Target(Target):
    name = "checkpoint_v2"
    family = "checkpoint"
    checksummed = True
    index, data = "model.ckpt.index", "model.ckpt.data-00000-of-00001"

    def make(self, workdir):
        writer = tb.BundleWriter(os.path.join(workdir, "model.ckpt"))
        for name, value in _checkpoint_values().items():
            writer.add(name, value)
        writer.finish()
        return _files(workdir, self.index, self.data)

    def read(self, workdir):
        return _read_checkpoint(os.path.join(workdir, "model.ckpt"))

    check = staticmethod(_check_checkpoint)

    def lie(self, name, data, rng):
        if name == self.data or rng.random() < 0.2:  # the footer's index handle: no CRC
            pos = len(data) - table.FOOTER_SIZE + rng.randrange(4)
            return data[:pos] + table.put_varint(_huge(rng) % 2**63) + data[pos + 10:], False
        return _forge_table(data, rng, _lie_entry), True


def _lie_v1(key, value, rng):
    """The meta entry with a tensor's shape enlarged (data entries get a flipped bit)."""
    if key != b"":
        return value[:-1] + bytes([value[-1] ^ 1]) if value else value
    meta = tensor_slice_v1._parse_meta(value)
    name = rng.choice(sorted(meta))
    dtype, _, slices = meta[name]
    meta[name] = (dtype, rng.choice(([10**6, 10**6], [10**12], [2**62, 4], [4, 3])), slices)
    return tensor_slice_v1._meta_bytes(meta)


class CheckpointV1Target(Target):
    name = "checkpoint_v1"
    family = "checkpoint"
    checksummed = True
    file = "model.ckpt-v1"

    def make(self, workdir):
        writer = tensor_slice_v1.V1Writer(os.path.join(workdir, self.file))
        for name, value in _checkpoint_values().items():
            writer.add(name, value)
        writer.finish()
        return _files(workdir, self.file)

    def read(self, workdir):
        return _read_checkpoint(os.path.join(workdir, self.file))

    check = staticmethod(_check_checkpoint)

    def lie(self, name, data, rng):
        return _forge_table(data, rng, _lie_v1), True


# ---- GraphDef and MetaGraphDef ------------------------------------------------------------------
def _small_graph():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
        y = tf.nn.relu(tf.matmul(x, w) + tf.constant([1.0, -1.0]), name="y")
        tf.reduce_sum(y, name="total")
        tf.constant(["a", "bc"], name="strings")
        tf.train.Saver()
    return graph


def _graph_summary(graph):
    return sorted((op.name, op.type, [t.name for t in op.inputs]) for op in
                  graph.get_operations())


class MetaGraphTarget(Target):
    family = "graphdef"
    # TF's import_meta_graph/import_graph_def raise these; KeyError (TF's words) when a
    # collection names a tensor the graph does not have
    api_errors = (ValueError, TypeError, IOError, KeyError)

    def __init__(self, as_text):
        self.as_text = as_text
        self.name = "meta_graph_" + ("text" if as_text else "binary")
        self.file = "model.meta" + ("txt" if as_text else "")

    def make(self, workdir):
        with _small_graph().as_default():
            tf.train.export_meta_graph(os.path.join(workdir, self.file), as_text=self.as_text)
        return _files(workdir, self.file)

    def read(self, workdir):
        graph = tf.Graph()
        with graph.as_default():
            tf.train.import_meta_graph(os.path.join(workdir, self.file))
        return _graph_summary(graph)

    def lie(self, name, data, rng):
        if self.as_text:
            pos = rng.randrange(len(data))
            digits = data.find(b"size: ", pos)
            if digits >= 0:  # a dimension or tensor size in the text claims far more
                return data[:digits + 6] + str(_huge(rng)).encode() + data[digits + 6:], False
        return super().lie(name, data, rng)


class GraphDefTarget(Target):
    """A binary GraphDef that the caller parses (GraphDef.FromString, as TF users do), then
    tf.import_graph_def. Protobuf's DecodeError at the caller's parse is 'proto-rejected'."""
    name = "graph_def_binary"
    family = "graphdef"
    api_errors = (ValueError, TypeError)
    file = "graph.pb"

    def make(self, workdir):
        with open(os.path.join(workdir, self.file), "wb") as f:
            f.write(_small_graph().as_graph_def().SerializeToString())
        return _files(workdir, self.file)

    def read(self, workdir):
        with open(os.path.join(workdir, self.file), "rb") as f:
            graph_def = tf.GraphDef.FromString(f.read())
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(graph_def, name="")
        return _graph_summary(graph)

    def proto_rejected(self, exc):
        return (isinstance(exc, protobuf_message.DecodeError)
                and not readers.raised_by_tensorflux(exc))

    def lie(self, name, data, rng):
        graph_def = tf.GraphDef.FromString(data)
        consts = [n for n in graph_def.node if n.op == "Const"]
        tensor = rng.choice(consts).attr["value"].tensor
        del tensor.tensor_shape.dim[:]
        for d in rng.choice(([10**6, 10**6], [10**12], [2**62, 8], [-5], [3, 0])):
            tensor.tensor_shape.dim.add(size=d)
        return graph_def.SerializeToString(), True


# ---- MNIST IDX and CIFAR-10 ---------------------------------------------------------------------
class IdxTarget(Target):
    family = "idx"
    api_errors = (ValueError,)  # TF's MNIST loader raises ValueError

    def __init__(self, labels, compressed):
        self.labels, self.compressed = labels, compressed
        kind = "labels" if labels else "images"
        self.name = f"idx_{kind}" + ("_gz" if compressed else "")
        self.file = f"{kind}-idx{1 if labels else 3}-ubyte" + (".gz" if compressed else "")
        self.checksummed = compressed  # gzip's CRC-32 covers the IDX bytes

    def _raw(self):
        rng = np.random.RandomState(3)
        if self.labels:
            return input_data._idx_bytes(rng.randint(0, 10, 40).astype(np.uint8),
                                         input_data.LABELS_MAGIC)
        return input_data._idx_bytes(rng.randint(0, 256, (6, 5, 4)).astype(np.uint8),
                                     input_data.IMAGES_MAGIC)

    def make(self, workdir):
        raw = self._raw()
        with open(os.path.join(workdir, self.file), "wb") as f:
            f.write(gzip.compress(raw, mtime=0) if self.compressed else raw)
        return _files(workdir, self.file)

    def read(self, workdir):
        extract = input_data.extract_labels if self.labels else input_data.extract_images
        with open(os.path.join(workdir, self.file), "rb") as f:
            return extract(f)

    def check(self, result):
        rank = 1 if self.labels else 4
        if result.dtype != np.uint8 or result.ndim != rank:
            return f"{result.dtype} array of rank {result.ndim}"
        return None if self.labels or result.shape[-1] == 1 else f"shape {result.shape}"

    def lie(self, name, data, rng):
        raw = bytearray(gzip.decompress(data) if self.compressed else data)
        for field in rng.sample(range(1, 2 if self.labels else 4), rng.randint(1, 1 + 2 * (
                not self.labels))):  # dimension fields; the product may pass 2**64
            raw[4 * field:4 * field + 4] = rng.choice((2**31, 2**32 - 1, 2**16, 0, 7)).to_bytes(
                4, "big")
        raw = bytes(raw)
        return (gzip.compress(raw, mtime=0), True) if self.compressed else (raw, False)


class CifarTarget(Target):
    name = "cifar10_numpy"
    family = "cifar"
    api_errors = (ValueError,)
    file = "data_batch_1.bin"

    def make(self, workdir):
        rng = np.random.RandomState(4)
        cifar10_input.write_cifar10_binary(os.path.join(workdir, self.file),
                                           rng.randint(0, 256, (3, 32, 32, 3)),
                                           rng.randint(0, 10, 3))
        return _files(workdir, self.file)

    def read(self, workdir):
        images, labels = cifar10_input.load_cifar10_binary(os.path.join(workdir, self.file))
        return [images, labels]

    def check(self, result):
        images, labels = result
        if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
            return f"images {images.dtype} {images.shape}"
        if labels.shape != images.shape[:1]:
            return f"{labels.shape} labels for {images.shape[0]} images"
        return None


class CifarReaderTarget(CifarTarget):
    """The tutorial's read_cifar10: a FixedLengthRecordReader in a session."""
    name = "cifar10_reader_op"
    api_errors = ()

    def __init__(self):
        self._graph = self._workdir = None

    def read(self, workdir):
        if self._graph is None or self._workdir != workdir:  # the file's path is in the graph
            self._workdir, self._graph = workdir, tf.Graph()
            with self._graph.as_default():
                queue = tf.FIFOQueue(1, tf.string)
                self._feed = [queue.enqueue([os.path.join(workdir, self.file)]), queue.close()]
                record = cifar10_input.read_cifar10(queue)
                self._fetch = [record.uint8image, record.label]
        images, labels = [], []
        with tf.Session(graph=self._graph) as sess:
            for op in self._feed:  # enqueue, then close
                sess.run(op)
            try:
                while True:
                    image, label = sess.run(self._fetch)
                    images.append(image)
                    labels.append(label[0])
            except tf.errors.OutOfRangeError:
                pass
        return [np.array(images, np.uint8).reshape(-1, 32, 32, 3), np.array(labels, np.int32)]


# ---- PNG and JPEG -------------------------------------------------------------------------------
def _image_pixels():
    rng = np.random.RandomState(5)
    base = np.linspace(0, 255, 12 * 10 * 3).reshape(12, 10, 3)
    return np.clip(base + rng.randint(-20, 20, base.shape), 0, 255).astype(np.uint8)


class ImageTarget(Target):
    family = "image"

    def __init__(self, fmt, channels):
        self.fmt, self.channels = fmt, channels
        self.name = f"decode_{fmt}_c{channels}"
        self.file = f"image.{fmt}"
        self.checksummed = fmt == "png"  # chunk CRCs (checked by tensorflux) and zlib's Adler-32
        self._graph = None

    def make(self, workdir):
        pixels = _image_pixels()
        with tf.Graph().as_default(), tf.Session() as sess:
            encode = tf.image.encode_png if self.fmt == "png" else tf.image.encode_jpeg
            data = sess.run(encode(pixels))
        with open(os.path.join(workdir, self.file), "wb") as f:
            f.write(data)
        return _files(workdir, self.file)

    def read(self, workdir):
        if self._graph is None:
            self._graph = tf.Graph()
            with self._graph.as_default():
                self._contents = tf.placeholder(tf.string, [])
                decode = tf.image.decode_png if self.fmt == "png" else tf.image.decode_jpeg
                self._image = decode(self._contents, channels=self.channels)
        with open(os.path.join(workdir, self.file), "rb") as f:
            data = f.read()
        with tf.Session(graph=self._graph) as sess:
            return sess.run(self._image, {self._contents: data})

    def check(self, result):
        if result.dtype not in (np.uint8, np.uint16) or result.ndim != 3 or 0 in result.shape:
            return f"{result.dtype} image of shape {result.shape}"
        if self.channels and result.shape[2] != self.channels:
            return f"{result.shape[2]} channels, asked for {self.channels}"
        return None

    def lie(self, name, data, rng):
        if self.fmt == "png":
            return _png_lie(data, rng)
        return _jpeg_lie(data, rng), False


def _png_lie(data, rng):
    """IHDR's width or height replaced, CRC forged; or a chunk length that lies (no CRC)."""
    if rng.random() < 0.5:
        body = bytearray(data[16:29])
        field = rng.choice((0, 4))
        body[field:field + 4] = rng.choice((2**31 - 1, 2**32 - 1, 65535, 10**5, 0)).to_bytes(4,
                                                                                            "big")
        crc = zlib.crc32(b"IHDR" + bytes(body)).to_bytes(4, "big")
        return data[:16] + bytes(body) + crc + data[33:], True
    pos = 33  # the chunk after IHDR
    return data[:pos] + rng.choice((2**31 - 1, 2**32 - 1, 10**6)).to_bytes(4, "big") \
        + data[pos + 4:], False


def _jpeg_lie(data, rng):
    """The frame header's height/width, or a segment length, replaced."""
    sof = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
    if sof >= 0 and rng.random() < 0.6:  # height, width (big-endian uint16)
        size = [rng.choice((65535, 0, 50000, 20000, 1)) for _ in range(2)]
        if rng.random() < 0.5:
            size[rng.randrange(2)] = int.from_bytes(data[sof + 5:sof + 7], "big")
        return data[:sof + 5] + size[0].to_bytes(2, "big") + size[1].to_bytes(2, "big") \
            + data[sof + 9:]
    marker = data.find(b"\xff", rng.randrange(2, len(data) - 4))
    if marker < 0:
        marker = 2
    return data[:marker + 2] + rng.choice((0, 1, 2, 65535)).to_bytes(2, "big") + data[marker + 4:]


# ---- the distributed runtime's RecvTensor answers -----------------------------------------------
class RecvTensorTarget(Target):
    name = "recv_tensor_response"
    family = "wire"
    file = "response.bin"

    def make(self, workdir):
        value = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
        data, rest = wire.encode_response(value, False)
        assert rest is None
        with open(os.path.join(workdir, self.file), "wb") as f:
            f.write(data)
        return _files(workdir, self.file)

    def read(self, workdir):
        with open(os.path.join(workdir, self.file), "rb") as f:
            value, is_dead, header = wire.decode_response(f.read())
        return [value, is_dead, header.chunked]

    def check(self, result):
        value, is_dead, chunked = result
        if is_dead or chunked:  # chunked: the value follows in RecvTensorChunks frames
            return None if value is None else "a dead or chunked tensor with a value"
        return None if isinstance(value, np.ndarray) else f"value {type(value).__name__}"

    def lie(self, name, data, rng):
        size = int.from_bytes(data[:4], "little")
        header = wire.M.RecvTensorHeader.FromString(data[4:4 + size])
        field = rng.choice(("shape", "nbytes", "prefix", "dtype"))
        if field == "prefix":
            return _huge(rng).to_bytes(8, "little")[:4] + data[4:], False
        if field == "shape":
            del header.shape[:]
            header.shape.extend(rng.choice(([10**6, 10**6], [10**12], [2**62, 4], [-1, 24])))
        elif field == "nbytes":
            header.nbytes = _huge(rng) % 2**63
        else:
            header.dtype = rng.choice((0, 20, 21, 99, 7))
        head = header.SerializeToString()
        return len(head).to_bytes(4, "little") + head + data[4 + size:], True


class RecvTensorStringsTarget(RecvTensorTarget):
    """A string tensor: it travels as a TensorProto inside the header."""
    name = "recv_tensor_strings"

    def make(self, workdir):
        data, _ = wire.encode_response(np.array([[b"ab", b""], [b"cde", b"f"]], object), False)
        with open(os.path.join(workdir, self.file), "wb") as f:
            f.write(data)
        return _files(workdir, self.file)

    def lie(self, name, data, rng):
        size = int.from_bytes(data[:4], "little")
        header = wire.M.RecvTensorHeader.FromString(data[4:4 + size])
        _lie_in_tensor_proto(header.tensor, rng)
        head = header.SerializeToString()
        return len(head).to_bytes(4, "little") + head + data[4 + size:], True


def _lie_in_tensor_proto(tensor, rng):
    field = rng.choice(("shape", "dtype", "content"))
    if field == "shape":
        del tensor.tensor_shape.dim[:]
        for d in rng.choice(([10**6, 10**6], [10**12], [2**62, 4], [-1], [7], [])):
            tensor.tensor_shape.dim.add(size=d)
    elif field == "dtype":
        tensor.dtype = rng.choice((0, 20, 21, 99, 1, 9, 23))
    else:
        tensor.tensor_content = rng.randbytes(rng.choice((1, 3, 8, 24)))


class RunGraphRequestTarget(Target):
    """What a worker's RunGraph does with a request's bytes: decode, then each sent tensor."""
    name = "run_graph_request"
    family = "wire"
    file = "request.bin"

    def make(self, workdir):
        request = wire.M.RunGraphRequest(graph_handle="g1", step_id=7, recv_key=["y:0"])
        request.send.extend([wire.named("x:0", np.arange(6, dtype=np.float32).reshape(2, 3)),
                             wire.named("s:0", np.array([b"a", b"bc"], object)),
                             wire.named("n:0", np.array(3, np.int64))])
        with open(os.path.join(workdir, self.file), "wb") as f:
            f.write(request.SerializeToString())
        return _files(workdir, self.file)

    def read(self, workdir):
        with open(os.path.join(workdir, self.file), "rb") as f:
            request = wire.decode_request(wire.M.RunGraphRequest, f.read(), "RunGraph")
        return [request.graph_handle, request.step_id, list(request.recv_key),
                [(t.name, wire.from_proto(t.tensor)) for t in request.send]]

    def lie(self, name, data, rng):
        request = wire.M.RunGraphRequest.FromString(data)
        _lie_in_tensor_proto(rng.choice(request.send).tensor, rng)
        return request.SerializeToString(), True


def all_targets():
    return [TFRecordTarget(), TFRecordTarget("GZIP"), TFRecordTarget("ZLIB"),
            TFRecordReaderTarget(), EventFileTarget(),
            CheckpointV2Target(), CheckpointV1Target(),
            MetaGraphTarget(False), MetaGraphTarget(True), GraphDefTarget(),
            IdxTarget(False, False), IdxTarget(True, False), IdxTarget(False, True),
            CifarTarget(), CifarReaderTarget(),
            ImageTarget("png", 0), ImageTarget("png", 3), ImageTarget("jpeg", 0),
            ImageTarget("jpeg", 1),
            RecvTensorTarget(), RecvTensorStringsTarget(), RunGraphRequestTarget()]
