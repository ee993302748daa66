# %% [markdown] en
# # 5. Network stacks
#
# In local development clusters and in managed clusters, the network is set up for us. Everywhere
# else (bare metal, raw VMs, a control plane we run ourselves) we must **pick a network stack**.
# Which one? *It depends!* This notebook compares the usual suspects, shows what each one looks
# like on a node, how to start each on kind, and measures the scaling question of kube-proxy.
#
# **Goals** (about 30 minutes):
#
# 1. compare the usual network stacks, and what each one takes care of;
# 2. recognise a stack from a node's interfaces, routes and rules (exercises 1-3);
# 3. see how to start each stack on kind;
# 4. measure how kube-proxy's two modes cope with many Services.
# %% [markdown] fr
# # 5. Les piles réseau
#
# Dans les clusters de développement local et les clusters managés, le réseau est installé pour
# nous. Partout ailleurs (bare metal, VM « brutes », plan de contrôle que l'on gère soi-même), il
# faut **choisir une pile réseau**. Laquelle ? *Ça dépend !* Ce carnet compare les candidats
# habituels, montre à quoi chacun ressemble sur un nœud, comment lancer chacun sur kind, et mesure
# la question du passage à l'échelle de kube-proxy.
#
# **Objectifs** (environ 30 minutes) :
#
# 1. comparer les piles réseau habituelles, et ce dont chacune se charge ;
# 2. reconnaître une pile d'après les interfaces, les routes et les règles d'un nœud (exercices 1 à 3) ;
# 3. voir comment lancer chaque pile sur kind ;
# 4. mesurer comment les deux modes de kube-proxy supportent de nombreux Services.

# %% [markdown] en
# ## 1. The usual suspects
#
# Three moving parts, and a stack may fill one, two or all three of them: the **pod network**
# (CNI), the **service proxy** (kube-proxy by default), and **network policies**.
#
# | stack | pod network | policies | service proxy | in one line |
# |---|---|---|---|---|
# | [Weave](https://github.com/weaveworks/weave) | bridge + VXLAN mesh | yes | kube-proxy | super easy to install, no config, low footprint… but **no longer maintained** |
# | [Cilium](https://cilium.io/) | eBPF (routed or VXLAN/Geneve) | yes (L3-L7) | eBPF, can replace kube-proxy | very powerful, "best in class" for some… but eBPF makes troubleshooting harder |
# | [Calico](https://docs.tigera.io/calico/latest/about/) | routed /32s, BGP (or IPIP/VXLAN) | yes | kube-proxy (or its eBPF dataplane) | solid, routes you can read with `ip route` |
# | [Flannel](https://github.com/flannel-io/flannel) | bridge + VXLAN (or host-gw) | **no** | kube-proxy | simple overlay; add a policy controller if you need policies |
# | [kube-router](https://www.kube-router.io/) | bridge + BGP routes | yes | IPVS, can replace kube-proxy | one binary for all three roles, each optional |
#
# And some cloud providers and network vendors ship their own. The question to ask first: do we
# want speed? Reliability? Security? Observability?
# %% [markdown] fr
# ## 1. Les candidats habituels
#
# Trois briques, et une pile peut en tenir une, deux ou les trois : le **réseau des pods**
# (CNI), le **proxy de services** (kube-proxy par défaut), et les **politiques réseau**.
#
# | pile | réseau des pods | politiques | proxy de services | en une ligne |
# |---|---|---|---|---|
# | [Weave](https://github.com/weaveworks/weave) | pont + maillage VXLAN | oui | kube-proxy | très simple à installer, sans configuration, léger… mais **plus maintenu** |
# | [Cilium](https://cilium.io/) | eBPF (routé ou VXLAN/Geneve) | oui (L3-L7) | eBPF, peut remplacer kube-proxy | très puissant, « le meilleur » pour certains… mais l'eBPF complique le dépannage |
# | [Calico](https://docs.tigera.io/calico/latest/about/) | /32 routés, BGP (ou IPIP/VXLAN) | oui | kube-proxy (ou son plan de données eBPF) | solide, des routes lisibles avec `ip route` |
# | [Flannel](https://github.com/flannel-io/flannel) | pont + VXLAN (ou host-gw) | **non** | kube-proxy | overlay simple ; ajoutez un contrôleur de politiques si besoin |
# | [kube-router](https://www.kube-router.io/) | pont + routes BGP | oui | IPVS, peut remplacer kube-proxy | un seul binaire pour les trois rôles, chacun optionnel |
#
# Et certains fournisseurs de cloud ou constructeurs réseau ont leur propre solution. La première
# question à se poser : veut-on de la vitesse ? De la fiabilité ? De la sécurité ? De
# l'observabilité ?

# %% [markdown] en
# ## Setup
#
# The lab (`LABKIT_LAB`, else `kubenet`) and the recorded node outputs of kind clusters running
# each stack, in `tests/fixtures/cni/`. No Docker runs on the machines that built this workshop, so
# those outputs are **reconstructions** from each project's documented wiring, in the exact formats
# `ip -j`, `iptables-save`, `nft -j` and `ipvsadm` print (see the README of that folder).
# %% [markdown] fr
# ## Mise en place
#
# Le lab (`LABKIT_LAB`, sinon `kubenet`) et les sorties enregistrées de nœuds de clusters kind
# faisant tourner chaque pile, dans `tests/fixtures/cni/`. Aucun Docker ne tourne sur les machines
# qui ont construit cet atelier : ces sorties sont donc des **reconstructions** d'après le câblage
# documenté de chaque projet, au format exact qu'affichent `ip -j`, `iptables-save`, `nft -j` et
# `ipvsadm` (voir le README de ce dossier).

