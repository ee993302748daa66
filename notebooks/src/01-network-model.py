# %% [markdown] en
# # 1. The Kubernetes network model
#
# **TL;DR: our cluster (nodes and pods) is one big flat IP network.** In detail:
#
# - all nodes can reach each other directly (without NAT);
# - all pods can reach each other directly (without NAT);
# - pods and nodes can reach each other directly (without NAT);
# - each pod is aware of its IP address (again: no NAT).
#
# Kubernetes does not implement this itself: the **CNI** plugins configure pod networking
# (allocate IP addresses, create and configure interfaces, routing...). In this notebook you check
# each of these claims on your own cluster, with real packets.
#
# **Goals** (about 25 minutes):
#
# 1. run two pods on two nodes, and see that the server sees the client's own pod IP;
# 2. see that nodes reach each other, and pods and nodes reach each other, without NAT;
# 3. see that a pod knows its IP, and that addresses come from each node's pod CIDR;
# 4. place a pod on a node, read its IP from inside, and prove "no NAT" yourself (exercises 1-3);
# 5. extra details: a load balancer's external IP answering this machine and moving between nodes,
#    and a pod on a second network.
# %% [markdown] fr
# # 1. Le modèle réseau de Kubernetes
#
# **En bref : notre cluster (nœuds et pods) forme un seul grand réseau IP plat.** En détail :
#
# - tous les nœuds se joignent directement (sans NAT) ;
# - tous les pods se joignent directement (sans NAT) ;
# - pods et nœuds se joignent directement (sans NAT) ;
# - chaque pod connaît sa propre adresse IP (là encore : pas de NAT).
#
# Kubernetes ne fait pas ça lui-même : ce sont les plugins **CNI** qui configurent le réseau des
# pods (allouer les adresses IP, créer et configurer les interfaces, le routage...). Dans ce carnet,
# vous allez vérifier chacune de ces affirmations sur votre propre cluster, avec de vrais paquets.
#
# **Objectifs** (environ 25 minutes) :
#
# 1. lancer deux pods sur deux nœuds, et constater que le serveur voit l'IP de pod du client ;
# 2. constater que les nœuds se joignent, et que pods et nœuds se joignent, sans NAT ;
# 3. constater qu'un pod connaît son IP, et que les adresses viennent du CIDR de pods de chaque nœud ;
# 4. placer un pod sur un nœud, lire son IP de l'intérieur, et prouver vous-même l'absence de NAT
#    (exercices 1 à 3) ;
# 5. pour aller plus loin : l'IP externe d'un équilibreur de charge qui répond à cette machine et
#    passe d'un nœud à l'autre, et un pod sur un second réseau.

# %% [markdown] en
# ## Setup
#
# Connect to the cluster (the embedded lab unless `KUBECONFIG` says otherwise), start from an empty
# namespace `nb01`, and name the two worker nodes.
# %% [markdown] fr
# ## Mise en place
#
# On se connecte au cluster (le lab embarqué, sauf si `KUBECONFIG` dit autre chose), on repart d'un
# namespace `nb01` vide, et on nomme les deux nœuds workers.

# %%
import json
import os
import sys

import labkit.live
from kubernetes import client
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it
from labkit import exercises as ex
from labkit.exercises import pods

LAB = os.environ.get("LABKIT_LAB", "kubenet")                       # the embedded lab `make lab` started
os.environ.setdefault("KUBECONFIG", str(readable_kubeconfig(LAB)))      # kubectl and labkit: the same cluster
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]  # `!labkit` too
cluster = labkit.connect()
core = client.CoreV1Api(cluster.api)                                # the official Python client

!kubectl delete namespace nb01 --ignore-not-found --wait
!kubectl create namespace nb01

WORKER, WORKER2 = [n for n in cluster.node_names() if "control-plane" not in n][:2]
ON_WORKER = json.dumps({"spec": {"nodeName": WORKER}})             # for kubectl run --overrides
ON_WORKER2 = json.dumps({"spec": {"nodeName": WORKER2}})
print(tr("workers:", "workers :"), WORKER, WORKER2)

# %% [markdown] en
# ## The pod network, live
#
# The blue layer: nodes, their pod CIDRs, and the pods with their addresses. It redraws itself when
# pods come and go.
# %% [markdown] fr
# ## Le réseau des pods, en direct
#
# La couche bleue : les nœuds, leurs CIDR de pods, et les pods avec leurs adresses. Le schéma se
# redessine tout seul quand des pods arrivent ou partent.

