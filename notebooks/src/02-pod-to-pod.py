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
#
# **Goals** (about 30 minutes):
#
# 1. read a node's interfaces and routes, and a pod's side of its veth pair (exercise 4);
# 2. follow a packet on one node and between nodes, after predicting its way out (exercise 5);
# 3. break a node's route and repair it from what the schema shows (exercise 6);
# 4. compare three CNI flavors (kindnet, bridge, flannel) on two more labs, and predict the tunnel
#    (exercise 7).
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
#
# **Objectifs** (environ 30 minutes) :
#
# 1. lire les interfaces et les routes d'un nœud, et le côté pod de sa paire de veth (exercice 4) ;
# 2. suivre un paquet sur un nœud et entre deux nœuds, après avoir prédit par où il sort (exercice 5) ;
# 3. casser une route d'un nœud et la réparer d'après le schéma (exercice 6) ;
# 4. comparer trois variantes de CNI (kindnet, `bridge`, flannel) sur deux labs de plus, et prédire le
#    tunnel (exercice 7).

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
from labkit import exercises as ex
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it
from labkit.exercises import pods
from labkit.trace import trace

LAB = os.environ.get("LABKIT_LAB", "kubenet")                       # the embedded lab `make lab` started
os.environ.setdefault("KUBECONFIG", str(readable_kubeconfig(LAB)))      # kubectl and labkit: the same cluster
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]  # `!labkit` too
cluster = labkit.connect()
core = client.CoreV1Api(cluster.api)

!kubectl delete namespace nb02 --ignore-not-found --wait
!kubectl create namespace nb02

WORKER, WORKER2 = [n for n in cluster.node_names() if "control-plane" not in n][:2]
ON_WORKER = json.dumps({"spec": {"nodeName": WORKER}})             # for kubectl run --overrides
ON_WORKER2 = json.dumps({"spec": {"nodeName": WORKER2}})
print(tr("workers:", "workers :"), WORKER, WORKER2)

# %% [markdown] en
# ## The pod network, live
#
# Keep this diagram in sight: each pod appears with its veth on its node, as soon as it is created.
# Hover a pod, a device or a route for its details; click a pod, then another, to see the path of a
# connection between them.
# %% [markdown] fr
# ## Le réseau des pods, en direct
#
# Gardez ce schéma sous les yeux : chaque pod y apparaît avec sa veth sur son nœud, dès sa création.
# Survolez un pod, une interface ou une route pour ses détails ; cliquez un pod, puis un autre, pour
# voir le chemin d'une connexion entre eux.

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
# *via* l'IP de ce nœud sur le réseau des nœuds. Avec kindnet, le « réseau des pods » se résume à ça.
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
# a `.1`, la veth répond, et le nœud route le paquet grâce à ses routes `/32`. Pas de pont, pas de
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

# %% [markdown] en hint
# In the pod, `ip link show eth0` prints `eth0@ifN`: N is the index of the other end, on the node.
# %% [markdown] fr hint
# Dans le pod, `ip link show eth0` affiche `eth0@ifN` : N est l'index de l'autre bout, sur le nœud.

# %% [markdown] en hint
# `pods.interfaces_table(node)` lists the node's interfaces with their index: the one whose index is N.
# %% [markdown] fr hint
# `pods.interfaces_table(node)` liste les interfaces du nœud avec leur index : celle dont l'index vaut N.

# %% solution 02.4
line = !kubectl -n nb02 exec a1 -- ip -o link show eth0
index = int(line[0].split("@if")[1].split(":")[0])           # "2: eth0@if7: <BROADCAST,..."
veth = next(i.name for i in nodes.interfaces(node) if i.index == index)
veth

# %%
ex.check("02.4", veth, cluster, pod="nb02/a1", variable="veth")

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
# cluster (rien n'est envoyé), et dessine le chemin sur le schéma du réseau des pods. De `a1` à `a2`,
# tous deux sur `WORKER` : sortie de `a1` par sa veth, une route `/32`, entrée dans la veth de `a2`.
# Le paquet ne quitte jamais le nœud.

