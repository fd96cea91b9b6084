"""Loading PyTorch files with `weights_only=True`: tensors and plain data only, never code.

Before torch reads a byte, two checks that cost little memory:
- a zip archive (torch's format) must not expand past `archive_limit(file size)` bytes in all, nor hold more than
  `MAX_ARCHIVE_ENTRIES` entries: torch stores tensors uncompressed, so a genuine file expands to its own size,
  while a zip bomb of a few MB claims gigabytes;
- the pickle (data.pkl inside the archive, or the whole of a plain or legacy file) is read opcode by opcode,
  never run, and every class or function it names must be one that torch's weights-only loader allows. Any
  other name (`posix.system`, `builtins.eval`, a class of some package) means the file would run code.
"""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
import pickletools
import re
import stat
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any, Iterator

import torch

from lakeview.core.photos.files import file_kind, open_regular

ZIP_MAGIC = b"PK\x03\x04"  # what torch.load looks for to choose its zip reader
MAX_ARCHIVE_ENTRIES = 20_000
ARCHIVE_FIXED_BYTES = 64 << 20
ARCHIVE_EXPANSION = 4
"""A genuine archive may expand to 4 x its size + 64 MiB (allowing a re-zipped, deflated copy); no more."""
MAX_FILE_BYTES = 4 << 30
"""The largest model LakeView makes (ResNet50, 10,000 classes, a 4,096-wide head) is under 400 MB, torchvision's
largest weights file here 100 MB: a bigger file is refused before torch reads it, since torch reads every
tensor into memory whole (a sparse file of 'stored' zeros costs no disk space and any amount of memory)."""
LEGACY_PICKLES = 5
HIDDEN_NAME = "?"
MAX_PICKLE_BYTES = 64 << 20
"""data.pkl holds only the structure (names, shapes, metadata), never the tensors' bytes."""

# Opcodes that import a name: GLOBAL and INST carry it, STACK_GLOBAL takes it from the stack (strings pushed
# directly or through the memo), EXT1/2/4 from copyreg's registry.
_STRING_OPCODES = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
                             "BINSTRING", "SHORT_BINSTRING"})
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})
_NEUTRAL_OPCODES = frozenset({"PROTO", "FRAME"})


class UnsafeFile(Exception):
    """The file asks to import or call something (a pickled object or function): refused unread.

    `names` lists what it asks for (e.g. 'posix.system'); the message is a sentence without torch's advice.
    """

    def __init__(self, names: list[str]) -> None:
        self.names = names
        shown = ["an object whose name it computes" if name == HIDDEN_NAME else name for name in names]
        super().__init__("it names " + (", ".join(shown) or "a program object"))


class UnreadableFile(Exception):
    """The file is damaged or is not a PyTorch file."""


class OversizedFile(UnreadableFile):
    """An archive that would expand far past its own size (a zip bomb) or holds absurdly many entries."""


def archive_limit(file_size: int) -> int:
    """The most bytes a zip archive of `file_size` bytes may expand to."""
    return ARCHIVE_EXPANSION * file_size + ARCHIVE_FIXED_BYTES


