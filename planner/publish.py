"""Safe publishing of a scenario's plan files: all or nothing, never half-written.

Layout of ``out/<scenario>/``::

    versions/<version>/     one complete, immutable plan per version (plan.gpkg, city.gpkg,
                            plan_summary.json, city_summary.json, datum copies ...)
    CURRENT                 JSON pointer {"version", "published_at", "files"}: written last,
                            atomically (os.replace), so it always names a complete version
    plan.gpkg, city.gpkg,   the current version's files again (hard links, each swapped in
    ...                     with os.replace), for the maps and anyone reading the old paths

:func:`publishing` gives the writers an empty staging folder (``.staging-<version>``); when
they finish it is renamed to ``versions/<version>`` (one rename, atomic) and ``CURRENT`` is
swapped to it. A crash while writing leaves ``CURRENT`` on the previous version (the staging
folder is removed, or left behind by a killed process and swept by the next publish). The
API server (:mod:`api.reload`) loads the version ``CURRENT`` names, from its own folder, so it
never reads a half-written file, and picks up a new version without a restart. The
``keep`` newest versions are kept (a server still loading one is not pulled from under it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
VERSIONS = "versions"
STAGING_PREFIX = ".staging-"
KEEP = 3
"""Versions kept by default (the current one and the two before it)."""
STALE_STAGING_S = 24 * 3600
"""Staging folders older than this (left by a killed run) are removed by the next publish."""


@dataclass
class Publication:
    """A plan being published: write into :attr:`folder`; :attr:`version` names it."""

    target: Path
    version: str
    folder: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def final(self, path: Path) -> Path:
        """Where a file written in the staging folder is readable once published
        (``out/<scenario>/<relative path>``)."""
        try:
            return self.target / Path(path).resolve().relative_to(self.folder.resolve())
        except ValueError:
            return Path(path)


def new_version() -> str:
    """A sortable, unique version id: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


@contextmanager
def publishing(target: str | Path, *, keep: int = KEEP) -> Iterator[Publication]:
    """Stage a new version of ``target`` (``out/<scenario>``); publish it on success.

    On an exception nothing is published and the staging folder is removed.
    """
    if keep < 1:
        msg = f"`keep` must be at least 1, got {keep}"
        raise ValueError(msg)
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    _sweep_staging(target)
    version = new_version()
    stage = target / f"{STAGING_PREFIX}{version}"
    stage.mkdir()
    pub = Publication(target=target, version=version, folder=stage)
    try:
        yield pub
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    publish_folder(pub, keep=keep)


def publish_folder(pub: Publication, *, keep: int = KEEP) -> None:
    """Move a complete staging folder into ``versions/`` and point ``CURRENT`` at it."""
    files = {
        str(p.relative_to(pub.folder)): _describe(p)
        for p in sorted(pub.folder.rglob("*"))
        if p.is_file()
    }
    pub.files = files
    versions = pub.target / VERSIONS
    versions.mkdir(exist_ok=True)
    final = versions / pub.version
    _fsync_tree(pub.folder)
    os.replace(pub.folder, final)  # one rename: the version appears complete
    pointer = {
        "version": pub.version,
        "published_at": datetime.now(UTC).isoformat(),
        "files": files,
    }
    write_text_atomic(pub.target / CURRENT, json.dumps(pointer, indent=1))
    _mirror(final, pub.target, files)
    _prune(versions, keep, pub.version)
    logger.info("published %s version %s (%d files)", pub.target, pub.version, len(files))


def current(target: str | Path) -> dict[str, Any] | None:
    """The ``CURRENT`` pointer of ``out/<scenario>`` (``version``, ``published_at``, ``files``),
    or ``None`` for an unversioned folder (written before versioned publishing)."""
    path = Path(target) / CURRENT
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:  # os.replace makes this a real fault
        msg = f"`{path}` cannot be read: {exc}"
        raise OSError(msg) from exc
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        msg = f"`{path}` has no `version`"
        raise OSError(msg)
    return data


def current_version(target: str | Path) -> str | None:
    """The published version of ``out/<scenario>``, or ``None`` if unversioned."""
    pointer = current(target)
    return None if pointer is None else str(pointer["version"])


def version_folder(target: str | Path) -> tuple[Path, str | None]:
    """Folder holding the current plan files and its version.

    ``versions/<version>`` when published; the target itself (version ``None``) for an
    unversioned folder.
    """
    target = Path(target)
    version = current_version(target)
    if version is None:
        return target, None
    return target / VERSIONS / version, version


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to a temporary file next to `path`, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())


def _mirror(version: Path, target: Path, files: dict[str, Any]) -> None:
    """The version's files at their old paths under `target`, each swapped in atomically."""
    for rel in files:
        src, dst = version / rel, target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.link(src, tmp)
        except OSError:  # no hard links on this file system
            shutil.copy2(src, tmp)
        os.replace(tmp, dst)


def _prune(versions: Path, keep: int, current_name: str) -> None:
    names = sorted(p.name for p in versions.iterdir() if p.is_dir())
    for name in names[:-keep]:
        if name != current_name:
            shutil.rmtree(versions / name, ignore_errors=True)
            logger.info("removed old version %s", name)


def _sweep_staging(target: Path) -> None:
    now = time.time()
    for p in target.glob(f"{STAGING_PREFIX}*"):
        if p.is_dir() and now - p.stat().st_mtime > STALE_STAGING_S:
            shutil.rmtree(p, ignore_errors=True)
            logger.info("removed a stale staging folder %s", p)