# %%
import json
import os
import sys
import time
from pathlib import Path

from IPython.display import HTML, display

import labkit
from labkit import diagrams
from labkit.cluster import build_snapshot
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it
from labkit.inspect.iproute import parse_addr, parse_routes
from labkit.nodes import lab_info

LAB = os.environ.get("LABKIT_LAB", "kubenet")
LABKIT = f"{sys.executable} -m labkit"          # the `labkit` command, whatever the environment
os.environ["KUBECONFIG"] = str(readable_kubeconfig(LAB))
cluster = labkit.connect(lab=LAB)
PROXY_MODE = lab_info(cluster.api)["proxyMode"]   # the lab's shape, served to anyone
FIXTURES = Path(labkit.__file__).resolve().parents[1] / "tests" / "fixtures" / "cni"
FILES = {"addr": "ip-addr.json", "route": "ip-route.json", "iptables": "iptables-save.txt",
         "nft": "nft-ruleset.json", "ipvsadm": "ipvsadm.txt"}


def recorded(name):
    """The snapshot and CNI recognition of one recorded kind cluster (what its nodes printed)."""
    base = FIXTURES / name
    objects = json.loads((base / "cluster.json").read_text())["objects"]
    outputs = {node.name: {key: (node / f).read_text() if (node / f).exists() else None
                           for key, f in FILES.items()}
               for node in sorted(base.iterdir()) if node.is_dir()}
    return build_snapshot(name, "kind", objects, outputs)


def node_file(name, node, key):
    path = FIXTURES / name / node / FILES[key]
    return path.read_text() if path.exists() else ""


SETS = sorted(d.name for d in FIXTURES.iterdir() if d.is_dir())
print(SETS)

# %% [markdown] en
# ## 2. Recognising a stack from a node
#
# labkit recognises the stack from what a node shows: the host side of the pods' veths (`veth…`,
# `cali…`, `lxc…`, `vethwepl…`), the bridge or the lack of one, how other nodes' pods are reached
# (a route via a node IP, a tunnel device, BGP routes), and who owns the firewall chains (`KUBE-*`,
# `cali-*`, `CILIUM_*`, `KUBE-ROUTER-*`, `WEAVE-NPC*`).
# %% [markdown] fr
# ## 2. Reconnaître une pile depuis un nœud
#
# labkit reconnaît la pile d'après ce que montre un nœud : le côté hôte des veths des pods
# (`veth…`, `cali…`, `lxc…`, `vethwepl…`), le pont ou son absence, la façon de joindre les pods des
# autres nœuds (une route via une IP de nœud, un tunnel, des routes BGP), et à qui appartiennent
# les chaînes du pare-feu (`KUBE-*`, `cali-*`, `CILIUM_*`, `KUBE-ROUTER-*`, `WEAVE-NPC*`).

# %%
HEADERS = {"en": ["recording", "CNI", "mode", "pod veths", "to other nodes", "service proxy", "summary"],
           "fr": ["enregistrement", "CNI", "mode", "veths des pods", "vers les autres nœuds", "proxy de services",
                  "résumé"]}
rows = []
for name in SETS:
    _, rec = recorded(name)
    rows.append([name, rec.cni, rec.mode, f"{rec.pod_veth_prefix}…", rec.cross_node_device, rec.proxy_mode,
                 rec.describe(LANG)])
