"""The gfile suite, run on a local path, a `file://` URL and fsspec's `memory://` filesystem."""
import os
import uuid

import fsspec
import pytest

from tensorflux.framework import errors
from tensorflux.platform import gfile

pytestmark = pytest.mark.timeout(60)


class Root:
    """A test directory on one filesystem; put/get/ls go around gfile, to check it."""

    def __init__(self, base, fs, local):
        self.base, self.fs, self.local = base, fs, local

    def __truediv__(self, name):
        return Path(self, self.base.rstrip("/") + "/" + name)

    def __str__(self):
        return self.base

    def ls(self, sub=None):
        path = self._strip(self.base if sub is None else str(sub))
        return sorted(os.path.basename(p.rstrip("/")) for p in self.fs.ls(path, detail=False))

    def _strip(self, url):
        return fsspec.core.url_to_fs(url)[1] if "://" in url else url


class Path(str):
    """A path string under a Root that can also be written and read directly."""

    def __new__(cls, root, value):
        self = super().__new__(cls, value)
        self.root = root
        return self

    def __truediv__(self, name):
        return Path(self.root, self + "/" + name)

    def _p(self):
        return self.root._strip(str(self))

    def write_bytes(self, data):
        self.root.fs.pipe_file(self._p(), data)

    def write_text(self, text):
        self.write_bytes(text.encode())

    def read_bytes(self):
        return self.root.fs.cat_file(self._p())

    def mkdir(self, parents=False):
        self.root.fs.makedirs(self._p(), exist_ok=True)

    def exists(self):
        return self.root.fs.exists(self._p())


@pytest.fixture(params=["local", "file", "memory"])
def root(request, tmp_path):
    if request.param == "memory":
        fs = fsspec.filesystem("memory")
        base = "/t" + uuid.uuid4().hex
        fs.makedirs(base, exist_ok=True)
        yield Root("memory://" + base.lstrip("/"), fs, False)
        fs.rm(base, recursive=True)
        return
    fs = fsspec.filesystem("file")
    yield Root(("file://" if request.param == "file" else "") + str(tmp_path), fs,
               request.param == "local")

def test_exists_isdirectory_mkdir_makedirs(root):
    d = root / "a" / "b"
    assert not gfile.Exists(d)
    gfile.MakeDirs(d)
    gfile.MakeDirs(d)  # an existing directory is fine
    assert gfile.Exists(d) and gfile.IsDirectory(d)
    with pytest.raises(errors.AlreadyExistsError):
        gfile.MkDir(d)
    with pytest.raises(errors.NotFoundError):
        gfile.MkDir(root / "missing" / "child")
    gfile.MkDir(root / "c")
    assert gfile.IsDirectory(root / "c")
    (root / "f").write_text("x")
    assert not gfile.IsDirectory(root / "f")
    with pytest.raises(errors.AlreadyExistsError):
        gfile.MakeDirs(root / "f")


def test_write_read_modes(root):
    path = str(root / "t.txt")
    with gfile.GFile(path, "w") as f:
        f.write("line1\n")
        f.write(b"line2\n")
        f.write("\u00e9\n")
    with gfile.GFile(path, "r") as f:
        assert f.readline() == "line1\n"
        assert f.read() == "line2\n\u00e9\n"
        assert f.read() == ""
    with gfile.Open(path, "rb") as f:
        assert f.read(5) == b"line1"
        assert f.tell() == 5
        f.seek(0)
        assert f.readlines() == [b"line1\n", b"line2\n", "\u00e9\n".encode()]
        f.seek(position=6)
        assert f.readline() == b"line2\n"
        assert f.size() == len("line1\nline2\n\u00e9\n".encode())
    with gfile.FastGFile(path, "r") as f:
        assert list(f) == ["line1\n", "line2\n", "\u00e9\n"]


def test_append_mode(root):
    path = root / "a.bin"
    with gfile.GFile(path, "wb") as f:
        f.write(b"ab")
    with gfile.GFile(path, "a") as f:
        f.write("cd")
        assert f.size() == 4
    assert path.read_bytes() == b"abcd"


def test_write_is_atomic_until_close(root):
    path = root / "model.ckpt"
    path.write_bytes(b"old")
    f = gfile.GFile(path, "wb")
    f.write(b"new contents")
    f.flush()
    assert f.size() == len(b"new contents")
    assert path.read_bytes() == b"old"  # nothing visible before close
    f.close()
    assert path.read_bytes() == b"new contents"
    assert sorted(root.ls()) == ["model.ckpt"]  # no temporary file left
    f.close()  # closing twice is harmless


