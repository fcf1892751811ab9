"""The MNIST convolutional model tutorial (tensorflow.models.image.mnist)."""
