// The HTTP half of a WHIP/WHEP client, shared by the werift and wrtc glue scripts: POST the offer with
// the token, hand back the answer and the Location, DELETE it on exit. Node's own http/https modules
// (Node 18 or newer; not fetch, still experimental in Node 18, which warns on stderr); no dependencies.
// Events go to stdout as JSON lines, read by tests/clients/node_session.py.
import http from "node:http";
import https from "node:https";
import { createRequire } from "node:module";
import { join } from "node:path";

export function say(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

/** The config the test passes as the one argument (JSON), and `require` rooted at its node_modules. */
export function config() {
  const cfg = JSON.parse(process.argv[2]);
  say("started", { node: process.version, mode: cfg.mode || "publish" });
  return { cfg, require: createRequire(join(cfg.modules, "package.json")) };
}

/** One HTTP request with a deadline: {status, headers, body}. */
function request(method, url, headers, body = "") {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = (target.protocol === "https:" ? https : http).request(target, {
      method, headers: { ...headers, "Content-Length": Buffer.byteLength(body) }, timeout: 10000,
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => { text += chunk; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

function auth(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** POST the offer; the answer and the session URL (Location, resolved against the endpoint URL). */
export async function negotiate(url, token, offerSdp) {
  const response = await request("POST", url, { "Content-Type": "application/sdp", ...auth(token) }, offerSdp);
  const location = response.headers.location;
  say("answered", { status: response.status, location });
  if (response.status !== 201 || !location) {
    throw new Error(`POST ${url} answered ${response.status} (Location ${location}): ${response.body.slice(0, 300)}`);
  }
  return { answer: response.body, session: new URL(location, url).href };
}

/** DELETE the session URL; reports the status (the test wants a 2xx). */
export async function hangUp(session, token) {
  const response = await request("DELETE", session, auth(token));
  say("deleted", { status: response.status });
}

/** Resolves when the test closes our stdin (its way of saying "stop"), on Ctrl+C (SIGINT) or SIGTERM
 * (as a user's command-line client stops: it still DELETEs), or after maxSeconds. */
export function untilTold(maxSeconds) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), maxSeconds * 1000);
    const told = (why) => { clearTimeout(timer); resolve(why); };
    process.stdin.on("end", () => told("stdin closed"));
    for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => told(signal));
    process.stdin.resume();
  });
}

/** Run `main`, report a failure as an event and a non-zero exit, and never linger. */
export function run(main) {
  main().then(() => process.exit(0), (error) => {
    say("error", { message: String(error && error.stack || error) });
    process.exit(1);
  });
}

/** The codec an answer chose for `kind`: its m-line's first payload type, named by its rtpmap. */
export function answerCodec(sdp, kind) {
  const section = sdp.split(/\r?\n(?=m=)/).find((s) => s.startsWith(`m=${kind} `));
  if (!section) return null;
  const pt = section.split(/\r?\n/)[0].split(" ")[3];
  const rtpmap = section.match(new RegExp(`^a=rtpmap:${pt} ([^/\\r\\n]+)`, "m"));
  return rtpmap ? `${kind}/${rtpmap[1]}` : null;
}