# %%
view = labkit.live.show("pods", cluster)
view

# %% [markdown] en
# ## Two pods on two nodes
#
# `web` runs `jpetazzo/color`, a small web server that answers with its name, its IP, its node and
# **the address of the client it saw**. `client` is a toolbox pod that just sleeps; we run commands in
# it with `kubectl exec`. `--overrides` sets `spec.nodeName`, which places a pod on a node of our choice.
# %% [markdown] fr
# ## Deux pods sur deux nœuds
#
# `web` fait tourner `jpetazzo/color`, un petit serveur web qui répond avec son nom, son IP, son
# nœud et **l'adresse du client qu'il a vu**. `client` est un pod boîte à outils qui ne fait que
# dormir ; on y lance des commandes avec `kubectl exec`. `--overrides` fixe `spec.nodeName`, ce qui
# place un pod sur le nœud de notre choix.

# %%
!kubectl -n nb01 run web --image=jpetazzo/color --overrides='{ON_WORKER}'
!kubectl -n nb01 run client --image=nicolaka/netshoot --overrides='{ON_WORKER2}' -- sleep infinity
!kubectl -n nb01 wait --for=condition=Ready pod --all --timeout=60s
!kubectl -n nb01 get pods -o wide

# %% [markdown] en
# ## Pod to pod, across nodes: no NAT
#
# `client` calls `web` on its pod IP. Compare the `client_ip` that `web` saw with the IP of `client`
# in the table above: they are the same. The packet crossed from one node to another and nobody
# rewrote its source address.
# %% [markdown] fr
# ## De pod à pod, d'un nœud à l'autre : pas de NAT
#
# `client` appelle `web` sur son IP de pod. Comparez le `client_ip` vu par `web` avec l'IP de
# `client` dans le tableau au-dessus : c'est la même. Le paquet est passé d'un nœud à l'autre et
# personne n'a réécrit son adresse source.

# %%
WEB_IP = core.read_namespaced_pod("web", "nb01").status.pod_ip
CLIENT_IP = core.read_namespaced_pod("client", "nb01").status.pod_ip
!kubectl -n nb01 exec client -- curl -s http://{WEB_IP}/
print(tr("\nclient's pod IP:", "\nIP de pod du client :"), CLIENT_IP)

# %% [markdown] en
# `labkit.proofs` runs the same experiment and states the claim it checks: the address the server
# saw is the client's own pod IP.
# %% [markdown] fr
# `labkit.proofs` fait la même expérience et énonce l'affirmation qu'elle vérifie : l'adresse vue par
# le serveur est l'IP de pod du client lui-même.

# %%
from labkit import proofs

if cluster.kind == "embedded":
    pod_to_pod = proofs.pod_to_pod(cluster.lab, "nb01/client", CLIENT_IP, WEB_IP)
    display(pod_to_pod)
    assert pod_to_pod.holds

# %% [markdown] en
# A capture shows it packet by packet. `labkit.capture` records one connection from `client` to
# `web` with tcpdump on every interface it crosses: in `client`, on both nodes, in `web`. On every
# line the source is the client's pod IP and the destination `web`'s: nothing on the way rewrote
# them (no "SNAT" or "DNAT" note). `.draw()` would place each packet on the pod diagram.
# %% [markdown] fr
# Une capture le montre paquet par paquet. `labkit.capture` enregistre une connexion de `client`
# vers `web` avec tcpdump sur chaque interface traversée : dans `client`, sur les deux nœuds, dans
# `web`. Sur chaque ligne, la source est l'IP de pod du client et la destination celle de `web` :
# rien sur le chemin ne les a réécrites (aucune note « SNAT » ou « DNAT »). `.draw()` placerait
# chaque paquet sur le schéma des pods.

# %%
if cluster.kind == "embedded":
    captured = labkit.capture(cluster, "nb01/client", "nb01/web:80")
    print(captured.to_text(LANG))
    sent = [r.seen for r in captured.rows if r.forward]
    places = sorted({s.where for s in sent})
    kept = all(s.src.rsplit(":", 1)[0] == CLIENT_IP and s.dst.rsplit(":", 1)[0] == WEB_IP for s in sent)
    print(tr(f"client -> web seen in {len(places)} places ({', '.join(places)}); "
             f"addresses kept everywhere: {'yes' if kept else 'no'}",
             f"client -> web vu à {len(places)} endroits ({', '.join(places)}) ; "
             f"adresses gardées partout : {'oui' if kept else 'non'}"))

