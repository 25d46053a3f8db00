// vidstyle serve: the page. Two sources: the server's camera (MJPEG <img>) or this browser's camera
// sent over WebRTC and returned stylized (<video>). Settings go to the server as JSON; figures come
// back once a second from api/state.
"use strict";

const $ = (id) => document.getElementById(id);
const vidstyle = {
  mode: null,         // "server" or "browser"
  channel: null,      // the stream's id on the server ("camera" or a WebRTC connection's id)
  pc: null,
  localStream: null,
  models: [],
  pageFps: 0,         // frames shown by the <video> per second (WebRTC)
  rtc: {},            // network figures from getStats
  state: null,
};
window.vidstyle = vidstyle;  // for people (and tests) poking at the page from the console

async function api(path, body) {
  const init = body === undefined
    ? { cache: "no-store" }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function setStatus(text) { $("status").textContent = text || ""; }

function currentSettings() {
  const settings = { model: $("model").value, strength: Number($("strength").value), split: $("split").checked };
  const mix = currentMix();
  if (mix) settings.mix = mix;
  return settings;
}

function currentMix() {
  const sliders = $("mix").querySelectorAll("input[type=range]");
  if (!sliders.length) return null;
  const mix = {};
  sliders.forEach((s) => { mix[s.dataset.style] = Number(s.value); });
  return mix;
}

async function sendSettings(changes) {
  if (!vidstyle.channel) return;
  try {
    const result = await api("api/settings", { channel: vidstyle.channel, ...changes });
    if (result.status === "loading") setStatus(`loading ${result.model}\u2026`);
  } catch (err) {
    setStatus(err.message);
  }
}

// ---- models and the style picker -------------------------------------------------------------

function fillModels(models) {
  const select = $("model");
  const chosen = select.value;
  const names = models.map((m) => m.name).join("\n");
  if (select.dataset.names !== names) {
    select.textContent = "";
    for (const m of models) select.append(new Option(m.name, m.name));
    select.dataset.names = names;
    if (chosen) select.value = chosen;
  }
  for (const option of select.options) {
    const m = models.find((x) => x.name === option.value);
    const tag = !m ? "" : m.status === "loading" ? " (loading\u2026)" : m.status === "error" ? " (failed)" : "";
    option.textContent = option.value + tag;
  }
}

function fillMix(model, mix) {
  const box = $("mix");
  const styles = (model && model.styles) || [];
  const key = styles.join("\n");
  if (box.dataset.styles === key) return;
  box.dataset.styles = key;
  box.textContent = "";
  box.hidden = styles.length < 2;
  if (box.hidden) return;
  const title = document.createElement("label");
  title.textContent = "blend";
  box.append(title);
  styles.forEach((style, i) => {
    const row = document.createElement("label");
    const slider = document.createElement("input");
    const weight = mix && Object.keys(mix).length ? (mix[style] || 0) : (i === 0 ? 1 : 0);
    Object.assign(slider, { type: "range", min: 0, max: 1, step: 0.05, value: weight });
    slider.dataset.style = style;
    slider.addEventListener("input", () => sendSettings({ mix: currentMix() }));
    row.append(style, slider);
    box.append(row);
  });
}

// ---- figures ---------------------------------------------------------------------------------

function showReadout() {
  const st = vidstyle.state && vidstyle.state.channel ? vidstyle.state.channel.stats : null;
  const parts = [];
  if (vidstyle.mode === "browser") parts.push(`${vidstyle.pageFps.toFixed(1)} fps in page`);
  if (st) {
    parts.push(`${st.fps.toFixed(1)} fps stylized`);
    parts.push(`latency ${Math.round(st.latency_ms)} ms (model ${Math.round(st.model_ms)} ms)`);
  }
  if (vidstyle.mode === "browser" && vidstyle.rtc.rtt_ms !== undefined) {
    parts.push(`network rtt ${vidstyle.rtc.rtt_ms.toFixed(0)} ms, jitter buffer ${vidstyle.rtc.jitter_ms.toFixed(0)} ms`);
  }
  $("readout").textContent = parts.length ? parts.join(" \u00b7 ") : "waiting for frames\u2026";
}

async function refresh() {
  try {
    const query = vidstyle.channel ? `?channel=${encodeURIComponent(vidstyle.channel)}` : "";
    const state = await api(`api/state${query}`);
    vidstyle.state = state;
    vidstyle.models = state.models;
    fillModels(state.models);
    const ch = state.channel;
    if (ch) {
      if (document.activeElement !== $("model") && $("model").value !== ch.model) $("model").value = ch.model;
      fillMix(state.models.find((m) => m.name === ch.stats.model), ch.mix);
      setStatus(ch.stats.status);
    }
    if (vidstyle.pc) await rtcFigures();
    showReadout();
  } catch (err) {
    setStatus(`server unreachable: ${err.message}`);
  }
}

async function rtcFigures() {
  const stats = await vidstyle.pc.getStats();
  stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) {
      vidstyle.rtc.rtt_ms = s.currentRoundTripTime * 1000;
    }
    if (s.type === "inbound-rtp" && s.kind === "video" && s.jitterBufferEmittedCount) {
      vidstyle.rtc.jitter_ms = (1000 * s.jitterBufferDelay) / s.jitterBufferEmittedCount;
    }
  });
  if (vidstyle.rtc.jitter_ms === undefined) vidstyle.rtc.jitter_ms = 0;
}

