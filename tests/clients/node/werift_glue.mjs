// werift as a WHIP publisher or a WHEP viewer, with no more glue than a user would write.
//   publish: werift has no capture or encoder; it sends the VP8 and Opus RTP it reads on two local UDP
//            ports (printed as the "rtp-in" event), as werift's own examples do with FFmpeg or GStreamer.
//   play:    receives audio+video and forwards the RTP it receives to cfg.forward (UDP on 127.0.0.1),
//            so the test can decode what werift got; it also counts VP8 keyframes itself.
// One argument, JSON: {modules, mode, url, token, forward?: {video, audio}, max_s}. Stops (DELETE, close)
// when stdin closes or on SIGINT/SIGTERM (tests/clients/werift_client.py runs it as a command-line client).
import dgram from "node:dgram";
import { answerCodec, config, hangUp, negotiate, run, say, untilTold } from "./glue.mjs";

const { cfg, require } = config();
const { RTCPeerConnection, MediaStream, MediaStreamTrack, RTCRtpCodecParameters } = require("werift");

const FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }];
const VP8 = new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, rtcpFeedback: FEEDBACK });
// As a viewer werift offers H.264 first, then VP8: the publisher's codec (VP8) must still be what it gets.
const H264 = new RTCRtpCodecParameters({
  mimeType: "video/H264", clockRate: 90000, rtcpFeedback: FEEDBACK,
  parameters: "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
});
const CODECS = {
  video: cfg.mode === "play" ? [H264, VP8] : [VP8],
  audio: [new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2 })],
};

/** RFC 7741 §4.2-4.3: the first packet of a frame (S=1, partition 0) whose VP8 header has P=0. */
function isVp8Keyframe(payload) {
  if (payload.length < 2 || !(payload[0] & 0x10) || (payload[0] & 0x07) !== 0) return false;
  let i = 1;
  if (payload[0] & 0x80) {
    const x = payload[i++];
    if (x & 0x80) i += (payload[i] & 0x80) ? 2 : 1;  // PictureID, 7 or 15 bits
    if (x & 0x40) i += 1;                             // TL0PICIDX
    if (x & 0x30) i += 1;                             // TID/KEYIDX
  }
  return i < payload.length && (payload[i] & 0x01) === 0;
}

async function offerWithCandidates(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await pc.iceGatheringStateChange.watch((state) => state === "complete", 10000);
  }
  return pc.localDescription.sdp;
}

function listen(onPacket) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.on("message", onPacket);
    socket.bind(0, "127.0.0.1", () => resolve(socket));
  });
}

async function publish(pc) {
  const sockets = {};
  // A WHIP publisher sends one MediaStream (RFC 9725 §4.4.2), as a browser's would after getUserMedia:
  // without `streams` werift (like the W3C API) puts the tracks in none and its offer has no a=msid.
  const stream = new MediaStream();
  for (const kind of ["video", "audio"]) {
    const track = new MediaStreamTrack({ kind });
    pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    sockets[kind] = await listen((packet) => track.writeRtp(packet));
  }
  say("rtp-in", { video: sockets.video.address().port, audio: sockets.audio.address().port });
  return () => Object.values(sockets).forEach((s) => s.close());
}

// The test's decoders take VP8 and Opus (the publisher's codecs): only packets werift itself maps to
// them are forwarded; any under another payload type are counted as "other", not decoded.
const DECODED = { video: "video/vp8", audio: "audio/opus" };

async function play(pc) {
  const out = dgram.createSocket("udp4");
  const counts = { video: 0, audio: 0, keyframes: 0, other: 0 };
  const transceivers = ["video", "audio"].map((kind) => pc.addTransceiver(kind, { direction: "recvonly" }));
  pc.onTrack.subscribe((track) => {
    const kind = track.kind;
    const transceiver = transceivers.find((t) => t.kind === kind);
    track.onReceiveRtp.subscribe((rtp) => {
      const codec = transceiver.codecs.find((c) => c.payloadType === rtp.header.payloadType);
      const mimeType = codec ? codec.mimeType : null;
      counts[kind] += 1;
      if (counts[kind] === 1) say("first-rtp", { kind, payloadType: rtp.header.payloadType, mimeType });
      if (!mimeType || mimeType.toLowerCase() !== DECODED[kind]) {
        counts.other += 1;
        return;
      }
      if (kind === "video" && isVp8Keyframe(rtp.payload)) counts.keyframes += 1;
      out.send(rtp.serialize(), cfg.forward[kind], "127.0.0.1");
    });
  });
  return () => { say("received", counts); out.close(); };
}

run(async () => {
  const pc = new RTCPeerConnection({ iceServers: [], codecs: CODECS });
  const stopMedia = cfg.mode === "publish" ? await publish(pc) : await play(pc);
  pc.connectionStateChange.subscribe((state) => say("state", { state }));
  const { answer, session } = await negotiate(cfg.url, cfg.token, await offerWithCandidates(pc));
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  say("negotiated", { video: answerCodec(answer, "video"), audio: answerCodec(answer, "audio") });
  const why = await untilTold(cfg.max_s);
  say("stopping", { why });
  stopMedia();
  await hangUp(session, cfg.token);
  await pc.close();
});
