"""The class's pure parts around the hub: the server's command line and environment, the page."""
import pwd

from labkit.classroom import plan, roster, service, spawner, world

PLAN = plan.make_plan(roster.parse("alice\nteacher admin\n"), hub_python="/srv/kubenet/.venv/bin/python")
USER = pwd.struct_passwd(("kc_alice", "x", 1234, 1235, "", "/home/kc_alice", "/bin/bash"))


def test_server_runs_in_the_learners_namespace_as_the_learner_and_never_root():
    argv = spawner.singleuser_argv(PLAN, PLAN.learner("alice"), USER)
    assert argv[:3] == ["nsenter", "--net=/run/netns/kc_alice", "--"]
    assert argv[3:8] == ["unshare", "--mount", "--propagation", "slave", "--"]     # its own /proc (hidepid)
    assert argv[8:10] == ["sh", "-c"] and "hidepid=invisible" in argv[10] and argv[11] == "sh"
    assert argv[12:17] == ["setpriv", "--reuid=1234", "--regid=1235", "--init-groups", "--"]
    assert argv[-1] == "/opt/kubenet-class/venv/bin/jupyterhub-singleuser"


def test_server_environment_points_at_the_learners_own_lab_and_python():
    env = spawner.learner_env(PLAN, PLAN.learner("alice"), USER)
    assert env["KUBECONFIG"] == "/home/kc_alice/.kube/labkit-alice.yaml"
    assert env["LABKIT_LAB"] == "alice" and env["HOME"] == "/home/kc_alice" and env["USER"] == "kc_alice"
    assert env["PATH"].startswith("/opt/kubenet-class/venv/bin:")
    assert env["LABKIT_CLASS_SERVICE"] == "http://100.72.0.1:8090"


def test_labs_are_started_inside_the_world_with_the_projects_python():
    argv = world.in_world(PLAN.learner("alice"), world.labkit_argv(PLAN, "up", "--name", "alice"))
    assert argv == ["nsenter", "--net=/run/netns/kc_alice", "--", "/srv/kubenet/.venv/bin/python", "-m",
                    "labkit", "up", "--name", "alice"]


def test_instructor_page_lists_each_learner_with_health_progress_and_a_reset():
    rows = [{"login": "alice", "admin": False, "server": True, "lab_ready": True, "pods": 10,
             "solved": ["00-first-pod", "01-routes"]},
            {"login": "teacher", "admin": True, "server": False, "lab_ready": False, "pods": 0, "solved": []}]
    html = service.page(rows, '<input name="_xsrf" value="x">', "/services/class/")
    assert 'data-login="alice"' in html and "ready / prêt" in html and "2: 00-first-pod, 01-routes" in html
    assert 'action="/services/class/reset/alice"' in html and 'name="_xsrf"' in html
    assert "teacher (admin)" in html and "not started / pas démarré" in html
    assert "Exercises solved / Exercices réussis" in html


def test_a_learners_lab_runs_every_container_as_the_learner_even_when_asked_for_root(monkeypatch):
    from labkit.embedded.processes import run_as

    privileged = {"securityContext": {"privileged": True}}
    root = {"securityContext": {"runAsUser": 0}}
    assert run_as({}, privileged) is None and run_as({}, root) is None      # an ordinary lab: as asked
    monkeypatch.setenv("LABKIT_POD_USER", "1234:1235")
    assert run_as({}, privileged) == run_as({}, root) == run_as({}, {}) == (1234, 1235)
    monkeypatch.setenv("LABKIT_POD_USER", "0:0")                            # never root by this door
    assert run_as({}, {}) == (65534, 65534)


def test_a_failed_reset_is_said_plainly_to_the_instructor_and_to_the_learner():
    error = service.ResetFailed("alice", "`python -m labkit up --name alice` failed: RTNETLINK answers: File exists")
    page = service.error_page(error, "/services/class/")
    assert "the reset of alice&#x27;s lab failed: `python -m labkit up" in page and "File exists" in page
    assert "la réinitialisation du lab de alice a échoué" in page and 'href="/services/class/"' in page


def test_the_learners_labkit_reset_prints_the_services_words_not_a_status(monkeypatch):
    import io
    import json
    import urllib.error

    from labkit import i18n
    from labkit.classroom import client

    body = {"error": "reset_failed", "message": {"en": "the reset of alice's lab failed: boom",
                                                   "fr": "la réinitialisation du lab de alice a échoué : boom"}}
    answer = urllib.error.HTTPError("http://x", 500, "Internal Server Error", {}, io.BytesIO(json.dumps(body).encode()))
    monkeypatch.setattr(i18n, "get_language", lambda: "fr")
    assert client._said(answer) == body["message"]["fr"]
    assert client._said(urllib.error.HTTPError("http://x", 502, "Bad Gateway", {}, io.BytesIO(b"<html>"))) == "HTTP 502"


