"""Start one lab configuration (Janus + Meetecho's Node servers) in a private network namespace and run
the conformance suite against it there.

The calling process (root, on the host) builds the pieces into the cache (peers.py: this needs the
package registries), then re-executes this module under `unshare -n`: a fresh network namespace holding
only `lo` and a veth pair made inside it (`nseth0` 10.77.0.1 ⇄ `nseth1` 10.77.0.2; libnice refuses
loopback and skips interfaces named `veth*`). Janus (`ice_enforce_list`) and the suite's peers
(`--ice-host`) both use 10.77.0.1: with the suite's peers on 10.77.0.2, ICE never connected. Nothing in
the namespace has a route anywhere else, so no packet of the lab can leave the machine. Janus, the Node servers and
the suite all run inside; when the namespace's last process exits, it is gone.

By hand (as root):  .venv/bin/python -m tests.interop.lab janus-1.4.2-streaming OUT_DIR [-- suite options]
A load ramp instead of the suite (issue 23's lab figures; `load` options after --):
                    .venv/bin/python -m tests.interop.lab --load janus-1.4.2-streaming OUT_DIR -- --viewers=10:50:10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.interop import peers

JANUS_ADDR, SUITE_ADDR = "10.77.0.1", "10.77.0.1"
TOKEN = "lab-secret-token"
WS_PORT, WHIP_PORT, WHEP_PORT = 8188, 7080, 7090
ROOM, MOUNTPOINT = 1234, 1
AUDIO_PORT, VIDEO_PORT, VIDEO_RTCP_PORT = 5002, 5004, 5005
START_DEADLINE_S = 30


@dataclass(frozen=True)
class LabServer:
    """One lab configuration: which Janus, and how (whether) WHEP is served."""
    name: str
    janus: str                 # "1.4.2" (built from source) or "debian" (Debian's 1.1.2)
    whep_plugin: str | None    # "streaming", "videoroom", or None (WHIP only)
    description: str
    whep_janus: str | None = None  # a second Janus for the WHEP side ("1.4.2"), fed by the first one's forwarder

    @property
    def whip_url(self) -> str:
        return f"http://127.0.0.1:{WHIP_PORT}/whip/endpoint/lab"

    @property
    def whep_url(self) -> str | None:
        return f"http://127.0.0.1:{WHEP_PORT}/whep/endpoint/lab" if self.whep_plugin else None

    def suite_target_args(self) -> list[str]:
        args = [f"--endpoint={self.whip_url}", f"--token={TOKEN}", f"--ice-host={SUITE_ADDR}"]
        if self.whep_url:
            args.append(f"--whep-endpoint={self.whep_url}")
        return args


# Not in the test: a diagnostic set-up that gives the WHIP-only server a viewer path (Debian's Janus for
# WHIP, forwarding into a Janus 1.4.2 Streaming mountpoint for WHEP), to judge its WHIP cases that the
# suite today runs only with a WHEP URL. Run by hand: python -m tests.interop.lab janus-1.1.2-debian+viewer OUT
DIAGNOSTIC = {
    s.name: s for s in (
        LabServer("janus-1.1.2-debian+viewer", "debian", "streaming",
                  "Debian's Janus 1.1.2 + simple-whip-server, viewed through Janus 1.4.2 + janus-whep-server",
                  whep_janus="1.4.2"),
    )
}

SERVERS = {
    s.name: s for s in (
        LabServer("janus-1.4.2-streaming", "1.4.2", "streaming",
                  "Janus 1.4.2 + simple-whip-server 0f4061f + janus-whep-server 1.1.0 (Streaming mountpoint)"),
        LabServer("janus-1.4.2-videoroom", "1.4.2", "videoroom",
                  "Janus 1.4.2 + simple-whip-server 0f4061f + janus-whep-server 1.1.0 (VideoRoom: 406 counter-offers)"),
        LabServer("janus-1.1.2-debian", "debian", None,
                  "Debian's Janus 1.1.2 + simple-whip-server 0f4061f, WHIP only"),
    )
}


@dataclass
class LabRun:
    """What a lab run left: the suite's exit code and results, and the time each phase took."""
    server: str
    returncode: int
    results: dict | None
    timings: dict = field(default_factory=dict)
    out_dir: str = ""
    error: str = ""


