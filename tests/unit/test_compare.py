"""The live comparison's pure parts: counting kube-proxy's state, the table and the plot."""
from labkit import compare


def test_counts_kube_proxy_rules_and_nft_elements_not_structure():
    save = "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-X\n-A PREROUTING -j KUBE-SERVICES\n"
    nft = ("table ip kube-proxy {\n\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
           "\t\telements = { 10.96.0.1 . tcp . 443 : goto service-A,\n\t\t\t     10.96.0.10 . udp . 53 : goto service-B }\n"
           "\t}\n\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t}\n}\n")
    assert compare.count_service_rules(save, "") == 1
    assert compare.count_service_rules("", nft) == 3


def test_table_and_plot_show_every_stack():
    a = compare.StackFigures("lab", "kindnet + iptables", "iptables", 0.1, 0.2, 0.15, 40, 0, 6, 9.5, 3.1, 120.0,
                             "kindnet", {"agent": "kube-proxy", "node": "lab-worker", "old_ok": 5, "tries": 5,
                                         "new_worked": False, "restart_ms": 80.5, "figure": 80.5})
    b = compare.StackFigures("labe", "kindnet + ebpf", "ebpf", 0.1, 0.2, 0.11, 0, 39, 5, 9.0, 3.0, 90.0, "kindnet",
                             {"agent": "ebpf", "node": "labe-worker", "old_ok": 5, "tries": 5, "new_worked": False,
                              "restart_ms": 60.0, "figure": 60.0})
    c = compare.StackFigures("labc", "calico + iptables", "iptables", 0.1, 0.2, 0.15, 40, 0, 7, 9.0, 3.0, 100.0,
                             "calico", {"agent": "bird", "node": "labc-worker", "withdrawn_s": 6.4, "back_s": 1.9,
                                        "traffic_failed": True, "restart_time": 6, "figure": 6.4})
    html = compare.table([a, b, c], "fr")
    assert "kindnet + ebpf" in html and "bpftool map dump" in html and "même nœud" in html
    assert html.count("<tr>") == 12 and "débit TCP" in html and "proto bird" in html
    assert "kube-proxy arrêté sur lab-worker" in html and "(5/5)" in html and "80,5 ms" in html
    assert "BIRD tué sur labc-worker" in html and "après 6,4 s" in html and "échoue" in html
    assert "<td>0,15</td>" in html and "<td>9,5</td>" in html and "0.15" not in html   # French numbers
    en = compare.table([a, b, c], "en")
    assert "<td>0.15</td>" in en and "80.5 ms" in en and "after 6.4 s" in en
    # sentences left-aligned (JupyterLab right-aligns cells), figures right-aligned
    assert "<td style='text-align:left'>" in en and "<td style='text-align:left'>0.15" not in en
    assert "the socket LB's agent stopped on labe-worker" in en.replace("&#x27;", "'") and "its connection fails" in en
    assert b.figures()["service_state"] == 39 and a.figures()["service_state"] == 40
    assert all(v > 0 for r in (a, b, c) for v in r.figures().values())
    assert compare.StackFigures("x", "y", "iptables").figures()["agent"] == 0
    fig = compare.plot([a, b, c], "en")
    assert len(fig.axes[0].patches) == 9 and len(fig.axes[1].patches) == 6


def test_run_measures_the_learners_lab_alone_then_the_companions_with_a_progress_line(monkeypatch, capsys):
    """``compare.run``: the learner's lab is measured before any companion starts (nothing else
    builds meanwhile), each measurement after the other, a progress line in the learner's language,
    the companions left running unless ``keep=False``."""
    import labkit.companions

    calls = []

    def measure(lab, progress=None, **kw):
        calls.append(("measure", lab))
        progress("compare.step.connect", lab=lab, n=11, rounds=15)
        return compare.StackFigures(lab, "x + y", "iptables", timings={"pods": 1.0, "connect": 2.0})

    class Companion:
        def __init__(self, lab):
            self.lab = lab

        def close(self):
            calls.append(("close", self.lab))

    def companion(preset, lab=None, stop=False, quiet=False):
        calls.append(("stop" if stop else "start", preset))
        return None if stop else Companion(f"{lab}{preset[:2]}")

    running = set()
    monkeypatch.setattr(compare, "measure", measure)
    monkeypatch.setattr(labkit.companions, "companion", companion)
    monkeypatch.setattr(labkit.companions, "status", lambda lab: [{"preset": p, "running": p in running}
                                                                   for p in ("calico", "ebpf")])
    results = compare.run("lab", ("calico", "ebpf"), "fr")
    assert [r.lab for r in results] == ["lab", "labca", "labeb"]
    assert calls[:3] == [("measure", "lab"), ("start", "calico"), ("start", "ebpf")]
    assert ("stop", "calico") not in calls
    out = capsys.readouterr().out
    assert "Pile 1 sur 3 (lab) · 0 s écoulées · établissement de connexions TCP, 15 fois par cible…" in out
    assert "Pile 2 sur 3 (calico, ebpf) · 0 s écoulées · démarrage des labs compagnons" in out
    assert "Pile 3 sur 3 (labeb)" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("3 piles mesurées en") and "x + y 3 s" in last and "labs compagnons démarrés en" in last
    calls.clear()
    running.add("calico")
    compare.run("lab", ("calico",), "en", keep=False)
    out = capsys.readouterr().out
    assert calls[-1] == ("stop", "calico") and "Stack 2 of 2 (labca)" in out
    assert "companion labs already running" in out.strip().splitlines()[-1]
