"""Pure pieces of streaming: log buffer, container status rules, SPDY framing, process rules."""
import asyncio
import struct
import zlib

import pytest

from labkit import i18n
from labkit.apiserver import container_status as cs
from labkit.apiserver import spdy, stream_messages
from labkit.apiserver.logbuffer import LogBuffer, render, rfc3339nano
from labkit.embedded import processes as pr


# --- log buffer -------------------------------------------------------------------------------
def test_log_buffer_splits_lines_and_tails():
    buf = LogBuffer()
    buf.append(b"one\ntwo\nthr")
    buf.append("ee\n")
    assert [e.data for e in buf.read()] == [b"one\n", b"two\n", b"thr", b"ee\n"]
    assert render(buf.read(tail=2)) == b"three\n"
    assert buf.read(tail=0) == []
    assert [e.data for e in buf.read(after=2)] == [b"thr", b"ee\n"]


def test_log_buffer_is_bounded_but_keeps_numbering():
    buf = LogBuffer(max_entries=3, max_bytes=1000)
    for i in range(10):
        buf.append(f"line {i}\n")
    assert [e.data for e in buf.read()] == [b"line 7\n", b"line 8\n", b"line 9\n"]
    assert buf.last_seq == 10 and buf.read(after=9)[0].data == b"line 9\n"
    small = LogBuffer(max_entries=100, max_bytes=10)
    small.append("aaaaaa\nbbbbbb\n")
    assert render(small.read()) == b"bbbbbb\n"


def test_timestamps_are_rfc3339_with_nanoseconds():
    assert rfc3339nano(0.5) == "1970-01-01T00:00:00.500000000Z"
    buf = LogBuffer()
    buf.append("x\n", when=1.25)
    assert render(buf.read(), timestamps=True) == b"1970-01-01T00:00:01.250000000Z x\n"
    assert buf.read(since=2.0) == []


def test_log_buffer_wakes_followers_and_ends():
    async def scenario():
        buf = LogBuffer()
        assert await buf.wait(0, 0.05) is False
        waiter = asyncio.ensure_future(buf.wait(0, 5))
        await asyncio.sleep(0.01)
        buf.append("late\n")
        assert await waiter is True
        ender = asyncio.ensure_future(buf.wait(buf.last_seq, 5))
        await asyncio.sleep(0.01)
        buf.end()
        assert await ender is True and buf.ended
        buf.restart()
        assert not buf.ended
    asyncio.run(scenario())


# --- container status ------------------------------------------------------------------------
def _pod(policy="Never", containers=("c",)):
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"restartPolicy": policy, "containers": [{"name": c} for c in containers]},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
                "containerStatuses": [{"name": c, "ready": True, "restartCount": 0,
                                       "state": {"running": {"startedAt": "t0"}}}
                                      for c in containers]}}


def test_terminated_for_good_ends_the_pod_with_the_exit_code():
    pod = _pod()
    failed = cs.terminated(pod, "c", 3)
    entry = failed["status"]["containerStatuses"][0]
    assert failed["status"]["phase"] == "Failed"
    assert entry["state"]["terminated"]["exitCode"] == 3
    assert entry["state"]["terminated"]["reason"] == "Error"
    assert entry["state"]["terminated"]["startedAt"] == "t0" and not entry["ready"]
    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    assert pod["status"]["phase"] == "Running"          # the input is not mutated
    assert cs.terminated(pod, "c", 0)["status"]["phase"] == "Succeeded"


def test_a_pod_ends_only_when_all_its_containers_ended():
    pod = _pod(containers=("a", "b"))
    one = cs.terminated(pod, "a", 0)
    assert one["status"]["phase"] == "Running"
    assert cs.terminated(one, "b", 1)["status"]["phase"] == "Failed"


