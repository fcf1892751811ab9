"""`tf.gfile`: TensorFlow 0.9/1.x's file API, on local paths and on any fsspec URL.

Plain paths take the os-module code path below. A `scheme://` path (`gs://`, `s3://`,
`hdfs://`, `memory://`, `file://`, ... with the fsspec plugin for it) goes through
tensorflux/platform/remote_fs.py, with the same errors and the same all-or-nothing writes.

Failures raise tensorflux's error classes (NotFoundError, AlreadyExistsError,
PermissionDeniedError, FailedPreconditionError, ...) naming the path involved.

Writes in mode 'w' or 'wb' are atomic: data goes to a temporary file in the target's
directory, which close() fsyncs and then renames over the target with os.replace. A crash,
or an exception escaping a `with GFile(...)` block, never leaves a half-written file: the
target keeps its old contents (or stays absent) and the temporary file is removed. A
writer that is garbage-collected without close() is discarded the same way. Mode 'a'
appends in place and is not atomic.
"""

import errno
import glob as _glob
import io
import os
import shutil
import stat as _stat
import tempfile

from tensorflux.framework import errors
from tensorflux.platform import remote_fs

__all__ = [
    "Exists", "IsDirectory", "MakeDirs", "MkDir", "Glob", "ListDirectory", "Remove",
    "DeleteRecursively", "Rename", "Copy", "Stat", "Walk", "Open", "GFile", "FastGFile",
    "FileStatistics",
]

_MODES = ("r", "rb", "w", "wb", "a", "ab")

is_url = remote_fs.is_url  # tensorflux-internal: callers keep os calls for plain paths


def _raise_from_os_error(exc, path):
    """Re-raises an OSError as the tensorflux error class for its errno."""
    by_errno = {
        errno.ENOENT: errors.NotFoundError,
        errno.EEXIST: errors.AlreadyExistsError,
        errno.ENOTEMPTY: errors.FailedPreconditionError,
        errno.EACCES: errors.PermissionDeniedError,
        errno.EPERM: errors.PermissionDeniedError,
        errno.ENOTDIR: errors.FailedPreconditionError,
        errno.EISDIR: errors.FailedPreconditionError,
    }
    cls = by_errno.get(exc.errno) or _by_class(exc)
    raise cls(None, None, "%s: %s" % (path, exc.strerror or exc)) from exc


def _by_class(exc):
    # fsspec raises FileNotFoundError(path) and friends without an errno.
    for os_cls, cls in ((FileNotFoundError, errors.NotFoundError),
                        (FileExistsError, errors.AlreadyExistsError),
                        (PermissionError, errors.PermissionDeniedError),
                        (IsADirectoryError, errors.FailedPreconditionError),
                        (NotADirectoryError, errors.FailedPreconditionError)):
        if isinstance(exc, os_cls):
            return cls
    return errors.UnknownError