function countFrames(video) {
  // Frames the page actually presented, per second.
  if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
  let count = 0;
  let since = performance.now();
  const tick = (now) => {
    count += 1;
    if (now - since >= 1000) {
      vidstyle.pageFps = (1000 * count) / (now - since);
      count = 0;
      since = now;
    }
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
}

// ---- sources ---------------------------------------------------------------------------------

async function stopSource() {
  if (vidstyle.pc) {
    const channel = vidstyle.channel;
    vidstyle.pc.close();
    vidstyle.pc = null;
    if (channel) await api("api/hangup", { channel }).catch(() => {});
  }
  if (vidstyle.localStream) vidstyle.localStream.getTracks().forEach((t) => t.stop());
  vidstyle.localStream = null;
  $("mjpeg").removeAttribute("src");
  for (const id of ["mjpeg", "remote", "local"]) $(id).hidden = true;
  vidstyle.channel = null;
  vidstyle.rtc = {};
  vidstyle.pageFps = 0;
}

async function startServerCamera() {
  await stopSource();
  vidstyle.mode = "server";
  vidstyle.channel = "camera";
  const img = $("mjpeg");
  img.onerror = () => setStatus("the server's stream stopped (too many viewers, or the camera ended); reload to retry");
  img.src = `stream.mjpg?t=${Date.now()}`;
  img.hidden = false;
  $("hint").textContent = "Everyone watching the server's camera sees the same settings.";
  await refresh();
}

function iceGatheringDone(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, timeoutMs);
  });
}

async function startBrowserCamera() {
  await stopSource();
  vidstyle.mode = "browser";
  setStatus("asking for your camera\u2026");
  try {
    vidstyle.localStream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } }, audio: false,
    });
  } catch (err) {
    setStatus(`no camera: ${err.message}`);
    return;
  }
  const local = $("local");
  local.srcObject = vidstyle.localStream;
  local.hidden = false;
  const pc = new RTCPeerConnection({ iceServers: [] });  // the server is reached directly; no STUN/TURN
  vidstyle.pc = pc;
  for (const track of vidstyle.localStream.getVideoTracks()) {
    const sender = pc.addTrack(track, vidstyle.localStream);
    // Keep the picture sharp; the network is local, so lowering the frame rate is the rarer need.
    const params = sender.getParameters();
    params.degradationPreference = "maintain-resolution";
    sender.setParameters(params).catch(() => {});
  }
  pc.addEventListener("track", (event) => {
    // Play frames as soon as they arrive: the stream is live, smoothness matters less than delay.
    if ("jitterBufferTarget" in event.receiver) event.receiver.jitterBufferTarget = 0;
    else if ("playoutDelayHint" in event.receiver) event.receiver.playoutDelayHint = 0;
    const remote = $("remote");
    remote.srcObject = new MediaStream([event.track]);
    remote.hidden = false;
  });
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed") setStatus("the connection to the server failed; try the server camera, or reload");
  });
  setStatus("connecting\u2026");
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringDone(pc, 3000);
  try {
    const answer = await api("api/offer", { offer: { sdp: pc.localDescription.sdp, type: "offer" }, settings: currentSettings() });
    vidstyle.channel = answer.channel;
    await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
  } catch (err) {
    setStatus(err.message);
    return;
  }
  setStatus("");
  $("hint").textContent = "Your camera goes to the server and comes back stylized; the small picture is what it sends.";
  await refresh();
}

// ---- controls --------------------------------------------------------------------------------

function wireControls() {
  $("model").addEventListener("change", () => sendSettings({ model: $("model").value }));
  const strength = $("strength");
  strength.addEventListener("input", () => {
    $("strength-value").textContent = Number(strength.value).toFixed(2);
    sendSettings({ strength: Number(strength.value) });
  });
  $("split").addEventListener("change", () => sendSettings({ split: $("split").checked }));
  $("snapshot").addEventListener("click", async () => {
    if (!vidstyle.channel) return;
    const response = await fetch(`api/snapshot.png?channel=${encodeURIComponent(vidstyle.channel)}`);
    if (!response.ok) { setStatus("no frame to save yet"); return; }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `vidstyle-snapshot-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  });
  $("src-server").addEventListener("change", startServerCamera);
  $("src-browser").addEventListener("change", startBrowserCamera);
  window.addEventListener("pagehide", () => {
    if (vidstyle.pc && vidstyle.channel) navigator.sendBeacon("api/hangup", JSON.stringify({ channel: vidstyle.channel }));
  });
}

async function main() {
  wireControls();
  countFrames($("remote"));
  let state;
  try {
    state = await api("api/state");
  } catch (err) {
    setStatus(`server unreachable: ${err.message}`);
    return;
  }
  vidstyle.state = state;
  fillModels(state.models);
  $("src-server-label").hidden = !state.server_camera;
  $("src-browser-label").hidden = !state.webrtc;
  // ?source=browser|server picks the source; otherwise the server's camera when it has one.
  const wanted = new URLSearchParams(location.search).get("source");
  const mode = wanted === "browser" && state.webrtc ? "browser"
    : wanted === "server" && state.server_camera ? "server"
    : state.server_camera ? "server" : "browser";
  if (!state.server_camera && !state.webrtc) {
    setStatus("this server has no camera and no WebRTC (pip install 'vidstyle[serve]')");
    return;
  }
  if (state.channel) {
    $("model").value = state.channel.model;
    $("strength").value = state.channel.strength;
    $("strength-value").textContent = Number(state.channel.strength).toFixed(2);
    $("split").checked = state.channel.split;
  }
  $(mode === "server" ? "src-server" : "src-browser").checked = true;
  await (mode === "server" ? startServerCamera() : startBrowserCamera());
  setInterval(refresh, 1000);
}

main();
