# %% [markdown] en
# # 2. Pod to pod: inside the nodes
#
# Notebook 01 showed *that* pods reach each other without NAT. This one opens the nodes to see
# *how*: the interfaces and routes the CNI plugins create, the path of a packet on one node and
# between nodes, and three ways of wiring the same model (three CNI flavors).
#
# Your lab runs the default flavor, **kindnet** (what kind installs): the reference `ptp` plugin
# gives each pod a veth pair, `host-local` gives it an address from the node's pod CIDR, and each
# node routes the other nodes' pod CIDRs via their node IPs: *one subnet per node, a simple routed
# topology*.
# %% [markdown] fr
# # 2. De pod à pod : à l'intérieur des nœuds
#
# Le carnet 01 a montré *que* les pods se joignent sans NAT. Celui-ci ouvre les nœuds pour voir
# *comment* : les interfaces et les routes que créent les plugins CNI, le chemin d'un paquet sur un
# nœud et entre deux nœuds, et trois façons de câbler le même modèle (trois variantes de CNI).
#
# Votre lab tourne avec la variante par défaut, **kindnet** (celle qu'installe kind) : le plugin de
# référence `ptp` donne à chaque pod une paire de veth, `host-local` lui attribue une adresse dans le
# CIDR de pods du nœud, et chaque nœud route les CIDR de pods des autres nœuds via leurs IP de nœud :
# *un sous-réseau par nœud, une topologie simplement routée*.

# %% [markdown] en
# ## Setup
#
# Connect, start from an empty namespace `nb02`, name the workers.
# %% [markdown] fr
# ## Mise en place
#
# Connexion, namespace `nb02` vide, noms des workers.

# %%
import json
import os
import sys

import labkit.live
from IPython.display import display
from kubernetes import client
from labkit import diagrams, nodes
from labkit.embedded.paths import kubeconfig_file
from labkit.exercises import pods
from labkit.trace import trace

LAB = os.environ.get("LABKIT_LAB", "kubenet")                       # the embedded lab `make lab` started
os.environ.setdefault("KUBECONFIG", str(kubeconfig_file(LAB)))      # kubectl and labkit: the same cluster
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]  # `!labkit` too
cluster = labkit.connect()
core = client.CoreV1Api(cluster.api)

!kubectl delete namespace nb02 --ignore-not-found --wait
!kubectl create namespace nb02

WORKER, WORKER2 = [n for n in cluster.node_names() if "control-plane" not in n][:2]
ON_WORKER = json.dumps({"spec": {"nodeName": WORKER}})             # for kubectl run --overrides
ON_WORKER2 = json.dumps({"spec": {"nodeName": WORKER2}})
print("workers:", WORKER, WORKER2)

# %% [markdown] en
# ## The pod network, live
#
# Keep this diagram in sight: each pod appears with its veth on its node, as soon as it is created.
# %% [markdown] fr
# ## Le réseau de pods, en direct
#
# Gardez ce schéma sous les yeux : chaque pod y apparaît avec sa veth sur son nœud, dès sa création.

# %%
view = labkit.live.show("pods", cluster)
view

# %% [markdown] en
# Three pods: `a1` and `a2` on `WORKER`, `b1` on `WORKER2`.
# %% [markdown] fr
# Trois pods : `a1` et `a2` sur `WORKER`, `b1` sur `WORKER2`.

# %%
!kubectl -n nb02 run a1 --image=jpetazzo/color --overrides='{ON_WORKER}'
!kubectl -n nb02 run a2 --image=jpetazzo/color --overrides='{ON_WORKER}'
!kubectl -n nb02 run b1 --image=jpetazzo/color --overrides='{ON_WORKER2}'
!kubectl -n nb02 wait --for=condition=Ready pod --all --timeout=60s
!kubectl -n nb02 get pods -o wide
B1_IP = core.read_namespaced_pod("b1", "nb02").status.pod_ip

# %% [markdown] en
# ## A node's interfaces
#
# `cluster.node(...)` runs read-only commands on a node (a network namespace here; `docker exec` on
# kind). `eth0` is the node on the node network. Then comes **one veth per pod**, and look at their
# addresses: **they all carry the same one**, the first address of the node's pod CIDR, as a `/32`.
# %% [markdown] fr
# ## Les interfaces d'un nœud
#
# `cluster.node(...)` lance des commandes en lecture seule sur un nœud (ici un espace de noms réseau ;
# `docker exec` sur kind). `eth0`, c'est le nœud sur le réseau des nœuds. Viennent ensuite **une veth
# par pod** ; regardez leurs adresses : **elles portent toutes la même**, la première adresse du CIDR
# de pods du nœud, en `/32`.

# %%
node = cluster.node(WORKER)
pods.interfaces_table(node)

