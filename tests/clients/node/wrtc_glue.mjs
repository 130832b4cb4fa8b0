// @roamhq/wrtc (libwebrtc for Node) as a WHIP publisher. It encodes what its nonstandard sources are
// fed: synthetic I420 frames (a moving bar, 320x240 at 30 fps) and a 440 Hz tone (10 ms chunks), so
// libwebrtc's own encoders, packetizers and pacer make the media.
// One argument, JSON: {modules, url, token, max_s}. Stops (DELETE, close) when stdin closes or on SIGINT/SIGTERM.
import { answerCodec, config, hangUp, negotiate, run, say, untilTold } from "./glue.mjs";

const { cfg, require } = config();
const { RTCPeerConnection, nonstandard } = require("@roamhq/wrtc");
const WIDTH = 320, HEIGHT = 240, RATE = 48000;

function feedVideo(source) {
  let n = 0;
  const timer = setInterval(() => {
    const data = new Uint8ClampedArray(WIDTH * HEIGHT * 1.5).fill(128);
    const bar = (n * 4) % WIDTH;
    for (let y = 0; y < HEIGHT; y++) data.fill(235, y * WIDTH + bar, y * WIDTH + Math.min(WIDTH, bar + 16));
    source.onFrame({ width: WIDTH, height: HEIGHT, data });
    n += 1;
  }, 1000 / 30);
  return () => clearInterval(timer);
}

function feedAudio(source) {
  let t = 0;
  const timer = setInterval(() => {
    const samples = new Int16Array(RATE / 100);
    for (let i = 0; i < samples.length; i++, t++) samples[i] = 8000 * Math.sin((2 * Math.PI * 440 * t) / RATE);
    source.onData({ samples, sampleRate: RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: samples.length });
  }, 10);
  return () => clearInterval(timer);
}

function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
  });
}

run(async () => {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const video = new nonstandard.RTCVideoSource();
  const audio = new nonstandard.RTCAudioSource();
  const tracks = [video.createTrack(), audio.createTrack()];
  for (const track of tracks) pc.addTransceiver(track, { direction: "sendonly" });
  const stops = [feedVideo(video), feedAudio(audio)];
  pc.addEventListener("connectionstatechange", () => say("state", { state: pc.connectionState }));
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const { answer, session } = await negotiate(cfg.url, cfg.token, pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  say("negotiated", { video: answerCodec(answer, "video"), audio: answerCodec(answer, "audio") });
  const why = await untilTold(cfg.max_s);
  say("stopping", { why });
  stops.forEach((stop) => stop());
  await hangUp(session, cfg.token);
  tracks.forEach((track) => track.stop());
  pc.close();
});
