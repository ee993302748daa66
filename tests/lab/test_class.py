"""`make class` for real: a class of three learners and an instructor on this machine, over HTTP.

One class is set up once for the module (the learners' venv is installed the first time, then
reused): three learners log in through the hub's form, start their servers and run code in their
own kernels; each sees the canonical 172.18.0.x nodes; A cannot reach B's API, read B's kubeconfig
or token, nor reach B's pods; A's reset leaves B's pods running; the instructor's page lists them;
the teardown removes every learner's lab, user and process and leaves the host as before.
"""
from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from labkit.classroom.hubclient import Learner
from labkit.embedded.lifecycle import daemon_alive

from .helpers import host_state

LOGINS = ("kca", "kcb", "kcc")
BROWSER_LOGIN = "kcd"        # logs in for the first time in Chromium
TEACHER = "kcteach"
STATE = Path("/var/lib/kubenet-class")
OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-output"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _labkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "labkit"), *args], capture_output=True,
                          text=True, timeout=900, env=dict(os.environ, LABKIT_LANG="en"))


def _host() -> dict:
    state = host_state(None)
    state["users"] = sorted(p.pw_name for p in pwd.getpwall() if p.pw_name.startswith("kc_"))
    return state


def test_a_taken_port_is_refused_at_once_and_changes_nothing(tmp_path):
    """`make class` on a port another program holds: one line naming the port and its holder, exit 2,
    and the host as before (it used to wait a minute for the hub, then leave users, the firewall
    table and an orphaned proxy behind)."""
    if STATE.exists():
        pytest.skip("a class is already running on this machine (/var/lib/kubenet-class)")
    before = _host()
    roster = tmp_path / "class.txt"
    roster.write_text("kcport\n")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        up = _labkit("class", "up", "--roster", str(roster), "--ip", "127.0.0.1", "--port", str(port))
    assert up.returncode == 2, up.stdout + up.stderr
    me = f"{Path('/proc/self/comm').read_text().strip()}, pid {os.getpid()}"
    assert up.stderr.strip() == (f"labkit: port 127.0.0.1:{port} is taken ({me}): stop what holds it, or choose "
                                 "another port: sudo make class CLASS_PORT=8010"), up.stderr
    assert _host() == before and not STATE.exists()


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    if STATE.exists():
        pytest.skip("a class is already running on this machine (/var/lib/kubenet-class)")
    if any(p.pw_name.startswith("kc_") for p in pwd.getpwall()) or \
            any(n.startswith("kc_") for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])):
        _labkit("class", "down")                     # leftovers of a crashed run, not a class
    before = _host()
    roster = tmp_path_factory.mktemp("class") / "class.txt"
    roster.write_text("\n".join(LOGINS) + f"\n{BROWSER_LOGIN}\n{TEACHER} admin\n")
    port = _free_port()
    try:
        up = _labkit("class", "up", "--roster", str(roster), "--ip", "127.0.0.1", "--port", str(port))
        assert up.returncode == 0, up.stderr + up.stdout
        base = f"http://127.0.0.1:{port}"
        learners = {login: Learner(base, login, f"{login}-first-password") for login in LOGINS}
        yield {"base": base, "learners": learners, "before": before, "roster": roster, "port": port}
    finally:
        _labkit("class", "down")


