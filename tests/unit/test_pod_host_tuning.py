"""What the lab reads and sets on the host for many pods: the /run/netns mount, the ARP table."""
from __future__ import annotations

from labkit.embedded import neighbours
from labkit.embedded.netns import shared_mount

# /proc/self/mountinfo of a machine where /run is an ordinary directory of the root file system:
# iproute2's bind mount of /run/netns onto itself has the same device as /run.
MOUNTINFO = """\
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
45 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
46 45 0:4 net:[4026532174] /run/netns/rv-net rw shared:2 - nsfs nsfs rw
"""


def test_run_netns_bind_mounted_onto_itself_is_seen():
    assert shared_mount(MOUNTINFO)


def test_run_netns_absent_or_private_is_not():
    assert not shared_mount(MOUNTINFO.splitlines()[0])
    private = "45 27 254:0 /run/netns /run/netns rw,relatime - ext4 /dev/vda rw"
    assert not shared_mount(private)
    assert not shared_mount("46 45 0:4 net:[1] /run/netns/x rw shared:2 - nsfs nsfs rw")


def test_thresholds_raised_for_a_thousand_pods_never_lowered():
    defaults = {"gc_thresh1": 128, "gc_thresh2": 512, "gc_thresh3": 1024}
    assert neighbours.wanted(1000, defaults) == {"gc_thresh3": 8000, "gc_thresh2": 4000}
    assert neighbours.wanted(100, defaults) == {}
    high = {"gc_thresh1": 128, "gc_thresh2": 30000, "gc_thresh3": 65536}
    assert neighbours.wanted(1000, high) == {}


def test_fit_writes_the_hard_limit_and_reads_back(tmp_path):
    for key, value in (("gc_thresh1", 128), ("gc_thresh2", 512), ("gc_thresh3", 1024)):
        (tmp_path / key).write_text(f"{value}\n")
    assert neighbours.fit(1000, tmp_path) == {"gc_thresh3": 8000, "gc_thresh2": 4000}
    assert (tmp_path / "gc_thresh3").read_text() == "8000"
    assert neighbours.fit(1000, tmp_path) == {}
    assert neighbours.fit(1000, tmp_path / "missing") == {}


def test_the_last_lab_gone_the_thresholds_come_back(tmp_path):
    for key, value in (("gc_thresh1", 128), ("gc_thresh2", 512), ("gc_thresh3", 1024)):
        (tmp_path / key).write_text(f"{value}\n")
    saved = tmp_path / "kept.json"
    assert neighbours.fit(1000, tmp_path, saved) and saved.exists()
    assert neighbours.fit(2000, tmp_path, saved)                 # a bigger lab: the first values stay kept
    assert neighbours.restore(tmp_path, saved) == {"gc_thresh2": 512, "gc_thresh3": 1024}
    assert (tmp_path / "gc_thresh3").read_text() == "1024" and (tmp_path / "gc_thresh2").read_text() == "512"
    assert not saved.exists() and neighbours.restore(tmp_path, saved) == {}


def test_a_restore_where_the_thresholds_are_not_exported_keeps_the_record(tmp_path):
    """A class learner's last lab goes down inside their world, a namespace without gc_thresh*: the
    record used to be deleted there, and the machine's raised values were never put back."""
    saved = tmp_path / "kept.json"
    saved.write_text('{"gc_thresh1": 128, "gc_thresh2": 512, "gc_thresh3": 1024}')
    assert neighbours.restore(tmp_path / "world", saved) == {} and saved.exists()