# %% [markdown] en
# ## Nodes and pods: no NAT either
#
# Three more claims, each checked with one real connection and the address the other side saw:
#
# 1. **node to node**: a node connects to another, which sees the first node's own address;
# 2. **node to pod**: a node calls `web`, which sees the **node's** address as its client;
# 3. **pod to node**: `client` connects to its own node, which sees the pod's IP.
#
# On the embedded lab a node is a network namespace. Each line is one real TCP connection: the lab
# daemon starts a listener that accepts **one** connection in the node (or pod) being called,
# connects from the caller, and reports the source address the listener saw. Your kernel is not
# root: it asks the daemon through the lab's API (`POST /api/v1/nodes/<node>/proxy/labkit/peer`,
# the way a cluster's node proxy works; the daemon checks every field and picks the port). On kind,
# it would be `docker exec <node> ...`.
#
# Where a real cluster departs from the model: kind's kindnetd (and flannel with `--ip-masq`)
# masquerades what a pod sends to *another* node, so that node sees the pod's node address, not the
# pod's; only pod-to-pod traffic keeps its source. The lab's `kindnet` and `flannel` do the same:
# the last line shows it (**SNAT**).
# %% [markdown] fr
# ## Nœuds et pods : pas de NAT non plus
#
# Trois affirmations de plus, chacune vérifiée avec une vraie connexion et l'adresse vue de l'autre
# côté :
#
# 1. **de nœud à nœud** : un nœud se connecte à un autre, qui voit l'adresse propre du premier ;
# 2. **de nœud à pod** : un nœud appelle `web`, qui voit l'adresse du **nœud** comme client ;
# 3. **de pod à nœud** : `client` se connecte à son propre nœud, qui voit l'IP du pod.
#
# Dans le lab embarqué, un nœud est un espace de noms réseau. Chaque ligne est une vraie connexion
# TCP : le démon du lab lance, dans le nœud (ou le pod) appelé, un serveur qui accepte **une**
# connexion, se connecte depuis l'appelant, et rapporte l'adresse source que ce serveur a vue. Votre
# noyau n'est pas root : il le demande au démon par l'API du lab
# (`POST /api/v1/nodes/<nœud>/proxy/labkit/peer`, comme le proxy des nœuds d'un cluster ; le démon
# vérifie chaque champ et choisit le port). Sur kind, ce serait `docker exec <nœud> ...`.
#
# Là où un vrai cluster s'écarte du modèle : le kindnetd de kind (et flannel avec `--ip-masq`)
# traduit l'adresse source de ce qu'un pod envoie à un *autre* nœud (masquerading) : ce nœud voit
# l'adresse du nœud du pod, pas celle du pod ; seul le trafic de pod à pod garde sa source. Les
# variantes `kindnet` et `flannel` du lab font de même : la dernière ligne le montre (**SNAT**).

# %%
NODE_IPS = {a.address: n.metadata.name for n in core.list_node().items
            for a in n.status.addresses if a.type == "InternalIP"}
WORKER_IP = next(ip for ip, name in NODE_IPS.items() if name == WORKER)
WORKER2_IP = next(ip for ip, name in NODE_IPS.items() if name == WORKER2)
print(tr("node IPs:", "IP des nœuds :"), NODE_IPS)
if cluster.kind == "embedded":
    node_to_node = proofs.node_to_node(cluster, WORKER, WORKER2)       # WORKER connects to WORKER2
    node_to_pod = proofs.node_to_pod(cluster, WORKER2, "nb01/web")     # WORKER2 connects to web
    own_node = proofs.pod_to_node(cluster, "nb01/client", WORKER2)     # client runs on WORKER2
    other_node = proofs.pod_to_node(cluster, "nb01/client", WORKER)
    display(node_to_node, node_to_pod, own_node, other_node)
    assert node_to_node.holds and node_to_pod.holds and own_node.holds
    assert other_node.facts["seen"] in (CLIENT_IP, WORKER2_IP)      # kept, or SNATed to the pod's node
