"""The YAML files in business/ that the CRM analysts edit (payment channels, complaint topics,
other parties, WhatsApp templates): one way to read them, with the file's name in every error,
and, for the files read while serving (all but the templates), one cache that reads a file again
only after it is saved, so an edit needs no restart."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Type, TypeVar

import yaml

from crm.settings import PROJECT_ROOT

BUSINESS = PROJECT_ROOT / "business"
T = TypeVar("T")


def read_mapping(path: Path, error: Type[ValueError]) -> Dict[str, Any]:
    """The file's top-level mapping ({} when empty); a missing, unreadable or broken file, or one
    that is not a mapping, raises `error` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as problem:
        raise error(f"{path} cannot be read: {problem.strerror}") from problem
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise error(f"{path.name} is not valid YAML: {problem}") from problem
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path.name} must hold named sections, not a {type(data).__name__}")
    return data


def reread_when_saved(parse: Callable[[Path, Dict[str, Any]], T], error: Type[ValueError]) -> Callable[[Path], T]:
    """A reader that parses the file with `parse(path, mapping)` once per saved version."""

    @lru_cache(maxsize=4)
    def parsed(path: Path, mtime: float) -> T:
        return parse(path, read_mapping(path, error))

    def read(path: Path) -> T:
        try:
            mtime = path.stat().st_mtime
        except OSError as problem:
            raise error(f"{path} cannot be read: {problem.strerror}") from problem
        return parsed(path, mtime)

    return read
