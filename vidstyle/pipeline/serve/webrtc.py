"""The browser's camera over WebRTC (aiortc): frames in, stylized frames back on the same connection.

The receive side only moves each decoded frame into the channel's newest-frame mailbox, and the
send side hands aiortc the newest stylized frame whenever its encoder asks for the next one, so
neither the network nor the model ever waits for the other.
"""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from fractions import Fraction
from typing import Any, Callable, Optional

from vidstyle.errors import InputError
from vidstyle.pipeline.serve.engine import Channel
from vidstyle.types import Frame

# RTP video clock.
VIDEO_CLOCK = 90000
# A connection that has not come up within this long gives its client slot back.
CONNECT_TIMEOUT_S = 30.0


def webrtc_available() -> bool:
    try:
        import aiortc  # noqa: F401
    except ImportError:
        return False
    return True


def _stylized_track_class():
    from aiortc import MediaStreamTrack
    from aiortc.mediastreams import MediaStreamError

    class StylizedTrack(MediaStreamTrack):
        """A video track that returns the channel's newest stylized frame, waiting for a newer one."""

        kind = "video"

        def __init__(self, channel: Channel) -> None:
            super().__init__()
            self.channel = channel
            self._version = 0
            self._start: Optional[float] = None
            self._last_pts = -1

        async def recv(self):
            output = await self.channel.output.next(self._version)
            if output is None:
                self.stop()
                raise MediaStreamError
            self._version = output.version
            if self._start is None:
                self._start = output.captured
            # Stamped with the capture clock, so the receiver plays frames at the pace they were taken.
            pts = max(self._last_pts + 1, round((output.captured - self._start) * VIDEO_CLOCK))
            self._last_pts = pts
            frame = output.video_frame
            frame.pts = pts
            frame.time_base = Fraction(1, VIDEO_CLOCK)
            return frame

    return StylizedTrack


async def _pump(track, channel: Channel) -> None:
    """Move each received frame into the channel's mailbox (decoded frames, converted on the worker)."""
    from aiortc.mediastreams import MediaStreamError

    index = 0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        channel.put(Frame(image=frame, pts=frame.pts, time_base=Fraction(frame.time_base or Fraction(1, VIDEO_CLOCK)),
                          index=index, wallclock=time.perf_counter()))
        index += 1


class PeerSessions:
    """The open WebRTC connections, one :class:`Channel` each.

    open_channel: makes the channel for a new connection from its id and the page's settings; raises
        InputError for invalid settings. release: called with the id when a connection ends, and when an
        offer is refused (each :meth:`answer` call ends in exactly one release, now or at hang-up).
    """

    def __init__(self, open_channel: Callable[[str, dict], Channel], release: Callable[[str], None]) -> None:
        self._open_channel = open_channel
        self._release = release
        self._peers: dict[str, Any] = {}
        self._tasks: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._peers)

    async def answer(self, offer: dict, settings: dict) -> dict:
        """Answer a page's SDP offer ({"sdp", "type": "offer"}); returns {"sdp", "type", "channel"}."""
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        channel_id = secrets.token_urlsafe(8)
        try:
            if not isinstance(offer, dict) or offer.get("type") != "offer" or not isinstance(offer.get("sdp"), str):
                raise InputError("expected a WebRTC offer: {\"sdp\": ..., \"type\": \"offer\"}")
            channel = self._open_channel(channel_id, settings)
        except InputError:
            self._release(channel_id)  # the caller's client slot, taken for this offer
            raise
        # No STUN or TURN server: nothing is contacted outside the two peers (the default would ask a public one).
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._peers[channel_id] = (pc, channel)
        track_class = _stylized_track_class()

        receiving: list = []

        @pc.on("track")
        def on_track(track) -> None:
            if track.kind != "video" or receiving:
                return  # one camera per connection: further tracks are not stylized
            receiving.append(track)
            pc.addTrack(track_class(channel))
            self._spawn(_pump(track, channel))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.hangup(channel_id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
            if not pc.getTransceivers() or not any(t.receiver.track and t.receiver.track.kind == "video" for t in pc.getTransceivers()):
                raise InputError("the offer has no video track: the page must send its camera")
            await pc.setLocalDescription(await pc.createAnswer())
        except InputError:
            await self.hangup(channel_id)
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed SDP is the page's error, reported as such
            await self.hangup(channel_id)
            raise InputError(f"cannot answer this WebRTC offer: {exc}") from None
        self._spawn(self._expire(channel_id, pc))
        return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "channel": channel_id}

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _expire(self, channel_id: str, pc) -> None:
        await asyncio.sleep(CONNECT_TIMEOUT_S)
        if channel_id in self._peers and pc.connectionState != "connected":
            await self.hangup(channel_id)

    async def hangup(self, channel_id: str) -> bool:
        """Close one connection and its channel; False if there was none."""
        entry = self._peers.pop(channel_id, None)
        if entry is None:
            return False
        pc, channel = entry
        await asyncio.get_running_loop().run_in_executor(None, channel.close)
        with contextlib.suppress(Exception):
            await pc.close()
        self._release(channel_id)
        return True

    async def close_all(self) -> None:
        for channel_id in list(self._peers):
            await self.hangup(channel_id)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