def namespace_support() -> str | None:
    """None when this process can make a network namespace with a veth pair in it; else why not."""
    if os.geteuid() != 0:
        return "the interop lab needs root (unshare -n and a veth pair)"
    for tool in ("unshare", "ip"):
        if not shutil.which(tool):
            return f"the interop lab needs `{tool}` (util-linux / iproute2)"
    probe = subprocess.run(["unshare", "-n", "sh", "-c",
                            "ip link add nsprobe0 type veth peer name nsprobe1 && ip link set lo up"],
                           capture_output=True, text=True, timeout=20)
    if probe.returncode != 0:
        return f"no network namespace with a veth pair here: {probe.stderr.strip()[:200]}"
    return None


# ---------------------------------------------------------------- host side

def run(server: LabServer, out_dir: Path, suite_args: list[str], timeout_s: float = 900,
        cases: list[str] | None = None, load: bool = False) -> LabRun:
    """Build what the server needs (cached), then run it and the suite (or just `cases`, node ids; or,
    with `load`, the `load` subcommand with `suite_args` as its options) inside a fresh namespace."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("results.json", "lab-inside.json"):  # never read an earlier run's results as this one's
        (out_dir / stale).unlink(missing_ok=True)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    janus = peers.janus_142() if server.janus == "1.4.2" else peers.janus_debian()
    whep_janus = peers.janus_142() if server.whep_janus else None
    node = peers.node_servers()
    timings["build_s"] = round(time.monotonic() - t0, 1)
    plan = {"server": asdict(server), "janus": {k: str(v) for k, v in asdict(janus).items()},
            "whep_janus": {k: str(v) for k, v in asdict(whep_janus).items()} if whep_janus else None,
            "node_dir": str(node), "out_dir": str(out_dir), "suite_args": suite_args, "load": load,
            "paths": [f"whip_whep_conformance/{c}" for c in cases or []] or ["whip_whep_conformance/suites"]}
    plan_file = out_dir / "lab-plan.json"
    plan_file.write_text(json.dumps(plan, indent=1))
    t1 = time.monotonic()
    cmd = ["unshare", "-n", "--", sys.executable, "-m", "tests.interop.lab", "--inside", str(plan_file)]
    with (out_dir / "lab.log").open("w") as lab_log:  # the child holds its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=peers.REPO, stdout=lab_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return LabRun(server.name, -1, None, timings, str(out_dir), f"lab run exceeded {timeout_s:.0f} s")
    timings["lab_s"] = round(time.monotonic() - t1, 1)
    inside = out_dir / "lab-inside.json"
    info = json.loads(inside.read_text()) if inside.exists() else {}
    timings.update(info.get("timings", {}))
    results_file = out_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else None
    error = info.get("error", "") or ("" if results else f"no results.json; see {out_dir / 'lab.log'}")
    if info.get("died"):  # a server that fell over mid-run makes every later verdict meaningless
        error = "; ".join([*filter(None, [error]), *info["died"]]) + f" (logs in {out_dir})"
    return LabRun(server.name, info.get("suite_returncode", proc.returncode), results, timings, str(out_dir), error)


# ---------------------------------------------------------------- inside the namespace

def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=10)


def _network() -> None:
    _sh("ip", "link", "set", "lo", "up")
    _sh("ip", "link", "add", "nseth0", "type", "veth", "peer", "name", "nseth1")
    _sh("ip", "addr", "add", f"{JANUS_ADDR}/24", "dev", "nseth0")
    _sh("ip", "addr", "add", f"{SUITE_ADDR}/24", "dev", "nseth1")
    _sh("ip", "link", "set", "nseth0", "up")
    _sh("ip", "link", "set", "nseth1", "up")


def _janus_configs(folder: Path, janus: dict, keep_plugins: set[str], ws_port: int, rtp_ports: str) -> None:
    """Only the plugins kept and WebSockets load; ICE only on nseth0, no STUN server, no mDNS."""
    disabled_plugins = sorted(p.name for p in Path(janus["plugins"]).glob("*.so") if p.name not in keep_plugins)
    disabled_transports = sorted(p.name for p in Path(janus["transports"]).glob("*.so")
                                 if p.name != "libjanus_websockets.so")
    (folder / "janus.jcfg").write_text(f"""
