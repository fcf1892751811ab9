"""The tutorial data loaders on small files the tests write: CIFAR-10 binary records, PTB
text, a text8-like corpus and a WMT-style parallel-text pair."""
import os
import zipfile

import numpy as np
import pytest

import tensorflux as tf
import tensorflux.image  # (tf.image, used by the cifar10 pipeline)
from tensorflux.models.embedding import text8
from tensorflux.models.image.cifar10 import cifar10_input
from tensorflux.models.rnn.ptb import reader
from tensorflux.models.rnn.translate import data_utils


# ---- CIFAR-10 ---------------------------------------------------------------------------------
def _cifar_images(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n)


def test_load_cifar10_binary_reads_the_record_layout(tmp_path):
    images, labels = _cifar_images(4, 0)
    path = tmp_path / "data_batch_1.bin"
    # Written by hand in the documented layout: label byte, then R, G, B planes row-major.
    with open(path, "wb") as f:
        for image, label in zip(images, labels):
            f.write(bytes([label]))
            for channel in range(3):
                f.write(image[:, :, channel].tobytes())
    assert os.path.getsize(path) == 4 * 3073
    got_images, got_labels = cifar10_input.load_cifar10_binary(path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_labels.dtype == np.int32 and got_images.dtype == np.uint8
    out = tmp_path / "copy.bin"
    cifar10_input.write_cifar10_binary(out, images, labels)
    assert out.read_bytes() == path.read_bytes()


def test_load_cifar10_binary_rejects_partial_records(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"\0" * 3000)
    with pytest.raises(ValueError, match="3073"):
        cifar10_input.load_cifar10_binary(path)


def test_cifar10_inputs_name_missing_files(tmp_path):
    with pytest.raises(ValueError, match="data_batch_1.bin"):
        cifar10_input.distorted_inputs(str(tmp_path), 4)
    with pytest.raises(ValueError, match="test_batch.bin"):
        cifar10_input.inputs(True, str(tmp_path), 4)


def test_cifar10_queue_pipeline(tmp_path):
    all_images, all_labels = [], []
    for i in range(1, 6):
        images, labels = _cifar_images(6, i)
        cifar10_input.write_cifar10_binary(tmp_path / f"data_batch_{i}.bin", images, labels)
        all_images.append(images)
        all_labels.append(labels)
    cifar10_input.write_cifar10_binary(tmp_path / "test_batch.bin", all_images[0],
                                       all_labels[0])
    train_x, train_y = cifar10_input.distorted_inputs(str(tmp_path), 8, num_threads=2)
    eval_x, eval_y = cifar10_input.inputs(True, str(tmp_path), 6, num_threads=1)
    assert train_x.get_shape().as_list() == [8, 24, 24, 3]
    assert train_y.get_shape().as_list() == [8] and train_y.dtype == tf.int32
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            tx, ty = sess.run([train_x, train_y])
            ex, ey = sess.run([eval_x, eval_y])
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    assert set(ty.tolist()) <= set(np.concatenate(all_labels).tolist())
    np.testing.assert_allclose(tx.reshape(8, -1).mean(1), 0, atol=1e-3)  # standardized
    np.testing.assert_array_equal(ey, all_labels[0])
    centre = all_images[0][:, 4:28, 4:28].astype(np.float32)
    mean = centre.reshape(6, -1).mean(1)[:, None, None, None]
    std = centre.reshape(6, -1).std(1)[:, None, None, None]
    np.testing.assert_allclose(ex, (centre - mean) / std, rtol=1e-3, atol=1e-3)


# ---- PTB ----------------------------------------------------------------------------------------
_PTB = {
    "ptb.train.txt": " the cat sat on the mat \n the dog sat \n a cat ran \n",
    "ptb.valid.txt": " the dog ran \n zebra sat \n",
    "ptb.test.txt": " a mat \n",
}


def _write_ptb(directory):
    for name, text in _PTB.items():
        (directory / name).write_text(text)


def test_ptb_raw_data_ids_follow_frequency_then_alphabet(tmp_path):
    _write_ptb(tmp_path)
    train, valid, test, vocab_size = reader.ptb_raw_data(str(tmp_path))
    # counts: the 3, <eos> 3, sat 2, cat 2, then a, dog, mat, on, ran once each
    order = ["<eos>", "the", "cat", "sat", "a", "dog", "mat", "on", "ran"]
    ids = {w: i for i, w in enumerate(order)}
    assert vocab_size == 9
    want = "the cat sat on the mat <eos> the dog sat <eos> a cat ran <eos>".split()
    assert train == [ids[w] for w in want]
    assert valid == [ids[w] for w in "the dog ran <eos> sat <eos>".split()]  # zebra unknown
    assert test == [ids["a"], ids["mat"], ids["<eos>"]]


def test_ptb_raw_data_names_missing_files(tmp_path):
    with pytest.raises(ValueError, match="ptb.train.txt"):
        reader.ptb_raw_data(str(tmp_path))


def test_ptb_iterator_batches_and_shifts():
    raw = list(range(25))
    batches = list(reader.ptb_iterator(raw, batch_size=3, num_steps=2))
    # rows of 8 words: [0..7], [8..15], [16..23]; (8 - 1) // 2 = 3 steps
    assert len(batches) == 3
    x, y = batches[1]
    np.testing.assert_array_equal(x, [[2, 3], [10, 11], [18, 19]])
    np.testing.assert_array_equal(y, [[3, 4], [11, 12], [19, 20]])
    assert x.dtype == np.int32
    with pytest.raises(ValueError, match="epoch_size == 0"):
        list(reader.ptb_iterator(raw, batch_size=5, num_steps=5))


def test_ptb_producer_matches_iterator():
    raw = list(range(25))
    x, y = reader.ptb_producer(raw, batch_size=3, num_steps=2)
    assert x.get_shape().as_list() == [3, 2]
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            got = [sess.run([x, y]) for _ in range(4)]
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    want = list(reader.ptb_iterator(raw, 3, 2))
    for (gx, gy), (wx, wy) in zip(got, want + want[:1]):  # the fourth run starts epoch two
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


# ---- text8 ----------------------------------------------------------------------------------
def test_text8_read_build_and_skipgram_batches(tmp_path):
    corpus = "a b c a b a d e a b c f"
    zipped = tmp_path / "text8.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("text8", corpus)
    plain = tmp_path / "text8.txt"
    plain.write_text(corpus)
    words = text8.read_data(str(zipped))
    assert words == corpus.split() == text8.read_data(str(plain))
    data, count, dictionary, reverse = text8.build_dataset(words, 4)
    assert count == [["UNK", 3], ["a", 4], ["b", 3], ["c", 2]]  # d, e, f unknown
    assert dictionary == {"UNK": 0, "a": 1, "b": 2, "c": 3}
    assert [reverse[i] for i in data[:4]] == ["a", "b", "c", "a"]
    assert data[6:8] == [0, 0]
    batcher = text8.SkipGramBatcher(data, seed=0)
    batch, labels = batcher.generate_batch(batch_size=8, num_skips=2, skip_window=1)
    assert batch.shape == (8,) and labels.shape == (8, 1) and batch.dtype == np.int32
    np.testing.assert_array_equal(batch, [data[i] for i in (1, 1, 2, 2, 3, 3, 4, 4)])
    for k in range(4):  # both neighbours of centre word k+1 appear once each
        assert sorted(labels[2 * k:2 * k + 2, 0]) == sorted([data[k], data[k + 2]])
    nxt, _ = batcher.generate_batch(batch_size=2, num_skips=2, skip_window=1)
    np.testing.assert_array_equal(nxt, [data[5], data[5]])  # continues after the last centre
    b2, l2, index = text8.generate_batch(data, 4, 2, 1, data_index=10, seed=1)
    np.testing.assert_array_equal(b2, [data[11], data[11], data[0], data[0]])  # wraps around
    assert sorted(l2[2:, 0]) == sorted([data[11], data[1]]) and index == 0
    with pytest.raises(ValueError, match="num_skips"):
        batcher.generate_batch(batch_size=8, num_skips=3, skip_window=1)
    with pytest.raises(ValueError, match="does not download"):
        text8.maybe_download("text8.zip", work_directory=str(tmp_path / "nowhere"))
    assert text8.maybe_download("text8.zip", os.path.getsize(zipped), str(tmp_path))


# ---- translate data_utils ------------------------------------------------------------------
def test_tokenizer_and_token_ids():
    assert data_utils.basic_tokenizer(b"Hello, world! (It's 2016.)") == [
        b"Hello", b",", b"world", b"!", b"(", b"It", b"'", b"s", b"2016", b".", b")"]
    vocab = {b"hello": 4, b"0000": 5}
    assert data_utils.sentence_to_token_ids("hello 2016 you", vocab) == [4, 5,
                                                                       data_utils.UNK_ID]
    assert data_utils.sentence_to_token_ids(b"2016", vocab, normalize_digits=False) == [
        data_utils.UNK_ID]
    assert (data_utils.PAD_ID, data_utils.GO_ID, data_utils.EOS_ID, data_utils.UNK_ID) == (
        0, 1, 2, 3)


def _write_pair(directory, stem, en, fr):
    (directory / f"{stem}.en").write_text("\n".join(en) + "\n")
    (directory / f"{stem}.fr").write_text("\n".join(fr) + "\n")


def test_prepare_wmt_data_on_local_files(tmp_path):
    _write_pair(tmp_path, "giga-fren.release2.fixed",
                ["the cat .", "the dog , the cat .", "a 12 cats"],
                ["le chat .", "le chien , le chat .", "un 12 chats"])
    _write_pair(tmp_path, "newstest2013", ["the bird ."], ["l' oiseau ."])
    paths = data_utils.prepare_wmt_data(str(tmp_path), 7, 100)
    en_train, fr_train, en_dev, fr_dev, en_vocab_path, fr_vocab_path = paths
    vocab, rev = data_utils.initialize_vocabulary(en_vocab_path)
    assert rev == [b"_PAD", b"_GO", b"_EOS", b"_UNK", b"the", b"cat", b"."]
    assert vocab[b"cat"] == 5
    with open(en_train) as f:
        assert f.read().splitlines() == ["4 5 6", "4 3 3 4 5 6", "3 3 3"]
    with open(en_dev) as f:
        assert f.read().splitlines() == ["4 3 6"]
    _, fr_rev = data_utils.initialize_vocabulary(fr_vocab_path)
    assert b"00" in fr_rev and b"le" == fr_rev[4]
    assert fr_train.endswith(".ids100.fr") and fr_dev.endswith("newstest2013.ids100.fr")


def test_prepare_wmt_data_names_missing_files(tmp_path):
    with pytest.raises(ValueError, match="giga-fren.release2.fixed.en.*does not download"):
        data_utils.prepare_wmt_data(str(tmp_path), 10, 10)
    with pytest.raises(ValueError, match="not found"):
        data_utils.initialize_vocabulary(str(tmp_path / "vocab"))


def test_prepare_data_with_generic_paths(tmp_path):
    _write_pair(tmp_path, "train", ["x y", "y"], ["p q", "q q"])
    _write_pair(tmp_path, "dev", ["y z"], ["q"])
    out = data_utils.prepare_data(str(tmp_path), str(tmp_path / "train.en"),
                                  str(tmp_path / "train.fr"), str(tmp_path / "dev.en"),
                                  str(tmp_path / "dev.fr"), 10, 10)
    with open(out[2]) as f:
        assert f.read().split() == ["4", "3"]  # y is most frequent in train.en; z unknown
    with open(out[1]) as f:
        assert f.read().splitlines() == ["5 4", "4 4"]
