"""The fanotify kernel interface in ctypes: just what FID-mode notification needs.

No maintained Python binding covers FID reporting (``FAN_REPORT_DFID_NAME``), so the few calls
and structures are declared here, after ``<linux/fanotify.h>`` and ``fcntl.h``; the test suite
checks them against the running kernel. The layouts are the same on every 64-bit Linux (the
metadata structure is versioned, and :func:`parse` refuses another version).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

# fanotify_init flags
FAN_CLOEXEC = 0x1
FAN_NONBLOCK = 0x2
FAN_CLASS_NOTIF = 0x0
FAN_REPORT_DIR_FID = 0x400
FAN_REPORT_NAME = 0x800
FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME
# fanotify_mark flags
FAN_MARK_ADD = 0x1
FAN_MARK_REMOVE = 0x2
FAN_MARK_FILESYSTEM = 0x100
# events
FAN_MODIFY = 0x2
FAN_ATTRIB = 0x4
FAN_CLOSE_WRITE = 0x8
FAN_MOVED_FROM = 0x40
FAN_MOVED_TO = 0x80
FAN_CREATE = 0x100
FAN_DELETE = 0x200
FAN_Q_OVERFLOW = 0x4000
FAN_ONDIR = 0x40000000
# information records after the metadata
FAN_EVENT_INFO_TYPE_FID = 1
FAN_EVENT_INFO_TYPE_DFID_NAME = 2
FAN_EVENT_INFO_TYPE_DFID = 3
FANOTIFY_METADATA_VERSION = 3

AT_FDCWD = -100
EVENT_FLAGS = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_LARGEFILE", 0)  # unused in FID mode
INIT_FLAGS = FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK


class EventMetadata(ctypes.Structure):
    """``struct fanotify_event_metadata`` (24 bytes)."""

    _fields_ = [
        ("event_len", ctypes.c_uint32),
        ("vers", ctypes.c_uint8),
        ("reserved", ctypes.c_uint8),
        ("metadata_len", ctypes.c_uint16),
        ("mask", ctypes.c_uint64),
        ("fd", ctypes.c_int32),
        ("pid", ctypes.c_int32),
    ]


class InfoHeader(ctypes.Structure):
    """``struct fanotify_event_info_header``: the start of each information record."""

    _fields_ = [("info_type", ctypes.c_uint8), ("pad", ctypes.c_uint8), ("len", ctypes.c_uint16)]


class InfoFid(ctypes.Structure):
    """``struct fanotify_event_info_fid`` up to its variable part (a ``struct file_handle``)."""

    _fields_ = [("hdr", InfoHeader), ("fsid", ctypes.c_int32 * 2)]


class FileHandleHead(ctypes.Structure):
    """``struct file_handle`` without its variable ``f_handle`` bytes."""

    _fields_ = [("handle_bytes", ctypes.c_uint32), ("handle_type", ctypes.c_int32)]


_HANDLE_HEAD_SIZE = ctypes.sizeof(FileHandleHead)


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its mask, the writer's pid (0: unknown), and for FID events the file system
    (``fsid``), the directory's handle (``handle_type`` and bytes) and the entry's name."""

    mask: int
    pid: int
    fsid: tuple[int, int] = (0, 0)
    handle_type: int = 0
    handle: bytes = b""
    name: bytes = b""


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_init = _libc.fanotify_init
_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
_init.restype = ctypes.c_int
_mark = _libc.fanotify_mark
_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
_mark.restype = ctypes.c_int
_open_by_handle = _libc.open_by_handle_at
_open_by_handle.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_open_by_handle.restype = ctypes.c_int
_fstatfs = _libc.fstatfs
_fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]
_fstatfs.restype = ctypes.c_int


def _oserror(what: str) -> OSError:
    err = ctypes.get_errno() or errno.EIO
    return OSError(err, f"{what}: {os.strerror(err)}")


def fanotify_init(flags: int = INIT_FLAGS) -> int:
    fd = _init(flags, EVENT_FLAGS)
    if fd < 0:
        raise _oserror("fanotify_init")
    return fd