general: {{
	configs_folder = "{folder}"
	plugins_folder = "{janus['plugins']}"
	transports_folder = "{janus['transports']}"
	log_to_stdout = true
	debug_level = {os.environ.get("LAB_JANUS_DEBUG", "4")}
	server_name = "whip-whep-interop-lab"
}}
certificates: {{}}
media: {{
	rtp_port_range = "{rtp_ports}"
}}
nat: {{
	ice_enforce_list = "{JANUS_ADDR}"
	ignore_mdns = true
	nice_debug = false
}}
plugins: {{
	disable = "{','.join(disabled_plugins)}"
}}
transports: {{
	disable = "{','.join(disabled_transports)}"
}}
events: {{
	broadcast = false
}}
""")
    (folder / "janus.transport.websockets.jcfg").write_text(f"""
general: {{
	json = "indented"
	ws = true
	ws_port = {ws_port}
	ws_ip = "127.0.0.1"
	wss = false
}}
admin: {{
	admin_ws = false
	admin_wss = false
}}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text(f"""
general: {{}}
room-{ROOM}: {{
	description = "interop lab"
	publishers = 6
	fir_freq = 10
	audiocodec = "opus"
	videocodec = "vp8"
}}
""")
    (folder / "janus.plugin.streaming.jcfg").write_text(f"""
general: {{}}
lab-stream: {{
	type = "rtp"
	id = {MOUNTPOINT}
	description = "the WHIP publisher, forwarded by the VideoRoom"
	audio = true
	video = true
	audioport = {AUDIO_PORT}
	audiopt = 111
	audiocodec = "opus"
	videoport = {VIDEO_PORT}
	videopt = 96
	videocodec = "vp8"
	videortcpport = {VIDEO_RTCP_PORT}
	videobufferkf = true
}}
""")


def _start_janus(conf: Path, janus: dict, plugins: set[str], ws_port: int, rtp_ports: str, log: Path,
                 deadline: float) -> subprocess.Popen:
    """Start one Janus and return once its WebSockets port accepts connections."""
    shutil.rmtree(conf, ignore_errors=True)
    conf.mkdir()
    _janus_configs(conf, janus, plugins, ws_port, rtp_ports)
    with log.open("w") as janus_log:
        proc = subprocess.Popen([janus["binary"], "-F", str(conf), "-C", str(conf / "janus.jcfg")],
                                stdout=janus_log, stderr=subprocess.STDOUT)
    try:
        _wait_port(ws_port, deadline, lambda: proc.poll() is None)
    except Exception:
        _stop(proc)
        raise
    return proc


def _wait_port(port: int, deadline: float, alive) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if not alive():
            raise RuntimeError(f"the server meant to listen on port {port} exited")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {START_DEADLINE_S} s")
        time.sleep(0.05)  # poll interval of a deadline-bounded wait


