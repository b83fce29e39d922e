"""A class's submissions: one student per entry of a folder, each exercise file found in it.

Each entry of the submissions folder is one student: a folder (a git clone as GitHub Classroom
makes them, ``<assignment>-<username>``, its ``.git`` ignored), or a ``.zip``. An exercise file
``exNN_<topic>.py`` counts wherever it sits in the submission, at any depth; everything else
in it is ignored. Nothing of a submission is executed or extracted here: the exercise files'
bytes are read (from a zip, without writing its paths anywhere), each capped in size.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 2**20  # an exercise file larger than 1 MiB is not one a learner wrote
MAX_ZIP_MEMBERS = 10_000
SKIPPED_FOLDERS = {".git", ".ipynb_checkpoints", "__MACOSX", "__pycache__"}


@dataclass
class StudentFiles:
    """One student's exercise files: ``files[name]`` the bytes of ``<name>.py``; a chapter whose
    file could not be used has ``problems[name]`` instead, saying why in words for the student."""

    student: str
    source: Path
    files: dict[str, bytes] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    problem: str = ""  # the submission as a whole could not be read

    def fingerprint(self) -> str:
        """A hash of everything of the submission that grading reads (its files and problems)."""
        digest = hashlib.sha256(self.problem.encode())
        for name in sorted(self.files):
            digest.update(f"\0file {name}\0".encode() + self.files[name])
        for name in sorted(self.problems):
            digest.update(f"\0problem {name}\0{self.problems[name]}".encode())
        return digest.hexdigest()


def discover(folder: Path, chapters: list[str]) -> list[StudentFiles]:
    """Every student in ``folder`` (sorted by student id) with their files of ``chapters`` read.

    Student ids are the entries' names, without a ``.zip`` suffix and without the ``<assignment>-``
    prefix that all of them share (GitHub Classroom), reduced to letters, digits, ``.``, ``_``
    and ``-`` (starting with a letter or digit); hidden entries (``.git``, ``.DS_Store``) are not students.
    """
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    names = [p.name[: -len(".zip")] if p.suffix.lower() == ".zip" else p.name for p in entries]
    ids = _unique(_sanitize(n) for n in _strip_common_prefix(names))
    submissions = []
    for student, path in zip(ids, entries, strict=True):
        submission = StudentFiles(student, path)
        try:
            if path.is_dir() and not path.is_symlink():
                found = _folder_files(path)
            elif path.is_file() and not path.is_symlink() and path.suffix.lower() == ".zip":
                found = _zip_files(path)
            else:
                raise _Unreadable("is neither a folder nor a .zip file")
        except _Unreadable as e:
            submission.problem = f"{path.name} {e}"
        else:
            _pick(submission, found, chapters)
        submissions.append(submission)
    return submissions


class _Unreadable(Exception):
    """The submission as a whole cannot be read (a corrupt zip, a stray file)."""


@dataclass
class _Found:
    """A file with an exercise's name inside a submission: where, and its bytes or why not."""

    where: str
    data: bytes | None
    problem: str = ""


def _strip_common_prefix(names: list[str]) -> list[str]:
    """``hw1-alice, hw1-bob`` -> ``alice, bob``: the prefix up to a ``-`` that every name shares."""
    if len(names) < 2:
        return names
    common = os.path.commonprefix(names)
    cut = common.rfind("-") + 1
    if cut == 0 or any(len(n) == cut for n in names):
        return names
    return [n[cut:] for n in names]


def _sanitize(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    clean = re.sub(r"^[^A-Za-z0-9]+", "", clean)[:100]
    return clean or "student"


def _unique(ids) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for student in ids:
        seen[student] = seen.get(student, 0) + 1
        out.append(student if seen[student] == 1 else f"{student}-{seen[student]}")
    return out


def _is_exercise_name(name: str) -> bool:
    return re.fullmatch(r"ex\d\d_\w+\.(py|ipynb)", name) is not None


def _folder_files(folder: Path) -> dict[str, list[_Found]]:
    found: dict[str, list[_Found]] = {}
    for parent, dirs, files in os.walk(folder):  # never follows a symbolic link to a folder
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if not _is_exercise_name(name):
                continue
            path = Path(parent) / name
            where = str(path.relative_to(folder))
            if path.is_symlink() or not path.is_file():
                found.setdefault(name, []).append(
                    _Found(where, None, f"{where} is a link, not the file itself")
                )
            elif path.stat().st_size > MAX_FILE_BYTES:
                found.setdefault(name, []).append(_Found(where, None, f"{where} is larger than 1 MiB"))
            else:
                found.setdefault(name, []).append(_Found(where, path.read_bytes()))
    return found


def _zip_files(path: Path) -> dict[str, list[_Found]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise _Unreadable(f"holds more than {MAX_ZIP_MEMBERS} files")
            found: dict[str, list[_Found]] = {}
            for info in members:
                parts = info.filename.replace("\\", "/").split("/")
                name = parts[-1]
                if info.is_dir() or not _is_exercise_name(name) or SKIPPED_FOLDERS & set(parts[:-1]):
                    continue
                found.setdefault(name, []).append(_zip_member(archive, info))
            return found
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        raise _Unreadable(f"is not a zip file that can be read ({e}); ask for a new one") from None


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Found:
    where = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        return _Found(where, None, f"{where} is a link, not the file itself")
    if info.file_size > MAX_FILE_BYTES:
        return _Found(where, None, f"{where} is larger than 1 MiB")
    with archive.open(info) as f:
        data = f.read(MAX_FILE_BYTES + 1)  # the size in the header may lie (a zip bomb)
    if len(data) > MAX_FILE_BYTES:
        return _Found(where, None, f"{where} is larger than 1 MiB")
    return _Found(where, data)


def _pick(submission: StudentFiles, found: dict[str, list[_Found]], chapters: list[str]) -> None:
    """Each chapter's file: the one ``<name>.py``, else a problem saying what is wrong."""
    for name in chapters:
        copies = found.get(f"{name}.py", [])
        if len(copies) > 1:
            places = ", ".join(c.where for c in copies)
            submission.problems[name] = f"{len(copies)} files named {name}.py ({places}): keep only one"
        elif copies and copies[0].problem:
            submission.problems[name] = copies[0].problem
        elif copies:
            submission.files[name] = copies[0].data
        elif f"{name}.ipynb" in found:
            where = found[f"{name}.ipynb"][0].where
            submission.problems[name] = (
                f"{where} is a notebook; the exercise is graded from exercises/{name}.py: "
                "write your code in that file (a notebook is not graded)"
            )
        else:
            submission.problems[name] = f"missing exercises/{name}.py"