@pytest.fixture(autouse=True)
def keep_logs_on_failure(request):
    """A failing test keeps what the class wrote (hub and class service, each learner's lab daemon)
    in test-output/class-logs/<test>/: `labkit class down` deletes them all at teardown."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:
        return
    from labkit.embedded.paths import lab_dir

    keep = OUTPUT_DIR / "class-logs" / request.node.name
    keep.mkdir(parents=True, exist_ok=True)
    for login in (*LOGINS, BROWSER_LOGIN, "kclate"):
        for log in lab_dir(login).glob("*.log") if lab_dir(login).is_dir() else ():
            shutil.copyfile(log, keep / f"{login}-{log.name}")
    if (STATE / "hub.log").exists():
        shutil.copyfile(STATE / "hub.log", keep / "hub.log")


@pytest.fixture(scope="module")
def started(klass):
    for learner in klass["learners"].values():
        answer = learner.log_in()
        assert answer.status_code == 302 and "/login" not in answer.headers["location"], answer.text[:300]
        learner.get_token()
        learner.start_server()
    return klass["learners"]


def kube(learner: Learner, *args: str) -> str:
    out = learner.run("import subprocess; p = subprocess.run(%r, capture_output=True, text=True); "
                      "print(p.stdout); print(p.stderr)" % (["kubectl", *args],))
    assert out["error"] is None, out
    return out["stdout"]


def test_first_use_password_then_only_that_password(klass, started):
    intruder = Learner(klass["base"], "kca", "another-password")
    assert intruder.log_in().status_code != 302          # the password kca chose at first login rules
    stranger = Learner(klass["base"], "mallory", "whatever-password")
    assert stranger.log_in().status_code != 302          # not on the roster


def test_each_learner_runs_as_themselves_and_sees_the_canonical_nodes(started):
    for login, learner in started.items():
        out = learner.run("import os; print(os.getuid(), os.environ['USER'], os.environ['LABKIT_LAB'])")
        uid, user, lab = out["stdout"].split()
        assert int(uid) != 0 and user == f"kc_{login}" and lab == login
        nodes = json.loads(kube(learner, "get", "nodes", "-o", "json").split("\n\n")[0] or "{}")["items"]
        ips = sorted(a["address"] for n in nodes for a in n["status"]["addresses"] if a["type"] == "InternalIP")
        assert ips == ["172.18.0.2", "172.18.0.3", "172.18.0.4"]
        assert {n["metadata"]["name"] for n in nodes} == {f"{login}-control-plane", f"{login}-worker",
                                                          f"{login}-worker2"}


def test_a_reaches_neither_bs_api_nor_bs_kubeconfig_nor_the_hubs_internals(started):
    a = started["kca"]
    b_config = yaml.safe_load(Path("/home/kc_kcb/.kube/labkit-kcb.yaml").read_text())
    b_server = b_config["clusters"][0]["cluster"]["server"]
    host, port = b_server.split("//")[1].split(":")
    b_server_pid = next(p for p in _pids_of("kc_kcb") if b"jupyterhub-singleuser" in _cmdline(p))
    probe = """
