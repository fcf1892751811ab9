import os

import pytest

from tensorflux.framework import errors
from tensorflux.platform import gfile


def test_exists_isdirectory_mkdir_makedirs(tmp_path):
    d = tmp_path / "a" / "b"
    assert not gfile.Exists(d)
    gfile.MakeDirs(d)
    gfile.MakeDirs(d)  # an existing directory is fine
    assert gfile.Exists(d) and gfile.IsDirectory(d)
    with pytest.raises(errors.AlreadyExistsError):
        gfile.MkDir(d)
    with pytest.raises(errors.NotFoundError):
        gfile.MkDir(tmp_path / "missing" / "child")
    gfile.MkDir(tmp_path / "c")
    assert gfile.IsDirectory(str(tmp_path / "c"))
    (tmp_path / "f").write_text("x")
    assert not gfile.IsDirectory(tmp_path / "f")
    with pytest.raises(errors.AlreadyExistsError):
        gfile.MakeDirs(tmp_path / "f")


def test_write_read_modes(tmp_path):
    path = str(tmp_path / "t.txt")
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


def test_append_mode(tmp_path):
    path = tmp_path / "a.bin"
    with gfile.GFile(path, "wb") as f:
        f.write(b"ab")
    with gfile.GFile(path, "a") as f:
        f.write("cd")
        assert f.size() == 4
    assert path.read_bytes() == b"abcd"


def test_write_is_atomic_until_close(tmp_path):
    path = tmp_path / "model.ckpt"
    path.write_bytes(b"old")
    f = gfile.GFile(path, "wb")
    f.write(b"new contents")
    f.flush()
    assert f.size() == len(b"new contents")
    assert path.read_bytes() == b"old"  # nothing visible before close
    f.close()
    assert path.read_bytes() == b"new contents"
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]  # no temporary file left
    f.close()  # closing twice is harmless


def test_exception_inside_with_block_keeps_old_file(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"keep me")
    with pytest.raises(RuntimeError):
        with gfile.GFile(path, "w") as f:
            f.write("half")
            raise RuntimeError("crash")
    assert path.read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == ["data"]


def test_unclosed_writer_is_discarded(tmp_path):
    path = tmp_path / "never"
    f = gfile.GFile(path, "w")
    f.write("x")
    del f
    assert os.listdir(tmp_path) == []


def test_new_file_gets_normal_permissions(tmp_path):
    path = tmp_path / "p"
    with gfile.GFile(path, "w") as f:
        f.write("x")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


def test_file_errors(tmp_path):
    with pytest.raises(errors.NotFoundError, match="missing"):
        gfile.GFile(tmp_path / "missing", "r")
    with pytest.raises(errors.NotFoundError):
        gfile.GFile(tmp_path / "nodir" / "x", "w")
    with pytest.raises(errors.InvalidArgumentError, match="mode"):
        gfile.GFile(tmp_path / "x", "r+")
    with pytest.raises(errors.FailedPreconditionError):
        gfile.GFile(tmp_path, "r")
    with gfile.GFile(tmp_path / "w", "w") as f:
        with pytest.raises(errors.PermissionDeniedError, match="not reading"):
            f.read()
    with gfile.GFile(tmp_path / "w", "r") as f:
        with pytest.raises(errors.PermissionDeniedError, match="not writing"):
            f.write("x")
    f = gfile.GFile(tmp_path / "w", "r")
    f.close()
    assert f.closed
    with pytest.raises(errors.FailedPreconditionError, match="closed"):
        f.read()


def test_glob_listdirectory_stat(tmp_path):
    for name in ("b.txt", "a.txt", "c.log"):
        (tmp_path / name).write_bytes(b"12345")
    (tmp_path / "sub").mkdir()
    assert gfile.Glob(str(tmp_path / "*.txt")) == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert gfile.ListDirectory(tmp_path) == ["a.txt", "b.txt", "c.log", "sub"]
    with pytest.raises(errors.NotFoundError):
        gfile.ListDirectory(tmp_path / "nope")
    st = gfile.Stat(tmp_path / "a.txt")
    assert st.length == 5 and not st.is_directory
    assert st.mtime_nsec == os.stat(tmp_path / "a.txt").st_mtime_ns
    assert gfile.Stat(tmp_path / "sub").is_directory
    with pytest.raises(errors.NotFoundError):
        gfile.Stat(tmp_path / "nope")


def test_remove_and_delete_recursively(tmp_path):
    (tmp_path / "f").write_text("x")
    gfile.Remove(tmp_path / "f")
    assert not gfile.Exists(tmp_path / "f")
    with pytest.raises(errors.NotFoundError):
        gfile.Remove(tmp_path / "f")
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "g").write_text("x")
    with pytest.raises(errors.FailedPreconditionError):
        gfile.Remove(tmp_path / "d")
    gfile.DeleteRecursively(tmp_path / "d")
    assert not gfile.Exists(tmp_path / "d")
    with pytest.raises(errors.NotFoundError):
        gfile.DeleteRecursively(tmp_path / "d")


def test_rename_and_copy_respect_overwrite(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
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
        gfile.Copy(a, tmp_path / "z")


def test_walk_top_down_and_bottom_up(tmp_path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "f1").write_text("")
    (tmp_path / "x" / "f2").write_text("")
    top = str(tmp_path)
    down = list(gfile.Walk(top))
    assert down == [
        (top, ["x"], ["f1"]),
        (os.path.join(top, "x"), ["y"], ["f2"]),
        (os.path.join(top, "x", "y"), [], []),
    ]
    assert list(gfile.Walk(top, in_order=False)) == down[::-1]
    assert list(gfile.Walk(tmp_path / "missing")) == []
