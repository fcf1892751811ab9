"""The fsspec side of `tf.gfile`: what every gfile function does for a URL (`gs://`, `s3://`,
`hdfs://`, `memory://`, `file://`, ...), with the matching fsspec plugin installed.

gfile keeps plain local paths on its own os-module code path (fast, atomic by rename) and sends
anything with a `scheme://` here. Paths handed back (Glob, Walk) keep the caller's spelling of
the scheme and bucket, so `memory://run/x` stays `memory://run/x`.

Writes in mode 'w'/'wb' never show a half-written file:
- where the filesystem renames atomically (local files, HDFS) the data goes to a temporary file
  beside the target and close() renames it over the target;
- elsewhere (object stores, memory) the data is spooled locally and close() uploads it in one
  put: the object appears whole when the upload completes, as a GCS or S3 object does.
An exception inside a `with` block, or discard(), drops the spool or the temporary file.
"""

import io
import posixpath
import shutil
import tempfile
import uuid

from tensorflux.framework import errors

# Filesystems whose rename is atomic within one filesystem, so a temp file + mv is safe.
_ATOMIC_RENAME = {"file", "local", "hdfs", "arrow_hdfs", "viewfs"}
# Spools beyond this many bytes move from memory to a local temporary file.
_SPOOL_BYTES = 64 << 20


def is_url(path):
    """True for `scheme://...` paths, which gfile hands to fsspec."""
    if not isinstance(path, str):
        return False
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum()


def _fsspec():
    try:
        import fsspec
    except ImportError as e:  # pragma: no cover - fsspec is a dependency
        raise errors.UnimplementedError(
            None, None, "File system scheme URLs need fsspec (pip install fsspec): %s" % e)
    return fsspec


def resolve(url):
    """Returns (filesystem, path inside it) for `url`.

    Raises:
      UnimplementedError: if no fsspec filesystem is registered for its scheme.
    """
    try:
        return _fsspec().core.url_to_fs(url)
    except (ValueError, ImportError) as e:
        raise errors.UnimplementedError(
            None, None, "File system scheme '%s' not implemented (file: '%s'): %s"
            % (url.split("://", 1)[0], url, e)) from e


def _atomic_rename(fs):
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return any(p in _ATOMIC_RENAME for p in protocols)


class _Spelling:
    """Turns fsspec's stripped paths back into URLs spelled the way the caller spelled them."""

    def __init__(self, url, stripped):
        self.scheme = url[:url.index("://") + 3]
        rest = url[len(self.scheme):]
        self.lead = stripped[:len(stripped) - len(rest)] if stripped.endswith(rest) else None

    def url(self, fs, stripped):
        if self.lead is not None and stripped.startswith(self.lead):
            return self.scheme + stripped[len(self.lead):]
        return fs.unstrip_protocol(stripped)


# -- queries -------------------------------------------------------------------------------
def exists(url):
    fs, path = resolve(url)
    return fs.exists(path)


def isdir(url):
    fs, path = resolve(url)
    return fs.isdir(path)


def stat(url):
    """Returns (length, mtime_nsec, is_directory); mtime is 0 where the store keeps none."""
    fs, path = resolve(url)
    info = fs.info(path)
    try:
        mtime_ns = int(fs.modified(path).timestamp() * 1e9)
    except (NotImplementedError, AttributeError, KeyError, TypeError, OSError):
        mtime_ns = 0
    return int(info.get("size") or 0), mtime_ns, info.get("type") == "directory"


def glob(pattern):
    fs, path = resolve(pattern)
    spelling = _Spelling(pattern, path)
    return sorted(spelling.url(fs, p) for p in fs.glob(path))


def listdir(url):
    """Names in directory `url`; FileNotFoundError if it is not one."""
    fs, path = resolve(url)
    if not fs.isdir(path):
        raise FileNotFoundError(url)
    names = {posixpath.basename(p.rstrip("/")) for p in fs.ls(path, detail=False)}
    return sorted(n for n in names if n)


def join(url, name):
    return url.rstrip("/") + "/" + name