import socket
def connect(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close(); return "open"
    except OSError as e:
        return type(e).__name__
def read(path):
    try:
        open(path).read(); return "read"
    except OSError as e:
        return type(e).__name__
print({"b_api": connect(%r, %d), "hub_api": connect("100.72.0.1", 8081), "proxy_api": connect("100.72.0.1", 8001),
       "proxy_api_lo": connect("127.0.0.1", 8001), "b_server": connect("100.72.1.2", 8888),
       "b_kubeconfig": read("/home/kc_kcb/.kube/labkit-kcb.yaml"), "b_lab_config": read("/run/labkit/kcb/kubeconfig"),
       "b_home": read("/home/kc_kcb/.bashrc"), "b_hub_token": read("/proc/%d/environ")})
""" % (host, int(port), b_server_pid)
    seen = eval(a.run(probe)["stdout"])
    assert seen["hub_api"] == "open"                            # the one door out: the hub's API
    assert seen["b_api"] != "open" and seen["proxy_api"] != "open" and seen["proxy_api_lo"] != "open"
    assert seen["b_server"] != "open"
    assert seen["b_kubeconfig"] == seen["b_lab_config"] == seen["b_home"] == "PermissionError"
    assert seen["b_hub_token"] == "FileNotFoundError"      # B's server (and token) invisible to A: hidepid
    token = kube(a, "--server", b_server, "--insecure-skip-tls-verify", "get", "nodes")
    assert "Ready" not in token


def _pids_of(user: str) -> list[int]:
    uid = pwd.getpwnam(user).pw_uid
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _owner(p) == uid]


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _pod_ip(learner: Learner, pod: str) -> str:
    kube(learner, "wait", "--for=condition=Ready", f"pod/{pod}", "--timeout=60s")
    return kube(learner, "get", "pod", pod, "-o", "jsonpath={.status.podIP}").split()[0]


def test_pods_of_a_cannot_reach_pods_of_b_and_a_reset_leaves_b_running(started):
    a, b = started["kca"], started["kcb"]
    kube(b, "run", "bweb", "--image=nginx", "--port=80")
    kube(a, "run", "aclient", "--image=busybox", "--", "sleep", "3600")
    b_ip, _ = _pod_ip(b, "bweb"), _pod_ip(a, "aclient")
    fetch = "import subprocess; print(subprocess.run(['curl', '-s', '-m', '3', 'http://%s/'], capture_output=True, text=True).stdout)"
    assert '"bweb"' in b.run(fetch % b_ip)["stdout"]            # B reaches its own pod
    from_a_pod = kube(a, "exec", "aclient", "--", "wget", "-qO-", "-T", "3", f"http://{b_ip}/")
    assert "bweb" not in from_a_pod                              # A's pod reaches no pod of B's
    assert "bweb" not in a.run(fetch % b_ip)["stdout"]          # nor does A's kernel

    # A's pods run as A, even when they ask for root, and cannot signal B's processes
    kube(a, "run", "aroot", "--image=busybox", "--overrides", json.dumps({"spec": {"containers": [{
        "name": "aroot", "image": "busybox", "command": ["sleep", "3600"],
        "securityContext": {"privileged": True, "runAsUser": 0}}]}}))
    _pod_ip(a, "aroot")
    assert kube(a, "exec", "aroot", "--", "id", "-u").split()[0] == str(pwd.getpwnam("kc_kca").pw_uid)
    kube(b, "run", "bsleep", "--image=busybox", "--", "sleep", "3599")
    _pod_ip(b, "bsleep")
    b_pod_process = next(p for p in _pids_of("kc_kcb") if _cmdline(p).startswith(b"sleep\x003599"))
    signal = kube(a, "exec", "aclient", "--", "kill", "-0", str(b_pod_process))
    assert "not permitted" in signal                              # as `nobody` both, it would be

    out = a.run("import subprocess; p = subprocess.run(['labkit', 'reset'], capture_output=True, text=True); "
                "print(p.returncode, p.stdout, p.stderr)")
    assert out["stdout"].startswith("0 "), out
    assert "aclient" not in kube(a, "get", "pods")               # A's lab is fresh
    assert "Running" in kube(b, "get", "pod", "bweb")             # B's pod was never touched
    assert '"bweb"' in b.run(fetch % b_ip)["stdout"]


def test_instructor_sees_learners_and_what_they_solved(klass, started):
    started["kcc"].run("from labkit.exercises.reveal import record; record('00-class-test')")
    teacher = Learner(klass["base"], TEACHER, "teacher-first-password")
    assert teacher.log_in().status_code == 302
    page = teacher.http.get(f"{klass['base']}/services/class/", timeout=60)
    assert page.status_code == 200 and all(f'data-login="{x}"' in page.text for x in LOGINS)
    rows = {r["login"]: r for r in teacher.http.get(f"{klass['base']}/services/class/api/learners",
                                                   timeout=60).json()["learners"]}
    assert rows["kcc"]["solved"] == ["00-class-test"] and rows["kca"]["solved"] == []
    assert all(rows[x]["server"] and rows[x]["lab_ready"] for x in LOGINS)
    assert started["kca"].http.get(f"{klass['base']}/services/class/", timeout=60).status_code == 403

    # the page's reset button, for kcc only: kcc's lab comes back fresh, the others keep theirs
    started["kcc"].run("import subprocess; subprocess.run(['kubectl', 'create', 'namespace', 'mine'])")
    xsrf = next(c.value for c in teacher.http.cookies if c.name == "_xsrf" and c.path.startswith("/services/class"))
    done = teacher.http.post(f"{klass['base']}/services/class/reset/kcc", data={"_xsrf": xsrf}, timeout=120)
    assert done.status_code == 200 and 'data-login="kcc"' in done.text
    assert "mine" not in kube(started["kcc"], "get", "namespaces")
    assert "Running" in kube(started["kcb"], "get", "pod", "bweb")
    assert started["kca"].http.post(f"{klass['base']}/services/class/reset/kcb", timeout=60).status_code == 403


BROWSER_LEARNERS = ("kca", "kcb", BROWSER_LOGIN)   # kca, kcb started over HTTP; kcd's first login is here
NOTEBOOKS = ("00-welcome", "01-network-model")
# Every code cell has a prompt; the notebook is done when none is queued or running ("[*]") and the
# last non-empty code cell has a number, or stopped early when a cell raised (JupyterLab then skips the rest).
NOTEBOOK_DONE = """() => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
    const prompt = c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '';
    if (!cells.length || cells.some(c => prompt(c).includes('*'))) return false;
    const raised = [...document.querySelectorAll('.jp-OutputArea-output')]
        .some(o => o.textContent.includes('Traceback (most recent call last)'));
    const code = cells.filter(c => ((c.querySelector('.jp-InputArea-editor') || {}).textContent || '').trim());
    return raised || /\\[\\d+\\]/.test(prompt(code[code.length - 1]));
}"""


def _log_in(page, base: str, login: str, password: str, next_url: str = "") -> None:
    page.goto(f"{base}/hub/login{next_url}")
    page.fill("#username_input", login)
    page.fill("#password_input", password)
    page.click("#login_submit")


def _run_all(page, base: str, login: str, notebook: str) -> None:
    """Open the learner's copy of ``notebook`` and press Run > Run All Cells once the kernel is idle."""
    page.goto(f"{base}/user/{login}/lab/tree/en/{notebook}.ipynb?reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                           ".some(t => /\\| Idle/.test(t.textContent))", timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def _svg(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.lk-canvas svg')].map(s => s.textContent).join('\\n')")


