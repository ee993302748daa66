"""Interactive kubectl against the embedded lab, driven through a real pseudo-terminal.

What a new user types: ``kubectl run --rm -it``, ``exec -it``, ``attach``, ``run --rm -i`` with a
one-shot command, ``port-forward`` then ``curl``, ``logs -f`` while requests arrive. The terminal
is a pty whose size the test changes (the kernel sends kubectl SIGWINCH, kubectl sends a resize
frame, the pod's shell sees the new ``stty size``).
"""
import fcntl
import json
import os
import pty
import queue
import re
import select
import shutil
import socket
import struct
import subprocess
import termios
import threading
import time

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.cleanup import lab_processes
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.netns import list_netns
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.processes import netns_processes
from labkit.embedded.topology import LabSpec

from .helpers import eventually, pods_created

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "tinter"


class Terminal:
    """A program on a pty that is its controlling terminal (so resizes reach it)."""

    def __init__(self, argv, env, rows=24, cols=80):
        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        self.proc = subprocess.Popen(["setsid", "-c", *argv], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.seen = ""

    def resize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, text):
        os.write(self.master, text.encode())

    def expect(self, pattern, timeout=60):
        """Read until ``pattern`` matches what arrived since the last match; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.seen)
            if found:
                self.seen = self.seen[found.end():]
                return found
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} in {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:           # the program ended and closed the terminal
                    time.sleep(0.1)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        finally:
            os.close(self.master)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    home = tmp_path_factory.mktemp("kubectl-home")
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(NAME)), TERM="xterm")

    def kubectl(*args, check=True, timeout=60, input=None):
        proc = subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env,
                              timeout=timeout, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc

    kubectl.env = env
    kubectl.lab = EmbeddedLab(NAME)
    yield kubectl
    lifecycle.down(NAME)
    assert not [n for n in list_netns() if n.startswith(f"{NAME}-")]
    assert lab_processes(NAME) == []


def pod_json(kubectl, name):
    return json.loads(kubectl("get", "pod", name, "-o", "json").stdout)


def test_run_rm_it_shell_prompt_ip_resize_and_exit_code(lab):
    term = Terminal([KUBECTL, "run", "--rm", "-it", "--restart=Never", "--image=alpine",
                     "shell", "--", "sh"], lab.env, rows=24, cols=80)
    term.expect(r"\$ ")
    term.send("ip -4 -o addr show eth0; id -u\r")
    address = term.expect(r"inet (\d+\.\d+\.\d+\.\d+)/").group(1)
    assert term.expect(r"\r\n(\d+)\r\n").group(1) == "65534"        # unprivileged
    assert pod_json(lab, "shell")["status"]["podIP"] == address
    term.send("stty size\r")
    term.expect(r"24 80")
    term.resize(33, 101)
    time.sleep(0.5)
    term.send("stty size\r")
    term.expect(r"33 101")
    term.send("exit 3\r")
    term.expect(r'pod "shell" deleted')
    assert term.wait() == 3
    eventually(lambda: lab("get", "pod", "shell", check=False).returncode == 1, bool, "deletion")
    eventually(lambda: not [n for n in list_netns() if n.endswith("-pod-default-shell")], bool,
               "the pod's namespace to go")


def test_image_that_is_a_shell_starts_it_and_attach_reaches_it(lab):
    lab("run", "box", "--image=busybox", "-it", "--attach=false")  # no command: the image's shell
    lab("wait", "--for=condition=Ready", "pod/box", "--timeout=60s")
    term = Terminal([KUBECTL, "attach", "-it", "box"], lab.env)
    term.expect("If you don't see a command prompt")
    term.send("\r")
    term.expect(r"\$ ")
    term.send("echo attached-$HOSTNAME\r")
    term.expect("attached-box")
    term.send("exit\r")
    assert term.wait() == 0
    eventually(lambda: pod_json(lab, "box")["status"]["containerStatuses"][0]["restartCount"] > 0,
               bool, "the shell's restart (restartPolicy Always)")
    lab("delete", "pod", "box", "--now")


def test_exec_it_bash_resize_and_exit_code(lab):
    lab("run", "client", "--image=nicolaka/netshoot", "--", "sleep", "infinity")
    lab("wait", "--for=condition=Ready", "pod/client", "--timeout=60s")
    term = Terminal([KUBECTL, "exec", "-it", "client", "--", "bash"], lab.env, rows=30, cols=90)
    term.expect(r"nobody@client:/\$ ")
    term.send("stty size; tty\r")
    term.expect(r"30 90\s+/dev/pts/")
    term.resize(20, 70)
    time.sleep(0.5)
    term.send("stty size\r")
    term.expect(r"20 70")
    term.send("exit 4\r")
    term.expect("command terminated with exit code 4")
    assert term.wait() == 4


def test_one_shot_run_rm_i_prints_the_answer_and_leaves_nothing(lab):
    lab("create", "deployment", "blue", "--image=jpetazzo/color")
    pods_created(lab, "app=blue")
    lab("wait", "--for=condition=Ready", "pod", "-l", "app=blue", "--timeout=60s")
    blue = json.loads(lab("get", "pod", "-l", "app=blue", "-o", "json").stdout)["items"][0]
    out = lab("run", "testcurl", "--rm", "-i", "--restart=Never", "--image=centos", "--",
              "curl", "-s", "-m3", f"http://{blue['status']['podIP']}/", timeout=60)
    answer = json.loads(out.stdout.splitlines()[0])
    assert answer["pod"] == blue["metadata"]["name"]
    assert 'pod "testcurl" deleted' in out.stdout
    eventually(lambda: lab("get", "pod", "testcurl", check=False).returncode == 1, bool, "deletion")
    failing = lab("run", "t7", "--rm", "-i", "--restart=Never", "--image=busybox", "--",
                  "sh", "-c", "read a; echo got $a; exit 7", input="typed\n", check=False)
    assert failing.returncode == 7 and "got typed" in failing.stdout


def test_port_forward_deployment_and_logs_follow(lab):
    local = free_port()
    proc = subprocess.Popen([KUBECTL, "port-forward", "deploy/blue", f"{local}:80"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=lab.env)
    follow = subprocess.Popen([KUBECTL, "logs", "-f", "deploy/blue", "--tail=0"],
                              stdout=subprocess.PIPE, text=True, env=lab.env)
    followed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [followed.put(line) for line in follow.stdout], daemon=True).start()

    def request_then_followed_line():
        out = subprocess.run(["curl", "-s", "-m", "5", f"http://127.0.0.1:{local}/via-forward"],
                             capture_output=True, text=True).stdout
        assert json.loads(out)["client_ip"] == "127.0.0.1"    # from inside the pod
        try:
            return followed.get(timeout=1)
        except queue.Empty:
            return None

    try:
        assert proc.stdout.readline().startswith("Forwarding from 127.0.0.1:")
        # logs -f (--tail=0) shows only the lines written once it is connected, which takes a
        # moment: a request a second until one of them is followed
        line = eventually(request_then_followed_line, bool, "a followed log line", seconds=60,
                          interval=0)
        assert '"GET /via-forward" 200' in line
    finally:
        proc.kill()
        follow.kill()
        proc.wait()


def test_svc_port_forward_and_a_port_nothing_listens_on(lab):
    lab("expose", "deployment", "blue", "--port=80")
    local = free_port()
    proc = subprocess.Popen([KUBECTL, "port-forward", "svc/blue", f"{local}:80"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=lab.env)
    try:
        assert proc.stdout.readline().startswith("Forwarding from")
        out = subprocess.run(["curl", "-s", "-m", "5", f"http://127.0.0.1:{local}/"],
                             capture_output=True, text=True).stdout
        assert json.loads(out)["pod"].startswith("blue-")
    finally:
        proc.kill()
        proc.wait()                       # its listening socket is closed: the port is reused below
    closed = subprocess.Popen([KUBECTL, "port-forward", "pod/client", f"{local}:81"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=lab.env)
    assert closed.stdout.readline().startswith("Forwarding from")
    subprocess.run(["curl", "-s", "-m", "5", f"http://127.0.0.1:{local}/"], capture_output=True)
    _, err = closed.communicate(timeout=15)
    assert "failed to connect to localhost:81" in err and closed.returncode == 1


def test_process_output_logs_exit_status_and_restarts(lab):
    lab("run", "once", "--restart=Never", "--image=busybox", "--",
        "sh", "-c", "echo out; echo err >&2; ping -c1 -W2 127.0.0.1 >/dev/null && echo pinged")
    pod = eventually(lambda: (p := pod_json(lab, "once"))["status"]["phase"] == "Succeeded" and p,
                     bool, "once to succeed")
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    # stdout and stderr are two pipes: their lines interleave as they arrive
    assert sorted(lab("logs", "once").stdout.splitlines()) == ["err", "out", "pinged"]
    lab("run", "crash", "--image=busybox", "--", "sh", "-c", "echo boom; exit 2")
    status = eventually(lambda: (s := (pod_json(lab, "crash")["status"].get("containerStatuses")
                                       or [{}])[0]).get("state", {}).get("waiting") and s,
                        bool, "CrashLoopBackOff")
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["restartCount"] == 1 and status["lastState"]["terminated"]["exitCode"] == 2
    assert "CrashLoopBackOff" in lab("get", "pod", "crash").stdout


def mine() -> set[str]:
    """This lab's namespaces (other engineers' labs come and go meanwhile)."""
    return {n for n in list_netns() if n.startswith(f"{NAME}-")}


def test_bad_input_gives_kubectls_errors_and_leaves_nothing(lab):
    before = mine()
    missing = lab("exec", "nosuch", "--", "ls", check=False)
    assert 'Error from server (NotFound): pods "nosuch" not found' in missing.stderr
    wrong = lab("exec", "client", "-c", "nope", "--", "ls", check=False)
    assert "container nope is not valid for pod client" in wrong.stderr
    assert wrong.returncode == 1
    assert "container nope is not valid" in lab("logs", "client", "-c", "nope",
                                                check=False).stderr
    blue = lab("get", "pod", "-l", "app=blue", "-o", "name").stdout.split()[0]
    noproc = lab("attach", blue, check=False, timeout=20)
    assert "runs no process to attach to" in noproc.stderr
    notool = lab("exec", "client", "--", "no-such-tool", check=False)
    assert 'executable file not found in $PATH' in notool.stderr
    assert mine() == before


def test_processes_die_with_their_pod(lab):
    lab("run", "sleeper", "--image=busybox", "--", "sleep", "1000")
    lab("wait", "--for=condition=Ready", "pod/sleeper", "--timeout=60s")
    netns = lab.lab.spec.pod_netns("default", "sleeper")
    exec_bg = lab("exec", "sleeper", "--", "sh", "-c", "sleep 999 >/dev/null 2>&1 &")
    assert exec_bg.returncode == 0
    assert len(eventually(lambda: len(netns_processes(netns)) >= 2 and netns_processes(netns),
                          bool, "processes in the pod")) >= 2
    lab("delete", "pod", "sleeper", "--now")
    assert netns_processes(netns) == [] and netns not in list_netns()
    lab("run", "left", "--image=busybox", "--", "sleep", "1000")     # swept by the teardown
    lab("wait", "--for=condition=Ready", "pod/left", "--timeout=60s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
