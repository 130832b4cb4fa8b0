"""Build or install the lab's independent servers once, into a cache outside the work tree.

Each piece lands in `~/.cache/whip-whep-conformance/peers/<name>-<key>/`, where the key hashes what
went into it (source tarball, build flags, package list), so a changed input builds anew and an
unchanged one is reused. A piece is built in a temporary folder and renamed into place when complete:
an interrupted build never leaves a half-built cache entry behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

JANUS_TARBALL = "janus-gateway-94408ff.tar.gz"
WHIP_SERVER_TARBALL = "simple-whip-server-0f4061f.tar.gz"
JANUS_CONFIGURE = [
    "--disable-all-plugins", "--enable-plugin-streaming", "--enable-plugin-videoroom",
    "--disable-all-transports", "--enable-websockets", "--enable-rest", "--disable-docs",
    "--disable-all-handlers", "--disable-all-loggers",
]
JANUS_BUILD_DEPS = [
    "libmicrohttpd-dev", "libjansson-dev", "libssl-dev", "libsrtp2-dev", "libsofia-sip-ua-dev",
    "libglib2.0-dev", "libopus-dev", "libogg-dev", "libcurl4-openssl-dev", "liblua5.3-dev", "libconfig-dev",
    "libtool", "automake", "autoconf", "gengetopt", "libnice-dev", "libwebsockets-dev", "zlib1g-dev",
    "pkg-config", "make", "gcc",
]
# The Node side: janus-whep-server from npm, simple-whip-server's dependencies, and the local stand-in
# for `janode-ndi` (on no registry; simple-whip-server imports it but the lab never uses NDI).
NODE_PACKAGES = {
    "janus-whep-server": "1.1.0",
    "janode": "1.8.0",
    "express": "^5.1.0",
    "cors": "^2.8.5",
    "janode-ndi": "file:./janode-ndi",
}
JANODE_NDI_STUB = "export default { id: 'janus.plugin.ndi', Events: {} };\n"
# janode imports its Unix-socket transport at load time, and that loads unix-dgram's native addon, which
# would need node-gyp and Node's headers from the internet: the lab talks to Janus over WebSockets, so a
# stand-in that refuses to make sockets replaces it (npm "overrides").
UNIX_DGRAM_STUB = ("exports.createSocket = function () { throw new Error('unix-dgram: not available in the lab "
                   "(WebSockets only)'); };\n")
DEBIAN_JANUS_VERSION = "1.1.2"


class PeerUnavailable(RuntimeError):
    """A piece of the lab could not be built or installed; the message says what and where the log is."""


def cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "whip-whep-conformance" / "peers"


def peers_dir() -> Path:
    """The pinned third-party sources: `../shared/peers` next to the checkout (or WHIP_WHEP_PEERS)."""
    candidates = [os.environ.get("WHIP_WHEP_PEERS", ""), REPO.parent / "shared" / "peers",
                  REPO.parent.parent / "shared" / "peers"]
    for candidate in candidates:
        if candidate and (Path(candidate) / JANUS_TARBALL).exists():
            return Path(candidate)
    raise PeerUnavailable(f"no {JANUS_TARBALL} in ../shared/peers (set WHIP_WHEP_PEERS to the folder)")


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:12]


def _run(cmd: list[str], log: Path, cwd: Path | None = None, timeout_s: float = 900, env: dict | None = None) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s,
                              env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise PeerUnavailable(f"{' '.join(cmd[:3])} failed (exit {proc.returncode}); see {log}")


def _missing_debs(packages: list[str]) -> list[str]:
    missing = []
    for pkg in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(pkg)
    return missing


@contextlib.contextmanager
def _cache_lock(name: str):
    """Hold an exclusive lock named `name` in the cache, across processes (xdist workers build the same
    peers, and apt-get allows one dpkg at a time); released when the holder exits, however it exits."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def apt_install(packages: list[str], log: Path) -> None:
    """Install the Debian packages not yet installed (root only: the lab runs as root)."""
    if not _missing_debs(packages):
        return
    with _cache_lock("apt"):
        missing = _missing_debs(packages)  # again: another process may have installed them meanwhile
        if not missing:
            return
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise PeerUnavailable(f"missing Debian packages {missing} and not root with apt-get to install them")
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        _run(["apt-get", "update", "-qq"], log, env=env)
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], log, env=env)


def extract(tarball: Path, dest: Path) -> None:
    """Unpack a pinned source tarball into `dest`, refusing members that would land outside it.

    Debian 12's Python is 3.11.2, whose `extractall` has no `filter=` (3.11.4 added it): there the
    same rule is checked by hand (no absolute or `..` paths, no links out, no device files)."""
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        root = dest.resolve()

        def inside(path: Path) -> bool:
            return root == path or root in path.parents

        def escapes(member: tarfile.TarInfo) -> bool:
            if member.name.startswith("/") or member.isdev() or not inside((root / member.name).resolve()):
                return True
            if member.issym():  # relative to its own folder
                return not inside((root / Path(member.name).parent / member.linkname).resolve())
            return member.islnk() and not inside((root / member.linkname).resolve())  # hard: from the top

        for member in tar.getmembers():
            if escapes(member):
                raise PeerUnavailable(f"{tarball.name}: member {member.name!r} would land outside {dest}")
        tar.extractall(dest)