def mark_filesystem(group: int, dir_fd: int, mask: int, *, remove: bool = False) -> None:
    """Mark (or unmark) the whole file system holding the open directory ``dir_fd``: no path
    is looked up, the descriptor itself names the file system."""
    flags = (FAN_MARK_REMOVE if remove else FAN_MARK_ADD) | FAN_MARK_FILESYSTEM
    if _mark(group, flags, mask, dir_fd, None) != 0:
        raise _oserror("fanotify_mark")


def open_by_handle(mount_fd: int, handle_type: int, handle: bytes, flags: int) -> int:
    """``open_by_handle_at``: the directory a handle names, opened on ``mount_fd``'s mount."""
    buf = ctypes.create_string_buffer(_HANDLE_HEAD_SIZE + len(handle))
    struct.pack_into("=Ii", buf, 0, len(handle), handle_type)
    buf[_HANDLE_HEAD_SIZE : _HANDLE_HEAD_SIZE + len(handle)] = handle
    fd = _open_by_handle(mount_fd, buf, flags)
    if fd < 0:
        raise _oserror("open_by_handle_at")
    return fd


def fsid_of(fd: int) -> tuple[int, int]:
    """``f_fsid`` of the file system holding ``fd``, as fanotify reports it in events.

    ``struct statfs`` on 64-bit Linux: seven ``long`` fields, then ``f_fsid`` (two ints)."""
    buf = ctypes.create_string_buffer(256)
    if _fstatfs(fd, buf) != 0:
        raise _oserror("fstatfs")
    a, b = struct.unpack_from("=ii", buf, 7 * ctypes.sizeof(ctypes.c_long))
    return a, b


# The same layouts as struct formats: parsing with struct costs a fraction of ctypes copies,
# and the reader sees every event of a marked file system (tests check both agree).
METADATA = struct.Struct("=IBBHQii")  # event_len, vers, reserved, metadata_len, mask, fd, pid
INFO_FID = struct.Struct("=BBHii")  # info_type, pad, len, fsid[2]
HANDLE_HEAD = struct.Struct("=Ii")  # handle_bytes, handle_type


def parse(buffer: bytes) -> Iterator[Event]:
    """The events in one ``read()`` of a FID-mode group. A record of another layout version
    or a length that does not fit ends the batch (never an exception for odd input)."""
    offset, size = 0, len(buffer)
    meta_size, fid_size, head_size = METADATA.size, INFO_FID.size, HANDLE_HEAD.size
    while offset + meta_size <= size:
        event_len, vers, _r, metadata_len, mask, fd, pid = METADATA.unpack_from(buffer, offset)
        if vers != FANOTIFY_METADATA_VERSION or event_len < meta_size:
            return
        end = offset + event_len
        if end > size:
            return
        if fd >= 0:  # not in FID mode, but never leak a descriptor
            os.close(fd)
        event = Event(mask, pid)
        info = offset + max(metadata_len, meta_size)
        while info + fid_size <= end:
            info_type, _pad, length, fsid0, fsid1 = INFO_FID.unpack_from(buffer, info)
            rec_end = info + length
            if length < fid_size or rec_end > end:
                break
            if info_type in (FAN_EVENT_INFO_TYPE_DFID_NAME, FAN_EVENT_INFO_TYPE_DFID):
                head_at = info + fid_size
                if head_at + head_size > rec_end:
                    break
                handle_bytes, handle_type = HANDLE_HEAD.unpack_from(buffer, head_at)
                handle_at = head_at + head_size
                handle = buffer[handle_at : min(handle_at + handle_bytes, rec_end)]
                name = b""
                if info_type == FAN_EVENT_INFO_TYPE_DFID_NAME:
                    name = buffer[handle_at + handle_bytes : rec_end].split(b"\0", 1)[0]
                event = Event(event.mask, pid, (fsid0, fsid1), handle_type, handle, name)
                break
            info = rec_end
        yield event
        offset = end
