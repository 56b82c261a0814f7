"""Fetching dataset files: mirror, cache, checksums, atomic writes.

A file is looked for, in order, in the cache (``$CLUSTERBENCH_DATA/raw/{dataset}``),
in the mirror (``$CLUSTERBENCH_MIRROR`` or the ``mirror`` config key: a local
folder or a base URL, holding ``{file}`` or ``{dataset}/{file}``), then at its
upstream URLs. Every copy is written to a ``.part`` file, verified (sha256 or
md5, else size) and only then renamed into place, so an interrupted transfer
leaves nothing behind and a bad copy is removed.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..framework.atomic import publish, remove_stale_parts, temp_path

CHUNK = 1 << 20
TIMEOUT_S = 60


class DatasetUnavailable(RuntimeError):
    """A dataset's files cannot be obtained (offline, manual placement missing)."""


class ChecksumError(DatasetUnavailable):
    """A downloaded or mirrored file does not match its published checksum (and no other source had a good
    copy). A kind of :class:`DatasetUnavailable`: without ``strict`` the dataset renders as unavailable."""


@dataclass(frozen=True)
class RemoteFile:
    """One upstream file of a dataset.

    ``hash_source`` says where the checksum was read (never a hash computed here
    from an unverified copy); with no published hash, ``size`` and the format
    check in the dataset's builder are what verify the file.
    """

    name: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    hash_source: str = ""

    def describe_hash(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256}"
        if self.md5:
            return f"md5 {self.md5}"
        return "no published checksum (size and format are checked)"


def data_home() -> Path:
    """Cache root: ``$CLUSTERBENCH_DATA`` or ``./resources/data``."""
    return Path(os.environ.get("CLUSTERBENCH_DATA", "resources/data")).expanduser()


def mirror_setting(mirror: str | None = None) -> str | None:
    """The mirror to use: the explicit argument, else ``$CLUSTERBENCH_MIRROR``."""
    value = mirror if mirror else os.environ.get("CLUSTERBENCH_MIRROR")
    return value or None


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, remote: RemoteFile, shown_as: str | None = None) -> None:
    """Raise :class:`ChecksumError` (and delete ``path``) when it does not match ``remote``."""
    shown_as = shown_as or remote.name
    for algorithm in ("sha256", "md5"):
        expected = getattr(remote, algorithm)
        if expected:
            actual = file_digest(path, algorithm)
            if actual != expected.lower():
                path.unlink(missing_ok=True)
                raise ChecksumError(
                    f"{shown_as}: {algorithm} mismatch, expected {expected}, got {actual}; "
                    "the bad copy was removed"
                )
            return
    if remote.size is not None and path.stat().st_size != remote.size:
        actual = path.stat().st_size
        path.unlink(missing_ok=True)
        raise ChecksumError(
            f"{shown_as}: size mismatch, expected {remote.size} bytes, got {actual}; "
            "the bad copy was removed"
        )


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://", "file://", "ftp://"))


def _copy_url(url: str, part: Path) -> None:
    """Stream ``url`` into ``part``; a short read against Content-Length is an error."""
    request = urllib.request.Request(url, headers={"User-Agent": "clusterbench"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(part, "wb") as out:
        expected = response.headers.get("Content-Length")
        received = 0
        while True:
            chunk = response.read(CHUNK)
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
    if expected is not None and received != int(expected):
        raise OSError(f"truncated transfer: {received} of {expected} bytes")


def _sources(remote: RemoteFile, dataset: str, mirror: str | None) -> list[str]:
    sources = []
    if mirror:
        if _is_url(mirror):
            base = mirror.rstrip("/")
            sources += [f"{base}/{dataset}/{remote.name}", f"{base}/{remote.name}"]
        else:
            root = Path(mirror).expanduser()
            sources += [str(root / dataset / remote.name), str(root / remote.name)]
    sources += list(remote.urls)
    return sources


def fetch(remote: RemoteFile, dataset: str, *, mirror: str | None = None,
          cache: Path | None = None, download: bool = True) -> Path:
    """Return the verified local path of ``remote``, fetching it if needed.

    Sources in order: the cache, the mirror, the upstream URLs. A copy that does
    not match (checksum or size) is removed and reported, and the next source is
    tried. Raises :class:`ChecksumError` when bad copies were found and no source
    had a good one, :class:`DatasetUnavailable` when no source could provide it.
    """
    import sys

    cache = Path(cache) if cache is not None else data_home()
    target = cache / "raw" / dataset / remote.name
    failures, bad = [], []
    if target.exists():
        try:
            verify(target, remote, shown_as=str(target))
            return target
        except ChecksumError as error:  # removed by verify; fetch a good copy
            print(f"{error}; fetching it again", file=sys.stderr, flush=True)
            failures.append(f"{target}: {error}")
            bad.append(str(error))
    mirror = mirror_setting(mirror)
    target.parent.mkdir(parents=True, exist_ok=True)
    # a part file of this process's own: concurrent fetches of one file (two runs starting at once) each
    # verify their copy and rename it onto the target atomically
    remove_stale_parts(target.parent)  # left by a killed fetch
    part = temp_path(target)
    try:
        for source in _sources(remote, dataset, mirror):
            is_remote = _is_url(source)
            if is_remote and not download:
                failures.append(f"{source}: not tried (downloads disabled)")
                continue
            if not is_remote and not Path(source).is_file():
                failures.append(f"{source}: not found")
                continue
            try:
                if is_remote:
                    _copy_url(source, part)
                else:
                    shutil.copyfile(source, part)
                verify(part, remote, shown_as=f"{remote.name} from {source}")
                publish(part, target)  # the umask's mode, then the atomic rename
                return target
            except ChecksumError as error:
                # a corrupt mirror or upstream copy: report it and try the next source
                print(f"{error}; trying the next source", file=sys.stderr, flush=True)
                failures.append(f"{source}: {error}")
                bad.append(str(error))
            except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as error:
                # a broken transfer (short read, dropped or garbled connection) moves on to the next source
                failures.append(f"{source}: {error!r}" if not str(error) else f"{source}: {error}")
    finally:
        # Whatever happened (including Ctrl-C or a crash), no partial file stays behind.
        part.unlink(missing_ok=True)
    if bad:
        raise ChecksumError(f"{bad[0]}; no source had a good copy of {remote.name} for dataset {dataset!r}. "
                            "Tried: " + "; ".join(failures))
    where = ", ".join(remote.urls) or "(no public URL)"
    raise DatasetUnavailable(
        f"dataset {dataset!r}: cannot obtain {remote.name} ({remote.describe_hash()}). "
        f"Download it from {where} and put it in {target.parent}/ or in the mirror folder "
        f"(set CLUSTERBENCH_MIRROR or the 'mirror' config key). Tried: " + "; ".join(failures or ["nothing"])
    )