def test_three_learners_run_notebooks_00_and_01_in_a_browser_each_on_their_own_lab(klass, started):
    """Three learners in one Chromium (a context each, side by side): kca and kcb log in with the
    passwords they chose, kcd for the first time (the world and lab are made on the way); each runs
    notebooks 00 and 01 top to bottom (Run All Cells) and sees their own nodes at 172.18.0.2-4, drawn
    with their own names, and no other learner's."""
    from tests.browser.browserkit import CHROMIUM, CHROMIUM_ARGS, OUTPUT

    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    OUTPUT.mkdir(exist_ok=True)
    base = klass["base"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            pages = {x: browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                     for x in BROWSER_LEARNERS}
            began = time.monotonic()
            for login, page in pages.items():
                _log_in(page, base, login, f"{login}-first-password")
            for login, page in pages.items():
                page.wait_for_url(f"**/user/{login}/lab**", timeout=150_000)
            print(f"\nfirst login of {BROWSER_LOGIN} -> its JupyterLab: {time.monotonic() - began:.1f} s")
            for notebook in NOTEBOOKS:
                for login, page in pages.items():            # all three run at once...
                    _run_all(page, base, login, notebook)
                for login, page in pages.items():            # ...and are checked in turn
                    try:
                        page.wait_for_function(NOTEBOOK_DONE, timeout=240_000)
                        _check_own_lab(page, login, notebook)
                    finally:
                        _screenshot(page, OUTPUT / f"class-{login}-{notebook[:2]}.png")
            print(f"three learners, notebooks 00 and 01 run: {time.monotonic() - began:.1f} s")
            _instructor_page(browser, base)
        finally:
            browser.close()


def _screenshot(page, path: Path) -> None:
    """The live diagram in view if there is one, then the page as the learner sees it."""
    try:
        page.locator(".lk-canvas svg").first.scroll_into_view_if_needed(timeout=5_000)
    except Exception:  # noqa: BLE001 - no diagram: the page as it is says why
        pass
    page.screenshot(path=str(path))


def _check_own_lab(page, login: str, notebook: str) -> None:
    page.locator(".lk-canvas").first.scroll_into_view_if_needed()    # the widget draws once in view
    page.wait_for_function("name => [...document.querySelectorAll('.lk-canvas svg')]"
                           ".some(s => s.textContent.includes(name))", arg=f"{login}-control-plane", timeout=30_000)
    text, svg = _outputs(page), _svg(page)
    assert "Traceback (most recent call last)" not in text, f"{login} {notebook}: {text[-3000:]}"
    others = [x for x in (*LOGINS, BROWSER_LOGIN) if x != login]
    assert f"{login}-control-plane" in svg and f"{login}-worker2" in svg, f"{login} {notebook}: {svg[:500]}"
    assert not any(f"{x}-control-plane" in text + svg for x in others)
    if notebook == "00-welcome":          # `kubectl get nodes`, then each node's IP (custom columns)
        for node, ip in (("control-plane", "172.18.0.2"), ("worker", "172.18.0.3"), ("worker2", "172.18.0.4")):
            assert re.search(rf"{login}-{node}\s+Ready\s", text), f"{login}: {text[:3000]}"
            assert re.search(rf"{login}-{node}\s+{re.escape(ip)}\s", text), f"{login}: {text[:3000]}"
    else:                                 # the two pods of notebook 01 on the learner's nodes
        assert "web" in svg and "client" in svg and "10.244." in text


def _instructor_page(browser, base: str) -> None:
    teacher = browser.new_context(viewport={"width": 1400, "height": 700}).new_page()
    try:                                  # the instructor's page, as the instructor sees it
        _log_in(teacher, base, TEACHER, "teacher-first-password", "?next=/services/class/")
        teacher.wait_for_selector(f'tr[data-login="{BROWSER_LOGIN}"]', timeout=60_000)
        for login in BROWSER_LEARNERS:
            row = teacher.locator(f'tr[data-login="{login}"]').inner_text()
            assert "running" in row and "ready" in row, row
    finally:
        teacher.screenshot(path=str(OUTPUT_DIR / "class-instructor.png"))


def test_a_late_learner_joins_and_nobody_elses_server_stops(klass, started):
    """`make class` again with a longer roster: the hub restarts, running servers and labs stay."""
    pid_before = started["kca"].run("import os; print(os.getpid())")["stdout"].strip()
    klass["roster"].write_text("kclate\n" + klass["roster"].read_text())
    again = _labkit("class", "up", "--roster", str(klass["roster"]), "--ip", "127.0.0.1", "--port",
                    str(klass["port"]))
    assert again.returncode == 0, again.stderr
    late = Learner(klass["base"], "kclate", "kclate-first-password")
    assert late.log_in().status_code == 302
    for learner in started.values():          # the proxy restarted with the hub: new connections
        learner.ws = learner.kernel = None
    a = started["kca"]
    assert a.run("import os; print(os.getpid())")["stdout"].strip() != pid_before  # a new kernel...
    assert "Running" in kube(started["kcb"], "get", "pod", "bweb")           # ...on the same server and lab
    assert a.api("GET", "/hub/api/users/kca").json()["servers"][""]["ready"]


def test_teardown_removes_every_learner_and_leaves_the_host_as_before(klass, started):
    down = _labkit("class", "down")
    assert down.returncode == 0, down.stderr
    after = _host()
    assert after == klass["before"]
    assert not any(Path(f"/run/labkit/{x}").exists() for x in LOGINS)
    assert not STATE.exists()


def test_a_reset_inside_a_world_deletes_the_old_host_link_itself():
    """The likely cause of the instructor's reset button's 500 once in CI: `labkit reset` inside a learner's
    world (a namespace entered with nsenter, whose /sys/class/net still shows the host's links) found
    no `<lab>-host` to delete, and left it to the kernel's asynchronous cleanup of the lab's old
    bridge namespace; when that cleanup lags (a busy machine) the old link is still there when the
    lab is rebuilt: "RTNETLINK answers: File exists". Here the old
    bridge namespace is held open while the lab is reset, which makes the lag certain."""
    world, lab = "tcw22", "tcr22"
    enter = ["nsenter", f"--net=/run/netns/{world}", "--", sys.executable, "-m", "labkit"]
    subprocess.run(["ip", "netns", "del", world], capture_output=True)
    subprocess.run(["ip", "netns", "add", world], check=True)
    try:
        subprocess.run(["ip", "-n", world, "link", "set", "lo", "up"], check=True)
        up = subprocess.run([*enter, "up", "--name", lab], capture_output=True, text=True, timeout=120)
        assert up.returncode == 0, up.stderr
        with open(f"/run/netns/{lab}-net"):          # the old bridge namespace outlives its sweep
            reset = subprocess.run([*enter, "reset", "--name", lab], capture_output=True, text=True, timeout=120)
        assert reset.returncode == 0, reset.stderr
        links = json.loads(subprocess.run(["ip", "-n", world, "-j", "link"], capture_output=True, text=True).stdout)
        assert [x["ifname"] for x in links if x["ifname"].startswith(lab)] == [f"{lab}-host"]
        assert daemon_alive(lab, ready=True)                       # the rebuilt lab answers, system pods up
        status = subprocess.run([*enter, "status", "--name", lab], capture_output=True, text=True, timeout=60)
        assert re.search(rf"{lab}-worker2\s+172\.18\.0\.4\s", status.stdout), status.stdout + status.stderr
    finally:
        subprocess.run([*enter, "down", "--name", lab], capture_output=True, timeout=120)
        subprocess.run(["ip", "netns", "del", world], capture_output=True)