class _os_errors:
    """Context manager: OSErrors inside become tensorflux errors naming `path`."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, OSError):
            _raise_from_os_error(exc, self.path)
        if exc_type is not None and issubclass(exc_type, NotImplementedError):
            raise errors.UnimplementedError(
                None, None, "%s: not supported by this filesystem: %s" % (self.path, exc)) from exc
        return False


def _not_found(path, what="file or directory"):
    return errors.NotFoundError(None, None, "%s not found: %s" % (what, path))


def _path(path):
    return os.fspath(path.decode() if isinstance(path, bytes) else path)


def _read_umask():
    # Python has no getter; set-and-restore once, at import, before user threads exist.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _mode_for_replacement(path):
    """mkstemp makes 0600 files; give the result the permissions open(path, 'w') would."""
    try:
        return _stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_UMASK


# -- queries -------------------------------------------------------------------------------
def Exists(filename):
    """Returns True if `filename` (a file or directory) exists."""
    filename = _path(filename)
    if remote_fs.is_url(filename):
        with _os_errors(filename):
            return remote_fs.exists(filename)
    return os.path.exists(filename)


def IsDirectory(dirname):
    """Returns True if `dirname` exists and is a directory."""
    dirname = _path(dirname)
    if remote_fs.is_url(dirname):
        with _os_errors(dirname):
            return remote_fs.isdir(dirname)
    return os.path.isdir(dirname)


class FileStatistics:
    """Result of Stat(): `length` in bytes, `mtime_nsec`, and `is_directory`."""

    def __init__(self, length, mtime_nsec, is_directory):
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory

    def __repr__(self):
        return "FileStatistics(length=%d, mtime_nsec=%d, is_directory=%s)" % (
            self.length, self.mtime_nsec, self.is_directory)


def Stat(filename):
    """Returns FileStatistics for `filename`.

    Raises:
      NotFoundError: if it does not exist.
    """
    filename = _path(filename)
    if remote_fs.is_url(filename):
        with _os_errors(filename):
            return FileStatistics(*remote_fs.stat(filename))
    with _os_errors(filename):
        st = os.stat(filename)
    return FileStatistics(st.st_size, st.st_mtime_ns, _stat.S_ISDIR(st.st_mode))


def Glob(filename):
    """Returns the sorted list of paths matching the glob pattern `filename`."""
    filename = _path(filename)
    if remote_fs.is_url(filename):
        with _os_errors(filename):
            return remote_fs.glob(filename)
    return sorted(_glob.glob(filename))


def ListDirectory(dirname):
    """Returns the sorted names (not paths) of the entries in `dirname`.

    Raises:
      NotFoundError: if `dirname` does not exist or is not a directory.
    """
    dirname = _path(dirname)
    if remote_fs.is_url(dirname):
        if not IsDirectory(dirname):
            raise _not_found(dirname, "directory")
        with _os_errors(dirname):
            return remote_fs.listdir(dirname)
    if not os.path.isdir(dirname):
        raise _not_found(dirname, "directory")
    with _os_errors(dirname):
        return sorted(os.listdir(dirname))


def Walk(top, in_order=True):
    """Yields `(dirname, subdir_names, file_names)` for `top` and every directory below it.

    Args:
      top: the directory to start from; nothing is yielded if it does not exist.
      in_order: True yields a directory before its subdirectories, False after them.
    """
    top = _path(top)
    try:
        names = ListDirectory(top)
    except errors.NotFoundError:
        return
    join = remote_fs.join if remote_fs.is_url(top) else os.path.join
    subdirs = [n for n in names if IsDirectory(join(top, n))]
    files = [n for n in names if n not in subdirs]
    if in_order:
        yield top, subdirs, files
    for subdir in subdirs:
        path = join(top, subdir)
        if not os.path.islink(path):  # listed, but not followed: no symlink cycles
            yield from Walk(path, in_order)
    if not in_order:
        yield top, subdirs, files


# -- changes -------------------------------------------------------------------------------
def MkDir(dirname):
    """Creates the directory `dirname`; its parent must exist.

    Raises:
      AlreadyExistsError: if `dirname` exists.
      NotFoundError: if its parent does not.
    """
    dirname = _path(dirname)
    with _os_errors(dirname):
        if remote_fs.is_url(dirname):
            remote_fs.mkdir(dirname)
        else:
            os.mkdir(dirname)


def MakeDirs(dirname):
    """Creates `dirname` and any missing parents; an existing directory is fine.

    Raises:
      AlreadyExistsError: if `dirname` (or a parent) exists as a file.
    """
    dirname = _path(dirname)
    with _os_errors(dirname):
        if remote_fs.is_url(dirname):
            remote_fs.makedirs(dirname)
        else:
            os.makedirs(dirname, exist_ok=True)


def Remove(filename):
    """Deletes the file `filename`.

    Raises:
      NotFoundError: if it does not exist.
      FailedPreconditionError: if it is a directory.
    """
    filename = _path(filename)
    with _os_errors(filename):
        if remote_fs.is_url(filename):
            remote_fs.remove(filename)
        else:
            os.remove(filename)


def DeleteRecursively(dirname):
    """Deletes `dirname` and everything below it (or just the file, if it is one).

    Raises:
      NotFoundError: if it does not exist.
    """
    dirname = _path(dirname)
    if remote_fs.is_url(dirname):
        with _os_errors(dirname):
            return remote_fs.delete_recursively(dirname)
    if not os.path.lexists(dirname):
        raise _not_found(dirname)
    with _os_errors(dirname):
        if os.path.isdir(dirname) and not os.path.islink(dirname):
            shutil.rmtree(dirname)
        else:
            os.remove(dirname)


def _lexists(path):
    return Exists(path) if remote_fs.is_url(path) else os.path.lexists(path)


def _check_destination(newpath, overwrite):
    if not overwrite and _lexists(newpath):
        raise errors.AlreadyExistsError(
            None, None, "destination already exists (pass overwrite=True): %s" % newpath)


def Rename(oldname, newname, overwrite=False):
    """Renames `oldname` to `newname`.

    Raises:
      NotFoundError: if `oldname` does not exist.
      AlreadyExistsError: if `newname` exists and `overwrite` is False.
    """
    oldname, newname = _path(oldname), _path(newname)
    if not _lexists(oldname):
        raise _not_found(oldname)
    _check_destination(newname, overwrite)
    if remote_fs.is_url(oldname) != remote_fs.is_url(newname):
        Copy(oldname, newname, overwrite=True)  # local <-> remote: copy, then remove
        Remove(oldname)
        return
    with _os_errors(newname):
        if remote_fs.is_url(newname):
            remote_fs.rename(oldname, newname)
        else:
            os.replace(oldname, newname)


def Copy(oldpath, newpath, overwrite=False):
    """Copies the file `oldpath` to `newpath` (atomically, as a 'wb' GFile writes).

    Raises:
      NotFoundError: if `oldpath` does not exist.
      AlreadyExistsError: if `newpath` exists and `overwrite` is False.
    """
    oldpath, newpath = _path(oldpath), _path(newpath)
    if not Exists(oldpath) or IsDirectory(oldpath):
        raise _not_found(oldpath, "file")
    _check_destination(newpath, overwrite)
    with GFile(oldpath, "rb") as src, GFile(newpath, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


# -- files ---------------------------------------------------------------------------------
class GFile:
    """A file object like Python's, with TensorFlow's GFile methods and errors.

    Modes: 'r' (reads give str), 'rb' (bytes), 'w'/'wb' (atomic replace on close, see the
    module docstring), 'a'/'ab' (append in place). write() takes str or bytes in any mode.
    Reading a file opened for writing, or the reverse, raises PermissionDeniedError.
    """

    def __init__(self, name, mode="r"):
        name = _path(name)
        if mode not in _MODES:
            raise errors.InvalidArgumentError(
                None, None, "GFile mode must be one of %s, got %r for %s" % (_MODES, mode, name))
        self.name = name
        self.mode = mode
        self._binary = "b" in mode
        self._temp_name = None
        self._remote_writer = None
        self._file = None
        with _os_errors(name):
            self._file = self._open()

    def _open(self):
        if remote_fs.is_url(self.name):
            return self._open_remote()
        if self.mode.startswith("r"):
            if os.path.isdir(self.name):
                raise errors.FailedPreconditionError(
                    None, None, "cannot open a directory for reading: %s" % self.name)
            raw = open(self.name, "rb")
            return raw if self._binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")
        if self.mode.startswith("a"):
            return open(self.name, "ab")
        directory = os.path.dirname(os.path.abspath(self.name))
        if not os.path.isdir(directory):
            raise _not_found(directory, "directory")
        fd, self._temp_name = tempfile.mkstemp(
            dir=directory, prefix="." + os.path.basename(self.name) + ".", suffix=".tmp")
        return os.fdopen(fd, "wb")

    def _open_remote(self):
        if self.mode.startswith("r"):
            return remote_fs.open_for_read(self.name, self._binary)
        if self.mode.startswith("a"):
            return remote_fs.open_for_append(self.name)
        self._remote_writer = remote_fs.AtomicWriter(self.name)
        return self._remote_writer.file

    # -- reading -----------------------------------------------------------------------
    def _readable(self):
        self._check_open()
        if not self.mode.startswith("r"):
            raise errors.PermissionDeniedError(
                None, None, "file is open for writing (mode %r), not reading: %s"
                % (self.mode, self.name))
        return self._file

    def read(self, n=-1):
        """Reads `n` bytes (characters in mode 'r'), or to the end if n < 0."""
        with _os_errors(self.name):
            return self._readable().read(n)

    def readline(self):
        """Returns the next line, with its newline; '' (or b'') at the end."""
        with _os_errors(self.name):
            return self._readable().readline()

    def readlines(self):
        """Returns all remaining lines."""
        with _os_errors(self.name):
            return self._readable().readlines()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    # -- writing -----------------------------------------------------------------------
    def write(self, data):
        """Writes `data` (str is encoded as UTF-8)."""
        self._check_open()
        if self.mode.startswith("r"):
            raise errors.PermissionDeniedError(
                None, None, "file is open for reading (mode %r), not writing: %s"
                % (self.mode, self.name))
        if isinstance(data, str):
            data = data.encode("utf-8")
        with _os_errors(self.name):
            self._file.write(data)

    def flush(self):
        """Flushes buffered writes (to the temporary file, for 'w'/'wb')."""
        self._check_open()
        with _os_errors(self.name):
            self._file.flush()

    # -- position ----------------------------------------------------------------------
    def seek(self, offset=None, whence=0, position=None):
        """Moves to `offset` (or TF's older keyword `position`), relative to `whence`."""
        self._check_open()
        if offset is None:
            offset = position if position is not None else 0
        with _os_errors(self.name):
            self._file.seek(offset, whence)

    def tell(self):
        """Returns the current position."""
        self._check_open()
        return self._file.tell()

    def size(self):
        """Returns the file's size in bytes (what has been written so far, when writing)."""
        self._check_open()
        if self._remote_writer is not None:
            return self._remote_writer.size()
        if remote_fs.is_url(self.name) and self.mode.startswith("a"):
            self._file.flush()
            return self._file.tell()
        if self._temp_name is not None or self.mode.startswith("a"):
            self._file.flush()
            return os.fstat(self._file.fileno()).st_size
        return Stat(self.name).length

    # -- closing -----------------------------------------------------------------------
    @property
    def closed(self):
        return self._file is None

    def _check_open(self):
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "file is closed: %s" % self.name)

    def close(self):
        """Closes the file; for 'w'/'wb' this is when `name` gets the new contents."""
        if self._file is None:
            return
        if self._remote_writer is not None:
            self._file = None
            with _os_errors(self.name):
                self._remote_writer.commit()
            return
        if self._temp_name is None:
            f, self._file = self._file, None
            f.close()
            return
        self._commit()

    def _commit(self):
        f, self._file = self._file, None
        try:
            with _os_errors(self.name):
                f.flush()
                os.fsync(f.fileno())
                f.close()
                os.chmod(self._temp_name, _mode_for_replacement(self.name))
                os.replace(self._temp_name, self.name)
            self._temp_name = None
            _fsync_directory(os.path.dirname(os.path.abspath(self.name)))
        finally:
            self._discard_temp(f)

    def _discard_temp(self, f=None):
        if f is not None and not f.closed:
            f.close()
        if self._temp_name is not None:
            try:
                os.remove(self._temp_name)
            except OSError:
                pass
            self._temp_name = None

    def discard(self):
        """Drops an atomic write without touching the target (tensorflux extension)."""
        self._abort()

    def _abort(self):
        if self._remote_writer is not None:
            self._file = None
            self._remote_writer.discard()
            return
        f, self._file = self._file, None
        if self._temp_name is not None:
            self._discard_temp(f)
        elif f is not None:
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self._abort()
        return False

    def __del__(self):
        # Unclosed atomic writers are discarded, never half-committed.
        if getattr(self, "_file", None) is not None:
            try:
                self._abort()
            except Exception:
                pass

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return "<gfile.GFile %s %r mode %r>" % (state, self.name, self.mode)


def _fsync_directory(directory):
    """Makes a rename durable on POSIX; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


Open = GFile


class FastGFile(GFile):
    """TensorFlow's unbuffered-I/O variant of GFile; here identical to GFile."""