else:
    print(tr("(on kind: `docker exec <node> ...` runs these; here, what a pod can do)",
             "(sur kind : `docker exec <nœud> ...` les lance ; ici, ce qu'un pod peut faire)"))
    !kubectl -n nb01 exec client -- ping -c 2 {WORKER2_IP}

# %% [markdown] en
# ## Each pod knows its IP
#
# Inside the pod, `eth0` carries the very address that the API reports as `status.podIP`: what the
# pod believes is its address is what everybody else uses to reach it.
# %% [markdown] fr
# ## Chaque pod connaît son IP
#
# Dans le pod, `eth0` porte exactement l'adresse que l'API donne dans `status.podIP` : l'adresse que
# le pod croit avoir est celle que tous les autres utilisent pour le joindre.

# %%
!kubectl -n nb01 exec web -- ip -4 addr show eth0
print("status.podIP:", WEB_IP)

# %% [markdown] en
# ## Addresses come from the network stack
#
# Users never choose pod IPs. Each node owns a slice of the pod network, its **pod CIDR**, and the
# CNI's IPAM plugin (`host-local` here) hands out addresses from it. `host-local` keeps one file per
# address it gave, named after the address, holding the container ID and the interface name.
# %% [markdown] fr
# ## Les adresses viennent de la pile réseau
#
# Les utilisateurs ne choisissent jamais les IP des pods. Chaque nœud possède une tranche du réseau de
# pods, son **CIDR de pods**, et le plugin d'IPAM du CNI (ici `host-local`) y distribue les adresses.
# `host-local` garde un fichier par adresse attribuée, nommé d'après l'adresse, qui contient
# l'identifiant du conteneur et le nom de l'interface.

# %%
!kubectl get nodes -o custom-columns=NODE:.metadata.name,POD_CIDR:.spec.podCIDR
if cluster.kind == "embedded":
    from labkit.embedded.paths import node_dir

    state = node_dir(cluster.lab, WORKER) / "run" / "cni-ipam-state"
    if os.access(state, os.R_OK | os.X_OK):
        ipam = next(state.iterdir())
        print(tr(f"\nhost-local's files on {WORKER} ({ipam.name}):",
                 f"\nfichiers de host-local sur {WORKER} ({ipam.name}) :"))
        !ls {ipam}
        print(f"\n{WEB_IP}:")
        !cat {ipam}/{WEB_IP}
    else:                       # a kernel that is not root (a class's learner): the node's files are root's
        print(tr(f"\nhost-local's files on {WORKER} are in {state}, readable by root only "
                 f"(your kernel runs as you); to see them, in a terminal as root: sudo ls -R {state}",
                 f"\nles fichiers de host-local sur {WORKER} sont dans {state}, lisibles par root seulement "
                 f"(votre noyau tourne sous votre propre compte) ; pour les voir, dans un terminal en root : "
                 f"sudo ls -R {state}"))

# %% [markdown] en
# ## Exercise 1: a pod on a given node
#
# Create a pod named `pinned`, image `nicolaka/netshoot`, command `sleep infinity`, in namespace
# `nb01`, that runs on node `WORKER` (the variable above). Watch its address: which node's pod CIDR
# does it come from?
# %% [markdown] fr
# ## Exercice 1 : un pod sur un nœud donné
#
# Créez un pod nommé `pinned`, image `nicolaka/netshoot`, commande `sleep infinity`, dans le
# namespace `nb01`, qui tourne sur le nœud `WORKER` (la variable plus haut). Regardez son adresse :
# de quel CIDR de nœud vient-elle ?

# %%

# %% [markdown] en hint
# A pod goes where its `spec.nodeName` says. `kubectl run` takes a JSON patch of the pod with `--overrides`.
# %% [markdown] fr hint
# Un pod va là où son `spec.nodeName` le dit. `kubectl run` accepte un morceau de pod en JSON avec `--overrides`.

# %% [markdown] en hint
# `ON_WORKER` (defined above) holds `{"spec": {"nodeName": WORKER}}`: pass it as `--overrides='{ON_WORKER}'`, and the command after `--`.
# %% [markdown] fr hint
# `ON_WORKER` (défini plus haut) contient `{"spec": {"nodeName": WORKER}}` : passez-le avec `--overrides='{ON_WORKER}'`, et la commande après `--`.

