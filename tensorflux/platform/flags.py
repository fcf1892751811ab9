"""Command-line flags in the style of TensorFlow 0.9/1.x's `tf.app.flags`.

    flags = tf.app.flags
    flags.DEFINE_float("learning_rate", 0.01, "Initial learning rate.")
    flags.DEFINE_boolean("fake_data", False, "Use fake data for unit testing.")
    FLAGS = flags.FLAGS
    print(FLAGS.learning_rate)      # first access parses sys.argv

Accepted spellings: `--name=value`, `--name value`; for booleans also `--name`,
`--noname` and `--name=true|false|1|0|yes|no`. Arguments that name no defined flag
are left for the program (`tf.app.run` passes them to `main`).
"""

import argparse
import sys
import traceback

__all__ = [
    "DEFINE_string", "DEFINE_integer", "DEFINE_float", "DEFINE_boolean", "DEFINE_bool",
    "DEFINE_list", "FLAGS", "FlagValues", "DuplicateFlagError",
]

_TRUE_WORDS = ("true", "t", "1", "yes", "y")
_FALSE_WORDS = ("false", "f", "0", "no", "n")


class DuplicateFlagError(ValueError):
    """A flag name was defined twice, from two different places."""


def _parse_bool(text):
    if isinstance(text, bool):
        return text
    word = str(text).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(
        "expected a boolean (one of %s), got %r" % ("/".join(_TRUE_WORDS + _FALSE_WORDS), text))


def _parse_list(text):
    if isinstance(text, (list, tuple)):
        return list(text)
    text = str(text).strip()
    return [item.strip() for item in text.split(",")] if text else []


class _Flag:
    """One flag definition: name, parser from text, default, help, where it was defined."""

    def __init__(self, name, parse, default, help_text, kind, defined_at):
        self.name = name
        self.parse = parse
        self.kind = kind
        self.help = help_text
        self.defined_at = defined_at
        # Like argparse, a string default is parsed with the flag's type ("0.5" -> 0.5).
        self.default = parse(default) if isinstance(default, str) and kind != "string" else default


class FlagValues:
    """Holds flag definitions and their values; parses argv on first attribute access.

    Reading an attribute returns the flag's value; assigning one sets it (and survives a
    later re-parse). Calling the object, `FLAGS(argv)`, parses `argv[1:]` explicitly and
    returns `[argv[0]]` plus the arguments that named no flag.
    """

    def __init__(self):
        object.__setattr__(self, "_definitions", {})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_assigned", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_argv", None)

    # -- definitions -------------------------------------------------------------------
    def _define(self, flag):
        earlier = self._definitions.get(flag.name)
        if earlier is not None and earlier.defined_at != flag.defined_at:
            raise DuplicateFlagError(
                "flag --%s is already defined at %s; the second definition is at %s"
                % (flag.name, earlier.defined_at, flag.defined_at))
        self._definitions[flag.name] = flag
        if self._parsed:
            # A flag defined after parsing still sees the command line it was given.
            object.__setattr__(self, "_parsed", False)

    # -- parsing -----------------------------------------------------------------------
    def __call__(self, argv):
        """Parses `argv[1:]`; returns `[argv[0]]` plus the arguments left unparsed."""
        argv = list(argv)
        unknown = self._parse(argv[1:])
        return argv[:1] + unknown

    def _parse(self, args):
        parser = self._build_parser()
        namespace, unknown = parser.parse_known_args(self._spell_out_bools(args))
        values = {name: getattr(namespace, name) for name in self._definitions}
        values.update(self._assigned)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_argv", list(args))
        object.__setattr__(self, "_parsed", True)
        return unknown

    def _ensure_parsed(self):
        if not self._parsed:
            args = self._argv if self._argv is not None else sys.argv[1:]
            self._parse(args)

    def _build_parser(self):
        parser = argparse.ArgumentParser(allow_abbrev=False)
        for flag in self._definitions.values():
            if flag.kind == "bool":
                parser.add_argument("--" + flag.name, dest=flag.name, nargs="?", const=True,
                                    type=_parse_bool, default=flag.default, help=flag.help)
                parser.add_argument("--no" + flag.name, dest=flag.name, action="store_false",
                                    help=argparse.SUPPRESS)
            else:
                parser.add_argument("--" + flag.name, dest=flag.name, type=flag.parse,
                                    default=flag.default, help=flag.help)
        return parser

    def _spell_out_bools(self, args):
        """Rewrites a bare `--flag` to `--flag=true`, so it never swallows the next argument."""
        bools = {"--" + name for name, flag in self._definitions.items() if flag.kind == "bool"}
        out = []
        for i, arg in enumerate(args):
            if arg == "--":
                return out + list(args[i:])
            out.append(arg + "=true" if arg in bools else arg)
        return out

    # -- attribute access --------------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._ensure_parsed()
        try:
            return self._values[name]
        except KeyError:
            known = ", ".join(sorted(self._values)) or "(none)"
            raise AttributeError("unknown flag %r; defined flags: %s" % (name, known)) from None

    def __setattr__(self, name, value):
        self._ensure_parsed()
        self._assigned[name] = value
        self._values[name] = value

    def __contains__(self, name):
        return name in self._definitions or name in self._assigned

    def flag_values_dict(self):
        """Returns a dict mapping every flag name to its current value."""
        self._ensure_parsed()
        return dict(self._values)


FLAGS = FlagValues()


def _caller_location():
    # Two frames up from DEFINE_*: the user's definition site.
    frame = traceback.extract_stack(limit=4)[0]
    return "%s:%d" % (frame.filename, frame.lineno)


def _define(name, default, help_text, parse, kind, flag_values):
    flag = _Flag(name, parse, default, help_text, kind, _caller_location())
    flag_values._define(flag)


def DEFINE_string(flag_name, default_value, docstring, flag_values=FLAGS):
    """Defines a string flag `--flag_name`.

    Args:
      flag_name: the flag's name (what follows `--`).
      default_value: value when the flag is absent from the command line.
      docstring: help text shown by `--help`.
      flag_values: the FlagValues that holds it (defaults to the global FLAGS).
    """
    _define(flag_name, default_value, docstring, str, "string", flag_values)


def DEFINE_integer(flag_name, default_value, docstring, flag_values=FLAGS):
    """Defines an integer flag `--flag_name`; arguments are parsed with int()."""
    _define(flag_name, default_value, docstring, int, "int", flag_values)


def DEFINE_float(flag_name, default_value, docstring, flag_values=FLAGS):
    """Defines a float flag `--flag_name`; arguments are parsed with float()."""
    _define(flag_name, default_value, docstring, float, "float", flag_values)


def DEFINE_boolean(flag_name, default_value, docstring, flag_values=FLAGS):
    """Defines a boolean flag: `--flag_name`, `--noflag_name` or `--flag_name=true|false`."""
    _define(flag_name, default_value, docstring, _parse_bool, "bool", flag_values)


DEFINE_bool = DEFINE_boolean


def DEFINE_list(flag_name, default_value, docstring, flag_values=FLAGS):
    """Defines a comma-separated list flag: `--flag_name=a,b,c` gives ['a', 'b', 'c']."""
    _define(flag_name, default_value, docstring, _parse_list, "list", flag_values)
