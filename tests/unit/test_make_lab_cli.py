"""The learner's side of `make lab` (pure parts): JupyterLab's command line, its environment, notes."""
from pathlib import Path

from labkit.cli import jupyter
from labkit.cli.lab import other_ranges
from labkit.embedded.topology import LabSpec


def test_jupyterlab_listens_on_loopback_on_this_port_or_fails():
    argv = jupyter.jupyter_argv(8888, "fr", "tok", as_root=False)
    assert "--ip=127.0.0.1" in argv and "--port=8888" in argv and "--ServerApp.port_retries=0" in argv
    assert "--ServerApp.default_url=/lab/tree/fr/00-welcome.ipynb" in argv and "--allow-root" not in argv
    assert "--allow-root" in jupyter.jupyter_argv(8888, "en", "tok", as_root=True)
    assert "--LabApp.news_url=None" in argv          # JupyterLab neither fetches news nor asks the learner to


def test_the_learner_environment_has_the_lab_and_not_sudo(monkeypatch):
    monkeypatch.setenv("SUDO_USER", "alice")
    env = jupyter.learner_env("kubenet", Path("/home/alice/.kube/labkit-kubenet.yaml"), "/home/alice", "alice")
    assert env["KUBECONFIG"] == "/home/alice/.kube/labkit-kubenet.yaml" and env["LABKIT_LAB"] == "kubenet"
    assert env["HOME"] == "/home/alice" and env["USER"] == "alice" and "SUDO_USER" not in env
    assert env["PATH"].split(":")[0].endswith("bin")


def test_make_lab_says_when_the_lab_took_other_ranges():
    assert other_ranges(LabSpec()) == ""
    moved = other_ranges(LabSpec(node_cidr="172.19.0.0/16", pod_cidr="10.245.0.0/16"))
    assert moved == "nodes 172.19.0.0/16 (172.18.0.0/16), pods 10.245.0.0/16 (10.244.0.0/16)"


def test_the_learners_jupyterlab_does_not_ask_about_news(tmp_path, monkeypatch):
    """The labconfig directory put on JUPYTER_CONFIG_PATH: JupyterLab's server reads it as default settings."""
    from jupyterlab_server.settings_utils import _get_overrides

    directory = jupyter.write_lab_config(tmp_path / "cfg")
    assert oct(directory.stat().st_mode & 0o777) == "0o755"
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(directory))
    overrides, error = _get_overrides(str(tmp_path / "app-settings"))
    assert not error and overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_notebooks_the_learner_cannot_write_are_named(tmp_path):
    """JupyterLab opens a notebook its user cannot write read-only: `labkit jupyter` says which."""
    import os

    uid, gid = os.getuid(), os.getgid()
    en = tmp_path / "en"
    en.mkdir()
    mine, locked = en / "00-welcome.ipynb", en / "01-network-model.ipynb"
    mine.write_text("{}")
    locked.write_text("{}")
    (en / "notes.txt").write_text("not a notebook")
    locked.chmod(0o444)
    assert jupyter.unwritable(tmp_path, uid, {gid}) == [locked]
    # another user: owner's write bit does not count; group and others' bits do
    assert set(jupyter.unwritable(tmp_path, uid + 1, set())) == {tmp_path, en, mine, locked}
    en.chmod(0o777)
    mine.chmod(0o666)
    assert set(jupyter.unwritable(tmp_path, uid + 1, set())) == {tmp_path, locked}
    tmp_path.chmod(0o770)
    assert jupyter.unwritable(tmp_path, uid + 1, {gid}) == [locked]
