// A small WHIP (RFC 9725) and WHEP client for browsers: POST the offer, apply the answer, trickle
// candidates by PATCH (application/trickle-ice-sdpfrag, If-Match with the ETag), DELETE on stop.
// One class serves both: a WHIP session sends tracks, a WHEP session receives them.

const SDP = "application/sdp";
const SDPFRAG = "application/trickle-ice-sdpfrag";

export class HttpError extends Error {
  constructor(what, response, body) {
    super(`${what}: ${response.status} ${response.statusText}${body ? ` — ${body.trim().slice(0, 200)}` : ""}`);
    this.status = response.status;
  }
}

export class Session {
  /**
   * @param {object} options
   * @param {string} options.url        the WHIP or WHEP endpoint
   * @param {string} [options.token]    Bearer token, if the endpoint wants one
   * @param {string} [options.codec]    preferred video codec: "VP8", "VP9" or "H264"
   * @param {boolean} [options.simulcast] WHIP: send video as two simulcast streams, "h" and "l" at half size (RFC 8853)
   * @param {(state: string) => void} [options.onState]  connection state changes
   * @param {(error: Error) => void} [options.onError]   failures after start (trickle, teardown)
   */
  constructor({ url, token, codec, simulcast, onState, onError }) {
    this.url = url;
    this.token = token;
    this.codec = codec;
    this.simulcast = Boolean(simulcast);
    this.onState = onState || (() => {});
    this.onError = onError || ((e) => console.error(e));
    this.pc = null;
    this.location = null;
    this.etag = null;
    this.pending = [];       // candidates gathered before the 201 arrived (RFC 9725 §4.3.2)
    this.gathered = false;   // end-of-candidates seen locally
  }

  headers(extra) {
    return Object.assign(this.token ? { Authorization: `Bearer ${this.token}` } : {}, extra);
  }

  /** WHIP: publish a MediaStream's tracks (sendonly). */
  async publish(stream) {
    const pc = this.open();
    for (const track of stream.getTracks()) {
      const init = { direction: "sendonly", streams: [stream] };
      if (track.kind === "video" && this.simulcast) {
        init.sendEncodings = [{ rid: "h" }, { rid: "l", scaleResolutionDownBy: 2 }];
      }
      const transceiver = pc.addTransceiver(track, init);
      if (track.kind === "video") this.prefer(transceiver);
    }
    await this.negotiate();
  }

  /** WHEP: play into a <video> element (recvonly audio and video). */
  async play(video) {
    const pc = this.open();
    pc.addTransceiver("audio", { direction: "recvonly" });
    this.prefer(pc.addTransceiver("video", { direction: "recvonly" }));
    const stream = new MediaStream();
    pc.ontrack = (event) => {
      stream.addTrack(event.track);
      video.srcObject = stream;
    };
    await this.negotiate();
  }

  open() {
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: [] });
    pc.onconnectionstatechange = () => this.onState(pc.connectionState);
    pc.onicecandidate = (event) => this.candidate(event.candidate);
    this.pc = pc;
    return pc;
  }

  prefer(transceiver) {
    if (!this.codec || !RTCRtpReceiver.getCapabilities) return;
    const all = RTCRtpReceiver.getCapabilities("video").codecs;
    const wanted = all.filter((c) => c.mimeType.toLowerCase() === `video/${this.codec.toLowerCase()}`
      && (this.codec.toUpperCase() !== "H264" || /profile-level-id=42e01f/i.test(c.sdpFmtpLine || "")));
    if (!wanted.length) throw new Error(`this browser cannot offer ${this.codec}`);
    const rest = all.filter((c) => !wanted.includes(c));
    transceiver.setCodecPreferences([...wanted, ...rest]);
  }

  async negotiate() {
    const pc = this.pc;
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch(this.url, {
      method: "POST", headers: this.headers({ "Content-Type": SDP }), body: pc.localDescription.sdp,
    });
    const body = await response.text();
    if (response.status !== 201) throw new HttpError("the offer was refused", response, body);
    const location = response.headers.get("Location");
    if (!location) throw new Error("the 201 has no Location (is it exposed by Access-Control-Expose-Headers?)");
    this.location = new URL(location, this.url).href;
    this.etag = response.headers.get("ETag");
    await pc.setRemoteDescription({ type: "answer", sdp: body });
    await this.flush();
  }

  candidate(candidate) {
    if (candidate && candidate.candidate) this.pending.push(candidate);
    else this.gathered = true;
    if (this.location) this.flush().catch((e) => this.onError(e));
  }

  /** Send the candidates gathered so far in one PATCH, with end-of-candidates once gathering ended. */
  async flush() {
    if (!this.location || (!this.pending.length && !this.gathered) || this.flushed) return;
    const candidates = this.pending.splice(0);
    const ending = this.gathered;
    if (ending) this.flushed = true;
    const response = await fetch(this.location, {
      method: "PATCH",
      headers: this.headers({ "Content-Type": SDPFRAG, "If-Match": this.etag || "*" }),
      body: this.fragment(candidates, ending),
    });
    if (response.status === 405 || response.status === 501 || response.status === 422) return; // no trickle: ICE uses the offer alone
    if (!response.ok) throw new HttpError("a trickle PATCH was refused", response, await response.text());
  }

  /** An RFC 8840 fragment: ICE credentials, the first (BUNDLE-tagged) m-line and mid, candidates. */
  fragment(candidates, ending) {
    const sdp = this.pc.localDescription.sdp;
    const line = (prefix) => (sdp.split(/\r?\n/).find((l) => l.startsWith(prefix)) || "");
    const lines = [line("a=ice-ufrag:"), line("a=ice-pwd:"), line("m="), line("a=mid:")];
    for (const c of candidates) lines.push(`a=${c.candidate}`);
    if (ending) lines.push("a=end-of-candidates");
    return lines.filter(Boolean).join("\r\n") + "\r\n";
  }

  /** End the session: DELETE it (kept alive across page unload), then close the connection. */
  async stop() {
    const location = this.location;
    this.location = null;
    try {
      if (location) {
        const response = await fetch(location, { method: "DELETE", headers: this.headers(), keepalive: true });
        if (!response.ok && response.status !== 404) throw new HttpError("DELETE failed", response, await response.text());
      }
    } finally {
      if (this.pc) this.pc.close();
      this.onState("closed");
    }
  }
}