def not_a_file_reason(path: Path | str, what: str = "model file") -> str | None:
    """Why `path` cannot be a model or weights file (missing, a folder, a FIFO, a device...), from its stat alone,
    so that nothing is opened (opening a FIFO would wait forever); None for a non-empty regular file."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return "is a link to a missing file" if path.is_symlink() else "not found"
    except PermissionError:
        return "cannot be read: permission denied"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    except ValueError:  # a NUL byte in the name
        return "is not a usable file name"
    if not stat.S_ISREG(info.st_mode):
        return f"is {file_kind(info.st_mode)}, not a {what}"
    if info.st_size == 0:
        return f"is empty (0 bytes), not a {what}"
    if not os.access(path, os.R_OK):
        return "cannot be read: permission denied"
    return None


def load_tensors_only(path: Path | str, mmap: bool = False) -> Any:
    """`mmap`: map the tensors instead of reading them (to look at a file's metadata without its weights).

    Raises UnsafeFile, OversizedFile, UnreadableFile, or OSError (cannot read it at all).
    """
    path = Path(path)
    with open_regular(path, lambda mode: UnreadableFile(f"it is {file_kind(mode)}")) as handle:
        info = os.fstat(handle.fileno())
        if info.st_size > MAX_FILE_BYTES:
            raise OversizedFile(f"it is {_megabytes(info.st_size)}; a model or weights file is at most "
                                f"{_megabytes(MAX_FILE_BYTES)}")
        is_zip = handle.read(4) == ZIP_MAGIC
        handle.seek(0)
        if is_zip:
            _check_archive(handle, os.fstat(handle.fileno()).st_size)
        else:
            _check_pickles(handle)
        handle.seek(0)
        return _torch_load(path if mmap and is_zip else handle, mmap and is_zip)


def load_or_refuse(path: Path, error: type[Exception], kind: str, unreadable: str, mmap: bool = False) -> Any:
    """`load_tensors_only`, with every refusal raised as `error` and one sentence. `kind` names the file ("model
    file", "weights file"); `unreadable` says what a file that does not load is ("is damaged or not a model file")."""
    reason = not_a_file_reason(path, kind)
    if reason == "not found":
        raise error(f"{kind} not found: {path}")
    if reason is not None:
        raise error(f"{path} {reason}")
    try:
        return load_tensors_only(path, mmap)
    except UnsafeFile as exc:
        raise error(
            f"refused to open {path}: it contains code ({exc}) that would run on this computer if the file were "
            f"opened as an ordinary PyTorch file, so LakeView ran none of it; use only {kind}s you trust"
        ) from None
    except OversizedFile as exc:
        raise error(f"refused to open {path}: {exc}") from None
    except UnreadableFile as exc:
        raise error(f"{path} {unreadable} ({exc})") from None
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None


def _torch_load(source: Path | IO[bytes], mmap: bool) -> Any:
    try:
        with warnings.catch_warnings():
            # Plain pickle files written with protocol 4+ trigger this notice; the safe unpickler still applies.
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            if mmap:  # torch maps only its zip format, and only from a path
                return torch.load(source, map_location="cpu", weights_only=True, mmap=True)
            return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # The names were checked above, so what is left is a structure torch's safe loader does not read.
        raise UnreadableFile(_unpickler_detail(str(exc))) from None
    except (RuntimeError, EOFError, ValueError, KeyError, IndexError, UnicodeDecodeError, TypeError,
            AttributeError, OverflowError, MemoryError) as exc:
        raise UnreadableFile(_without_advice(_first_line(exc))) from None


def _check_archive(handle: IO[bytes], file_size: int) -> None:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise UnreadableFile(f"a damaged archive ({_first_line(exc)})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ARCHIVE_ENTRIES:
            raise OversizedFile(f"it holds {len(entries):,} entries; a model file holds at most "
                                f"{MAX_ARCHIVE_ENTRIES:,}")
        expanded = sum(entry.file_size for entry in entries)
        if expanded > archive_limit(file_size):
            raise OversizedFile(
                f"it would expand from {_megabytes(file_size)} to {_megabytes(expanded)} "
                f"(at most {_megabytes(archive_limit(file_size))} is allowed): it looks like a zip bomb")
        # torch reads its structure from <name>/data.pkl; every pickle in the archive is checked all the same.
        for entry in (e for e in entries if e.filename.endswith(".pkl")):
            if entry.file_size > MAX_PICKLE_BYTES:
                raise OversizedFile(f"its structure ({entry.filename}) is {_megabytes(entry.file_size)}; at most "
                                    f"{_megabytes(MAX_PICKLE_BYTES)} is allowed")
            try:
                data = archive.read(entry)
            except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
                raise UnreadableFile(f"a damaged archive ({_first_line(exc)})") from None
            _check_pickles(io.BytesIO(data))


def _check_pickles(handle: IO[bytes]) -> None:
    """The pickles at the start of `handle`: a plain pickle is one, a legacy torch file five, then raw bytes."""
    end = _size(handle)
    bounded = _BoundedReader(handle, end)
    refused: list[str] = []
    for number in range(LEGACY_PICKLES):
        start = handle.tell()
        try:
            with warnings.catch_warnings():  # junk's text operands can hold escapes Python calls invalid
                warnings.simplefilter("ignore", DeprecationWarning)
                for name in _named_globals(bounded):
                    if not _allowed(name) and not refused:
                        refused.append(name)
        except (ValueError, EOFError, UnicodeDecodeError, OverflowError, IndexError, KeyError) as exc:
            # Random bytes can begin with a short pickle that names code (one file in fifty begins with a copyreg
            # extension opcode). What follows it then reads as no pickle at all: such a file is damaged, not a
            # threat (and is refused either way).
            if number == 0 or refused:
                raise UnreadableFile(f"not a readable pickle: {_first_line(exc)}") from None
            break  # the raw tensor bytes that follow a legacy file's pickles
        if handle.tell() in (start, end):
            break
    if refused:
        raise UnsafeFile(refused)


class _BoundedReader:
    """What pickletools reads through: a length field cannot make it ask for more bytes than the file holds
    (a crafted 2**62-byte string would otherwise be a MemoryError), nor a line run on for megabytes."""

    MAX_LINE = 1 << 16

    def __init__(self, handle: IO[bytes], end: int) -> None:
        self.handle, self.end = handle, end

    def read(self, count: int = -1) -> bytes:
        left = self.end - self.handle.tell()
        if count > left:
            raise EOFError(f"a length of {count:,} bytes where {left:,} are left")
        return self.handle.read(left if count < 0 else count)

    def readline(self) -> bytes:
        return self.handle.readline(self.MAX_LINE)

    def tell(self) -> int:
        return self.handle.tell()


def _named_globals(handle: IO[bytes]) -> Iterator[str]:
    """The dotted names one pickle asks to import, read without running anything.

    STACK_GLOBAL takes its module and name from the stack; they are followed through string pushes and the
    memo, which is how Python's pickler writes them. An operand that cannot be followed is reported as '?'.
    """
    recent: list[Any] = []
    memo: dict[int, Any] = {}
    for opcode, arg, _ in pickletools.genops(handle):
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            yield _renamed(*str(arg).split(" ", 1))
            recent.append(None)
        elif name == "STACK_GLOBAL":
            module, attribute = (recent[-2:] if len(recent) >= 2 else [None, None])
            yield (_renamed(module, attribute) if isinstance(module, str) and isinstance(attribute, str)
                   else HIDDEN_NAME)
            recent.append(None)
        elif name.startswith("EXT"):
            yield f"copyreg extension {arg}"
        elif name in _STRING_OPCODES:
            recent.append(arg)
        elif name in _MEMO_PUT:
            memo[int(arg)] = recent[-1] if recent else None
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in _MEMO_GET:
            recent.append(memo.get(int(arg)))
        elif name == "STOP":
            return
        elif name not in _NEUTRAL_OPCODES:
            recent.append(None)
        del recent[:-2]


def _renamed(module: str, name: str | None = None) -> str:
    # Python 2 names, mapped as torch's loader and pickle map them (e.g. __builtin__ -> builtins).
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    else:
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{module}.{name}"


def _allowed(name: str) -> bool:
    return name in _allowed_globals() or name in _user_allowed_globals()


def _allowed_globals() -> dict[str, Any]:
    try:
        from torch._weights_only_unpickler import _get_allowed_globals
    except ImportError:  # a torch without it: torch's loader still refuses what it does not allow
        return {}
    return _get_allowed_globals()


def _user_allowed_globals() -> dict[str, Any]:
    try:
        from torch._weights_only_unpickler import _get_user_allowed_globals
    except ImportError:
        return {}
    return _get_user_allowed_globals()


def _size(handle: IO[bytes]) -> int:
    here = handle.tell()
    end = handle.seek(0, io.SEEK_END)
    handle.seek(here)
    return end


def _megabytes(count: int) -> str:
    megabytes = count / (1 << 20)
    if megabytes >= 10:
        return f"{megabytes:,.0f} MB"
    return f"{megabytes:.1f} MB" if megabytes >= 1 else f"{count / 1024:,.0f} KB"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _without_advice(detail: str) -> str:
    """torch's words, cut before its advice to load the file without weights_only (which would run its code)."""
    if "legacy .tar format" in detail:
        return "it is in PyTorch's old .tar format, which cannot be read without running the code it may hold"
    detail = re.split(r"\s*(?:In PyTorch 2\.6|Re-running `?torch\.load)", detail, maxsplit=1)[0].strip()
    if "weights_only" in detail or "add_safe_globals" in detail:
        return "it holds something other than tensors and plain data"
    return detail or "not a readable PyTorch file"


def _unpickler_detail(message: str) -> str:
    """torch's reason without its advice (re-running torch.load without weights_only would run the code)."""
    match = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\n|\. Please use|$)", message, re.S)
    detail = " ".join(match.group(1).split()) if match else message.splitlines()[0]
    if "weights_only" in detail or "add_safe_globals" in detail:
        return "it holds something other than tensors and plain data"
    return detail
