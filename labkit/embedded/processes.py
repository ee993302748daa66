"""The pods' processes: a container's command, ``kubectl exec`` sessions, attach and logs.

Containers are emulated: a container's ``command``/``args`` run as host programs inside the pod's
network namespace (``ip netns exec``, so ``/etc/resolv.conf`` is the pod's), in a UTS namespace of
their own whose hostname is the pod's name, as a session of their own (``setsid``), on a
pseudo-terminal when the container asks for ``tty`` and on pipes otherwise.

**Unprivileged by default.** The host's filesystem is shared, so a learner's ``rm -rf /`` in a
"container" must not be root's. Processes run as ``nobody`` (65534) through ``setpriv`` with two
ambient capabilities a container runtime grants by default, ``CAP_NET_RAW`` (``ping``, raw
sockets, packet capture) and ``CAP_NET_BIND_SERVICE`` (ports below 1024), with no new privileges
and nothing else in the bounding set. ``securityContext.runAsUser`` (container or pod) picks
another user. ``runAsUser: 0`` runs as root with the capabilities a container runtime grants root
by default (containerd's and Docker's set: no ``CAP_NET_ADMIN``, no ``CAP_SYS_ADMIN``), changed by
``securityContext.capabilities`` ``add``/``drop``, so ``iptables`` or ``tc`` in a pod need
``add: [NET_ADMIN]`` as they do on a real cluster. ``privileged: true`` is the host's root, every
capability, in the pod's network namespace. A lab started with ``LABKIT_POD_USER=uid:gid`` (each
learner's lab under ``make class``) runs every container and exec session as that user whatever
the securityContext says.

**The lab's own files are out of sight.** Every container process and exec session runs in a
mount namespace of its own where ``/run/labkit`` is an empty read-only tmpfs, with only the lab's
image tool sets (``<lab>/images``) mounted back, read-only: the API objects, tokens, kubeconfigs
and logs of every lab are not there at all, for root in a pod too (without ``CAP_SYS_ADMIN`` it
cannot unmount the tmpfs). A privileged container could undo it, as a privileged pod can escape
on a real node. If the namespace cannot be set up, the container does not start (fail closed).

Which containers get a process:
- ``command`` given: ``command + args``;
- only ``args``: they are the command (``kubectl run x --image=busybox -- sleep 1d`` puts the words
  in ``args``), unless they start with ``-``, which means flags for an image's own entrypoint;
- neither: images that are shells (alpine, busybox, centos, netshoot...) start their shell when
  the container has ``stdin: true`` (``kubectl run -it``). Other images run no process; their
  ports are served by the echo responder (see ``echo``).

A container process's output goes to its ``LogBuffer`` (``kubectl logs``) and to its attached
clients. The first client to attach also gets what was written before it came (the shell's first
prompt, a quick command's whole output), because a process started with the pod usually writes
before ``kubectl run -i`` manages to attach. With ``stdinOnce`` the container's stdin closes when
that first attach ends. When the process ends, the restart policy decides: Never (or OnFailure
with exit 0) ends the container for good, which ends the pod (Succeeded or Failed, the exit code
kubectl reports); otherwise it restarts, at once the first time then with kubelet's back-off
(10 s doubling to 5 min, shown as ``CrashLoopBackOff``). A ``stdinOnce`` container restarted after
its attach gets an empty stdin, so a shell left with ``exit 3`` under ``kubectl run -it`` (which
means restartPolicy OnFailure) ends with 0 at once instead of waiting for a client that is gone.
"""
from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import logging
import os
import pty
import shutil
import signal
import struct
import termios
import time
from collections.abc import Callable
from pathlib import Path

from .. import i18n
from ..apiserver import container_status as cs
from ..apiserver import objects
from ..apiserver.logbuffer import LogBuffer, render
from .images import image_of, is_served_mode
from .toolsets import HOST_PATH, ToolSets

log = logging.getLogger(__name__)

