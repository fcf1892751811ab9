"""tensorflow.python.training.summary_io (TF 0.9's SummaryWriter and summary_iterator)."""
from tensorflux.summary.writer import FileWriter as SummaryWriter  # noqa: F401
from tensorflux.summary.summary_iterator import summary_iterator  # noqa: F401
