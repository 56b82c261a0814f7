"""Atomic file writes (a reader never sees a half-written file), the umask, stale part files, locks.

Every file the suite writes goes through :func:`atomic_path`: a part file
``.{name}.{pid}.{random}.part`` beside the target, renamed onto it when complete
and given the mode a plain ``open()`` would give (``0o666 & ~umask``; the
temporary file itself is created 0600). A part file whose process is gone (a
SIGKILL) is removed by :func:`remove_stale_parts`; on SIGTERM the command line
turns the signal into an exception, so the ``finally`` below removes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

PART_SUFFIX = ".part"


def current_umask() -> int:
    """The process umask (read from /proc where it can be, so no thread sees it changed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_path(path: str | os.PathLike) -> Path:
    """A new empty part file beside ``path`` (the directory is created), named with this process id."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=PART_SUFFIX, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def publish(tmp: Path, path: str | os.PathLike) -> None:
    """Give ``tmp`` the umask's mode and rename it onto ``path`` (atomic on one file system)."""
    os.chmod(tmp, 0o666 & ~current_umask())
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    The file ends with the mode the umask gives (not mkstemp's 0600).
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_parts(directory: str | os.PathLike) -> list[Path]:
    """Remove part files in ``directory`` left by processes that no longer run (SIGKILL, power loss).

    Part files of live processes (a concurrent writer) are kept, and so are names
    without a process id (not ours).
    """
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for part in directory.glob(f".*{PART_SUFFIX}"):
        fields = part.name.split(".")  # .{name}.{pid}.{random}.part; mkstemp's random part has no dot
        pid = int(fields[-3]) if len(fields) >= 5 and fields[-3].isdigit() else None
        if pid is not None and not _process_alive(pid):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on ``path`` while the block runs; waits for other holders."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # mode filtered by the umask
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