NOBODY = 65534
CAPABILITIES = "net_raw,net_bind_service"
# What containerd (oci/spec_opts.go, defaultUnixCaps... populateDefaultUnixSpec) and Docker
# (oci/caps/defaults.go) give a root container that is not privileged.
ROOT_CAPABILITIES = ("chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid",
                     "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
                     "audit_write")
# Every capability name Linux knows (capabilities(7)); anything else in a pod spec is refused.
KNOWN_CAPABILITIES = frozenset((
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
    "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
    "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
    "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
    "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
    "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"))
# The mount namespace that hides the lab's files (see the module docstring): $1 is hidden behind
# an empty tmpfs, $2 (the tool sets, opened first as fd 3) is bound back read-only.
HIDE_SCRIPT = (
    'h="$0"; H="$1"; K="$2"; shift 2; hostname "$h" 2>/dev/null; '
    'if [ -n "$H" ]; then { exec 3<"$K" && mount -t tmpfs -o size=16k,mode=0755 labkit-hidden "$H"'
    ' && mkdir -p "$K" && mount --no-canonicalize --bind /proc/self/fd/3 "$K"'
    ' && mount -o remount,bind,ro "$K" && mount -o remount,ro "$H"; }'
    ' || { echo "labkit: cannot hide the lab files from the container" >&2; exit 126; };'
    ' exec 3<&-; fi; exec "$@"')
PATH = HOST_PATH
BACKOFF_FIRST, BACKOFF_MAX, BACKOFF_RESET = 10.0, 300.0, 600.0
# While a container waits out its back-off, the kubelet's pod worker syncs the pod again every
# ``backOffPeriod`` (pkg/kubelet/kubelet.go, 10 s; pod_workers.go ``completeWork`` requeues a
# failed sync) and each sync records one more ``BackOff`` Event (``EventSink``).
BACKOFF_RESYNC = 10.0
EXIT_GRACE = 1.0     # how long output may keep arriving after the process ended
STATUS_RETRY, STATUS_TRIES = 0.2, 100

MESSAGES = {
    "proc.not_found": {
        "en": 'exec: "{command}": executable file not found in $PATH',
        "fr": 'exec : "{command}" : exécutable introuvable dans le $PATH'},
    "proc.bad_capability": {
        "en": 'unknown capability "{name}" in securityContext.capabilities',
        "fr": 'capacité inconnue « {name} » dans securityContext.capabilities'},
}

# (namespace, name, uid, transform): applies ``transform`` to the pod object in the API.
StatusSink = Callable[[str, str, str, Callable[[dict], dict]], None]
# (namespace, name, uid, container, step, until): a container's back-off, kept with the pod's
# record so a restarted daemon resumes it (``until``: the restart's wall-clock time).
BackOffSink = Callable[[str, str, str, str, int, float], None]
# (namespace, name, uid, container, what): ``restarted`` (a new instance of the container runs)
# or ``back-off`` (it failed and waits); the kubelet turns them into Events.
EventSink = Callable[[str, str, str, str, str], None]


def shell_of(image: str | None) -> str | None:
    """The shell an image starts when it is given no command (None: the image is no shell)."""
    shell = image_of(image).shell
    if shell == "bash" and shutil.which("bash") is None:
        shell = "sh"
    return shell


def container_argv(container: dict) -> list[str] | None:
    """The emulated container's process, or None when it runs none (see the module docstring)."""
    command, args = list(container.get("command") or []), list(container.get("args") or [])
    if is_served_mode(container):
        return None                 # agnhost netexec / serve-hostname: the lab serves it
    if command:
        return command + args
    if args:
        entry = list(image_of(container.get("image")).entrypoint)
        if entry:
            return entry + args
        return None if args[0].startswith("-") else args
    if container.get("stdin"):
        shell = shell_of(container.get("image"))
        return [shell] if shell else None
    return None