def test_exception_inside_with_block_keeps_old_file(root):
    path = root / "data"
    path.write_bytes(b"keep me")
    with pytest.raises(RuntimeError):
        with gfile.GFile(path, "w") as f:
            f.write("half")
            raise RuntimeError("crash")
    assert path.read_bytes() == b"keep me"
    assert root.ls() == ["data"]


def test_unclosed_writer_is_discarded(root):
    path = root / "never"
    f = gfile.GFile(path, "w")
    f.write("x")
    del f
    assert root.ls() == []


def test_new_file_gets_normal_permissions(tmp_path):
    path = tmp_path / "p"
    with gfile.GFile(path, "w") as f:
        f.write("x")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


def test_file_errors(root):
    with pytest.raises(errors.NotFoundError, match="missing"):
        gfile.GFile(root / "missing", "r")
    if root.fs.protocol == "memory":  # object stores have no directories to be missing
        gfile.GFile(root / "nodir" / "x", "w").close()
    else:
        with pytest.raises(errors.NotFoundError):
            gfile.GFile(root / "nodir" / "x", "w")
    with pytest.raises(errors.InvalidArgumentError, match="mode"):
        gfile.GFile(root / "x", "r+")
    with pytest.raises(errors.FailedPreconditionError):
        gfile.GFile(str(root), "r")
    with gfile.GFile(root / "w", "w") as f:
        with pytest.raises(errors.PermissionDeniedError, match="not reading"):
            f.read()
    with gfile.GFile(root / "w", "r") as f:
        with pytest.raises(errors.PermissionDeniedError, match="not writing"):
            f.write("x")
    f = gfile.GFile(root / "w", "r")
    f.close()
    assert f.closed
    with pytest.raises(errors.FailedPreconditionError, match="closed"):
        f.read()


def test_glob_listdirectory_stat(root):
    for name in ("b.txt", "a.txt", "c.log"):
        (root / name).write_bytes(b"12345")
    (root / "sub").mkdir()
    assert gfile.Glob(str(root / "*.txt")) == [str(root / "a.txt"), str(root / "b.txt")]
    assert gfile.ListDirectory(str(root)) == ["a.txt", "b.txt", "c.log", "sub"]
    with pytest.raises(errors.NotFoundError):
        gfile.ListDirectory(root / "nope")
    st = gfile.Stat(root / "a.txt")
    assert st.length == 5 and not st.is_directory
    expected = root.fs.modified(root._strip(root / "a.txt")).timestamp() * 1e9
    assert abs(st.mtime_nsec - expected) < 1e4
    assert gfile.Stat(root / "sub").is_directory
    with pytest.raises(errors.NotFoundError):
        gfile.Stat(root / "nope")


def test_remove_and_delete_recursively(root):
    (root / "f").write_text("x")
    gfile.Remove(root / "f")
    assert not gfile.Exists(root / "f")
    with pytest.raises(errors.NotFoundError):
        gfile.Remove(root / "f")
    (root / "d" / "e").mkdir(parents=True)
    (root / "d" / "e" / "g").write_text("x")
    with pytest.raises(errors.FailedPreconditionError):
        gfile.Remove(root / "d")
    gfile.DeleteRecursively(root / "d")
    assert not gfile.Exists(root / "d")
    with pytest.raises(errors.NotFoundError):
        gfile.DeleteRecursively(root / "d")


def test_rename_and_copy_respect_overwrite(root):
    a, b, c = root / "a", root / "b", root / "c"
    a.write_bytes(b"A")
    b.write_bytes(b"B")
    with pytest.raises(errors.AlreadyExistsError, match="overwrite=True"):
        gfile.Rename(a, b)
    with pytest.raises(errors.AlreadyExistsError):
        gfile.Copy(a, b)
    gfile.Copy(a, c)
    assert c.read_bytes() == b"A" and a.read_bytes() == b"A"
    gfile.Copy(b, c, overwrite=True)
    assert c.read_bytes() == b"B"
    gfile.Rename(a, b, overwrite=True)
    assert b.read_bytes() == b"A" and not a.exists()
    with pytest.raises(errors.NotFoundError):
        gfile.Rename(a, c, overwrite=True)
    with pytest.raises(errors.NotFoundError):
        gfile.Copy(a, root / "z")


def test_walk_top_down_and_bottom_up(root):
    (root / "x" / "y").mkdir(parents=True)
    (root / "f1").write_text("")
    (root / "x" / "f2").write_text("")
    top = str(root)
    down = list(gfile.Walk(top))
    assert down == [
        (top, ["x"], ["f1"]),
        (top + "/x", ["y"], ["f2"]),
        (top + "/x/y", [], []),
    ]
    assert list(gfile.Walk(top, in_order=False)) == down[::-1]
    assert list(gfile.Walk(root / "missing")) == []