HTML("<table><tr>" + "".join(f"<th style='text-align:left'>{h}</th>" for h in HEADERS[LANG]) + "</tr>"
     + "".join("<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in row) + "</tr>" for row in rows)
     + "</table>")

# %% [markdown] en
# Look closer at one worker node of a few of them: the interfaces (`ip -br link` would show the
# same), the routes (`ip route`), and the blue layer drawn from the recording.
#
# **kindnet** (kind's default): one veth per pod, each with the node's gateway address as a /32,
# and a plain route to each other node's pod CIDR via that node's IP.
# %% [markdown] fr
# Regardons de plus près un nœud worker de quelques-unes d'entre elles : les interfaces (`ip -br
# link` montrerait la même chose), les routes (`ip route`), et la couche bleue dessinée d'après
# l'enregistrement.
#
# **kindnet** (celui de kind par défaut) : une veth par pod, chacune portant l'adresse de passerelle
# du nœud en /32, et une simple route vers le CIDR de pods de chaque autre nœud via l'IP de ce nœud.


# %%
def look(name, node="kind-worker", draw=True):
    """Interfaces and routes of one recorded node, then the pod network drawn from the recording."""
    interfaces = parse_addr(node_file(name, node, "addr"))
    print(f"# {name}, {node}: ip -br link")
    for i in interfaces:
        print(f"  {i.name:18} {i.kind or '-':10} {' '.join(a.cidr for a in i.ipv4())}")
    print(f"# {name}, {node}: ip route")
    for route in parse_routes(node_file(name, node, "route")):
        kind = "" if route.type == "unicast" else route.type + " "
        proto = f" proto {route.protocol}" if route.protocol not in (None, "kernel", "boot", "static") else ""
        print("  " + kind + route.describe() + proto)
    if draw:
        snapshot, _ = recorded(name)
        display(diagrams.pod_network(snapshot, lang=LANG))


look("kindnet")

# %% [markdown] en
# **Flannel (VXLAN)**: the pods hang off a bridge, `cni0`; other nodes' pods are reached through
# `flannel.1`, a VXLAN device (VNI 1, UDP port 8472) that wraps each packet in a UDP packet between
# node IPs.
# %% [markdown] fr
# **Flannel (VXLAN)** : les pods sont branchés sur un pont, `cni0` ; les pods des autres nœuds
# sont joints par `flannel.1`, une interface VXLAN (VNI 1, port UDP 8472) qui encapsule chaque
# paquet dans un paquet UDP entre IP de nœuds.

# %%
look("flannel-vxlan")

# %% [markdown] en
# **Calico (IPIP)**: no bridge at all. Each pod has a /32 route to its `cali…` veth, and its
# gateway 169.254.1.1 belongs to nobody: the node answers ARP for it (proxy ARP). Other nodes'
# blocks (/26) are learnt by BGP (`proto bird`) and reached through the `tunl0` IP-in-IP tunnel.
# %% [markdown] fr
# **Calico (IPIP)** : pas de pont du tout. Chaque pod a une route /32 vers sa veth `cali…`, et sa
# passerelle 169.254.1.1 n'appartient à personne : le nœud répond à l'ARP à sa place (proxy ARP).
# Les blocs (/26) des autres nœuds sont appris par BGP (`proto bird`) et joints par le tunnel
# IP-dans-IP `tunl0`.

# %%
look("calico-ipip")

# %% [markdown] en
# **Cilium**: veths named `lxc…`, a `cilium_host`/`cilium_net` pair as the pods' gateway, and a
# `cilium_vxlan` device between nodes. The routes say little: eBPF programs attached to the
# devices do the forwarding, the service load balancing (no `KUBE-*` chain at all) and the
# policies. Troubleshooting goes through Cilium's own tools (`cilium-dbg`, Hubble).
# %% [markdown] fr
# **Cilium** : des veths nommées `lxc…`, une paire `cilium_host`/`cilium_net` comme passerelle des
# pods, et une interface `cilium_vxlan` entre les nœuds. Les routes en disent peu : des
# programmes eBPF attachés aux interfaces font l'acheminement, la répartition de charge des services
# (aucune chaîne `KUBE-*`) et les politiques. Le dépannage passe par les outils de Cilium
# (`cilium-dbg`, Hubble).

# %%
look("cilium")
iptables = node_file("cilium", "kind-worker", "iptables")
chains = [line for line in iptables.splitlines() if line.startswith(":")]
print(tr("KUBE-* chains:", "chaînes KUBE-* :"), sum(1 for c in chains if c.startswith(":KUBE-")),
      tr("/ CILIUM_* chains:", "/ chaînes CILIUM_* :"), sum(1 for c in chains if c.startswith(":CILIUM_")))

# %% [markdown] en
# **kube-router**: a `kube-bridge` bridge, routes to other nodes learnt by BGP, and Services in
# **IPVS**: every ClusterIP is an address of the `kube-dummy-if` device, and the kernel's IPVS
# load balancer holds one virtual server per Service, with its real servers (the pods).
# **Weave** (for history): a `weave` bridge over the whole cluster's range, and a VXLAN mesh.
# %% [markdown] fr
# **kube-router** : un pont `kube-bridge`, des routes vers les autres nœuds apprises par BGP, et
# des Services en **IPVS** : chaque ClusterIP est une adresse de l'interface `kube-dummy-if`, et
# le répartiteur IPVS du noyau tient un serveur virtuel par Service, avec ses serveurs réels (les
# pods). **Weave** (pour l'histoire) : un pont `weave` sur toute la plage du cluster, et un
# maillage VXLAN.

# %%
look("kube-router", draw=False)
print("# ipvsadm -Ln")
print(node_file("kube-router", "kind-worker", "ipvsadm"))
look("weave", draw=False)

# %% [markdown] en
# ### Exercises 1 and 2: which stack is it?
#
# Two more recorded nodes, names hidden. From their interfaces, routes and firewall chains,
# recognise the stack **and its mode** (as in the table above: `calico ipip`, `flannel vxlan`...).
# Put your answers in `stack_1` and `stack_2`.
# %% [markdown] fr
# ### Exercices 1 et 2 : quelle pile est-ce ?
#
# Deux nœuds enregistrés de plus, noms cachés. D'après leurs interfaces, leurs routes et les
# chaînes de leur pare-feu, reconnaissez la pile **et son mode** (comme dans le tableau plus haut :
# `calico ipip`, `flannel vxlan`…). Mettez vos réponses dans `stack_1` et `stack_2`.

# %%
from labkit import exercises as ex
from labkit.exercises.observe import mystery_outputs
from labkit.inspect.cni import iptables_chains


def mystery(exercise):
    """A recorded node, without its name: interfaces, routes, and the chains its firewall holds."""
    out = mystery_outputs(exercise)
    print(f"# ? ({exercise}): ip -br link")
    for i in parse_addr(out["addr"]):
        print(f"  {i.name:18} {i.kind or '-':10} {' '.join(a.cidr for a in i.ipv4())}")
    print(f"# ? ({exercise}): ip route")
    for route in parse_routes(out["route"]):
        kind = "" if route.type == "unicast" else route.type + " "
        proto = f" proto {route.protocol}" if route.protocol not in (None, "kernel", "boot", "static") else ""
        print("  " + kind + route.describe() + proto)
    chains = sorted({c for _, c in iptables_chains(out["iptables"]) if not c.startswith("KUBE-")} - {
        "INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"})
    print(f"# ? ({exercise}): " + tr("iptables chains other than KUBE-*:", "chaînes iptables autres que KUBE-* :"),
          ", ".join(chains) or "-")


mystery("05.1")

# %%
stack_1 = None

# %% [markdown] en hint
# The host-side veth names give the project away (see the table: `veth`, `cali`, `lxc`...).
# %% [markdown] fr hint
# Le nom des veth côté hôte trahit le projet (voyez le tableau : `veth`, `cali`, `lxc`…).

# %% [markdown] en hint
# For the mode, read the `dev` of the routes to the other nodes' blocks: a tunnel device (which
# one?) or `eth0` straight to a node IP.
# %% [markdown] fr hint
# Pour le mode, lisez le `dev` des routes vers les blocs des autres nœuds : une interface tunnel
# (lequel ?) ou `eth0` droit vers une IP de nœud.

# %% solution 05.1
stack_1 = "calico vxlan"

# %%
ex.check("05.1", stack_1, cluster, variable="stack_1")

# %%
mystery("05.2")

# %%
stack_2 = None

# %% [markdown] en hint
# A `cni0` bridge and routes via node IPs: two candidates (`bridge` and one more). The firewall
# chains tell which.
# %% [markdown] fr hint
# Un pont `cni0` et des routes via les IP des nœuds : deux candidats (`bridge` et un autre). Les
# chaînes du pare-feu disent lequel.

# %% [markdown] en hint
# `FLANNEL-*` chains, and no tunnel device: flannel's backend that routes through the hosts.
# %% [markdown] fr hint
# Des chaînes `FLANNEL-*`, et pas d'interface tunnel : le backend de flannel qui route par les
# hôtes.

# %% solution 05.2
stack_2 = "flannel host-gw"

# %%
ex.check("05.2", stack_2, cluster, variable="stack_2")

# %% [markdown] en
# ## 3. And your lab?
#
# The same recognition, on the live nodes of your lab (kindnet, unless you started it with another
# `--cni`). Then a second, small lab with the **flannel** flavor (`labkit.companion("flannel")`, the lab
# `labkit up --cni flannel` makes, started by your lab's daemon without root, a few seconds): the same code recognises it from its real nodes, and we remove it.
# %% [markdown] fr
# ## 3. Et votre lab ?
#
# La même reconnaissance, sur les nœuds vivants de votre lab (kindnet, sauf si vous l'avez lancé
# avec un autre `--cni`). Puis un second petit lab, en variante **flannel** (`labkit.companion("flannel")`, le lab
# que fait `labkit up --cni flannel`, démarré par le démon de votre lab sans root, quelques secondes) : le même code le reconnaît d'après ses vrais nœuds, et on le
# supprime.

# %%
cluster.snapshot()
print(LAB, ":", cluster.recognition.describe(LANG))

# %%
second = labkit.companion("flannel", lab=LAB)     # 2 nodes, flannel flavor, started by your lab's daemon
LAB2 = second.lab
second_worker = second.node("worker")
print(second_worker.run(["ip", "-br", "link"]))
print(second_worker.run(["ip", "route"]))

# %% [markdown] en
# ### Exercise 3: and this live one?
#
# Before labkit names it: which stack and mode does the second lab run? Put it in `stack_3`.
# (`second_worker.run([...])` reads more of that node, for instance `["ip", "-d", "link", "show",
# "dev", "flannel.1"]`.)
# %% [markdown] fr
# ### Exercice 3 : et celui-ci, vivant ?
#
# Avant que labkit ne le nomme : quelle pile et quel mode le second lab fait-il tourner ? Mettez-les
# dans `stack_3`. (`second_worker.run([...])` en lit davantage sur ce nœud, par exemple
# `["ip", "-d", "link", "show", "dev", "flannel.1"]`.)

# %%
stack_3 = None

# %% [markdown] en hint
# One device on this node is neither a veth nor `eth0` nor a bridge: its name is the project's.
# %% [markdown] fr hint
# Une interface de ce nœud n'est ni une veth, ni `eth0`, ni un pont : son nom est celui du projet.

# %% [markdown] en hint
# `ip -d link show dev <that device>` prints its type on the second line: that is the mode.
# %% [markdown] fr hint
# `ip -d link show dev <cette interface>` affiche son type sur la deuxième ligne : c'est le mode.

# %% solution 05.3
stack_3 = "flannel vxlan"

# %%
ex.check("05.3", stack_3, second, variable="stack_3")

# %%
flannel_snapshot = second.snapshot()
print(LAB2, ":", second.recognition.describe(LANG))
second.close()
labkit.companion("flannel", lab=LAB, stop=True)
diagrams.pod_network(flannel_snapshot, lang=LANG)

# %% [markdown] en
# ### Compared live: kube-proxy, routes learned by BGP, or a BPF socket load balancer
#
# The same measurements on your lab and on two small labs: `labkit up --cni calico` (Calico's
# wiring, each node's routes announced by BIRD) and `labkit up --service-proxy ebpf`, where
# kube-proxy is replaced, as Cilium does, by BPF programs on `connect()`/`sendmsg()` that pick a
# backend from a map (`bpftool map dump`, or `labkit inspect socket-lb --node worker`). From a pod:
# TCP connection setup and throughput (same node, other node, a Service); how long a new Service
# takes to reach every node; what one node holds for 11 Services and which tool shows it; and one
# node's agent killed, live: kube-proxy or the socket LB's agent (what the kernel holds keeps
# serving, nothing new is programmed there until the agent is back), or BIRD (the other nodes
# withdraw that node's routes once the BGP graceful-restart time is over).
# Where the lab departs from Cilium: only ClusterIPs go through BPF. NodePorts stay with
# kube-proxy's nftables rules, which hold NodePorts and no ClusterIP: Cilium documents this split
# as a "kube-proxy hybrid mode" (`kubeProxyReplacement=false`, `socketLB.enabled=true`), where the
# real kube-proxy also keeps its ClusterIP rules (connections the socket LB translated never reach
# them). The host's `curl <ClusterIP>` is
# translated by the control plane's programs, as Cilium's socket LB does for a node's own
# processes, and goes straight to a pod. No session affinity, no Maglev. The figures come from
# one shared machine: compare the columns, not the absolute values.
#
# The cell takes from 20 s to a minute, depending on what else the machine is doing; a line says
# what it is measuring meanwhile. The two companion labs stay up, so running it again skips their
# start; `labkit.companion("calico", stop=True)` removes one.
# %% [markdown] fr
# ### Comparaison en direct : kube-proxy, routes apprises par BGP, ou un répartiteur BPF de sockets
#
# Les mêmes mesures sur votre lab et sur deux petits labs : `labkit up --cni calico` (le câblage
# de Calico, les routes de chaque nœud annoncées par BIRD) et `labkit up --service-proxy ebpf`, où
# kube-proxy est remplacé, comme le fait Cilium, par des programmes BPF sur
# `connect()`/`sendmsg()` qui choisissent un backend dans une table (`bpftool map dump`, ou
# `labkit inspect socket-lb --node worker`). Depuis un pod : établissement d'une connexion TCP et
# débit (même nœud, autre nœud, un Service) ; le temps qu'un nouveau Service met à être
# programmé sur chaque nœud ; ce qu'un nœud contient pour 11 Services et l'outil qui le montre ; et l'agent d'un
# nœud tué, en direct : kube-proxy ou l'agent du répartiteur (ce que le noyau contient continue
# de servir, rien de nouveau n'y est programmé avant le retour de l'agent), ou BIRD (les autres
# nœuds retirent les routes de ce nœud une fois écoulé le délai de redémarrage en douceur de BGP).
# Où le lab s'écarte de Cilium : seules les ClusterIP passent par BPF. Les NodePorts restent aux
# règles nftables de kube-proxy, qui contiennent les NodePorts et aucune ClusterIP : Cilium
# documente ce partage comme un « mode hybride » (`kubeProxyReplacement=false`,
# `socketLB.enabled=true`), où le vrai kube-proxy garde aussi ses règles de ClusterIP (les
# connexions traduites par le répartiteur n'y passent jamais). Le `curl <ClusterIP>` de l'hôte est
# traduit par les programmes du control plane, comme le répartiteur de Cilium le fait pour les
# processus d'un nœud, et va droit à un pod. Ni affinité de session, ni Maglev. Les chiffres viennent d'une seule machine partagée : comparez
# les colonnes, pas les valeurs absolues.
#
# La cellule prend de 20 s à une minute, selon ce que fait la machine par ailleurs ; une ligne dit
# ce qu'elle mesure pendant ce temps. Les deux labs compagnons restent en marche : la relancer
# saute leur démarrage ; `labkit.companion("calico", stop=True)` en supprime un.

# %%
from labkit import compare

# compare.measure(...) on your lab, then on two companion labs (2 nodes each, built by your lab's
# daemon, left running: a second run skips their start); a line says what is measured meanwhile
stacks = compare.run(LAB, ("calico", "ebpf"), LANG)
display(HTML(compare.table(stacks, LANG)))
compare.plot(stacks, LANG);

# %% [markdown] en
# ## 4. Starting each stack on kind
#
# With Docker and kind, `labkit kind up --cni <stack>` creates a kind cluster without its default
# CNI (`disableDefaultCNI: true`) and installs the stack from a pinned manifest or Helm chart; the
# notebooks then run against it unchanged. `labkit kind config` prints the cluster config it uses,
# and the install steps are plain commands:
# %% [markdown] fr
# ## 4. Lancer chaque pile sur kind
#
# Avec Docker et kind, `labkit kind up --cni <pile>` crée un cluster kind sans son CNI par défaut
# (`disableDefaultCNI: true`) et installe la pile depuis un manifeste ou un chart Helm aux versions
# figées ; les carnets tournent ensuite contre lui sans changement. `labkit kind config` affiche la
# configuration de cluster utilisée, et les étapes d'installation sont de simples commandes :

# %%
!{LABKIT} kind config --cni calico
!{LABKIT} kind versions

# %%
from labkit.kind import KindPlan, plan_steps

for cni, proxy_mode in [("calico", "iptables"), ("flannel", "iptables"), ("cilium", "none"),
                        ("kube-router", "none")]:
    print(f"# labkit kind up --cni {cni} --proxy-mode {proxy_mode}")
    for step in plan_steps(KindPlan(cni=cni, proxy_mode=proxy_mode)):
        command = " ".join(step.argv)
        print("  " + (command if len(command) < 150 else command[:147] + "..."))

# %% [markdown] en
# `--proxy-mode none` leaves kube-proxy out: Cilium and kube-router then take over the Services
# themselves (eBPF, IPVS). Weave Net is archived, so `labkit kind` does not offer it.
#
# ## 5. Does kube-proxy scale?
#
# "The default Kubernetes service proxy, kube-proxy, doesn't scale very well", says the chapter,
# "although this is improved considerably in recent versions". Two costs grow with the number of
# Services:
#
# - **per packet**: in iptables mode a new connection walks `KUBE-SERVICES` rule by rule, one rule
#   per Service port; in nftables mode (beta in Kubernetes 1.31, GA in 1.33) and in IPVS mode it is
#   one lookup in a map or hash table;
# - **per change**: the iptables mode loads its rules with `iptables-restore`, and the bigger the
#   tables, the slower each load; the nftables mode sends small transactions that touch only what
#   changed.
#
# `bench/kube_proxy_lab.py` measures the second cost in the lab: N Services with 2 endpoints each,
# programmed into one node's namespace as the lab's kube-proxy does on a sync, in each mode. On a
# 2-core VM, while other tests were running (run `sudo python3 bench/kube_proxy_lab.py` for yours):
#
# | Services × 2 endpoints | iptables | nftables |
# |---:|---:|---:|
# | 100 | 168 ms | 121 ms |
# | 1,000 | 503 ms | 453 ms |
# | 5,000 | 17.1 s | 10.1 s |
# | scale-up → new endpoint answering | 318 ms | 505 ms |
#
# These figures are those of full rewrites. The lab's kube-proxy now syncs as upstream does: one
# full sync, then partial syncs that write only the chains and map elements that changed
# (`labkit bench kube-proxy` below measures both). The shape holds: at a few thousand Services, a
# full iptables sync takes seconds.
# %% [markdown] fr
# `--proxy-mode none` laisse kube-proxy de côté : Cilium et kube-router prennent alors eux-mêmes en
# charge les Services (eBPF, IPVS). Weave Net est archivé, `labkit kind` ne le propose donc pas.
#
# ## 5. kube-proxy passe-t-il à l'échelle ?
#
# « Le proxy de services par défaut, kube-proxy, ne passe pas très bien à l'échelle », dit le
# chapitre, « même si les versions récentes ont beaucoup progressé ». Deux coûts grandissent avec le
# nombre de Services :
#
# - **par paquet** : en mode iptables, une nouvelle connexion parcourt `KUBE-SERVICES` règle après
#   règle, une règle par port de Service ; en mode nftables (bêta dans Kubernetes 1.31, GA en 1.33)
#   et en mode IPVS, c'est une seule recherche dans une map ou une table de hachage ;
# - **par changement** : le mode iptables charge ses règles avec `iptables-restore`, et plus les
#   tables sont grosses, plus chaque chargement est lent ; le mode nftables envoie de petites
#   transactions qui ne touchent que ce qui a changé.
#
# `bench/kube_proxy_lab.py` mesure le second coût dans le lab : N Services à 2 endpoints chacun,
# programmés dans l'espace de noms d'un nœud comme le fait le kube-proxy du lab à chaque
# synchronisation, dans chaque mode. Sur une VM à 2 cœurs, pendant que d'autres tests tournaient
# (lancez `sudo python3 bench/kube_proxy_lab.py` pour avoir les vôtres) :
#
# | Services × 2 endpoints | iptables | nftables |
# |---:|---:|---:|
# | 100 | 168 ms | 121 ms |
# | 1 000 | 503 ms | 453 ms |
# | 5 000 | 17,1 s | 10,1 s |
# | un réplica de plus → nouvel endpoint qui répond | 318 ms | 505 ms |
#
# Ces chiffres sont ceux de réécritures complètes. Le kube-proxy du lab se synchronise désormais
# comme celui d'upstream : une synchronisation complète, puis des synchronisations partielles qui
# n'écrivent que les chaînes et les éléments de maps qui ont changé (`labkit bench kube-proxy`
# ci-dessous mesure les deux). L'allure reste la même : à quelques milliers de Services, une
# synchronisation iptables complète prend des secondes.

# %% [markdown] en
# ### A small live measurement
#
# On your lab: one Deployment with 2 pods, then **100 Services** in front of it at once. How many
# rules did each node gain, and how long until the last Service's rules were on a worker? (A few
# seconds: the lab's kube-proxy syncs again and again, debounced, while the Services arrive.)
# %% [markdown] fr
# ### Une petite mesure en direct
#
# Sur votre lab : un Deployment de 2 pods, puis **100 Services** devant lui d'un coup. Combien de
# règles chaque nœud a-t-il gagnées, et combien de temps avant que les règles du dernier Service
# soient sur un worker ? (Quelques secondes : le kube-proxy du lab se synchronise encore et encore,
# avec un délai de regroupement, pendant que les Services arrivent.)

# %%
!kubectl delete namespace nb05 --ignore-not-found --wait=true
!kubectl create namespace nb05
!kubectl -n nb05 create deployment web --image=jpetazzo/color --replicas=2
!kubectl -n nb05 rollout status deployment web --timeout=60s
worker = cluster.node("worker")


def node_rules():
    if PROXY_MODE == "nftables":
        return worker.run(["nft", "list", "table", "ip", "kube-proxy"])
    return worker.run(["iptables-save", "-t", "nat"])


def programmed(count):
    """How many of the svc-N Services of nb05 have rules on the worker node."""
    text = node_rules()
    return sum(1 for i in range(count) if f"nb05/svc-{i}" in text)

# %%
N = 100
services = {"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i}", "namespace": "nb05"},
     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}} for i in range(N)]}
