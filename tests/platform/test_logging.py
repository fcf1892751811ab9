import logging as pylogging

import pytest

from tensorflux.platform import tf_logging as logging


@pytest.fixture(autouse=True)
def restore_level():
    logger = pylogging.getLogger("tensorflux")
    old = logger.level
    logger.setLevel(pylogging.NOTSET)  # as at import, whatever other tests set
    yield
    logger.setLevel(old)


def test_levels_match_python_logging():
    assert (logging.DEBUG, logging.INFO, logging.WARN, logging.WARNING, logging.ERROR,
            logging.FATAL) == (10, 20, 30, 30, 40, 50)


def test_default_verbosity_is_warn_and_set_verbosity_changes_it():
    assert logging.get_verbosity() == logging.WARN
    logging.set_verbosity(logging.INFO)
    assert logging.get_verbosity() == logging.INFO
    assert logging.get_logger().name == "tensorflux"


def test_messages_go_to_current_stderr_and_respect_verbosity(capsys):
    logging.set_verbosity(logging.WARN)
    logging.info("hidden %d", 1)
    logging.warn("shown %s", "warn")
    logging.error("bad %d", 2)
    logging.fatal("fatal")
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert "WARNING:tensorflux:shown warn" in err
    assert "ERROR:tensorflux:bad 2" in err
    assert "CRITICAL:tensorflux:fatal" in err


def test_debug_info_log_and_vlog(capsys):
    logging.set_verbosity(logging.DEBUG)
    logging.debug("d")
    logging.info("i")
    logging.warning("w")
    logging.log(logging.INFO, "via log %s", "x")
    logging.vlog(logging.ERROR, "via vlog")
    logging.flush()
    err = capsys.readouterr().err
    for text in ("DEBUG:tensorflux:d", "INFO:tensorflux:i", "WARNING:tensorflux:w",
                 "INFO:tensorflux:via log x", "ERROR:tensorflux:via vlog"):
        assert text in err


def test_log_every_n_and_first_n_count_per_call_site(capsys):
    logging.set_verbosity(logging.INFO)
    for i in range(7):
        logging.log_every_n(logging.INFO, "every %d", 3, i)
    for i in range(5):
        logging.log_first_n(logging.INFO, "first %d", 2, i)
    lines = capsys.readouterr().err.splitlines()
    assert [line for line in lines if "every" in line] == [
        "INFO:tensorflux:every 0", "INFO:tensorflux:every 3", "INFO:tensorflux:every 6"]
    assert [line for line in lines if "first" in line] == [
        "INFO:tensorflux:first 0", "INFO:tensorflux:first 1"]


def test_log_if(capsys):
    logging.log_if(logging.ERROR, "yes %d", True, 1)
    logging.log_if(logging.ERROR, "no", False)
    err = capsys.readouterr().err
    assert "yes 1" in err and "no" not in err.replace("yes 1", "")
