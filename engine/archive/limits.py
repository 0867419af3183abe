"""Caps on what one archive may make us read, write and remember.

A layer is hostile input: these numbers bound the disk, memory and time it can
cost before it is refused (CVE-2017-14992 gzip bombs, huge PAX headers, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    # Total bytes of the uncompressed tar stream (all of it, padding included).
    max_uncompressed_bytes: int = 64 * GiB
    # uncompressed/compressed; gzip tops out near 1030:1 on pure zeros, so a
    # real layer never gets there.  Checked only past `ratio_check_after`
    # bytes so tiny, highly compressible layers are never refused.
    max_ratio: int = 1000
    ratio_check_after: int = 64 * MiB
    # Entries (headers) in one archive: bounds the bookkeeping we keep per entry.
    max_entries: int = 2_000_000
    # Bytes of a path or link target (PATH_MAX).
    max_path_length: int = 4096
    # Bytes of one PAX extended header or GNU long name record.
    max_pax_header_bytes: int = 1 * MiB
    # Regions in one sparse file's map.
    max_sparse_regions: int = 1 << 20
    # zstd frame window (memory one decompressor may allocate); zstd's own
    # default limit is 2^27 unless --long is negotiated.
    max_zstd_window: int = 1 << 27
    # xz/lzma decoder memory.
    max_xz_memory: int = 256 * MiB


DEFAULT_LIMITS = Limits()