def test_the_learners_venv_is_built_from_the_package_alone_not_a_stale_build_dir(tmp_path):
    from labkit.classroom import host

    repo, into = tmp_path / "repo", tmp_path / "src"
    (repo / "labkit" / "netpol").mkdir(parents=True)
    (repo / "build" / "lib" / "labkit" / "policy_api").mkdir(parents=True)
    (repo / "build" / "lib" / "labkit" / "policy_api" / "cluster.py").write_text("MESSAGES = {}\n")
    (repo / "labkit" / "netpol" / "handle.py").write_text("MESSAGES = {}\n")
    (repo / "labkit" / "__pycache__").mkdir()
    (repo / "pyproject.toml").write_text("[project]\n")
    (repo / "README.md").write_text("# r\n")
    into.mkdir()
    host.package_source(repo, into)
    assert sorted(str(p.relative_to(into)) for p in into.rglob("*")) == [
        "README.md", "labkit", "labkit/netpol", "labkit/netpol/handle.py", "pyproject.toml"]


def test_a_taken_port_is_refused_before_anything_with_who_holds_it(monkeypatch):
    import socket

    import pytest

    from labkit.classroom import lifecycle, ports
    from labkit.errors import BadInput

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert not ports.is_free("127.0.0.1", port)
        taken = plan.make_plan(roster.parse("alice\n"), public_ip="127.0.0.1", public_port=port)
        monkeypatch.setattr(ports, "holder", lambda p: f"python3, pid {p}")
        with pytest.raises(BadInput) as err:
            lifecycle.check_ports(taken, running=None)
        assert err.value.key == "class.port_taken" and err.value.exit_code == 2
        assert f"port 127.0.0.1:{port} is taken (python3, pid {port})" in err.value.message("en")
        assert "CLASS_PORT" in err.value.message("en") and "est pris" in err.value.message("fr")
        lifecycle.check_ports(taken, running=taken)      # the running class's own proxy holds it: fine
    assert ports.is_free("127.0.0.1", port)


def test_the_hubs_log_gives_the_line_that_says_why_not_the_last_one():
    from labkit.classroom import ports

    log = ("[I 21:23:20 JupyterHub app:3300] Starting proxy\n"
           "21:23:21.100 [ConfigProxy] \x1b[31merror\x1b[39m: Proxy error: listen EADDRINUSE: address already in use\n"
           "21:23:22.584 [ConfigProxy] \x1b[32minfo\x1b[39m: 201 POST /api/routes/services/class\n")
    assert ports.reason(log) == ("21:23:21.100 [ConfigProxy] error: Proxy error: listen EADDRINUSE: "
                                 "address already in use")
    assert ports.reason("[I 1] fine\n[I 2] still fine\n") == "[I 2] still fine"
    assert ports.reason("") == "no output"


def test_a_first_class_that_fails_to_start_is_rolled_back_and_an_earlier_one_left_alone(monkeypatch, tmp_path):
    import pytest

    from labkit.classroom import lifecycle
    from labkit.errors import LabkitError

    p = plan.make_plan(roster.parse("alice\n"), state_dir=str(tmp_path / "state"))
    rolled = []
    monkeypatch.setattr(lifecycle, "require_root", lambda: None)
    monkeypatch.setattr(lifecycle, "check_network", lambda plan: None)
    monkeypatch.setattr(lifecycle, "check_ports", lambda plan, running: None)
    monkeypatch.setattr(lifecycle, "_roll_back", rolled.append)

    def failing(plan, state, say):
        raise LabkitError("class.hub_failed", error="listen EADDRINUSE", log="/x/hub.log")

    monkeypatch.setattr(lifecycle, "_build_and_start", failing)
    monkeypatch.setattr(lifecycle, "class_exists", lambda state: False)
    with pytest.raises(LabkitError) as err:
        lifecycle.up(p)
    assert rolled == [p] and err.value.key == "class.hub_failed_clean"
    assert "the class was removed again" in err.value.message("en") and "EADDRINUSE" in err.value.message("fr")
    monkeypatch.setattr(lifecycle, "class_exists", lambda state: True)      # learners may be at work
    with pytest.raises(LabkitError) as err:
        lifecycle.up(p)
    assert rolled == [p] and err.value.key == "class.hub_failed"