# %% [markdown] en
# ## A node's routes
#
# One `/32` route per local pod, straight into its veth (`scope host`), and one `/24` per other
# node, *via* that node's IP on the node network. That is all the "pod network" is on kindnet.
# The same with the real command:
# %% [markdown] fr
# ## Les routes d'un nœud
#
# Une route `/32` par pod local, directement dans sa veth (`scope host`), et un `/24` par autre nœud,
# *via* l'IP de ce nœud sur le réseau des nœuds. Avec kindnet, le « réseau de pods » se résume à ça.
# La même chose avec la vraie commande :

# %%
display(pods.routes_table(node))
print(node.run(["ip", "route"]))

# %% [markdown] en
# ## A pod's side, and the ptp trick
#
# In the pod, `eth0@ifN` is one end of the veth pair: `N` is the index of the other end, on the
# node. The pod's default route goes via the `.1` gateway, and a route says `.1` is directly on the
# link. That `.1` is the address on the host veth: the pod asks (ARP) who has `.1`, the veth answers,
# and the node routes the packet with its `/32` routes. No bridge, no shared segment: each pod has
# its own point-to-point link (hence *ptp*), and the gateway address can be reused on every veth.
# %% [markdown] fr
# ## Côté pod, et l'astuce de ptp
#
# Dans le pod, `eth0@ifN` est un bout de la paire de veth : `N` est l'index de l'autre bout, sur le
# nœud. La route par défaut du pod passe par la passerelle `.1`, et une route dit que `.1` est
# directement sur le lien. Ce `.1`, c'est l'adresse de la veth côté hôte : le pod demande (ARP) qui
# a `.1`, la veth répond, et le nœud route le paquet grâce à ses routes `/32`. Pas de bridge, pas de
# segment partagé : chaque pod a son propre lien point à point (d'où *ptp*), et l'adresse de la
# passerelle peut être la même sur toutes les veth.

# %%
!kubectl -n nb02 exec a1 -- ip addr show eth0
!kubectl -n nb02 exec a1 -- ip route
pods.interfaces_table(pods.pod_access(cluster, "nb02/a1"))

# %% [markdown] en
# ## Exercise 4: the host side of a pod
#
# Find the name of the **host-side veth** of pod `a1` on its node, and put it in `veth` (a string
# such as `"veth1a2b3c4d"`). Hint: `eth0@ifN` in the pod; interface number `N` on the node
# (`node.run(["ip", "-o", "link"])` or the table above).
# %% [markdown] fr
# ## Exercice 4 : le côté hôte d'un pod
#
# Trouvez le nom de la **veth côté hôte** du pod `a1` sur son nœud, et mettez-le dans `veth` (une
# chaîne comme `"veth1a2b3c4d"`). Indice : `eth0@ifN` dans le pod ; l'interface numéro `N` sur le
# nœud (`node.run(["ip", "-o", "link"])` ou le tableau plus haut).

# %%
veth = None

# %% solution
line = !kubectl -n nb02 exec a1 -- ip -o link show eth0
index = int(line[0].split("@if")[1].split(":")[0])           # "2: eth0@if7: <BROADCAST,..."
veth = next(i.name for i in nodes.interfaces(node) if i.index == index)
veth

# %%
pods.check_host_veth(veth, "a1", "nb02", cluster)

# %% [markdown] en
# ## The path on one node
#
# `labkit.trace` follows the first packet of a connection through the routes of a **snapshot** of
# the cluster (nothing is sent), and draws the path on the pod-network diagram. From `a1` to `a2`,
# both on `WORKER`: out of `a1` by its veth, one `/32` route, into `a2`'s veth. The packet never
# leaves the node.
# %% [markdown] fr
# ## Le chemin sur un seul nœud
#
# `labkit.trace` suit le premier paquet d'une connexion à travers les routes d'un **instantané** du
# cluster (rien n'est envoyé), et dessine le chemin sur le schéma du réseau de pods. De `a1` à `a2`,
# tous deux sur `WORKER` : sortie de `a1` par sa veth, une route `/32`, entrée dans la veth de `a2`.
# Le paquet ne quitte jamais le nœud.

# %%
snapshot = cluster.snapshot()
same_node = trace(snapshot, "nb02/a1", "nb02/a2")
display(same_node)
same_node.draw()

# %% [markdown] en
# ## The path between nodes
#
# From `a1` to `b1`, on `WORKER2`: the node's `/24` route sends the packet, unchanged, to the other
# node's IP; there, the `/32` route delivers it. Source and destination stay pod IPs all the way.
# %% [markdown] fr
# ## Le chemin entre deux nœuds
#
# De `a1` à `b1`, sur `WORKER2` : la route `/24` du nœud envoie le paquet, tel quel, à l'IP de
# l'autre nœud ; là-bas, la route `/32` le livre. Source et destination restent des IP de pods
# tout du long.

