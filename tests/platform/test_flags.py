import pytest

from tensorflux.platform import flags


def _flag_values():
    fv = flags.FlagValues()
    flags.DEFINE_string("data_dir", "/tmp/data", "Where data lives.", flag_values=fv)
    flags.DEFINE_integer("max_steps", 100, "Steps.", flag_values=fv)
    flags.DEFINE_float("learning_rate", 0.01, "Rate.", flag_values=fv)
    flags.DEFINE_boolean("fake_data", False, "Fake.", flag_values=fv)
    flags.DEFINE_bool("use_gpu", True, "GPU.", flag_values=fv)
    flags.DEFINE_list("hosts", "a,b", "Hosts.", flag_values=fv)
    return fv


def test_defaults_when_no_arguments():
    fv = _flag_values()
    assert fv(["prog"]) == ["prog"]
    assert fv.data_dir == "/tmp/data"
    assert fv.max_steps == 100
    assert fv.learning_rate == 0.01
    assert fv.fake_data is False
    assert fv.use_gpu is True
    assert fv.hosts == ["a", "b"]


def test_equals_and_space_spellings_and_types():
    fv = _flag_values()
    fv(["prog", "--data_dir=/x", "--max_steps", "7", "--learning_rate=-0.5", "--hosts=h1,h2,h3"])
    assert fv.data_dir == "/x"
    assert fv.max_steps == 7 and isinstance(fv.max_steps, int)
    assert fv.learning_rate == -0.5
    assert fv.hosts == ["h1", "h2", "h3"]


@pytest.mark.parametrize("argv, fake, gpu", [
    (["--fake_data"], True, True),
    (["--nouse_gpu"], False, False),
    (["--fake_data=false", "--use_gpu=0"], False, False),
    (["--fake_data=yes", "--nofake_data"], False, True),
])
def test_boolean_spellings(argv, fake, gpu):
    fv = _flag_values()
    fv(["prog"] + argv)
    assert fv.fake_data is fake
    assert fv.use_gpu is gpu


def test_bare_boolean_does_not_swallow_next_argument():
    fv = _flag_values()
    rest = fv(["prog", "--fake_data", "input.txt"])
    assert fv.fake_data is True
    assert rest == ["prog", "input.txt"]


def test_unknown_arguments_are_left_for_the_program():
    fv = _flag_values()
    rest = fv(["prog", "--unknown=3", "positional", "--max_steps=5", "--other"])
    assert fv.max_steps == 5
    assert rest == ["prog", "--unknown=3", "positional", "--other"]


def test_bad_value_exits_with_usage(capsys):
    fv = _flag_values()
    with pytest.raises(SystemExit):
        fv(["prog", "--max_steps=lots"])
    assert "max_steps" in capsys.readouterr().err


def test_lazy_parse_reads_sys_argv_on_first_access(monkeypatch):
    fv = _flag_values()
    monkeypatch.setattr("sys.argv", ["prog", "--max_steps=42", "--fake_data"])
    assert fv.max_steps == 42
    assert fv.fake_data is True


def test_assignment_overrides_and_survives_late_definitions(monkeypatch):
    fv = _flag_values()
    monkeypatch.setattr("sys.argv", ["prog", "--late=9"])
    fv.max_steps = 3
    fv.brand_new = "x"
    assert fv.max_steps == 3 and fv.brand_new == "x"
    flags.DEFINE_integer("late", 1, "Defined after parsing.", flag_values=fv)
    assert fv.late == 9  # re-parsed from the remembered command line
    assert fv.max_steps == 3  # the assignment still holds


def test_unknown_flag_attribute_names_the_defined_flags():
    fv = _flag_values()
    fv(["prog"])
    with pytest.raises(AttributeError, match="unknown flag 'nope'.*data_dir"):
        fv.nope


def test_duplicate_definition_from_another_place_is_refused():
    fv = _flag_values()
    with pytest.raises(flags.DuplicateFlagError, match="--max_steps is already defined at"):
        flags.DEFINE_integer("max_steps", 5, "Again.", flag_values=fv)


def test_string_defaults_are_parsed_with_the_flag_type():
    fv = flags.FlagValues()
    flags.DEFINE_float("rate", "0.25", "Rate.", flag_values=fv)
    flags.DEFINE_boolean("on", "true", "On.", flag_values=fv)
    fv(["prog"])
    assert fv.rate == 0.25 and fv.on is True


def test_global_flags_object_and_flag_values_dict():
    assert isinstance(flags.FLAGS, flags.FlagValues)
    fv = _flag_values()
    fv(["prog", "--max_steps=2"])
    d = fv.flag_values_dict()
    assert d["max_steps"] == 2 and d["data_dir"] == "/tmp/data"
    assert "max_steps" in fv and "nope" not in fv