# %%
snapshot = cluster.snapshot()
same_node = trace(snapshot, "nb02/a1", "nb02/a2")
display(same_node)
same_node.draw()

# %% [markdown] en
# ## Exercise 5: predict the way out
#
# Before the trace below shows it: a packet from `a1` to `b1` (on `WORKER2`) is routed by
# `WORKER`. **By which device does it leave `WORKER`?** Put its name in `device_out`, then run the
# `ex.predict` cell: it records your prediction before the reveal. The routes table above is all you
# need.
# %% [markdown] fr
# ## Exercice 5 : prédire la sortie
#
# Avant que la trace ci-dessous ne le montre : un paquet de `a1` vers `b1` (sur `WORKER2`) est
# routé par `WORKER`. **Par quelle interface quitte-t-il `WORKER` ?** Mettez son nom dans
# `device_out`, puis exécutez la cellule `ex.predict` : elle enregistre votre prédiction avant la
# révélation. Le tableau des routes plus haut suffit.

# %%
device_out = None

# %% [markdown] en hint
# `B1_IP` holds the IP of `b1`. Of the routes of `WORKER`, which ones contain it?
# %% [markdown] fr hint
# `B1_IP` contient l'IP de `b1`. Parmi les routes de `WORKER`, lesquelles la contiennent ?

# %% [markdown] en hint
# The longest prefix that contains `B1_IP` wins (a `/24` beats the default route); read its `dev`.
# %% [markdown] fr hint
# Le plus long préfixe qui contient `B1_IP` l'emporte (un `/24` bat la route par défaut) ; lisez son `dev`.

# %% solution 02.5
import ipaddress

routes = json.loads(node.run(["ip", "-j", "route"]))          # the node's routes, as `ip -j route` prints them
containing = [r for r in routes
              if r["dst"] != "default" and ipaddress.ip_address(B1_IP) in ipaddress.ip_network(r["dst"])]
device_out = max(containing, key=lambda r: ipaddress.ip_network(r["dst"]).prefixlen)["dev"]   # longest prefix wins

# %%
ex.predict("02.5", device_out, "device_out")

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

# %%
ex.check("02.5", cluster=cluster, node=WORKER, pod="nb02/b1")

# %% [markdown] en
# ## Exercise 6: break and fix
#
# Now we break the lab: we delete `WORKER`'s route to the pod CIDR of `WORKER2` (and, so that no
# packet for a lab address follows the node's default route out of the lab, we mark that CIDR
# `unreachable` on `WORKER`). `a1` no longer reaches `b1`: the routes table of `WORKER` shows why, and
# the diagram draws that route broken (red, dashed) where the working route was.
# %% [markdown] fr
# ## Exercice 6 : casser et réparer
#
# On casse maintenant le lab : on supprime la route de `WORKER` vers le CIDR de pods de `WORKER2`
# (et, pour qu'aucun paquet destiné à une adresse du lab ne suive la route par défaut du nœud hors
# du lab, on marque ce CIDR `unreachable` sur `WORKER`). `a1` ne joint plus `b1` : le tableau des
# routes de `WORKER` montre pourquoi, et le schéma dessine cette route cassée (en rouge, en
# pointillés) à la place de la route qui marchait.

# %%
CIDR2 = core.read_node(WORKER2).spec.pod_cidr
ex.node_route(cluster, WORKER, f"ip route replace unreachable {CIDR2}")
display(pods.routes_table(node))
!kubectl -n nb02 exec a1 -- curl -s -m 2 http://{B1_IP}/ || echo "✘ a1 -> b1 (curl: $?)"
diagrams.pod_network(cluster.snapshot())