# %%
cross_node = trace(snapshot, "nb02/a1", "nb02/b1")
display(cross_node)
cross_node.draw()

# %% [markdown] en
# ## Exercise 5: the route between nodes
#
# Which route does `WORKER` use to reach `b1`? Put it in `route` as `ip route` prints it (for
# instance `"10.244.2.0/24 via 172.18.0.4 dev eth0"`); the output of `ip route get <IP of b1>` is
# accepted too.
# %% [markdown] fr
# ## Exercice 5 : la route entre les nœuds
#
# Quelle route `WORKER` utilise-t-il pour joindre `b1` ? Mettez-la dans `route`, telle que
# `ip route` l'affiche (par exemple `"10.244.2.0/24 via 172.18.0.4 dev eth0"`) ; la sortie de
# `ip route get <IP de b1>` est acceptée aussi.

# %%
route = None

# %% solution
route = node.run(["ip", "route", "get", B1_IP]).splitlines()[0]   # the kernel's own choice
route

# %%
pods.check_node_route(route, WORKER, "b1", "nb02", cluster)

# %% [markdown] en
# ## Three CNI flavors side by side
#
# Same model, different wiring. We start two small extra labs of 2 nodes each, one with the
# `bridge` flavor and one with `flannel` (a few seconds each; they get their own networks and are
# removed at the end of the notebook), and put a pod on each node.
# %% [markdown] fr
# ## Trois variantes de CNI côte à côte
#
# Même modèle, câblage différent. On démarre deux petits labs en plus, de 2 nœuds chacun, l'un en
# variante `bridge`, l'autre en `flannel` (quelques secondes chacun ; ils ont leurs propres réseaux
# et sont supprimés à la fin du carnet), et on met un pod sur chaque nœud.

# %%
BRIDGE, FLANNEL = f"{LAB[:8]}br", f"{LAB[:8]}fl"
!labkit up --name {BRIDGE} --cni bridge --nodes 2
!labkit up --name {FLANNEL} --cni flannel --nodes 2
bridge, flannel = labkit.connect(lab=BRIDGE), labkit.connect(lab=FLANNEL)

for other in (bridge, flannel):
    config = kubeconfig_file(other.lab)
    for pod, where in (("x", "control-plane"), ("y", "worker")):
        place = json.dumps({"spec": {"nodeName": f"{other.lab}-{where}"}})
        !kubectl --kubeconfig {config} run {pod} --image=jpetazzo/color --overrides='{place}'
    !kubectl --kubeconfig {config} wait --for=condition=Ready pod --all --timeout=60s

# %% [markdown] en
# ### bridge: one bridge per node
#
# The `bridge` plugin plugs every pod's veth into **`cni0`**, a Linux bridge that holds the gateway
# `.1/24`. The host veths have no address any more (they are bridge ports: `master cni0`), and one
# `/24 dev cni0` route replaces the per-pod `/32` routes. Between nodes: routed, as with kindnet.
# %% [markdown] fr
# ### bridge : un bridge par nœud
#
# Le plugin `bridge` branche la veth de chaque pod sur **`cni0`**, un bridge Linux qui porte la
# passerelle `.1/24`. Les veth côté hôte n'ont plus d'adresse (ce sont des ports du bridge :
# `master cni0`), et une seule route `/24 dev cni0` remplace les routes `/32` par pod. Entre les
# nœuds : du routage, comme avec kindnet.

# %%
display(pods.interfaces_table(bridge.node("worker")))
display(pods.routes_table(bridge.node("worker")))

# %% [markdown] en
# ## Exercise 6: predict the tunnel
#
# flannel's default backend does not route pod CIDRs via node IPs: it wraps pod packets in UDP
# (VXLAN) between nodes. Before looking: on the `flannel` lab's nodes, **which device does a packet
# for another node's pod enter first?** Put its name in `device`. (You may peek with
# `flannel.node("worker").run(["ip", "route"])`.)
# %% [markdown] fr
# ## Exercice 6 : prédire le tunnel
#
# Le backend par défaut de flannel ne route pas les CIDR de pods via les IP des nœuds : il emballe
# les paquets des pods dans de l'UDP (VXLAN) entre les nœuds. Avant de regarder : sur les nœuds du
# lab `flannel`, **dans quel périphérique entre d'abord un paquet destiné à un pod d'un autre
# nœud ?** Mettez son nom dans `device`. (Vous pouvez jeter un œil avec
# `flannel.node("worker").run(["ip", "route"])`.)

# %%
device = None

# %% solution
device = "flannel.1"      # the VXLAN device; eth0 only carries the packet once it is wrapped in UDP

# %%
pods.check_tunnel_device(device, flannel)