def test_only_the_roster_logs_in_and_a_user_added_on_the_hubs_page_is_told_what_to_do(tmp_path):
    """The hub's admin page has "Add Users": such a user got in and chose a password, then met
    "Spawn failed: 'dave'" (a bare KeyError). Now the authenticator lets in the roster only, and the
    spawner, should it meet one, says in both languages what the instructor does instead."""
    import asyncio
    import inspect

    import pytest
    from firstuseauthenticator import FirstUseAuthenticator
    from traitlets.config import Config

    from labkit.classroom import hubconfig

    p = plan.make_plan(roster.parse("alice\nteacher admin\n"), state_dir=str(tmp_path), hub_python="/x/python")
    config = Config()
    exec(hubconfig.render(p), {"get_config": lambda: config})       # noqa: S102 - our own generated file
    auth = FirstUseAuthenticator(config=config)

    def allowed(login):
        answer = auth.check_allowed(login, None)
        return asyncio.run(answer) if inspect.isawaitable(answer) else answer

    class Dave:
        name = "dave"

    added = auth.add_user(Dave())              # what the admin page's "Add Users" calls
    if inspect.isawaitable(added):
        asyncio.run(added)
    assert allowed("alice") and allowed("teacher") and not allowed("dave")

    (tmp_path / "plan.json").write_text(p.to_json())

    spawner_ = spawner.ClassSpawner.__new__(spawner.ClassSpawner)
    object.__setattr__(spawner_, "_trait_values", {"plan_file": str(tmp_path / "plan.json"), "user": Dave()})
    with pytest.raises(RuntimeError) as err:
        spawner_._plan()
    assert str(err.value) == (
        "dave is not on the class roster: add the login to the roster (class.txt) and run `sudo make class` "
        "again (the hub's \"Add Users\" is not enough) / dave n'est pas sur la liste de la classe : ajoutez "
        "l'identifiant à la liste (class.txt) et relancez `sudo make class` (« Add Users » du hub ne suffit pas)")


def test_a_learners_reset_of_another_name_is_refused_and_resets_nothing(monkeypatch, capsys):
    """`labkit reset --name bob` as alice used to print "your lab alice was reset" and reset hers:
    the service resets the caller's own lab whatever the name. Now another name is one line, exit 2."""
    from labkit.classroom import client
    from labkit.cli.main import main

    resets = []
    monkeypatch.setattr(client.os, "geteuid", lambda: 1234)
    monkeypatch.setenv("LABKIT_CLASS_SERVICE", "http://100.72.0.1:8090")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    monkeypatch.setenv("LABKIT_LAB", "alice")
    monkeypatch.setenv("LABKIT_LANG", "en")
    monkeypatch.setattr(client, "reset_own", lambda: resets.append("alice") or "alice")
    assert main(["reset", "--name", "bob"]) == 2 and resets == []
    assert capsys.readouterr().err == ("labkit: in this class you reset only your own lab, alice: `labkit reset` "
                                       "(bob was not touched, nor was yours)\n")
    assert main(["reset"]) == 0 and main(["reset", "--name", "alice"]) == 0 and resets == ["alice", "alice"]
    assert "your lab alice was reset" in capsys.readouterr().out


def test_the_instructor_gets_the_solutions_build_and_learners_never_do(tmp_path):
    import os

    from labkit.classroom import host

    repo = tmp_path / "repo"
    for part in ("en", "fr", "instructor/en"):
        (repo / "notebooks" / part).mkdir(parents=True)
        (repo / "notebooks" / part / "02-pod-to-pod.ipynb").write_text("{}")
    p = plan.make_plan(roster.parse("alice\nteacher admin\n"), repo=str(repo))
    homes = {}
    for login, admin in (("alice", False), ("teacher", True)):
        home = tmp_path / login
        home.mkdir()
        user = pwd.struct_passwd((login, "x", os.getuid(), os.getgid(), "", str(home), "/bin/bash"))
        homes[login] = host.copy_notebooks(p, user, admin=admin)
    assert sorted(x.name for x in homes["alice"].iterdir()) == ["en", "fr"]
    assert sorted(x.name for x in homes["teacher"].iterdir()) == ["en", "fr", "instructor"]
    assert (homes["teacher"] / "instructor" / "en" / "02-pod-to-pod.ipynb").exists()


def test_the_instructor_is_told_before_the_long_steps(monkeypatch, tmp_path):
    """A fresh server's first `make class` installs the proxy and the learners' Python (minutes,
    and again after each change of labkit): it said nothing until the URL."""
    from labkit.classroom import host, lifecycle

    p = plan.make_plan(roster.parse("alice\n"), state_dir=str(tmp_path / "state"), install_dir=str(tmp_path / "opt"))
    done = []
    for name in ("install_proxy", "install_learner_venv", "ensure_user", "ensure_hub_address", "apply_firewall"):
        monkeypatch.setattr(host, name, lambda *a, name=name: done.append(name))
    monkeypatch.setattr(host, "proxy_current", lambda plan: False)
    monkeypatch.setattr(host, "learner_venv_current", lambda plan: True)
    monkeypatch.setattr(lifecycle.neighbours, "fit", lambda pods: {})
    monkeypatch.setattr(lifecycle, "hub_answers", lambda plan: True)
    said = []
    lifecycle._build_and_start(p, tmp_path / "state", said.append)
    assert said == [f"installing JupyterHub's proxy from npm into {tmp_path}/opt/proxy (once)..."]
    assert "install_proxy" in done and "install_learner_venv" not in done