def _wait_line(proc: subprocess.Popen, log: Path, marker: str, deadline: float) -> None:
    while True:
        if marker in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{log.name}: the process exited ({proc.returncode}) before '{marker}'")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{log.name}: no '{marker}' within {START_DEADLINE_S} s")
        time.sleep(0.05)  # poll interval of a deadline-bounded wait


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def inside(plan_file: Path) -> int:
    plan = json.loads(plan_file.read_text())
    server, janus, out = plan["server"], plan["janus"], Path(plan["out_dir"])
    info: dict = {"timings": {}}
    procs: list[subprocess.Popen] = []
    named: list[tuple[subprocess.Popen, str]] = []
    t0 = time.monotonic()
    try:
        _network()
        deadline = time.monotonic() + START_DEADLINE_S
        both = {"libjanus_videoroom.so", "libjanus_streaming.so"}
        if plan.get("whep_janus"):  # the WHIP Janus forwards into a second one that serves WHEP
            janus_proc = _start_janus(out / "janus-conf", janus, {"libjanus_videoroom.so"}, WS_PORT,
                                      "20000-29999", out / "janus.log", deadline)
            whep_proc = _start_janus(out / "janus-conf-whep", plan["whep_janus"], {"libjanus_streaming.so"},
                                     WS_PORT + 1, "30000-39999", out / "janus-whep.log", deadline)
            procs += [janus_proc, whep_proc]
            named += [(janus_proc, "janus"), (whep_proc, "janus (WHEP)")]
        else:
            janus_proc = _start_janus(out / "janus-conf", janus, both, WS_PORT, "20000-40000",
                                      out / "janus.log", deadline)
            procs.append(janus_proc)
            named.append((janus_proc, "janus"))
        node_conf = {
            "janus": f"ws://127.0.0.1:{WS_PORT}", "token": TOKEN,
            "whip": {"port": WHIP_PORT, "id": "lab", "room": ROOM, "recipients": (
                [{"host": "127.0.0.1", "audioPort": AUDIO_PORT, "videoPort": VIDEO_PORT,
                  "videoRtcpPort": VIDEO_RTCP_PORT}] if server["whep_plugin"] == "streaming" else None)},
            "whep": ({"port": WHEP_PORT, "id": "lab", "plugin": server["whep_plugin"], "mountpoint": MOUNTPOINT,
                      "janus": f"ws://127.0.0.1:{WS_PORT + 1 if plan.get('whep_janus') else WS_PORT}"}
                     if server["whep_plugin"] else None),
        }
        (out / "node-config.json").write_text(json.dumps(node_conf, indent=1))
        node_log = out / "node.log"
        with node_log.open("w") as node_out:
            node_proc = subprocess.Popen(["node", str(peers.HERE / "launcher.mjs"), plan["node_dir"],
                                          str(out / "node-config.json")], stdout=node_out, stderr=subprocess.STDOUT)
        procs.append(node_proc)
        named.append((node_proc, "node"))
        _wait_line(node_proc, node_log, "lab: ready", deadline)
        info["timings"]["start_s"] = round(time.monotonic() - t0, 1)
        t1 = time.monotonic()
        lab = LabServer(**server)
        if plan.get("load"):  # the same target options: the load tool takes the suite's names
            cmd = [sys.executable, "-m", "whip_whep_conformance.cli", "load", *lab.suite_target_args(),
                   f"--reports-dir={out}", *plan["suite_args"]]
        else:
            cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *plan["paths"],
                   *lab.suite_target_args(), f"--reports-dir={out}", *plan["suite_args"]]
        info["suite_command"] = cmd
        with (out / "suite.log").open("w") as suite_log:
            suite = subprocess.run(cmd, cwd=peers.REPO, stdout=suite_log, stderr=subprocess.STDOUT)
        info["suite_returncode"] = suite.returncode
        info["timings"]["suite_s"] = round(time.monotonic() - t1, 1)
        for proc, name in named:
            if proc.poll() is not None:
                info.setdefault("died", []).append(f"{name} exited ({proc.returncode}) during the suite run")
    except Exception as exc:  # noqa: BLE001 - reported to the host side, which fails the test with it
        info["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for proc in reversed(procs):
            _stop(proc)
        (out / "lab-inside.json").write_text(json.dumps(info, indent=1))
    return 0 if "error" not in info else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true", help="run `whip-whep-conformance load` instead of the suite")
    parser.add_argument("server", nargs="?", choices=sorted({**SERVERS, **DIAGNOSTIC}))
    parser.add_argument("out_dir", nargs="?", type=Path)
    parser.add_argument("suite_args", nargs="*")
    args = parser.parse_args()
    if args.inside:
        return inside(args.inside)
    if not args.server or not args.out_dir:
        parser.error("give a server and an output folder")
    why_not = namespace_support()
    if why_not:
        print(why_not, file=sys.stderr)
        return 2
    result = run({**SERVERS, **DIAGNOSTIC}[args.server], args.out_dir.resolve(), args.suite_args, load=args.load)
    print(json.dumps({"server": result.server, "returncode": result.returncode, "timings": result.timings,
                      "error": result.error, "counts": (result.results or {}).get("counts")}, indent=1))
    return 0 if result.results else 1


if __name__ == "__main__":
    sys.exit(main())
