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
    a = compare.StackFigures("lab", "kindnet + iptables", "iptables", 0.1, 0.2, 0.15, 40, 0, 6)
    b = compare.StackFigures("labe", "kindnet + ebpf", "ebpf", 0.1, 0.2, 0.11, 0, 39, 5)
    html = compare.table([a, b], "fr")
    assert "kindnet + ebpf" in html and "bpftool map dump" in html and "même nœud" in html
    assert html.count("<tr>") == 9
    assert b.figures()["service_state"] == 39 and a.figures()["service_state"] == 40
    fig = compare.plot([a, b], "en")
    assert len(fig.axes[0].patches) == 6