def test_restart_rules_and_back_off_then_restart():
    assert cs.should_restart("Always", 0) and cs.should_restart(None, 0)
    assert cs.should_restart("OnFailure", 2) and not cs.should_restart("OnFailure", 0)
    assert not cs.should_restart("Never", 2)
    pod = cs.terminated(_pod("Always"), "c", 2, final=False)
    assert pod["status"]["phase"] == "Running"
    waiting = cs.back_off(pod, "c", 10)
    entry = waiting["status"]["containerStatuses"][0]
    assert entry["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert entry["lastState"]["terminated"]["exitCode"] == 2
    again = cs.restarted(waiting, "c", "t1")["status"]["containerStatuses"][0]
    assert again["restartCount"] == 1 and again["state"] == {"running": {"startedAt": "t1"}}
    assert again["lastState"]["terminated"]["exitCode"] == 2 and again["ready"]


def test_exit_codes_of_signals():
    assert cs.exit_code(-9) == 137 and cs.exit_code(3) == 3
    assert cs.signal_name(137) == "SIGKILL" and cs.signal_name(3) is None


# --- SPDY ----------------------------------------------------------------------------------------
def test_dictionary_is_the_spdy3_one():
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b",*,enq=0.")
    assert b"\x00\x00\x00\x06200 OK" in spdy.DICTIONARY


def test_header_blocks_round_trip_across_compression_contexts():
    client, server = spdy.HeaderCodec(), spdy.HeaderCodec()
    frames = spdy.FrameReader()
    wire = b""
    for sid, rid, kind in ((1, 0, "error"), (3, 0, "data"), (5, 1, "error")):
        wire += client.syn_stream(sid, {"streamtype": kind, "port": "80", "requestid": str(rid)})
    parsed = []
    for i in range(0, len(wire), 5):           # bytes arrive cut anywhere
        parsed += frames.feed(wire[i:i + 5])
    assert [(f.type, f.stream_id) for f in parsed] == [(spdy.SYN_STREAM, i) for i in (1, 3, 5)]
    headers = [server.syn_stream_headers(f) for f in parsed]
    assert [h["streamtype"] for h in headers] == ["error", "data", "error"]
    assert headers[2] == {"streamtype": "error", "port": "80", "requestid": "1"}


def test_frames_encode_as_spdy3():
    data = spdy.data_frame(5, b"hi", fin=True)
    assert data == struct.pack(">II", 5, (1 << 24) | 2) + b"hi"
    frame = spdy.FrameReader().feed(data)[0]
    assert (frame.type, frame.stream_id, frame.payload, frame.fin) == (spdy.DATA, 5, b"hi", True)
    reply = spdy.FrameReader().feed(spdy.HeaderCodec().syn_reply(3))[0]
    assert (reply.type, reply.stream_id) == (spdy.SYN_REPLY, 3)
    assert reply.payload[:2] == b"\x78\xbb"          # zlib with a preset dictionary
    assert zlib.decompressobj(zdict=spdy.DICTIONARY).decompress(reply.payload) == b"\0\0\0\0"
    ping = spdy.FrameReader().feed(spdy.ping(7))[0]
    assert (ping.type, ping.payload) == (spdy.PING, b"\0\0\0\x07")
    with pytest.raises(spdy.SpdyError):
        spdy.FrameReader().feed(struct.pack(">HHI", 0x8002, 1, 0))


# --- which process a container runs, and as whom ------------------------------------------
def test_container_argv_rules():
    assert pr.container_argv({"image": "x", "command": ["sh"], "args": ["-c", "id"]}) == \
        ["sh", "-c", "id"]
    assert pr.container_argv({"image": "busybox", "args": ["sleep", "1d"]}) == ["sleep", "1d"]
    assert pr.container_argv({"image": "registry.k8s.io/coredns/coredns:v1.11.1",
                              "args": ["-conf", "/etc/coredns/Corefile"]}) is None
    assert pr.container_argv({"image": "curlimages/curl", "args": ["-s", "x"]}) == \
        ["curl", "-s", "x"]
    assert pr.container_argv({"image": "alpine:3.20", "stdin": True}) == ["sh"]
    assert pr.container_argv({"image": "docker.io/library/centos", "stdin": True}) == ["bash"]
    assert pr.container_argv({"image": "alpine"}) is None            # no stdin: no shell
    assert pr.container_argv({"image": "nginx", "stdin": True}) is None