# %% [markdown] en
# **Repair it.** The diagram shows each node with its IP on the node network and its pod CIDR:
# write the route `WORKER` needs back, and put it in place with
# `ex.node_route(cluster, WORKER, "ip route replace <CIDR> via <IP> dev <device>")` (a kernel that
# is not root cannot change a node; this helper asks the lab to run `ip route add`, `del` or
# `replace`, and nothing else).
# %% [markdown] fr
# **Réparez-le.** Le schéma montre chaque nœud avec son IP sur le réseau des nœuds et son CIDR de
# pods : écrivez la route dont `WORKER` a besoin, et remettez-la en place avec
# `ex.node_route(cluster, WORKER, "ip route replace <CIDR> via <IP> dev <interface>")` (un
# noyau Jupyter qui n'est pas root ne peut pas modifier un nœud ; cette aide demande au lab de
# lancer `ip route add`, `del` ou `replace`, et rien d'autre).

# %% en
# Your repair here: ex.node_route(cluster, WORKER, "ip route replace ...")
# %% fr
# Votre réparation ici : ex.node_route(cluster, WORKER, "ip route replace ...")

# %% [markdown] en hint
# The broken destination is `CIDR2`, the pod CIDR of `WORKER2`. Who holds those pods?
# %% [markdown] fr hint
# La destination cassée est `CIDR2`, le CIDR de pods de `WORKER2`. Qui héberge ces pods ?

# %% [markdown] en hint
# The route goes `via` the IP of `WORKER2` on the node network (the diagram, or `kubectl get nodes -o wide`),
# `dev eth0`.
# %% [markdown] fr hint
# La route passe `via` l'IP de `WORKER2` sur le réseau des nœuds (le schéma, ou `kubectl get nodes -o wide`),
# `dev eth0`.

# %% solution 02.6
WORKER2_IP = next(a.address for a in core.read_node(WORKER2).status.addresses if a.type == "InternalIP")
ex.node_route(cluster, WORKER, f"ip route replace {CIDR2} via {WORKER2_IP} dev eth0")

# %%
ex.check("02.6", cluster=cluster, node=WORKER, src="nb02/a1", dst="nb02/b1")

# %% [markdown] en
# ## Three CNI flavors side by side
#
# Same model, different wiring. We start two small extra labs of 2 nodes each, one with the
# `bridge` flavor and one with `flannel` (about ten seconds each; they get their own networks and are
# removed at the end of the notebook), and put a pod on each node. `labkit.companion` asks your lab's
# daemon for them, so no root is needed (in a terminal: `labkit companion up bridge`; as root,
# `labkit up --cni bridge --nodes 2`, and `--cni flannel`, do the same).
# %% [markdown] fr
# ## Trois variantes de CNI côte à côte
#
# Même modèle, câblage différent. On démarre deux petits labs en plus, de 2 nœuds chacun, l'un en
# variante `bridge`, l'autre en `flannel` (une dizaine de secondes chacun ; ils ont leurs propres réseaux
# et sont supprimés à la fin du carnet), et on met un pod sur chaque nœud. `labkit.companion` les
# demande au démon de votre lab : pas besoin d'être root (dans un terminal : `labkit companion up bridge` ;
# en root, `labkit up --cni bridge --nodes 2`, et `--cni flannel`, font de même).

# %%
bridge = labkit.companion("bridge", lab=LAB)       # 2 nodes, bridge flavor, started by your lab's daemon
flannel = labkit.companion("flannel", lab=LAB)     # 2 nodes, flannel flavor
BRIDGE, FLANNEL = bridge.lab, flannel.lab

for other in (bridge, flannel):
    config = readable_kubeconfig(other.lab)
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
# ### `bridge` : un pont par nœud
#
# Le plugin `bridge` branche la veth de chaque pod sur **`cni0`**, un pont Linux qui porte la
# passerelle `.1/24`. Les veth côté hôte n'ont plus d'adresse (ce sont des ports du pont :
# `master cni0`), et une seule route `/24 dev cni0` remplace les routes `/32` par pod. Entre les
# nœuds : du routage, comme avec kindnet.

# %%
display(pods.interfaces_table(bridge.node("worker")))
display(pods.routes_table(bridge.node("worker")))

