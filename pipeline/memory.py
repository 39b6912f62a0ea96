"""Process memory hygiene for long runs: what the garbage collector walks and what the heap keeps.

Neither function changes a record; both are about the resident size and the time of a run that
loads large models once and then processes many articles.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc


def freeze_long_lived() -> None:
    """Exclude every object alive now from future garbage collections (``gc.freeze``).

    Called once a pipeline has loaded, when the objects alive are models, vocabularies and the
    knowledge base, which stay for the whole process. Collecting first keeps garbage out of the
    permanent generation. The objects are unfrozen at exit so that the interpreter's final
    collection still releases them (extension types such as DuckDB's report leaks otherwise).
    """
    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)  # registered once however many pipelines load
    atexit.register(gc.unfreeze)


def release_free_heap() -> bool:
    """Return the C heap's free pages to the operating system (glibc ``malloc_trim``).

    Parsing leaves the heap with freed but still resident pages; the database load that follows
    allocates through its own allocator and cannot reuse them, so without this its memory is
    added on top of them. Returns whether anything could be asked (False off glibc).
    """
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    libc = ctypes.CDLL(path)
    if not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True