def forced_user() -> tuple[int, int] | None:
    """The one user every container of this lab runs as, when the lab was started with
    ``LABKIT_POD_USER=uid:gid`` (a learner's lab under ``make class``: learners share this machine's
    kernel and filesystem, so a learner's pods run as the learner, never root nor privileged)."""
    value = os.environ.get("LABKIT_POD_USER", "")
    uid, _, gid = value.partition(":")
    return (int(uid), int(gid)) if uid.isdigit() and gid.isdigit() and int(uid) != 0 else None


def run_as(pod_spec: dict, container: dict) -> tuple[int, int] | None:
    """(uid, gid) the container runs as, or None for root (see the module docstring)."""
    forced = forced_user()
    if forced is not None:
        return forced
    pod_ctx = pod_spec.get("securityContext") or {}
    ctx = container.get("securityContext") or {}
    if ctx.get("privileged"):
        return None
    uid = ctx.get("runAsUser", pod_ctx.get("runAsUser", NOBODY))
    gid = ctx.get("runAsGroup", pod_ctx.get("runAsGroup", uid if uid != NOBODY else NOBODY))
    return None if uid == 0 else (int(uid), int(gid))


class CapabilityError(ValueError):
    """A capability name in ``securityContext.capabilities`` that Linux does not know."""


def root_capabilities(pod_spec: dict, container: dict) -> str | None:
    """The capabilities of a container that runs as root: None when privileged (all of them),
    else the runtime's default set with ``capabilities.add``/``drop`` applied (``ALL`` allowed).
    Names are checked against Linux's list, so no string of the spec reaches the command line."""
    ctx = container.get("securityContext") or {}
    if ctx.get("privileged"):
        return None
    wanted = ctx.get("capabilities") or {}

    def names(key: str) -> set[str]:
        items = wanted.get(key) if isinstance(wanted, dict) else None
        out: set[str] = set()
        for item in items if isinstance(items, list) else []:
            name = str(item).lower().removeprefix("cap_")
            if name == "all":
                out |= KNOWN_CAPABILITIES
            elif name in KNOWN_CAPABILITIES:
                out.add(name)
            else:
                raise CapabilityError(str(item)[:64])
        return out
    caps = (set(ROOT_CAPABILITIES) - names("drop")) | names("add")
    return ",".join(sorted(caps))


def launch_argv(argv: list[str], netns: str, hostname: str, user: tuple[int, int] | None,
                tty: bool, path: str | None = None, root_caps: str | None = None,
                hide: tuple[Path, Path] | None = None) -> list[str]:
    """The host command line that runs ``argv`` as the container would (pure, for the tests).

    The wrappers run with the host's ``PATH``; ``path`` (the image's tool set) is the one the
    container's own command and its children see (``env PATH=...`` just before it).
    ``root_caps``: a root container's capabilities (None: all, privileged). ``hide``: (the
    directory to hide, the tool sets to keep) for the container's own mount namespace."""
    wrapped = ["ip", "netns", "exec", netns]
    if tty:
        wrapped += ["setsid", "-c"]           # new session, the pty as controlling terminal
    hidden, kept = (str(hide[0]), str(hide[1])) if hide else ("", "")
    wrapped += ["unshare", "--uts", "--mount", "--propagation", "private", "--",
                "sh", "-c", HIDE_SCRIPT, hostname[:63], hidden, kept]
    if user is None and root_caps is not None:
        caps = ",".join("+" + c for c in root_caps.split(",") if c)
        sets = f"-all,{caps}" if caps else "-all"
        wrapped += ["setpriv", f"--inh-caps={sets}", f"--bounding-set={sets}", "--"]
    if user is not None:
        caps = ",".join("+" + c for c in CAPABILITIES.split(","))
        wrapped += ["setpriv", f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups",
                    f"--inh-caps=-all,{caps}", f"--ambient-caps={caps}",
                    f"--bounding-set=-all,{caps}", "--no-new-privs", "--"]
    if path is not None and path != PATH:
        wrapped += ["env", f"PATH={path}"]
    return wrapped + list(argv)


