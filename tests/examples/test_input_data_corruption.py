"""IDX headers whose dimensions lie (found by tools/fuzz/readers.py): ValueError naming the file,
as TensorFlow's MNIST loader raises, never NumPy's own error from a wrapped product."""
import io

import numpy as np
import pytest

from tensorflux.examples.tutorials.mnist import input_data

pytestmark = pytest.mark.timeout(30)


def _images(dims, body=120):
    header = input_data.IMAGES_MAGIC.to_bytes(4, "big")
    header += b"".join(d.to_bytes(4, "big") for d in dims)
    stream = io.BytesIO(header + bytes(body))
    stream.name = "train-images-idx3-ubyte"
    return stream


@pytest.mark.parametrize("dims", [[2**31, 2**31, 4], [2**32 - 1, 2**32 - 1, 1],
                                  [0, 2**32 - 1, 2**31], [65536, 65536, 65536]])
def test_dimensions_whose_product_wraps_are_an_error_naming_the_file(dims):
    with pytest.raises(ValueError, match="MNIST image file train-images-idx3-ubyte"):
        input_data.extract_images(_images(dims))


def test_an_empty_image_file_still_reads():
    images = input_data.extract_images(_images([0, 28, 28], body=0))
    assert images.shape == (0, 28, 28, 1) and images.dtype == np.uint8