def test_processes_are_unprivileged_unless_asked():
    assert pr.run_as({}, {}) == (65534, 65534)
    assert pr.run_as({"securityContext": {"runAsUser": 1000}}, {}) == (1000, 1000)
    assert pr.run_as({"securityContext": {"runAsUser": 1000}},
                     {"securityContext": {"runAsUser": 0}}) is None
    assert pr.run_as({}, {"securityContext": {"privileged": True}}) is None
    argv = pr.launch_argv(["ping", "x"], "lab-pod-a", "web", (65534, 65534), tty=True)
    assert argv[:6] == ["ip", "netns", "exec", "lab-pod-a", "setsid", "-c"]
    assert "--reuid=65534" in argv and "--no-new-privs" in argv and argv[-2:] == ["ping", "x"]
    assert "--ambient-caps=+net_raw,+net_bind_service" in argv
    root = pr.launch_argv(["id"], "ns", "h" * 80, None, tty=False)
    assert "setpriv" not in root and "setsid" not in root and "h" * 63 in root


def test_root_containers_get_the_runtime_default_capabilities():
    caps = pr.root_capabilities({}, {"securityContext": {"runAsUser": 0}}).split(",")
    assert "net_raw" in caps and "dac_override" in caps
    assert "net_admin" not in caps and "sys_admin" not in caps and "sys_ptrace" not in caps
    added = pr.root_capabilities({}, {"securityContext": {"capabilities": {
        "add": ["NET_ADMIN", "CAP_SYS_TIME"], "drop": ["MKNOD"]}}}).split(",")
    assert {"net_admin", "sys_time"} <= set(added) and "mknod" not in added
    assert pr.root_capabilities({}, {"securityContext": {"capabilities": {"drop": ["ALL"]}}}) == ""
    assert pr.root_capabilities({}, {"securityContext": {"privileged": True}}) is None
    with pytest.raises(pr.CapabilityError):
        pr.root_capabilities({}, {"securityContext": {"capabilities": {"add": ["net_admin -- x"]}}})
    argv = pr.launch_argv(["iptables", "-L"], "ns", "p", None, tty=False, root_caps="net_raw,kill")
    assert "--bounding-set=-all,+net_raw,+kill" in argv and "--reuid=0" not in " ".join(argv)
    none = pr.launch_argv(["id"], "ns", "p", None, tty=False, root_caps="")
    assert "--bounding-set=-all" in none


def test_containers_get_a_mount_namespace_that_hides_the_lab_files(tmp_path):
    from pathlib import Path
    argv = pr.launch_argv(["id"], "ns", "p", (65534, 65534), tty=False,
                          hide=(Path("/run/labkit"), Path("/run/labkit/lab/images")))
    at = argv.index("unshare")
    assert argv[at:at + 5] == ["unshare", "--uts", "--mount", "--propagation", "private"]
    script = argv.index(pr.HIDE_SCRIPT)
    assert argv[script + 1:script + 4] == ["p", "/run/labkit", "/run/labkit/lab/images"]
    manager = pr.ProcessManager(tools_root=tmp_path / "lab" / "images")
    assert manager.hide() == (tmp_path, tmp_path / "lab" / "images")
    assert (tmp_path / "lab" / "images").is_dir()
    assert pr.ProcessManager().hide() is None


def test_environment_of_a_container():
    pod = {"metadata": {"name": "web"}}
    env = pr.environment(pod, {"env": [{"name": "A", "value": "1"}, {"name": "B"}]},
                         "10.96.0.0/16", tty=True, root=False)
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1" and env["A"] == "1" and "B" not in env
    assert env["TERM"] == "xterm" and env["HOSTNAME"] == "web" and env["HOME"] == "/tmp"


def test_stream_messages_exist_in_both_languages():
    for key in stream_messages.MESSAGES:
        assert i18n.t(key, "en", container="c", name="p", image="i", phase="Succeeded",
                      ports="x", port=80, pod="p", uid="u", error="e")
        assert i18n.t(key, "fr", container="c", name="p", image="i", phase="Succeeded",
                      ports="x", port=80, pod="p", uid="u", error="e")
    assert "ne sait pas" in i18n.t("stream.portforward_unsupported", "fr")