# %% solution 01.1
!kubectl -n nb01 run pinned --image=nicolaka/netshoot --overrides='{ON_WORKER}' -- sleep infinity
!kubectl -n nb01 wait --for=condition=Ready pod/pinned --timeout=60s

# %%
ex.check("01.1", cluster=cluster, pod="nb01/pinned", node=WORKER)

# %% [markdown] en
# ## Exercise 2: a pod's IP, seen from inside
#
# Find the IP address of `pinned` **from inside the pod** (`kubectl exec ... -- ip addr`) and put it
# in `pinned_ip` (a string: the address alone, without the `/` and what follows).
# %% [markdown] fr
# ## Exercice 2 : l'IP d'un pod, vue de l'intérieur
#
# Trouvez l'adresse IP de `pinned` **depuis l'intérieur du pod** (`kubectl exec ... -- ip addr`) et
# mettez-la dans `pinned_ip` (une chaîne : l'adresse seule, sans le `/` ni ce qui suit).

# %%
pinned_ip = None

# %% [markdown] en hint
# `kubectl -n nb01 exec pinned -- ip -4 addr show eth0` prints the addresses the pod itself sees.
# %% [markdown] fr hint
# `kubectl -n nb01 exec pinned -- ip -4 addr show eth0` affiche les adresses que le pod voit lui-même.

# %% [markdown] en hint
# The address is after `inet`, before the `/`. In a notebook, `lines = !command` keeps the output as a list of lines.
# %% [markdown] fr hint
# L'adresse suit `inet`, avant le `/`. Dans un carnet, `lignes = !commande` garde la sortie sous forme de liste de lignes.

# %% solution 01.2
lines = !kubectl -n nb01 exec pinned -- ip -4 -o addr show eth0
pinned_ip = lines[0].split()[3].split("/")[0]              # "2: eth0    inet <IP>/24 ..."
pinned_ip

# %%
ex.check("01.2", pinned_ip, cluster, pod="nb01/pinned", variable="pinned_ip")

# %% [markdown] en
# ## Exercise 3: no NAT between nodes, your turn
#
# Create a pod `talker` (image `nicolaka/netshoot`, command `sleep infinity`) on **another node than
# `web`**, call `web` from it with `curl`, and put in `talker_saw` the `client_ip` that `web`
# reported. The check sends its own request from `talker` and compares.
# %% [markdown] fr
# ## Exercice 3 : pas de NAT entre les nœuds, à vous
#
# Créez un pod `talker` (image `nicolaka/netshoot`, commande `sleep infinity`) sur **un autre nœud que
# celui de `web`**, appelez `web` depuis `talker` avec `curl`, et mettez dans `talker_saw` le
# `client_ip` renvoyé par `web`. La vérification envoie sa propre requête depuis `talker` et compare.

# %%
talker_saw = None

# %% [markdown] en hint
# First check where `web` runs (`kubectl -n nb01 get pods -o wide`), then place `talker` on the other worker as in exercise 1.
# %% [markdown] fr hint
# Regardez d'abord où tourne `web` (`kubectl -n nb01 get pods -o wide`), puis placez `talker` sur l'autre worker comme à l'exercice 1.

# %% [markdown] en hint
# `ON_WORKER2` places a pod on `WORKER2`. Then `kubectl exec talker -- curl -s http://{WEB_IP}/` returns JSON: read its `client_ip`.
# %% [markdown] fr hint
# `ON_WORKER2` place un pod sur `WORKER2`. Ensuite `kubectl exec talker -- curl -s http://{WEB_IP}/` renvoie du JSON : lisez son `client_ip`.

# %% solution 01.3
!kubectl -n nb01 run talker --image=nicolaka/netshoot --overrides='{ON_WORKER2}' -- sleep infinity
!kubectl -n nb01 wait --for=condition=Ready pod/talker --timeout=60s
reply = !kubectl -n nb01 exec talker -- curl -s http://{WEB_IP}/
talker_saw = json.loads(reply[0])["client_ip"]
talker_saw

# %%
ex.check("01.3", talker_saw, cluster, client="nb01/talker", server="nb01/web", variable="talker_saw")

