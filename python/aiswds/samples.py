"""WebDataset-style samples out of a TAR stream, with the standard library only.

Design notes: a shard holds samples as consecutive members sharing a key, the member name up to
the first dot of its basename (`a/000123.jpg`, `a/000123.cls` -> key `a/000123`, fields `jpg`,
`cls`), the convention of webdataset's tar_file_expander and group_by_keys. The TAR is read
with tarfile in stream mode (`r|`), so a shard is never held whole: only one sample's members.
"""
import re
import tarfile

_KEY = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")


def split_key(name):
    """(key, extension) of a member name, or (None, None) when the basename has no dot."""
    m = _KEY.match(name)
    return (m.group(1), m.group(2)) if m else (None, None)


def tar_samples(fileobj, url=None):
    """Yields the samples of a TAR stream in order: dicts {"__key__": key, ext: bytes, ...}
    (plus "__url__" when url is given). Directories and names without an extension are skipped.
    A key seen again after another key starts a new sample (as webdataset does); the same
    extension twice in one sample is a ValueError. tarfile.ReadError on a broken TAR."""
    cur = None
    with tarfile.open(fileobj=fileobj, mode="r|") as tf:
        for m in tf:
            if not m.isfile():
                continue
            key, ext = split_key(m.name)
            if key is None:
                continue
            if cur is not None and cur["__key__"] != key:
                yield cur
                cur = None
            if cur is None:
                cur = {"__key__": key}
                if url is not None:
                    cur["__url__"] = url
            if ext in cur:
                raise ValueError(f"{url or 'tar'}: {m.name}: field {ext!r} twice in sample {key}")
            cur[ext] = tf.extractfile(m).read()
    if cur is not None:
        yield cur
