import sys

import pytest

from tensorflux.platform import app, flags


@pytest.fixture
def fresh_flags(monkeypatch):
    fv = flags.FlagValues()
    monkeypatch.setattr(flags, "FLAGS", fv)
    flags.DEFINE_integer("steps", 1, "Steps.", flag_values=fv)
    return fv


def test_app_exposes_flags_module():
    assert app.flags is flags


def test_run_parses_flags_calls_main_and_exits_with_its_value(fresh_flags):
    seen = {}

    def main(argv):
        seen["argv"] = argv
        seen["steps"] = flags.FLAGS.steps
        return 3

    with pytest.raises(SystemExit) as info:
        app.run(main=main, argv=["prog", "--steps=5", "extra", "--unknown"])
    assert info.value.code == 3
    assert seen == {"argv": ["prog", "extra", "--unknown"], "steps": 5}


def test_run_defaults_to_sys_argv_and_main_of_main_module(fresh_flags, monkeypatch):
    calls = []
    module = type(sys)("fake_main")
    module.main = lambda argv: calls.append(argv)
    monkeypatch.setitem(sys.modules, "__main__", module)
    monkeypatch.setattr(sys, "argv", ["script.py", "--steps", "8", "file.txt"])
    with pytest.raises(SystemExit) as info:
        app.run()
    assert info.value.code is None
    assert calls == [["script.py", "file.txt"]]
    assert flags.FLAGS.steps == 8


def test_run_without_any_main_says_so(fresh_flags, monkeypatch):
    monkeypatch.setitem(sys.modules, "__main__", type(sys)("no_main_here"))
    with pytest.raises(AttributeError, match="no 'main'"):
        app.run(argv=["prog"])