# -- changes -------------------------------------------------------------------------------
def mkdir(url):
    fs, path = resolve(url)
    if fs.exists(path):
        raise FileExistsError(url)
    parent = posixpath.dirname(path.rstrip("/"))
    if parent and parent not in ("/", path) and not fs.isdir(parent):
        raise FileNotFoundError("parent directory of %s" % url)
    fs.mkdir(path, create_parents=False)


def makedirs(url):
    fs, path = resolve(url)
    if fs.isfile(path):
        raise FileExistsError(url)
    fs.makedirs(path, exist_ok=True)


def remove(url):
    fs, path = resolve(url)
    if fs.isdir(path):
        raise IsADirectoryError(url)
    fs.rm_file(path)


def delete_recursively(url):
    fs, path = resolve(url)
    if not fs.exists(path):
        raise FileNotFoundError(url)
    fs.rm(path, recursive=True)


def rename(old, new):
    """Moves `old` to `new` (same filesystem: a rename; across filesystems: copy + delete)."""
    fs_old, old_path = resolve(old)
    fs_new, new_path = resolve(new)
    if type(fs_old) is type(fs_new) and fs_old.protocol == fs_new.protocol:
        if fs_new.exists(new_path) and not _atomic_rename(fs_new):
            fs_new.rm_file(new_path)
        fs_old.mv(old_path, new_path)
        return
    raise errors.UnimplementedError(
        None, None, "Rename across filesystems is not supported (copy, then remove): %s -> %s"
        % (old, new))


# -- files ---------------------------------------------------------------------------------
def open_for_read(url, binary):
    fs, path = resolve(url)
    if fs.isdir(path):
        raise IsADirectoryError(url)
    raw = fs.open(path, "rb")
    return raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")


def open_for_append(url):
    """An append-mode file; where the store cannot append (GCS, S3), a _ReuploadingAppender."""
    fs, path = resolve(url)
    try:
        return fs.open(path, "ab")
    except (NotImplementedError, ValueError):
        return _ReuploadingAppender(fs, path)


class _ReuploadingAppender:
    """Appends on a store whose objects cannot grow: keeps the whole file and uploads all of it
    on every flush() and on close(), as TensorFlow's own GCS file system does for event files.
    Each upload replaces the object whole, so a reader sees some flushed prefix, never a torn
    one."""

    def __init__(self, fs, path):
        self.fs, self.path = fs, path
        self._data = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        if fs.exists(path):
            with fs.open(path, "rb") as old:
                shutil.copyfileobj(old, self._data, 1 << 20)
        self.closed = False

    def write(self, data):
        return self._data.write(data)

    def tell(self):
        return self._data.tell()

    def flush(self):
        self._data.seek(0)
        with self.fs.open(self.path, "wb") as out:
            shutil.copyfileobj(self._data, out, 1 << 20)
        self._data.seek(0, io.SEEK_END)

    def close(self):
        if not self.closed:
            self.flush()
            self._data.close()
            self.closed = True


class AtomicWriter:
    """The write half of a 'w'/'wb' GFile on a URL: commit() publishes, discard() drops."""

    def __init__(self, url):
        self.url = url
        self.fs, self.path = resolve(url)
        parent = posixpath.dirname(self.path.rstrip("/"))
        if parent and parent != "/" and _atomic_rename(self.fs) and not self.fs.isdir(parent):
            raise FileNotFoundError("directory not found: %s" % parent)
        if _atomic_rename(self.fs):
            base = posixpath.basename(self.path)
            self.temp_path = posixpath.join(parent, ".%s.%s.tmp" % (base, uuid.uuid4().hex))
            self.file = self.fs.open(self.temp_path, "wb")
        else:
            self.temp_path = None
            self.file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)

    def size(self):
        self.file.flush()
        return self.file.tell()

    def commit(self):
        f, self.file = self.file, None
        if self.temp_path is not None:
            try:
                f.close()
                self.fs.mv(self.temp_path, self.path)
                self.temp_path = None
            finally:
                self.discard()  # a failed rename leaves no temporary file behind
            return
        try:
            f.seek(0)
            with self.fs.open(self.path, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 20)
        finally:
            f.close()

    def discard(self):
        f, self.file = self.file, None
        if f is not None:
            f.close()
        if self.temp_path is not None:
            try:
                self.fs.rm_file(self.temp_path)
            except OSError:
                pass
            self.temp_path = None