def environment(pod: dict, container: dict, service_cidr: str | None, tty: bool,
                root: bool) -> dict[str, str]:
    env = {"PATH": PATH, "HOSTNAME": pod["metadata"]["name"][:63],
           "HOME": "/root" if root else "/tmp"}
    if tty:
        env["TERM"] = "xterm"
    if service_cidr:
        env["KUBERNETES_SERVICE_HOST"] = str(ipaddress.ip_network(service_cidr)[1])
        env.update(KUBERNETES_SERVICE_PORT="443", KUBERNETES_SERVICE_PORT_HTTPS="443")
    for var in container.get("env") or []:
        if "name" in var and isinstance(var.get("value"), str):
            env[var["name"]] = var["value"]
    return env


def netns_processes(netns: str) -> list[int]:
    """Pids living in a network namespace (how processes are found without trusting records)."""
    try:
        inode = os.stat(f"/run/netns/{netns}").st_ino
    except OSError:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Spawned:
    """A started process with its pty (``master``) or pipes; output goes to ``on_output``."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int | None) -> None:
        self.proc, self.master = proc, master
        self.on_output: Callable[[str, bytes], None] = lambda stream, data: None
        self.on_eof: Callable[[], None] = lambda: None
        self._open = 0
        self._eof = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str], tty: bool, stdin: bool,
                    owner: int | None = None) -> Spawned:
        if not tty:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd="/", start_new_session=True,
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            return cls(proc, None)
        master, slave = pty.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            if owner is not None:
                os.fchown(slave, owner, -1)
            proc = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd="/", stdin=slave, stdout=slave, stderr=slave)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master)

    def pump(self) -> None:
        """Start reading output (after ``on_output``/``on_eof`` are set)."""
        loop = asyncio.get_running_loop()
        if self.master is not None:
            self._open = 1
            loop.add_reader(self.master, self._read_master, self.master)
            return
        for stream, reader in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            if reader is not None:   # always: ``start`` pipes both without a terminal
                self._open += 1
                self._tasks.append(loop.create_task(self._read_pipe(stream, reader)))

    def _read_master(self, master: int) -> None:
        try:
            data = os.read(master, 65536)
        except BlockingIOError:
            return
        except OSError:          # EIO: every holder of the terminal's other side is gone
            data = b""
        if data:
            self.on_output("stdout", data)
            return
        asyncio.get_running_loop().remove_reader(master)
        self._closed_one()

    async def _read_pipe(self, stream: str, reader: asyncio.StreamReader) -> None:
        try:
            while chunk := await reader.read(65536):
                self.on_output(stream, chunk)
        finally:
            self._closed_one()

    def _closed_one(self) -> None:
        self._open -= 1
        if self._open <= 0 and not self._eof.is_set():
            self._eof.set()
            self.on_eof()

    async def wait(self) -> int:
        """The exit code, once the process ended and its output was read (or stopped coming)."""
        code = cs.exit_code(await self.proc.wait())
        try:
            await asyncio.wait_for(self._eof.wait(), EXIT_GRACE)
        except TimeoutError:       # a background child still holds the output open
            self._force_eof()
        return code

    def _force_eof(self) -> None:
        if self.master is not None and not self._eof.is_set():
            asyncio.get_running_loop().remove_reader(self.master)
        for task in self._tasks:
            task.cancel()
        if not self._eof.is_set():
            self._eof.set()
            self.on_eof()
        self._close_master()

    def _close_master(self) -> None:
        if self.master is not None:
            try:
                asyncio.get_running_loop().remove_reader(self.master)
            except (ValueError, RuntimeError):
                pass
            os.close(self.master)
            self.master = None

    def close(self) -> None:
        self._force_eof()

    async def write(self, data: bytes) -> None:
        if self.master is not None:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(self.master, view):]
                except BlockingIOError:
                    await asyncio.sleep(0.01)
                except OSError:
                    return
            return
        pipe = self.proc.stdin
        if pipe is None or pipe.is_closing():
            return
        pipe.write(data)
        try:
            await pipe.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def close_stdin(self) -> None:
        if self.master is not None:
            await self.write(b"\x04")        # the terminal's end-of-file character
        elif self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()

    def resize(self, width: int, height: int) -> None:
        """The window size; the kernel tells the foreground process group with SIGWINCH."""
        if self.master is not None and width > 0 and height > 0:
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def signal(self, sig: int) -> None:
        if self.proc.returncode is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass


class ExecSession:
    """``kubectl exec``: an ``ExecProcess`` over a ``Spawned`` process (killed on disconnect)."""

    def __init__(self, spawned: Spawned) -> None:
        self.spawned = spawned
        self.stdout = asyncio.StreamReader()
        self.stderr = asyncio.StreamReader() if spawned.master is None else None
        spawned.on_output = self._output
        spawned.on_eof = self._eof
        spawned.pump()

    def _output(self, stream: str, data: bytes) -> None:
        (self.stderr if stream == "stderr" and self.stderr else self.stdout).feed_data(data)

    def _eof(self) -> None:
        self.stdout.feed_eof()
        if self.stderr is not None:
            self.stderr.feed_eof()

    async def write_stdin(self, data: bytes) -> None:
        await self.spawned.write(data)

    async def close_stdin(self) -> None:
        await self.spawned.close_stdin()

    async def wait(self) -> int:
        try:
            return await self.spawned.wait()
        finally:
            self.spawned.close()

    def resize(self, width: int, height: int) -> None:
        self.spawned.resize(width, height)

    def kill(self) -> None:
        self.spawned.signal(signal.SIGKILL)


class Attachment:
    """One attached client of a container process; ``kill`` detaches, it never kills."""

    def __init__(self, container: ContainerProcess, stdin: bool, tty: bool) -> None:
        self.container, self.stdin = container, stdin
        self.stdout = asyncio.StreamReader()
        self.stderr = None if tty or container.tty else asyncio.StreamReader()
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()

    def feed(self, stream: str, data: bytes) -> None:
        (self.stderr if stream == "stderr" and self.stderr else self.stdout).feed_data(data)

    def finish(self, code: int) -> None:
        self.stdout.feed_eof()
        if self.stderr is not None:
            self.stderr.feed_eof()
        if not self.done.done():
            self.done.set_result(code)

    async def write_stdin(self, data: bytes) -> None:
        if self.stdin:
            await self.container.write_stdin(data)

    async def close_stdin(self) -> None:
        if self.stdin and self.container.stdin_once:
            await self.container.close_stdin()

    async def wait(self) -> int:
        return await self.done

    def resize(self, width: int, height: int) -> None:
        self.container.resize(width, height)

    def kill(self) -> None:
        self.container.detach(self)


class ContainerProcess:
    """A container's main process across its restarts: output, attachments, exit handling."""

    def __init__(self, manager: ProcessManager, pod: dict, container: dict, netns: str,
                 buffer: LogBuffer) -> None:
        self.manager, self.pod, self.spec, self.netns = manager, pod, container, netns
        self.name = container["name"]
        self.buffer = buffer
        self.tty = bool(container.get("tty")) and bool(container.get("stdin"))
        self.stdin = bool(container.get("stdin"))
        self.stdin_once = bool(container.get("stdinOnce"))
        self.stdin_used = False          # stdinOnce: the first attach with stdin has ended
        self.spawned: Spawned | None = None
        self.attachments: set[Attachment] = set()
        self.replayed = False
        self.first_seq = 0
        self.started = 0.0
        self.started_at = ""
        self.exit_code: int | None = None
        self.restarts = 0
        self.stopping = False
        self.task: asyncio.Task | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.pod["metadata"]["uid"], self.name)

    async def start(self) -> None:
        argv = container_argv(self.spec) or []
        user = run_as(self.pod.get("spec", {}), self.spec)
        tty, stdin = self.tty, self.stdin
        if self.stdin_used:                 # stdinOnce: later instances get an empty stdin
            tty = stdin = False
        env = environment(self.pod, self.spec, self.manager.service_cidr, tty, user is None)
        self.first_seq = self.buffer.last_seq
        self.buffer.restart()
        self.started, self.started_at = time.monotonic(), objects.now()
        self.exit_code = None
        tools = self.manager.tools.of(self.spec.get("image"))
        if not argv or not tools.executable(argv[0]):
            command = argv[0] if argv else ""
            self.buffer.append(i18n.t("proc.not_found", "en", command=command) + "\n", "stderr")
            self.task = asyncio.ensure_future(self._ended(127, "StartError"))
            return
        try:
            caps = root_capabilities(self.pod.get("spec", {}), self.spec)
        except CapabilityError as error:
            self.buffer.append(i18n.t("proc.bad_capability", "en", name=str(error)) + "\n",
                               "stderr")
            self.task = asyncio.ensure_future(self._ended(128, "StartError"))
            return
        self.spawned = await Spawned.start(
            launch_argv(tools.argv(argv), self.netns, self.pod["metadata"]["name"], user, tty,
                        tools.path, caps, self.manager.hide()),
            env, tty, stdin, owner=user[0] if user else None)
        self.spawned.on_output = self._output
        self.spawned.pump()
        self.task = asyncio.ensure_future(self._watch(self.spawned))

    def _output(self, stream: str, data: bytes) -> None:
        self.buffer.append(data, stream)
        for attachment in list(self.attachments):
            attachment.feed(stream, data)

    async def _watch(self, spawned: Spawned) -> None:
        code = await spawned.wait()
        spawned.close()
        await self._ended(code)

    async def _ended(self, code: int, why: str | None = None) -> None:
        self.exit_code = code
        self.buffer.end()
        for attachment in list(self.attachments):
            attachment.finish(code)
        self.attachments.clear()
        if self.stopping:
            return
        await self.manager.container_ended(self, code, why)

    def attach(self, stdin: bool, tty: bool) -> Attachment:
        attachment = Attachment(self, stdin and self.stdin, tty)
        if not self.replayed:
            self.replayed = True
            earlier = [e for e in self.buffer.read(after=self.first_seq) if e.stream != "access"]
            for entry in earlier:
                attachment.feed(entry.stream, entry.data)
        if self.exit_code is not None:
            attachment.finish(self.exit_code)
        else:
            self.attachments.add(attachment)
        return attachment

    def detach(self, attachment: Attachment) -> None:
        self.attachments.discard(attachment)
        if attachment.stdin and self.stdin_once and not self.stdin_used:
            self.stdin_used = True
            if self.spawned is not None and self.exit_code is None:
                if self.tty:
                    self.spawned.signal(signal.SIGHUP)   # the terminal hung up
                else:
                    asyncio.ensure_future(self.spawned.close_stdin())

    async def write_stdin(self, data: bytes) -> None:
        if self.spawned is not None and self.exit_code is None:
            await self.spawned.write(data)

    async def close_stdin(self) -> None:
        if self.spawned is not None and self.exit_code is None:
            self.stdin_used = True
            await self.spawned.close_stdin()

    def resize(self, width: int, height: int) -> None:
        if self.spawned is not None and self.exit_code is None:
            self.spawned.resize(width, height)

    def stop(self) -> None:
        self.stopping = True
        if self.spawned is not None:
            self.spawned.signal(signal.SIGKILL)
        if self.task is not None and self.exit_code is not None:
            self.task.cancel()


