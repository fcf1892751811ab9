"""tools/mutants: the planted bugs of `make mutants` still apply to the code, and the runner
kills, spares and flags stale mutants in temporary copies without touching the tree."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.timeout(120)


def _run_module():
    spec = importlib.util.spec_from_file_location(
        "mutants_run", os.path.join(ROOT, "tools", "mutants", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mutant_applies_once_and_names_existing_tests():
    run = _run_module()
    mutants = run.load_mutants()
    assert len(mutants) >= 45
    for m in mutants:
        count = run.occurrences(m)
        assert count == 1, (f"mutant {m['id']}: its original snippet occurs {count} times in "
                            f"{m['file']}; update tools/mutants/mutants.toml")
        for path in m["tests"]:
            assert os.path.exists(os.path.join(ROOT, path)), (m["id"], path)
    assert sum(bool(m.get("escaped")) for m in mutants) == 5


def _fake_repo(tmp_path):
    root = tmp_path / "repo"
    (root / "tensorflux").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "tensorflux" / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests" / "test_add.py").write_text(
        "import tensorflux\n\n\ndef test_add():\n    assert tensorflux.add(2, 3) == 5\n")
    return root


def test_runner_kills_spares_and_flags_stale_mutants_in_copies(tmp_path):
    run = _run_module()
    root = _fake_repo(tmp_path)
    before = (root / "tensorflux" / "__init__.py").read_text()
    runner = run.Runner(root=str(root), timeout=60)
    runner.check_isolation()
    base = {"file": "tensorflux/__init__.py", "description": "-", "tests": ["tests/test_add.py"]}
    killed = runner.run(dict(base, id="k", original="a + b", replacement="a - b"))
    spared = runner.run(dict(base, id="s", original="a + b", replacement="b + a"))
    stale = runner.run(dict(base, id="t", original="a * b", replacement="a"))
    assert (killed.status, killed.killer) == ("killed", "tests/test_add.py::test_add")
    assert "assert -1 == 5" in killed.detail
    assert spared.status == "survived"
    assert stale.status == "stale" and "found 0 times" in stale.detail
    assert (root / "tensorflux" / "__init__.py").read_text() == before
    report = tmp_path / "REPORT.md"
    run.write_report([killed, spared, stale], 1.0, path=str(report))
    text = report.read_text()
    assert "**1/3 mutants killed (33%)**" in text and "- **s** (survived)" in text