# %% [markdown] en
# ## Exercise 7: predict the tunnel
#
# flannel's default backend does not route pod CIDRs via node IPs: it wraps pod packets in UDP
# (VXLAN) between nodes. Before looking: on the `flannel` lab's nodes, **which device does a packet
# for another node's pod enter first?** Put its name in `device`. (You may peek with
# `flannel.node("worker").run(["ip", "route"])`.)
# %% [markdown] fr
# ## Exercice 7 : prédire le tunnel
#
# Le backend par défaut de flannel ne route pas les CIDR de pods via les IP des nœuds : il encapsule
# les paquets des pods dans de l'UDP (VXLAN) entre les nœuds. Avant de regarder : sur les nœuds du
# lab `flannel`, **dans quelle interface entre d'abord un paquet destiné à un pod d'un autre
# nœud ?** Mettez son nom dans `device`. (Vous pouvez jeter un œil avec
# `flannel.node("worker").run(["ip", "route"])`.)

# %%
device = None

# %% [markdown] en hint
# A VXLAN overlay needs a device that wraps packets: look for an interface of kind `vxlan`.
# %% [markdown] fr hint
# Un réseau superposé VXLAN a besoin d'une interface qui encapsule les paquets : cherchez une interface de type `vxlan`.

# %% [markdown] en hint
# Its name is the backend's name followed by `.1`.
# %% [markdown] fr hint
# Son nom est celui du backend suivi de `.1`.

# %% solution 02.7
device = "flannel.1"      # the VXLAN device; eth0 only carries the packet once it is wrapped in UDP

# %%
ex.check("02.7", device, flannel, variable="device")

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
# ### flannel : un pont, et un réseau superposé VXLAN
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
# kindnet (votre lab), `bridge`, flannel : la même image de pods et de nœuds, trois câblages.

# %%
for other in (cluster, bridge, flannel):
    display(diagrams.pod_network(other.snapshot()))

# %% [markdown] en
# ## Recap
#
# | flavor | on a node | between nodes |
# |---|---|---|
# | kindnet (`ptp`) | a veth per pod, the gateway `.1/32` on each host veth, a `/32` route per pod | `/24 via <node IP>` |
# | `bridge` | veths plugged into `cni0`, the gateway `.1/24` on the bridge | `/24 via <node IP>` |
# | `flannel` | `cni0`, MTU 1450 | `/24 via 10.x.N.0 dev flannel.1 onlink`, ARP + FDB, UDP 8472 |
#
# Same pods, same addresses, same model: only the wiring changes. Next: `03-pod-to-service.ipynb`.
# %% [markdown] fr
# ## Récapitulatif
#
# | variante | sur un nœud | entre les nœuds |
# |---|---|---|
# | kindnet (`ptp`) | une veth par pod, la passerelle `.1/32` sur chaque veth côté hôte, une route `/32` par pod | `/24 via <IP du nœud>` |
# | `bridge` | les veth branchées sur `cni0`, la passerelle `.1/24` sur le pont | `/24 via <IP du nœud>` |
# | `flannel` | `cni0`, MTU 1450 | `/24 via 10.x.N.0 dev flannel.1 onlink`, ARP + FDB, UDP 8472 |
#
# Mêmes pods, mêmes adresses, même modèle : seul le câblage change. Suite : `03-pod-to-service.ipynb`.

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
# ## Clean up
#
# Stop the live diagram, put `WORKER`'s route back as the lab built it (in case exercise 6 is not
# done), remove the two extra labs and the namespace.
# %% [markdown] fr
# ## Ménage
#
# On arrête le schéma en direct, on remet la route de `WORKER` telle que le lab l'a construite (au
# cas où l'exercice 6 ne serait pas fait), on supprime les deux labs en plus et le namespace.

# %%
view.stop()
NODE_IPS = {n.metadata.name: next(a.address for a in n.status.addresses if a.type == "InternalIP")
            for n in core.list_node().items}
ex.node_route(cluster, WORKER, f"ip route replace {CIDR2} via {NODE_IPS[WORKER2]} dev eth0")   # as the lab built it
labkit.companion("bridge", lab=LAB, stop=True)
labkit.companion("flannel", lab=LAB, stop=True)
!kubectl delete namespace nb02 --wait