# %% [markdown] en
# ## Even more moving parts (extra details)
#
# The chapter's last slide: inbound traffic can also come through **load balancers**, and a pod can
# be on **several pod networks** at once (meta-plugins such as Multus). Both, live, on your lab.
#
# **A `LoadBalancer` Service** gets an external IP from a small pool on the node network (kind
# users install MetalLB; its L2 mode is what the lab does): one node holds the address and answers
# ARP for it, so this machine reaches it like any host on that network. Mark the holder as excluded
# from load balancers and the address moves to another node. (Departures: no `IPAddressPool`
# object; the pool is kind's documented 172.18.255.200-250.)
# %% [markdown] fr
# ## Encore plus de briques (pour aller plus loin)
#
# La dernière diapositive du chapitre : le trafic entrant peut aussi passer par des **équilibreurs
# de charge** (load balancers), et un pod peut être sur **plusieurs réseaux de pods** à la fois
# (méta-plugins comme Multus). Les deux, en direct, sur votre lab.
#
# **Un Service `LoadBalancer`** reçoit une IP externe prise dans une petite plage du réseau des
# nœuds (sur kind, on installe MetalLB ; le lab fait comme son mode L2) : un nœud porte l'adresse et
# répond aux requêtes ARP pour elle, si bien que cette machine la joint comme n'importe quel hôte de
# ce réseau. Marquez ce nœud comme exclu des équilibreurs de charge, et l'adresse passe sur un autre
# nœud. (Écarts : pas d'objet `IPAddressPool` ; la plage est celle que documente kind,
# 172.18.255.200-250.)

# %%
import subprocess
import time

EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers"


