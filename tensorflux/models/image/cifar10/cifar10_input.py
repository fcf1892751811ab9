"""Reading the CIFAR-10 binary files (data_batch_1.bin ... data_batch_5.bin, test_batch.bin).

Each record is 1 label byte (0-9) followed by 3072 image bytes: the red, green and blue planes
of a 32x32 image, each row-major. The graph pipeline (read_cifar10, distorted_inputs, inputs)
reads them with a FixedLengthRecordReader fed by a filename queue, as the CIFAR-10 tutorial
does; `load_cifar10_binary` and `write_cifar10_binary` are plain NumPy helpers.
"""
import os

import numpy as np

__all__ = ["IMAGE_SIZE", "NUM_CLASSES", "NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN",
           "NUM_EXAMPLES_PER_EPOCH_FOR_EVAL", "read_cifar10", "distorted_inputs", "inputs",
           "load_cifar10_binary", "write_cifar10_binary"]

IMAGE_SIZE = 24  # the tutorial trains on random 24x24 crops of the 32x32 images
NUM_CLASSES = 10
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 50000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = 10000

HEIGHT, WIDTH, DEPTH = 32, 32, 3
LABEL_BYTES = 1
IMAGE_BYTES = HEIGHT * WIDTH * DEPTH
RECORD_BYTES = LABEL_BYTES + IMAGE_BYTES


# ---- NumPy helpers ------------------------------------------------------------------------------
def load_cifar10_binary(path):
    """(images uint8 [N, 32, 32, 3], labels int32 [N]) from one CIFAR-10 binary file.

    Raises:
      ValueError: if the file's size is not a whole number of 3073-byte records.
    """
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % RECORD_BYTES:
        raise ValueError(f"{path} holds {raw.size} bytes, not a multiple of the "
                         f"{RECORD_BYTES}-byte CIFAR-10 record (1 label byte + {IMAGE_BYTES} "
                         f"image bytes)")
    records = raw.reshape(-1, RECORD_BYTES)
    images = records[:, LABEL_BYTES:].reshape(-1, DEPTH, HEIGHT, WIDTH).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), records[:, 0].astype(np.int32)


def write_cifar10_binary(path, images, labels):
    """Writes uint8 images [N, 32, 32, 3] and labels [N] (0-255) as CIFAR-10 records."""
    images = np.asarray(images, dtype=np.uint8)
    labels = np.asarray(labels).reshape(-1)
    if images.shape[1:] != (HEIGHT, WIDTH, DEPTH) or len(images) != len(labels):
        raise ValueError(f"need images [N, 32, 32, 3] and N labels, got images "
                         f"{images.shape} and {labels.shape[0]} labels")
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), IMAGE_BYTES)
    records = np.concatenate([labels.astype(np.uint8)[:, None], planes], axis=1)
    records.tofile(path)


def _check_files(filenames):
    missing = [f for f in filenames if not os.path.isfile(f)]
    if missing:
        raise ValueError(f"Failed to find file: {', '.join(missing)} (the CIFAR-10 binary "
                         f"version, cifar-10-batches-bin; tensorflux does not download it)")


def _records_in(filenames):
    return sum(os.path.getsize(f) // RECORD_BYTES for f in filenames)


def _train_files(data_dir):
    return [os.path.join(data_dir, f"data_batch_{i}.bin") for i in range(1, 6)]


# ---- the graph pipeline ---------------------------------------------------------------------
class CIFAR10Record:
    """One record read from the filename queue: height, width, depth, key, label (int32 [1]),
    uint8image ([32, 32, 3] uint8)."""
    height, width, depth = HEIGHT, WIDTH, DEPTH


def read_cifar10(filename_queue):
    """Reads one CIFAR-10 record from the files in `filename_queue`; returns a CIFAR10Record.

    Run it N times (N threads) to read N records in parallel.
    """
    import tensorflux as tf
    result = CIFAR10Record()
    reader = tf.FixedLengthRecordReader(record_bytes=RECORD_BYTES)
    result.key, value = reader.read(filename_queue)
    record = tf.decode_raw(value, tf.uint8)
    result.label = tf.cast(tf.strided_slice(record, [0], [LABEL_BYTES]), tf.int32)
    depth_major = tf.reshape(tf.strided_slice(record, [LABEL_BYTES], [RECORD_BYTES]),
                             [DEPTH, HEIGHT, WIDTH])
    result.uint8image = tf.transpose(depth_major, [1, 2, 0])
    return result


def _image_and_label_batch(image, label, min_queue_examples, batch_size, shuffle, num_threads):
    """Batches (image, label) through a (shuffling) queue; labels come out as [batch_size]."""
    import tensorflux as tf
    capacity = min_queue_examples + 3 * batch_size
    if shuffle:
        images, labels = tf.train.shuffle_batch([image, label], batch_size=batch_size,
                                                num_threads=num_threads, capacity=capacity,
                                                min_after_dequeue=min_queue_examples)
    else:
        images, labels = tf.train.batch([image, label], batch_size=batch_size,
                                        num_threads=num_threads, capacity=capacity)
    tf.summary.image("images", images)
    return images, tf.reshape(labels, [batch_size])


def _min_queue_examples(filenames, per_epoch, fraction=0.4):
    """TF's 40% of an epoch, counted on the files present (small test sets stay quick)."""
    return max(1, int(min(per_epoch, _records_in(filenames)) * fraction))


def distorted_inputs(data_dir, batch_size, num_threads=16):
    """Training batches with the tutorial's augmentation: a random 24x24 crop, a random
    horizontal flip, random brightness and contrast, then per-image standardization.

    Returns:
      images: float32 [batch_size, 24, 24, 3]; labels: int32 [batch_size].

    Raises:
      ValueError: naming the data_batch_*.bin files that are missing.
    """
    import tensorflux as tf
    filenames = _train_files(data_dir)
    _check_files(filenames)
    record = read_cifar10(tf.train.string_input_producer(filenames))
    image = tf.cast(record.uint8image, tf.float32)
    image = tf.random_crop(image, [IMAGE_SIZE, IMAGE_SIZE, DEPTH])
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, max_delta=63)
    image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
    image = tf.image.per_image_standardization(image)
    image.set_shape([IMAGE_SIZE, IMAGE_SIZE, DEPTH])
    record.label.set_shape([1])
    min_examples = _min_queue_examples(filenames, NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN)
    return _image_and_label_batch(image, record.label, min_examples, batch_size, True,
                                  num_threads)


def inputs(eval_data, data_dir, batch_size, num_threads=16):
    """Evaluation batches (test_batch.bin if eval_data, else the training files): the central
    24x24 crop, standardized, unshuffled (in file order when num_threads is 1).

    Returns:
      images: float32 [batch_size, 24, 24, 3]; labels: int32 [batch_size].
    """
    import tensorflux as tf
    if eval_data:
        filenames = [os.path.join(data_dir, "test_batch.bin")]
        per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_EVAL
    else:
        filenames, per_epoch = _train_files(data_dir), NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
    _check_files(filenames)
    record = read_cifar10(tf.train.string_input_producer(filenames, shuffle=False))
    image = tf.image.resize_image_with_crop_or_pad(tf.cast(record.uint8image, tf.float32),
                                                   IMAGE_SIZE, IMAGE_SIZE)
    image = tf.image.per_image_standardization(image)
    image.set_shape([IMAGE_SIZE, IMAGE_SIZE, DEPTH])
    record.label.set_shape([1])
    min_examples = _min_queue_examples(filenames, per_epoch)
    return _image_and_label_batch(image, record.label, min_examples, batch_size, False,
                                  num_threads)