before = len(node_rules().splitlines())
start = time.monotonic()
!echo '{json.dumps(services)}' | kubectl apply -f - | tail -n 2
while programmed(N) < N and time.monotonic() - start < 60:
    time.sleep(0.2)
elapsed = time.monotonic() - start
after = len(node_rules().splitlines())
per_service = (after - before) / N


def num(x):
    """One decimal, written the notebook's way (0.1 in English, 0,1 in French)."""
    return f"{x:.1f}".replace(".", ",") if LANG == "fr" else f"{x:.1f}"


def count(n):
    """A whole number, written the notebook's way (1,100 in English, 1 100 in French)."""
    return f"{n:,}".replace(",", "\u202f" if LANG == "fr" else ",")


print(tr(f"{PROXY_MODE}: {programmed(N)}/{N} Services programmed on {worker.name} in {num(elapsed)} s; "
         f"{count(after - before)} more lines of rules ({num(per_service)} per Service)",
         f"{PROXY_MODE} : {programmed(N)}/{N} Services programmés sur {worker.name} en {num(elapsed)} s ; "
         f"{count(after - before)} lignes de règles en plus ({num(per_service)} par Service)"))

# %% [markdown] en
# ### The curve, measured: `labkit bench kube-proxy`
#
# `sudo labkit bench kube-proxy --services 1000,5000,10000,30000 --plot kp.png` programs N Services
# (2 endpoints each) into a network namespace of its own with the lab's kube-proxy code, in each
# mode: a **full sync**, then a **one-service change** (a partial sync), and it times new TCP
# connections to the **first** and the **last** Service, whose first packet goes through the rules.
# Below: a small run (100, 1,000, 3,000 Services) if this kernel runs as root, else the figures
# recorded on a 2-core VM up to 30,000 Services.
#
# The left plot is **CPU time**, not wall time: the work of the lab, of `nft` or `iptables-restore`
# and of the kernel for them, the best of 3 runs. On a shared machine the wall time follows the
# neighbours (the iptables full sync of 5,000 Services took 4.8 s one day and 12.7 s on a busier
# one); its CPU time does not (3.2 s). The iptables full sync of 30,000 Services was run once
# (35 s of CPU, 69 s on the clock; an older recording said 298 s). Little of a full sync is the
# lab's code: at 10,000 Services the nftables one costs 2.0 s of CPU, of which `nft` 1.0.6 spends 1.0–1.2 s
# parsing the rules and the kernel 0.8 s loading and checking them (`bench/kube_proxy_floor.py`),
# the iptables one 7.0 s, all but 0.2 s in `iptables-restore` and the kernel. The lab renders the
# rules before that, in Python: about 1.8 s for the first node at 10,000 Services and 0.4 s for
# each other node, which shares what is the same everywhere (`bench/kube_proxy_full_render.py`).
#
# Look at the middle plot: in iptables mode, reaching the last Service costs more as Services are
# added (`KUBE-SERVICES` is read rule by rule), in nftables mode it stays flat (one verdict-map
# lookup). A one-service change rewrites only that Service's chains and map elements in both modes.
# Where the lab departs from upstream, on purpose: in each Service chain upstream picks an endpoint
# with one `numgen random mod N vmap { … }` rule, whose `{ … }` is an anonymous map; the kernel names
# every new anonymous map by scanning all the maps of the table, so loading 10,000 Services took
# 107 s in one `nft -f` (2.6 s without those maps, on a 2-core VM). The lab writes the same draw
# as a cascade (`numgen random mod 2 0 goto endpoint-…`, then `goto endpoint-…`), as the iptables mode does with `--probability`: same chains, same names, same
# maps, linear load. Its iptables partial sync also leaves out `KUBE-SERVICES` when it did not change
# (upstream rewrites it every time), and it sends its nftables partial syncs as netlink messages:
# upstream's `nft -f` first reads every chain into its cache (about 150 ms at 10,000 Services).
# Like upstream's change trackers, the lab's kube-proxy reads and renders only the Services that
# changed (about 1 ms of Python at 10,000 Services). What stays O(Services) in a change is the
# kernel's own check: it walks the whole table from its base chains whenever a rule or a
# verdict-map element with a jump is added, whatever the change. At 10,000 Services on a 2-core VM
# that check is most of a one-Service change: 43 ms of CPU in the table above (best of 3 runs),
# 50–57 ms in `bench/kube_proxy_floor.py`; upstream pays the same check. Linux 6.18 cannot
# check only the chains a change touches (proposed by the netfilter maintainers in 2025).
# %% [markdown] fr
# ### La courbe, mesurée : `labkit bench kube-proxy`
#
# `sudo labkit bench kube-proxy --services 1000,5000,10000,30000 --plot kp.png` programme N
# Services (2 endpoints chacun) dans un espace de noms réseau dédié avec le code du kube-proxy du
# lab, dans chaque mode : une **synchronisation complète**, puis la **modification d'un Service**
# (une synchronisation partielle), et chronomètre de nouvelles connexions TCP vers le **premier** et
# le **dernier** Service, dont le premier paquet traverse les règles. Ci-dessous : une petite mesure
# (100, 1 000, 3 000 Services) si ce noyau tourne en root, sinon les chiffres enregistrés sur une
# VM à 2 cœurs jusqu'à 30 000 Services.
#
# Le graphique de gauche montre le **temps CPU**, pas le temps réel : le travail du lab, de `nft`
# ou d'`iptables-restore` et du noyau pour eux, le meilleur de 3 essais. Sur une machine partagée,
# le temps réel suit les voisins (la synchronisation complète iptables de 5 000 Services a pris
# 4,8 s un jour et 12,7 s un jour plus chargé) ; son temps CPU, non (3,2 s). La synchronisation
# complète iptables de 30 000 Services n'a été lancée qu'une fois (35 s de CPU, 69 s à l'horloge ;
# un enregistrement plus ancien disait 298 s). Le code du lab pèse peu dans une synchronisation
# complète : à 10 000
# Services, celle de nftables coûte 2,0 s de CPU, dont 1,0 à 1,2 s pour `nft` 1.0.6 qui analyse les
# règles et 0,8 s pour le noyau qui les charge et les vérifie (`bench/kube_proxy_floor.py`) ; celle
# d'iptables 7,0 s, dont tout sauf 0,2 s dans `iptables-restore` et le noyau. Le lab écrit les
# règles avant cela, en Python : environ 1,8 s pour le premier nœud à 10 000 Services et 0,4 s pour
# chacun des autres, qui partagent ce qui est identique partout (`bench/kube_proxy_full_render.py`).
#
# Regardez le graphique du milieu : en mode iptables, joindre le dernier Service coûte plus cher à
# mesure que les Services s'ajoutent (`KUBE-SERVICES` est lu règle après règle) ; en mode nftables,
# la courbe reste plate (une seule recherche dans une map de verdicts). Modifier un Service ne
# réécrit que ses chaînes et ses éléments de maps, dans les deux modes. Là où le lab s'écarte
# d'upstream, exprès : dans chaque chaîne de Service, upstream choisit un endpoint avec une règle
# `numgen random mod N vmap { … }`, dont le `{ … }` est une map anonyme ; le noyau nomme chaque
# nouvelle map anonyme en parcourant toutes les maps de la table, si bien que charger 10 000
# Services prenait 107 s en un seul `nft -f` (2,6 s sans ces maps, sur une VM à 2 cœurs). Le lab
# écrit le même tirage en cascade (`numgen random mod 2 0 goto endpoint-…`, puis
# `goto endpoint-…`), comme le mode iptables avec `--probability` : mêmes chaînes, mêmes noms,
# mêmes maps, chargement linéaire. Sa synchronisation partielle iptables omet aussi
# `KUBE-SERVICES` quand elle n'a pas changé (upstream la réécrit à chaque fois), et il envoie ses
# synchronisations partielles nftables en messages netlink : le `nft -f` d'upstream relit d'abord
# toutes les chaînes dans son cache (environ 150 ms à 10 000 Services). Ce qui reste en O(Services)
# lors d'une modification, c'est la vérification du noyau : il parcourt toute la table depuis ses
# chaînes de base dès qu'une règle ou un élément de map de verdicts avec un saut est ajouté, quelle
# que soit la modification. Comme les *change trackers* d'upstream, le kube-proxy du lab ne relit
# et ne réécrit que les Services modifiés (environ 1 ms de Python à 10 000 Services). À 10 000
# Services sur une VM à 2 cœurs, cette vérification fait l'essentiel de la modification d'un
# Service : 43 ms de CPU dans le tableau ci-dessus (le meilleur de 3 essais), 50 à 57 ms dans
# `bench/kube_proxy_floor.py` ; upstream paie la même vérification. Linux 6.18 ne sait pas vérifier seulement les chaînes
# touchées (les mainteneurs de netfilter l'ont proposé en 2025).