# %% [markdown] en
# ### flannel: a bridge, and a VXLAN overlay
#
# Locally, pods hang on `cni0` as with `bridge` (MTU 1450, to leave room for the VXLAN header). Between
# nodes, the route for each other node's `/24` goes **via `10.x.N.0` dev `flannel.1` onlink**: that
# address is the remote `flannel.1` itself, declared reachable on the link (`onlink`) even though no
# local subnet contains it. Two static tables, written by flanneld on a real cluster, finish the job:
# the ARP entry gives the MAC of that remote VTEP, the **FDB** says behind which node IP that MAC
# lives. The packet leaves as UDP on port 8472 from node IP to node IP.
# %% [markdown] fr
# ### flannel : un bridge, et un réseau superposé VXLAN
#
# En local, les pods sont branchés sur `cni0` comme avec `bridge` (MTU 1450, pour laisser la place à
# l'en-tête VXLAN). Entre les nœuds, la route vers le `/24` de chaque autre nœud passe **via
# `10.x.N.0` dev `flannel.1` onlink** : cette adresse est le `flannel.1` distant lui-même, déclaré
# joignable sur le lien (`onlink`) alors qu'aucun sous-réseau local ne le contient. Deux tables
# statiques, écrites par flanneld sur un vrai cluster, font le reste : l'entrée ARP donne l'adresse
# MAC de ce VTEP distant, la **FDB** dit derrière quelle IP de nœud vit cette MAC. Le paquet part en
# UDP sur le port 8472, d'IP de nœud à IP de nœud.

# %%
fnode = flannel.node("worker")
display(pods.interfaces_table(fnode))
display(pods.routes_table(fnode))
print("ip neigh show dev flannel.1:\n" + fnode.run(["ip", "neigh", "show", "dev", "flannel.1"]))
print("bridge fdb show dev flannel.1:\n" + fnode.run(["bridge", "fdb", "show", "dev", "flannel.1"]))

# %% [markdown] en
# The path from `y` (worker) to `x` (control plane) on flannel: into `flannel.1`, VXLAN to the
# remote VTEP, out of the remote `flannel.1`, then `cni0` and the pod's veth.
# %% [markdown] fr
# Le chemin de `y` (worker) à `x` (control plane) avec flannel : entrée dans `flannel.1`, VXLAN vers
# le VTEP distant, sortie par le `flannel.1` distant, puis `cni0` et la veth du pod.

# %%
overlay = trace(flannel.snapshot(), "default/y", "default/x")
display(overlay)
overlay.draw()

# %% [markdown] en
# ### The three drawings
#
# kindnet (your lab), bridge, flannel: the same pods-and-nodes picture, three wirings.
# %% [markdown] fr
# ### Les trois schémas
#
# kindnet (votre lab), bridge, flannel : la même image de pods et de nœuds, trois câblages.

# %%
for other in (cluster, bridge, flannel):
    display(diagrams.pod_network(other.snapshot()))

# %% [markdown] en
# ## What we saw
#
# | flavor | on a node | between nodes |
# |---|---|---|
# | kindnet (`ptp`) | a veth per pod, the gateway `.1/32` on each host veth, a `/32` route per pod | `/24 via <node IP>` |
# | `bridge` | veths plugged into `cni0`, the gateway `.1/24` on the bridge | `/24 via <node IP>` |
# | `flannel` | `cni0`, MTU 1450 | `/24 via 10.x.N.0 dev flannel.1 onlink`, ARP + FDB, UDP 8472 |
#
# Same pods, same addresses, same model: only the wiring changes. Next: `03-pod-to-service.ipynb`.
# %% [markdown] fr
# ## Ce qu'on a vu
#
# | variante | sur un nœud | entre les nœuds |
# |---|---|---|
# | kindnet (`ptp`) | une veth par pod, la passerelle `.1/32` sur chaque veth côté hôte, une route `/32` par pod | `/24 via <IP du nœud>` |
# | `bridge` | les veth branchées sur `cni0`, la passerelle `.1/24` sur le bridge | `/24 via <IP du nœud>` |
# | `flannel` | `cni0`, MTU 1450 | `/24 via 10.x.N.0 dev flannel.1 onlink`, ARP + FDB, UDP 8472 |
#
# Mêmes pods, mêmes adresses, même modèle : seul le câblage change. Suite : `03-pod-to-service.ipynb`.

# %% [markdown] en
# ## Clean up
#
# Stop the live diagram, remove the two extra labs and the namespace.
# %% [markdown] fr
# ## Ménage
#
# On arrête le schéma en direct, on supprime les deux labs en plus et le namespace.

# %%
view.stop()
!labkit down --name {BRIDGE}
!labkit down --name {FLANNEL}
!kubectl delete namespace nb02 --wait