def _atomic_build(name: str, key: str, build) -> Path:
    """Return the cache entry `name-key`, building it with `build(folder, log)` when absent."""
    root = cache_root()
    final = root / f"{name}-{key}"
    if (final / ".complete").exists():
        return final
    with _cache_lock(f"{name}-{key}"):  # one builder; the others wait, then find it complete
        if (final / ".complete").exists():
            return final
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        log = root / f"{name}-{key}.log"
        log.write_text("")
        try:
            build(work, log)
            (work / ".complete").write_text(key)
            if final.exists():
                shutil.rmtree(final)
            work.rename(final)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        return final


@dataclass(frozen=True)
class JanusInstall:
    """Where a Janus binary and its plugins and transports live."""
    binary: Path
    plugins: Path
    transports: Path
    version: str


def janus_142() -> JanusInstall:
    """Janus 1.4.2 from the pinned tarball: configure/make into the cache (about a minute on 2 cores)."""
    tarball = peers_dir() / JANUS_TARBALL
    key = _digest(tarball.read_bytes(), " ".join(JANUS_CONFIGURE).encode())

    def build(work: Path, log: Path) -> None:
        apt_install(JANUS_BUILD_DEPS, log)
        src = work / "src"
        src.mkdir()
        extract(tarball, src)
        (top,) = [p for p in src.iterdir() if p.is_dir()]
        prefix = work / "prefix"
        _run(["sh", "autogen.sh"], log, cwd=top)
        _run(["./configure", f"--prefix={prefix}", *JANUS_CONFIGURE], log, cwd=top)
        _run(["make", f"-j{os.cpu_count() or 2}"], log, cwd=top, timeout_s=1800)
        _run(["make", "install"], log, cwd=top)
        shutil.rmtree(src)

    folder = _atomic_build("janus-1.4.2", key, build)
    # The prefix was the temporary folder's: Janus finds plugins by the -P/-T options we pass, not by it.
    prefix = folder / "prefix"
    return JanusInstall(prefix / "bin" / "janus", prefix / "lib" / "janus" / "plugins",
                        prefix / "lib" / "janus" / "transports", "1.4.2")


def janus_debian() -> JanusInstall:
    """Debian's janus package, unpacked into the cache (dpkg -x) with its library dependencies
    installed by apt: installing the package itself would start a system service on the host network."""
    key = _digest(DEBIAN_JANUS_VERSION.encode())

    def build(work: Path, log: Path) -> None:
        if not shutil.which("apt-get") or os.geteuid() != 0:
            raise PeerUnavailable("Debian's janus package needs apt-get, as root")
        _run(["apt-get", "update", "-qq"], log)
        _run(["apt-get", "download", f"janus={DEBIAN_JANUS_VERSION}-1"], log, cwd=work)
        (deb,) = work.glob("janus_*.deb")
        depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True,
                                 check=True).stdout
        libs = [alt.split("|")[0].split("(")[0].strip() for alt in depends.split(",") if alt.strip()]
        apt_install(libs, log)
        _run(["dpkg-deb", "-x", str(deb), str(work / "root")], log)
        deb.unlink()

    folder = _atomic_build("janus-debian-1.1.2", key, build)
    lib = folder / "root" / "usr" / "lib" / "x86_64-linux-gnu" / "janus"
    if not lib.exists():
        (lib,) = (folder / "root" / "usr" / "lib").glob("*/janus")
    return JanusInstall(folder / "root" / "usr" / "bin" / "janus", lib / "plugins", lib / "transports",
                        DEBIAN_JANUS_VERSION)


def node_servers() -> Path:
    """A folder with node_modules (janus-whep-server, janode, …) and simple-whip-server's sources,
    which the launcher (launcher.mjs) imports."""
    tarball = peers_dir() / WHIP_SERVER_TARBALL
    manifest = {"name": "whip-whep-interop-lab", "private": True, "type": "module",
                "dependencies": NODE_PACKAGES, "overrides": {"unix-dgram": "file:./unix-dgram"}}
    key = _digest(tarball.read_bytes(), json.dumps(manifest, sort_keys=True).encode(), JANODE_NDI_STUB.encode(),
                  UNIX_DGRAM_STUB.encode())

    def build(work: Path, log: Path) -> None:
        if not shutil.which("npm") or not shutil.which("node"):
            apt_install(["nodejs", "npm"], log)  # Debian's Node 18 is new enough (the servers want >= 18.18)
        stub = work / "janode-ndi"
        stub.mkdir()
        (stub / "package.json").write_text(json.dumps(
            {"name": "janode-ndi", "version": "1.0.0", "type": "module", "main": "index.js"}))
        (stub / "index.js").write_text(JANODE_NDI_STUB)
        dgram = work / "unix-dgram"
        dgram.mkdir()
        (dgram / "package.json").write_text(json.dumps({"name": "unix-dgram", "version": "2.0.7", "main": "index.js"}))
        (dgram / "index.js").write_text(UNIX_DGRAM_STUB)
        (work / "package.json").write_text(json.dumps(manifest, indent=1))
        _run(["npm", "install", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts"], log, cwd=work)
        extract(tarball, work)
        (src,) = [p for p in work.iterdir() if p.is_dir() and p.name.startswith("simple-whip-server")]
        src.rename(work / "simple-whip-server")

    return _atomic_build("node-servers", key, build)
