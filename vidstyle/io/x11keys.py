"""Every key pressed in one of our X11 windows, in order, read on a connection of our own.

OpenCV's Qt window keeps a single pending key: keys typed while a frame is being stylized overwrite
each other and only the last reaches ``waitKey``. The X server, though, sends key events to every
client that asks for them, and queues them per client; so we open our own display connection, ask
for KeyPress on the window, and drain that queue after each frame. Linux/X11 only (ctypes and libX11);
elsewhere :func:`X11KeyListener.attach` returns None and ``waitKey`` stays the only key source.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Optional

_KEY_PRESS = 2  # X11 event type
_KEY_PRESS_MASK = 1
_XA_CARDINAL = 6

_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


@_ERROR_HANDLER
def _ignore_x_error(display, event):  # a window vanishing while we look at it is not fatal
    return 0


def _libx11() -> Optional[ctypes.CDLL]:
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    except OSError:
        return None
    ulong, vp = ctypes.c_ulong, ctypes.c_void_p
    lib.XOpenDisplay.restype, lib.XOpenDisplay.argtypes = vp, [ctypes.c_char_p]
    lib.XDefaultRootWindow.restype, lib.XDefaultRootWindow.argtypes = ulong, [vp]
    lib.XQueryTree.argtypes = [vp, ulong, ctypes.POINTER(ulong), ctypes.POINTER(ulong),
                               ctypes.POINTER(ctypes.POINTER(ulong)), ctypes.POINTER(ctypes.c_uint)]
    lib.XFetchName.argtypes = [vp, ulong, ctypes.POINTER(ctypes.c_char_p)]
    lib.XInternAtom.restype, lib.XInternAtom.argtypes = ulong, [vp, ctypes.c_char_p, ctypes.c_int]
    lib.XGetWindowProperty.argtypes = [vp, ulong, ulong, ctypes.c_long, ctypes.c_long, ctypes.c_int, ulong,
                                       ctypes.POINTER(ulong), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ulong),
                                       ctypes.POINTER(ulong), ctypes.POINTER(ctypes.c_void_p)]
    lib.XSelectInput.argtypes = [vp, ulong, ctypes.c_long]
    lib.XPending.argtypes = [vp]
    lib.XNextEvent.argtypes = [vp, vp]
    lib.XLookupString.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ulong), vp]
    lib.XSync.argtypes = [vp, ctypes.c_int]
    lib.XFree.argtypes = [vp]
    lib.XCloseDisplay.argtypes = [vp]
    lib.XSetErrorHandler.restype, lib.XSetErrorHandler.argtypes = vp, [vp]
    return lib


class X11KeyListener:
    """Key presses in the X11 windows titled ``title`` that belong to this process.

    :meth:`poll` returns the keys pressed since the last call, oldest first, as ``waitKey`` codes
    (the character's code: ``ord("n")``, 27 for Escape, 32 for space).
    """

    def __init__(self, lib: ctypes.CDLL, display: int, windows: list[int]) -> None:
        self._lib, self._display, self.windows = lib, display, windows
        self._event = (ctypes.c_long * 24)()  # sizeof(XEvent)
        self._text = ctypes.create_string_buffer(8)

    @classmethod
    def attach(cls, title: str) -> Optional["X11KeyListener"]:
        """A listener on this process's windows titled ``title``; None when there is no X11 display,
        no libX11, or no such window (yet: a window is named when it is first shown)."""
        lib = _libx11()
        if lib is None:
            return None
        display = lib.XOpenDisplay(None)
        if not display:
            return None
        previous = lib.XSetErrorHandler(ctypes.cast(_ignore_x_error, ctypes.c_void_p))
        try:
            windows = _find_windows(lib, display, title.encode(), os.getpid())
            for window in windows:
                for w in [window, *_descendants(lib, display, window)]:
                    lib.XSelectInput(display, w, _KEY_PRESS_MASK)
            lib.XSync(display, 0)
        finally:
            lib.XSetErrorHandler(previous)
        if not windows:
            lib.XCloseDisplay(display)
            return None
        return cls(lib, display, windows)

    def poll(self) -> list[int]:
        keys = []
        lib = self._lib
        while self._display and lib.XPending(self._display) > 0:
            lib.XNextEvent(self._display, self._event)
            if self._event[0] & 0xFFFFFFFF != _KEY_PRESS:  # the event type: the first int of the union
                continue
            keysym = ctypes.c_ulong()
            n = lib.XLookupString(self._event, self._text, len(self._text), ctypes.byref(keysym), None)
            if n == 1:
                keys.append(self._text.raw[0])
        return keys

    def close(self) -> None:
        if self._display:
            self._lib.XCloseDisplay(self._display)
            self._display = None


def _children(lib: ctypes.CDLL, display: int, window: int) -> list[int]:
    root, parent = ctypes.c_ulong(), ctypes.c_ulong()
    children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
    if not lib.XQueryTree(display, window, ctypes.byref(root), ctypes.byref(parent), ctypes.byref(children), ctypes.byref(count)):
        return []
    found = [children[i] for i in range(count.value)]
    if children:
        lib.XFree(children)
    return found


def _descendants(lib: ctypes.CDLL, display: int, window: int) -> list[int]:
    found, todo = [], _children(lib, display, window)
    while todo:
        w = todo.pop()
        found.append(w)
        todo.extend(_children(lib, display, w))
    return found


def _window_pid(lib: ctypes.CDLL, display: int, window: int, atom: int) -> Optional[int]:
    actual_type, actual_format = ctypes.c_ulong(), ctypes.c_int()
    items, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
    status = lib.XGetWindowProperty(display, window, atom, 0, 1, 0, _XA_CARDINAL, ctypes.byref(actual_type),
                                    ctypes.byref(actual_format), ctypes.byref(items), ctypes.byref(after), ctypes.byref(data))
    if status != 0 or not data.value:
        return None
    try:
        return int(ctypes.cast(data, ctypes.POINTER(ctypes.c_ulong))[0]) if items.value else None
    finally:
        lib.XFree(data)


def _find_windows(lib: ctypes.CDLL, display: int, title: bytes, pid: int) -> list[int]:
    """Top-most windows named ``title`` whose _NET_WM_PID is ``pid`` (or that carry no pid)."""
    pid_atom = lib.XInternAtom(display, b"_NET_WM_PID", 1)
    found = []
    todo = [lib.XDefaultRootWindow(display)]
    while todo:
        window = todo.pop()
        name = ctypes.c_char_p()
        named = lib.XFetchName(display, window, ctypes.byref(name)) and name.value == title
        if name.value is not None:
            lib.XFree(name)
        if named and (not pid_atom or _window_pid(lib, display, window, pid_atom) in (pid, None)):
            found.append(window)
            continue  # its descendants are selected with it
        todo.extend(_children(lib, display, window))
    return found