# %%
from IPython.display import Image

from labkit.bench.kube_proxy_model import format_table, load_results
from labkit.bench.kube_proxy_plot import png

if os.geteuid() == 0:
    from labkit.bench.kube_proxy_run import run as run_bench
    bench = run_bench(["iptables", "nftables"], [100, 1000, 3000], samples=100)
else:
    bench = load_results(Path(labkit.__file__).resolve().parents[1] / "bench" / "results" / "kube_proxy.json")
print(format_table(bench))
display(Image(png(bench)))

# %% [markdown] en
# ## Recap
#
# - The network model is the same everywhere (flat, no NAT); the implementations differ a lot:
#   routes or tunnels, bridges or /32s, iptables, IPVS or eBPF.
# - A node's interfaces, routes and firewall chains tell which stack runs.
# - kube-proxy's cost grows with the number of Services, far less in its nftables mode.
# %% [markdown] fr
# ## Récapitulatif
#
# - Le modèle réseau est le même partout (plat, sans NAT) ; les mises en œuvre diffèrent beaucoup :
#   routes ou tunnels, ponts ou /32, iptables, IPVS ou eBPF.
# - Les interfaces, les routes et les chaînes du pare-feu d'un nœud disent quelle pile tourne.
# - Le coût de kube-proxy grandit avec le nombre de Services, bien moins en mode nftables.

# %% [markdown] en
# ## Your progress
#
# The exercises you solved, in every notebook: a check that passes records its exercise in
# `~/.local/share/kubenet-lab/progress.json`, so this survives a kernel restart.
# %% [markdown] fr
# ## Votre progression
#
# Les exercices que vous avez résolus, dans tous les carnets : une vérification réussie enregistre
# son exercice dans `~/.local/share/kubenet-lab/progress.json`, qui survit au redémarrage du noyau.

# %%
labkit.progress()

# %% [markdown] en
# ## Cleaning up
#
# The namespace goes, and so do the two companion labs of the comparison.
# %% [markdown] fr
# ## Ménage
#
# Le namespace est supprimé, ainsi que les deux labs compagnons de la comparaison.

# %%
!kubectl delete namespace nb05 --wait=true
for preset in ("calico", "ebpf"):              # the comparison's companion labs (a lab runs 3 at most)
    labkit.companion(preset, lab=LAB, stop=True)
cluster.close()