class ProcessManager:
    """Every container process and exec session of a lab, by pod uid."""

    def __init__(self, service_cidr: str | None = None, tools_root: Path | None = None) -> None:
        self.service_cidr = service_cidr
        self.tools = ToolSets(tools_root)
        self.containers: dict[tuple[str, str], ContainerProcess] = {}
        self.buffers: dict[tuple[str, str], LogBuffer] = {}
        self.sessions: dict[str, set[ExecSession]] = {}
        self.status_sink: StatusSink | None = None
        self.backoff_sink: BackOffSink | None = None
        self.event_sink: EventSink | None = None
        self._timers: dict[tuple[str, str], asyncio.Task] = {}

    def buffer(self, uid: str, container: str) -> LogBuffer:
        return self.buffers.setdefault((uid, container), LogBuffer())

    def hide(self) -> tuple[Path, Path] | None:
        """(what the containers must not see, the tool sets they keep), or None without a lab
        directory (the runtime's unit tests)."""
        root = self.tools.root
        if root is None:
            return None
        root.mkdir(parents=True, exist_ok=True)
        return (root.parent.parent, root)

    async def start_pod(self, pod: dict, netns: str, fresh: bool = False,
                        backoff: dict[str, list] | None = None) -> None:
        """Start the pod's container processes (idempotent: running ones are left alone).
        ``fresh``: the namespace was just made, so no process of a previous daemon is in it
        (the scan for them reads every process of the machine).

        After a restart of the daemon (not ``fresh``), ``backoff`` is what the previous daemon
        kept of each container's back-off ({container: [step, until]}, ``BackOffSink``): a
        container the pod's status shows waiting restarts when its back-off ends, with the
        back-off going on from its step, and one that ended for good is not started again. A real
        kubelet keeps the back-off in memory (pkg/kubelet/kubelet.go ``crashLoopBackOff``, a
        client-go util/flowcontrol ``Backoff``; kuberuntime_manager.go ``doBackOff``) and loses it
        when it restarts; the lab's daemon restart is meant to be invisible, so it keeps it."""
        uid = pod["metadata"]["uid"]
        wanted = [c for c in pod.get("spec", {}).get("containers", []) if container_argv(c)]
        if not fresh and not any(k[0] == uid for k in self.containers):
            kill_all(netns_processes(netns))     # a previous daemon's leftovers
        resumed: list[tuple[ContainerProcess, float]] = []
        for container in wanted:
            if (uid, container["name"]) in self.containers:
                continue
            if not fresh and cs.ended_for_good(pod, container["name"]):
                continue
            process = ContainerProcess(self, pod, container, netns,
                                       self.buffer(uid, container["name"]))
            step, until = (backoff or {}).get(container["name"]) or (0, 0.0)
            process.restarts = int(step)
            self.containers[process.key] = process
            if not fresh and cs.left_waiting(pod, container["name"]):
                resumed.append((process, max(0.0, float(until) - time.time())))
                continue
            await process.start()
        # after the last await: the kubelet writes the pod's resumed status before these run
        for process, delay in resumed:
            self._timers[process.key] = asyncio.ensure_future(self._restart(process, delay))

    async def stop_pod(self, uid: str, netns: str | None) -> None:
        """Kill everything of the pod: containers, exec sessions, and strays in its namespace."""
        for key in [k for k in self.containers if k[0] == uid]:
            self.containers.pop(key).stop()
            timer = self._timers.pop(key, None)
            if timer:
                timer.cancel()
        for session in self.sessions.pop(uid, set()):
            session.kill()
        if netns:
            kill_all(netns_processes(netns))
        for key in [k for k in self.buffers if k[0] == uid]:
            self.buffers[key].end()
            del self.buffers[key]

    async def exec(self, pod: dict, netns: str, command: list[str], stdin: bool,
                   tty: bool, container: str | None = None) -> ExecSession:
        containers = pod.get("spec", {}).get("containers") or [{}]
        everyone = containers + list(pod.get("spec", {}).get("ephemeralContainers") or [])
        spec = next((c for c in everyone if c.get("name") == container), containers[0])
        tools = self.tools.of(spec.get("image"))
        if not command or not tools.executable(command[0]):
            raise FileNotFoundError(command[0] if command else "")
        user = run_as(pod.get("spec", {}), spec)
        try:
            caps = root_capabilities(pod.get("spec", {}), spec)
        except CapabilityError as error:
            raise PermissionError(i18n.t("proc.bad_capability", "en", name=str(error))) from None
        spawned = await Spawned.start(
            launch_argv(tools.argv(command), netns, pod["metadata"]["name"], user, tty, tools.path,
                        caps, self.hide()),
            environment(pod, spec, self.service_cidr, tty, user is None), tty, stdin,
            owner=user[0] if user else None)
        session = ExecSession(spawned)
        uid = pod["metadata"]["uid"]
        self.sessions.setdefault(uid, set()).add(session)
        asyncio.ensure_future(self._forget_session(uid, session))
        return session

    async def _forget_session(self, uid: str, session: ExecSession) -> None:
        await session.spawned.proc.wait()
        self.sessions.get(uid, set()).discard(session)

    def attach(self, uid: str, container: str, stdin: bool, tty: bool) -> Attachment:
        process = self.containers.get((uid, container))
        if process is None:
            raise LookupError(container)
        return process.attach(stdin, tty)

    # --- what the pod's status says ----------------------------------------------------------
    async def container_ended(self, process: ContainerProcess, code: int,
                              why: str | None) -> None:
        pod = process.pod
        policy = pod.get("spec", {}).get("restartPolicy", "Always")
        if not cs.should_restart(policy, code):
            self._status(process, lambda p: cs.terminated(p, process.name, code,
                                                          process.started_at, why=why))
            return
        if time.monotonic() - process.started > BACKOFF_RESET:
            process.restarts = 0
        delay = 0.0 if process.restarts == 0 else min(
            BACKOFF_FIRST * 2 ** (process.restarts - 1), BACKOFF_MAX)
        process.restarts += 1
        ended = process.started_at
        self._keep_backoff(process, time.time() + delay)
        self._status(process, lambda p: cs.terminated(p, process.name, code, ended, why=why,
                                                      final=False))
        if delay:
            self._status(process, lambda p: cs.back_off(p, process.name, delay))
            self._event(process, "back-off")
            self._timers[process.key] = asyncio.ensure_future(self._restart(process, delay))
        else:
            await self._restart(process, 0)

    async def _restart(self, process: ContainerProcess, delay: float) -> None:
        """Start the container again after ``delay``, recording a ``back-off`` every
        ``BACKOFF_RESYNC`` while it waits (the kubelet's syncs of a pod in back-off)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + delay
        while (left := end - loop.time()) > 0:
            await asyncio.sleep(min(left, BACKOFF_RESYNC))
            if end - loop.time() > 0 and self.containers.get(process.key) is process \
                    and not process.stopping:
                self._event(process, "back-off")
        self._timers.pop(process.key, None)
        if process.stopping or self.containers.get(process.key) is not process:
            return
        await process.start()
        self._status(process, lambda p: cs.restarted(p, process.name, process.started_at))
        self._event(process, "restarted")

    def _event(self, process: ContainerProcess, what: str) -> None:
        if self.event_sink is not None:
            meta = process.pod["metadata"]
            self.event_sink(meta.get("namespace", "default"), meta["name"], meta["uid"],
                            process.name, what)

    def _keep_backoff(self, process: ContainerProcess, until: float) -> None:
        if self.backoff_sink is not None:
            meta = process.pod["metadata"]
            self.backoff_sink(meta.get("namespace", "default"), meta["name"], meta["uid"],
                              process.name, process.restarts, until)

    def _status(self, process: ContainerProcess, transform: Callable[[dict], dict]) -> None:
        if self.status_sink is None:
            return
        meta = process.pod["metadata"]
        self.status_sink(meta.get("namespace", "default"), meta["name"], meta["uid"], transform)

    def logs_text(self, uid: str, container: str) -> str:
        return render(self.buffer(uid, container).read()).decode(errors="replace")