def test_class_messages_count_one_account_in_the_singular_in_both_languages(monkeypatch):
    from labkit import i18n
    from labkit.classroom.messages import counted

    for lang, one, many in (("en", "(1 account;", "(2 accounts;"), ("fr", "(1 compte ;", "(2 comptes ;")):
        monkeypatch.setattr(i18n, "get_language", lambda lang=lang: lang)
        assert one in counted("class.up", 1, url="http://h/") and "accounts" not in counted("class.up", 1, url="x")
        assert many in counted("class.up", 2, url="http://h/")
        assert "1 learner's account" in counted("class.down", 1) if lang == "en" else \
            "1 compte d'apprenant," in counted("class.down", 1)
    assert "0 compte d'apprenant," in counted("class.down", 0)        # French: « zéro » takes the singular
    monkeypatch.setattr(i18n, "get_language", lambda: "en")
    assert "0 learners' accounts" in counted("class.down", 0)


def test_a_learners_status_of_another_lab_says_it_is_not_theirs_and_of_their_own_down_lab_says_reset(monkeypatch):
    import pytest

    from labkit import i18n
    from labkit.classroom import client
    from labkit.errors import BadInput, LabkitError

    monkeypatch.setenv("LABKIT_LAB", "alice")
    with pytest.raises(BadInput) as refused:
        client.check_status_name("bob")
    assert refused.value.message("en") == "bob is not your lab: in this class you see only your own, alice " \
                                          "(`labkit status`)"
    assert refused.value.message("fr").startswith("bob n'est pas votre lab : dans cette classe")
    for fine in (None, "alice", "alicebr"):          # one's own lab, and its companions
        client.check_status_name(fine)
    unreadable = LabkitError("cluster.lab_kubeconfig_unreadable", exit_code=2, name="alice", path="p", copy="c")
    said = client.own_lab_down(unreadable, None)
    assert said.key == "class.own_lab_down" and said.exit_code == 2
    assert "`labkit reset` rebuilds it" in said.message("en") and "sudo" not in said.message("en")
    assert "`labkit reset` le reconstruit" in said.message("fr") and "sudo" not in said.message("fr")
    assert client.own_lab_down(LabkitError("lab.not_running", name="alice"), "alice").key == "class.own_lab_down"
    gone = LabkitError("target.needs_embedded", exit_code=2, command="status", name="alice", kind="cluster")
    assert client.own_lab_down(gone, None).key == "class.own_lab_down"     # what a dead daemon gave
    other = LabkitError("cluster.unknown_node", node="n", name="alice", nodes="-")
    assert client.own_lab_down(other, None) is other                       # not a lab that is down
    assert client.own_lab_down(unreadable, "alicebr") is unreadable        # a companion: not "reset"
    assert i18n.t("class.own_lab_down", "en", name="alice").startswith("your lab alice is not answering")


def test_learners_terminals_are_not_login_shells_so_they_keep_the_servers_path(tmp_path):
    import json

    from labkit.classroom import host

    # a login shell (jupyter_server_terminals' default under a spawner) reads /etc/profile, which resets PATH
    assert host.terminal_config()["ServerApp"]["terminado_settings"]["shell_command"] == ["/bin/bash"]
    the_plan = plan.make_plan(roster.parse("alice\n"), install_dir=str(tmp_path))
    host.configure_learner_jupyter(the_plan)
    written = tmp_path / "venv" / "etc" / "jupyter" / "jupyter_server_config.json"
    assert json.loads(written.read_text()) == host.terminal_config()


def test_class_down_puts_the_arp_thresholds_back_to_what_the_labs_left_need(tmp_path):
    from labkit.classroom import lifecycle
    from labkit.embedded import neighbours

    def values():
        return [int((tmp_path / f"gc_thresh{i}").read_text()) for i in (1, 2, 3)]

    for i, value in ((1, 128), (2, 512), (3, 1024)):          # the machine's own
        (tmp_path / f"gc_thresh{i}").write_text(str(value))
    saved = tmp_path / "saved.json"
    neighbours.fit(250, tmp_path, saved)                      # another lab (250 pods) runs
    assert values() == [128, 1000, 2000]
    neighbours.fit(250 * 4, tmp_path, saved)                  # the class of 4 learners
    assert values() == [128, 4000, 8000]
    lifecycle.fit_neighbours_to([250], tmp_path, saved)       # class down: the other lab is still up
    assert values() == [128, 1000, 2000]
    lifecycle.fit_neighbours_to([], tmp_path, saved)          # ... and when it is gone: as found
    assert values() == [128, 512, 1024] and not saved.exists()
