"""aiswds: WebDataset loading from an AIStore cluster, with the standard library only.

ais_gopen / register: a webdataset gopen handler for ais://bucket/shard-{000..099}.tar
(keep-alive connections, resume by Range); expand: shard URL brace patterns; tar_samples:
WebDataset-style samples out of a TAR stream; BatchReader / BatchLoader: one batch GET
(/v1/ml/moss) per DataLoader batch, in request order.
"""
from .batch import (BatchLoader, BatchOrderError, BatchReader, MissingEntriesError, entry,
                    member_name)
from .pool import DEFAULT_POOL, AISError, ConnPool, request
from .samples import split_key, tar_samples
from .stream import (ObjectChangedError, ObjectStream, ShortReadError, ais_gopen, register)
from .urls import endpoint, expand, parse_url

__all__ = [
    "AISError", "BatchLoader", "BatchOrderError", "BatchReader", "ConnPool", "DEFAULT_POOL",
    "MissingEntriesError", "ObjectChangedError", "ObjectStream", "ShortReadError", "ais_gopen",
    "endpoint", "entry", "expand", "member_name", "parse_url", "register", "request",
    "split_key", "tar_samples",
]
