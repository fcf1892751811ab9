"""The CIFAR-10 tutorial's input pipeline."""