def wait_for(check, seconds=30):
    """``check()``'s first true value, tried every 0.3 s for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def external_ip():
    ingress = core.read_namespaced_service("web-lb", "nb01").status.load_balancer.ingress
    return ingress[0].ip if ingress else None


def holder(ip):
    """The node whose eth0 carries ``ip`` (read on each node, through the lab's API)."""
    for node in cluster.node_names():
        links = json.loads(cluster.node(node).run(["ip", "-j", "addr", "show", "dev", "eth0"]))
        if any(a.get("local") == ip for link in links for a in link.get("addr_info", [])):
            return node


def from_host(ip):
    """What ``web`` answers to this machine's curl (None: no answer)."""
    out = subprocess.run(["curl", "-s", "-m", "3", f"http://{ip}/"], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.startswith("{") else None


if cluster.kind == "embedded":
    !kubectl -n nb01 expose pod web --name=web-lb --type=LoadBalancer --port=80
    LB_IP = wait_for(external_ip)
    !kubectl -n nb01 get service web-lb
    first = wait_for(lambda: holder(LB_IP))
    answer = wait_for(lambda: from_host(LB_IP))
    print(tr(f"{LB_IP} is held by {first}; from this machine, curl gets an answer from pod {answer['pod']}",
             f"{LB_IP} est portée par {first} ; depuis cette machine, curl reçoit la réponse du pod "
             f"{answer['pod']}"))
    !kubectl label node {first} {EXCLUDE}=
    second = wait_for(lambda: (holder(LB_IP) or first) != first and holder(LB_IP))
    answer = wait_for(lambda: from_host(LB_IP))
    print(tr(f"{first} excluded: {LB_IP} moved to {second}; curl still answered by {answer['pod']}",
             f"{first} exclu : {LB_IP} est passée sur {second} ; curl reçoit toujours la réponse de "
             f"{answer['pod']}"))
    !kubectl label node {first} {EXCLUDE}-
    assert LB_IP and first and second and second != first and answer["pod"] == "web"

# %% [markdown] en
# **A second pod network**, declared the way Multus does: a `NetworkAttachmentDefinition` holds a
# CNI configuration (here the reference `macvlan` plugin on each node's second interface `eth1`),
# and a pod that names it in the annotation `k8s.v1.cni.cncf.io/networks` gets a second interface
# `net1` next to `eth0`. Two such pods on two nodes ping each other over that second network; the
# pod diagram draws it. (Departure: the lab's nodes share host-local's state, where Multus users
# pick an IPAM such as whereabouts.)
# %% [markdown] fr
# **Un second réseau pour les pods**, déclaré comme le fait Multus : une `NetworkAttachmentDefinition`
# contient une configuration CNI (ici le plugin de référence `macvlan` sur la seconde interface
# `eth1` de chaque nœud), et un pod qui la nomme dans l'annotation `k8s.v1.cni.cncf.io/networks`
# reçoit une seconde interface `net1` à côté de `eth0`. Deux pods de ce genre, sur deux nœuds, se
# joignent par ce second réseau avec `ping` ; le schéma des pods le dessine. (Écart : les nœuds du
# lab partagent l'état de host-local, là où les utilisateurs de Multus choisissent une IPAM comme
# whereabouts.)

# %%
import tempfile

from labkit import diagrams

NAD = """apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: {name: macvlan-conf, namespace: nb01}
spec:
  config: '{"cniVersion": "0.3.1", "type": "macvlan", "master": "eth1", "mode": "bridge",
            "ipam": {"type": "host-local", "subnet": "192.168.100.0/24"}}'
"""
if cluster.kind == "embedded":
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(NAD)
    !kubectl apply -f {f.name}
    !kubectl get net-attach-def -n nb01
    NETWORKS = "k8s.v1.cni.cncf.io/networks=macvlan-conf"      # the annotation that asks for net1
    for pod, on in (("multi1", ON_WORKER), ("multi2", ON_WORKER2)):
        !kubectl -n nb01 run {pod} --image=nicolaka/netshoot --overrides='{on}' \
            --annotations={NETWORKS} -- sleep infinity
    !kubectl -n nb01 wait --for=condition=Ready pod/multi1 pod/multi2 --timeout=60s
    for pod in ("multi1", "multi2"):
        print(f"━━ {pod}")
        !kubectl -n nb01 exec {pod} -- ip -br -4 addr
    STATUS = "k8s.v1.cni.cncf.io/network-status"          # Multus writes it once net1 is attached
    statuses = [wait_for(lambda: (core.read_namespaced_pod(pod, "nb01").metadata.annotations or {}).get(STATUS))
                for pod in ("multi1", "multi2")]
    status = json.loads(statuses[1])
    NET1_IP = next(s["ips"][0] for s in status if s.get("interface") == "net1")
    print(tr(f"multi2's net1: {NET1_IP}", f"net1 de multi2 : {NET1_IP}"))
    pinged = !kubectl -n nb01 exec multi1 -- ping -c 2 -W 2 -I net1 {NET1_IP}
    print("\n".join(pinged))
    assert any(" 0% packet loss" in line for line in pinged)
    display(diagrams.pod_network(cluster.snapshot(), lang=LANG))

# %% [markdown] en
# ## Recap
#
# - Every pod got an address from its node's pod CIDR, allocated by the CNI, not by us.
# - Pods on different nodes, and nodes and pods, talk with their real addresses: no NAT, no port
#   translation, no new protocol. One big flat network.
# - Where kind (and the lab) depart from the model: what a pod sends to *another* node is
#   masqueraded to its own node's address; pod-to-pod traffic keeps its source.
# - The flip side: **everything can reach everything**. Isolation takes network policies (notebook 04).
# - More moving parts: a `LoadBalancer` Service's external IP is held by one node and moves when
#   that node is excluded; Multus adds a second pod network (`net1`) next to the CNI's `eth0`.
#
# Next: `02-pod-to-pod.ipynb` opens the nodes to see *how* the packets travel.
# %% [markdown] fr
# ## Récapitulatif
#
# - Chaque pod a reçu une adresse prise dans le CIDR de pods de son nœud, attribuée par le CNI, pas
#   par nous.
# - Des pods sur des nœuds différents, des nœuds et des pods se parlent avec leurs vraies adresses :
#   pas de NAT, pas de traduction de ports, pas de nouveau protocole. Un seul grand réseau plat.
# - Là où kind (et le lab) s'écartent du modèle : ce qu'un pod envoie à un *autre* nœud prend
#   l'adresse de son propre nœud (masquerading) ; le trafic de pod à pod garde sa source.
# - Le revers de la médaille : **tout le monde peut joindre tout le monde**. Pour isoler, il faut des
#   politiques réseau (carnet 04).
# - D'autres briques : l'IP externe d'un Service `LoadBalancer` est portée par un nœud et change de
#   nœud quand celui-ci est exclu ; Multus ajoute un second réseau pour les pods (`net1`) à côté du `eth0`
#   du CNI.
#
# Suite : `02-pod-to-pod.ipynb` ouvre les nœuds pour voir *comment* voyagent les paquets.

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
# %% [markdown] fr
# ## Ménage

# %%
view.stop()
!kubectl delete namespace nb01 --wait
