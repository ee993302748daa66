# %% [markdown] en
# # 3. The pod-to-service network: Services and kube-proxy
#
# Pods have **layer 3** connectivity: any pod reaches any pod by its IP. But pods come and go, and
# their IPs with them. A **Service** gives a set of pods one stable virtual IP (the *ClusterIP*) and
# one DNS name, and spreads new connections over the pods. This is the "pod-to-service network",
# implemented by default by **kube-proxy**, which writes rules into every node's kernel. Services
# are **layer 4**: a Service maps one TCP or UDP port (no port ranges, no arbitrary IP packets).
#
# **Goals** (about 30 minutes):
#
# 1. create a Deployment and a Service, and call it from a pod;
# 2. read the rules kube-proxy wrote on a node, chain by chain, and trace a connection through them;
# 3. measure the load balancing, predict the rules for 5 replicas, and watch them change live;
# 4. see that a Service is layer 4, and that its ClusterIP outlives its pods.
#
# NodePorts, DNS and kube-proxy's nftables mode follow in notebook 03b.
# %% [markdown] fr
# # 3. Le réseau des services : les Services et kube-proxy
#
# Les pods ont une connectivité de **niveau 3** : chaque pod joint n'importe quel autre pod par son
# IP. Mais les pods vont et viennent, et leurs IP avec eux. Un **Service** donne à un groupe de pods
# une IP virtuelle stable (la *ClusterIP*) et un nom DNS, et répartit les nouvelles connexions entre
# les pods. C'est le « réseau des services », assuré par défaut par **kube-proxy**, qui écrit des
# règles dans le noyau de chaque nœud. Les Services travaillent au **niveau 4** : un Service
# correspond à un port TCP ou UDP (pas de plage de ports, pas de paquets IP quelconques).
#
# **Objectifs** (environ 30 minutes) :
#
# 1. créer un Deployment et un Service, et l'appeler depuis un pod ;
# 2. lire, chaîne par chaîne, les règles que kube-proxy a écrites sur un nœud, et y suivre une connexion ;
# 3. mesurer la répartition de charge, prédire les règles pour 5 réplicas, et les voir changer en direct ;
# 4. constater qu'un Service est de niveau 4, et que sa ClusterIP survit à ses pods.
#
# Les NodePorts, le DNS et le mode nftables de kube-proxy suivent dans le carnet 03b.

# %% [markdown] en
# ## Setup
#
# The next cell finds the lab (`LABKIT_LAB`, else `kubenet`, the one `make lab` started), points
# `kubectl` at it with `KUBECONFIG`, and connects labkit to it. Then we start from a clean
# namespace, `nb03`.
# %% [markdown] fr
# ## Mise en place
#
# La cellule suivante trouve le lab (`LABKIT_LAB`, sinon `kubenet`, celui que `make lab` a lancé),
# y branche `kubectl` avec `KUBECONFIG` et y connecte labkit. Puis on repart d'un namespace propre,
# `nb03`.

# %%
import collections
import json
import os
import sys
import time

import labkit
from labkit import diagrams, live
from labkit import exercises as ex
from labkit.kubeproxy import format_table, read_service_map
from labkit.nbsetup import grep, open_lab, wait_for   # the setup notebooks 03 and 03b share

LAB, cluster, lab = open_lab()   # LABKIT_LAB, else kubenet; KUBECONFIG for !kubectl; its shape from its API
LABKIT = f"{sys.executable} -m labkit"          # the `labkit` command, whatever the environment
NS = "nb03"

print(cluster, tr("- kube-proxy mode:", "- mode de kube-proxy :"), lab["proxyMode"])

# %%
!kubectl delete namespace nb03 --ignore-not-found --wait=true
!kubectl create namespace nb03

# %% [markdown] en
# ## 1. A Deployment and its Service
#
# Three replicas of `jpetazzo/color` (a small web server that says which pod answered), then
# `kubectl expose` creates a Service with the same selector as the Deployment (`app=web`).
# %% [markdown] fr
# ## 1. Un Deployment et son Service
#
# Trois réplicas de `jpetazzo/color` (un petit serveur web qui dit quel pod a répondu), puis
# `kubectl expose` crée un Service avec le même sélecteur que le Deployment (`app=web`).

# %%
!kubectl -n nb03 create deployment web --image=jpetazzo/color --replicas=3
!kubectl -n nb03 expose deployment web --port=80
!kubectl -n nb03 rollout status deployment web --timeout=60s
!kubectl -n nb03 get pods -o wide

# %% [markdown] en
# The Service got a **ClusterIP** from the lab's service range (printed first below; kind and the
# lab default to 10.96.0.0/16, a second lab takes the next free range). That IP belongs to no
# interface, anywhere: it only exists in kube-proxy's rules. The **EndpointSlice** lists the pods
# behind the Service: it is what kube-proxy reads.
# %% [markdown] fr
# Le Service a reçu une **ClusterIP** prise dans la plage des services du lab (affichée en premier
# ci-dessous ; kind et le lab prennent 10.96.0.0/16 par défaut, un second lab prend la plage libre
# suivante). Cette IP n'est portée par aucune interface, nulle part : elle n'existe que dans les
# règles de kube-proxy. L'**EndpointSlice** liste les pods derrière le Service : c'est ce que lit
# kube-proxy.

# %%
print(tr("service range of this lab:", "plage des services de ce lab :"), lab["serviceCIDR"])
!kubectl -n nb03 get service web
!kubectl -n nb03 get endpointslices -l kubernetes.io/service-name=web

# %% [markdown] en
# A client pod calls the Service by name. The answer says which pod served it, and the
# `client_ip` that pod saw: the client's own pod IP. The destination was translated (ClusterIP →
# pod IP), the source was not.
# %% [markdown] fr
# Un pod client appelle le Service par son nom. La réponse dit quel pod l'a servie, et le
# `client_ip` vu par ce pod : l'IP du pod client lui-même. La destination a été traduite
# (ClusterIP → IP du pod), pas la source.

# %%
!kubectl -n nb03 run client --image=nicolaka/netshoot --command -- sleep infinity
!kubectl -n nb03 wait --for=condition=Ready pod/client --timeout=60s
!kubectl -n nb03 exec client -- curl -s http://web
!kubectl -n nb03 get pod client -o wide

# %% [markdown] en
# ### Exercise 1: expose a deployment
#
# Create a Deployment `hello` with **2** replicas of `jpetazzo/color` in `nb03`, and expose it as a
# Service `hello` on port **8080**. The pods listen on port 80: the Service must send its port 8080
# to their port 80 (the *targetPort*).
# %% [markdown] fr
# ### Exercice 1 : exposer un Deployment
#
# Créez dans `nb03` un Deployment `hello` avec **2** réplicas de `jpetazzo/color`, et exposez-le
# par un Service `hello` sur le port **8080**. Les pods écoutent sur le port 80 : le Service doit
# envoyer son port 8080 vers leur port 80 (le *targetPort*).

# %% en
# Your commands here (!kubectl ...)
# %% fr
# Vos commandes ici (!kubectl ...)

# %% [markdown] en hint
# `kubectl create deployment NAME --image=... --replicas=N`, then `kubectl expose deployment NAME ...`.
# %% [markdown] fr hint
# `kubectl create deployment NOM --image=... --replicas=N`, puis `kubectl expose deployment NOM ...`.

# %% [markdown] en hint
# `expose` takes `--port` (the Service's port) and `--target-port` (the port the pods answer on, 80).
# %% [markdown] fr hint
# `expose` prend `--port` (le port du Service) et `--target-port` (le port où répondent les pods, 80).

# %% solution 03.1
!kubectl -n nb03 create deployment hello --image=jpetazzo/color --replicas=2
!kubectl -n nb03 expose deployment hello --port=8080 --target-port=80
!kubectl -n nb03 rollout status deployment hello --timeout=60s

# %%
ex.check("03.1", cluster=cluster, namespace=NS, deployment="hello", service="hello", port=8080, target_port=80,
         replicas=2, client_pod="nb03/client")

# %% [markdown] en
# ## 2. kube-proxy's chains on a node, step by step
#
# kube-proxy runs on every node and writes the same rules on each. In its default mode (the one
# kind uses) they are **iptables** rules in the `nat` table. On a kind node you would read them
# with `docker exec kind-worker iptables-save`; here the node is a network namespace and labkit
# reads it for us (`ip netns exec <lab>-worker iptables-save` as root does the same).
#
# **Step 1**: every packet goes through `PREROUTING` (coming from a pod) or `OUTPUT` (sent by the
# node itself), and both jump to `KUBE-SERVICES`.
# %% [markdown] fr
# ## 2. Les chaînes de kube-proxy sur un nœud, pas à pas
#
# kube-proxy tourne sur chaque nœud et y écrit les mêmes règles. Dans son mode par défaut (celui
# de kind), ce sont des règles **iptables** de la table `nat`. Sur un nœud kind, on les lirait avec
# `docker exec kind-worker iptables-save` ; ici le nœud est un espace de noms réseau et labkit le
# lit pour nous (`ip netns exec <lab>-worker iptables-save` en root fait la même chose).
#
# **Étape 1** : chaque paquet passe par `PREROUTING` (s'il vient d'un pod) ou `OUTPUT` (s'il est
# émis par le nœud lui-même), et les deux sautent vers `KUBE-SERVICES`.

# %%
worker = cluster.node("worker")
rules = worker.run(["iptables-save"])
grep(rules, "-j KUBE-SERVICES")

# %% [markdown] en
# **Step 2**: `KUBE-SERVICES` has one rule per Service port: "destination = this ClusterIP and this
# port → jump to the Service's own chain", `KUBE-SVC-` followed by a hash of the Service's name.
# %% [markdown] fr
# **Étape 2** : `KUBE-SERVICES` contient une règle par port de Service : « destination = cette
# ClusterIP et ce port → sauter vers la chaîne du Service », `KUBE-SVC-` suivi d'un hachage du nom
# du Service.

# %%
grep(rules, "-A KUBE-SERVICES", "nb03/web")

# %% [markdown] en
# **Step 3**: the `KUBE-SVC-…` chain picks an endpoint at random with the `statistic` module. With
# three endpoints: the first rule takes 1/3 of new connections; of what is left, the second takes
# 1/2; the last takes the rest. Each gets a third. (The first rule, `! -s <pod CIDR>`, only marks
# connections that do not come from a pod, for masquerading.)
# %% [markdown] fr
# **Étape 3** : la chaîne `KUBE-SVC-…` choisit un endpoint au hasard grâce au module `statistic`.
# Avec trois endpoints : la première règle prend 1/3 des nouvelles connexions ; sur ce qui reste, la
# deuxième en prend 1/2 ; la dernière prend le reste. Chacun reçoit un tiers. (La première règle,
# `! -s <CIDR des pods>`, ne fait que marquer pour le masquerading les connexions qui ne viennent
# pas d'un pod.)

# %%
grep(rules, "-A KUBE-SVC-", "nb03/web")

# %% [markdown] en
# **Step 4**: each `KUBE-SEP-…` chain (*service endpoint*) rewrites the destination to one pod's IP
# and port (**DNAT**). The reply comes back through the same node, where conntrack translates it
# back: the client believes it talked to the ClusterIP.
# %% [markdown] fr
# **Étape 4** : chaque chaîne `KUBE-SEP-…` (*service endpoint*) réécrit la destination vers l'IP
# et le port d'un pod (**DNAT**). La réponse repasse par le même nœud, où conntrack fait la
# traduction inverse : le client croit avoir parlé à la ClusterIP.

# %%
grep(rules, "-A KUBE-SEP-", "nb03/web", "DNAT")

# %% [markdown] en
# labkit reads these rules back into a **service map**: for each Service port, the endpoints, the
# share of new connections each receives (the product of the probabilities), and the chains a new
# connection traverses.
# %% [markdown] fr
# labkit relit ces règles sous forme de **carte des services** : pour chaque port de Service, les
# endpoints, la part des nouvelles connexions que chacun reçoit (le produit des probabilités), et
# les chaînes qu'une nouvelle connexion traverse.

# %%
print(format_table(read_service_map(rules, "worker: iptables-save")))

# %% [markdown] en
# The same, drawn: the green layer of the workshop, with the chain names on the arrows
# (`show_chains=True`), from the rules of the worker node.
# %% [markdown] fr
# La même chose en dessin : la couche verte de l'atelier, avec le nom des chaînes sur les flèches
# (`show_chains=True`), d'après les règles du nœud worker.

# %%
snapshot = cluster.snapshot()
diagrams.service_network(snapshot, show_chains=True, node=worker.name, lang=LANG)

# %% [markdown] en
# `labkit.trace` follows the first packet of a connection from the client pod to the Service:
# route out of the pod, kube-proxy's chains on the client's node, then each DNAT candidate and the
# routes to it.
# %% [markdown] fr
# `labkit.trace` suit le premier paquet d'une connexion du pod client vers le Service : la route
# de sortie du pod, les chaînes de kube-proxy sur le nœud du client, puis chaque candidat du DNAT
# et les routes qui y mènent.

# %%
from labkit.trace import trace

print(trace(snapshot, "nb03/client", "nb03/web:80").to_text(LANG))

# %% [markdown] en
# That trace is a **prediction**, computed from the rules. The kernel itself can say which rules a
# real packet hit: `observe=True` sends one connection, switches nftables tracing on for that flow
# only, in every node (`meta nftrace set 1`, read with `nft monitor trace`), and prints the rules
# the kernel reported (iptables-nft rules with their `iptables-save` line) beside the prediction;
# any difference is listed. `labkit.capture` records one connection with tcpdump on every
# interface it crosses: the destination is the ClusterIP up to the client's node, the pod's IP
# after the DNAT there, and the reply is un-DNATed on its way back; `.draw()` puts each packet on
# the diagram, numbered where it was seen, with the addresses seen there. Both run in the lab's
# nodes: this kernel is not root, so labkit asks the lab's daemon to do it, through the lab's API
# (the same as `labkit trace nb03/client nb03/web:80 --observe` and `labkit capture nb03/client
# nb03/web:80` in a terminal). On a real cluster you would need a privileged pod on each node.
# %% [markdown] fr
# Cette trace est une **prévision**, calculée d'après les règles. Le noyau peut dire lui-même quelles
# règles un vrai paquet a rencontrées : `observe=True` envoie une connexion, active le traçage
# nftables pour ce seul flux, dans chaque nœud (`meta nftrace set 1`, lu avec `nft monitor trace`),
# et affiche les règles signalées par le noyau (les règles iptables-nft avec leur ligne
# `iptables-save`) à côté de la prévision ; toute différence est listée. `labkit.capture` enregistre
# une connexion avec tcpdump sur chaque interface traversée : la destination est la ClusterIP
# jusqu'au nœud du client, l'IP du pod après le DNAT qui y a lieu, et la réponse est dé-DNATée au
# retour ; `.draw()` place chaque paquet sur le schéma, numéroté là où il a été vu, avec les
# adresses vues à cet endroit. Les deux s'exécutent dans les nœuds du lab : ce noyau n'est pas root,
# labkit demande donc au démon du lab de le faire, par l'API du lab (comme `labkit trace nb03/client
# nb03/web:80 --observe` et `labkit capture nb03/client nb03/web:80` dans un terminal). Sur un vrai
# cluster, il faudrait un pod privilégié sur chaque nœud.

# %%
print(labkit.trace(cluster, "nb03/client", "nb03/web:80", observe=True).to_text(LANG))

# %%
captured = labkit.capture(cluster, "nb03/client", "nb03/web:80")
captured.draw(LANG)

# %% [markdown] en
# ## 3. Load balancing, measured
#
# A hundred requests from the client pod, counted per pod: each pod should get about a third.
# The choice is random per **new connection** (each `curl` opens one), not round-robin.
# %% [markdown] fr
# ## 3. La répartition de charge, mesurée
#
# Cent requêtes depuis le pod client, comptées par pod : chacun devrait en recevoir environ un
# tiers. Le choix est aléatoire à chaque **nouvelle connexion** (chaque `curl` en ouvre une), ce
# n'est pas un tourniquet.

# %%
answers = !kubectl -n nb03 exec client -- sh -c 'for i in $(seq 100); do curl -s http://web; echo; done'
counts = collections.Counter(json.loads(a)["pod"] for a in answers if a.startswith("{"))
for pod, n in sorted(counts.items()):
    print(f"{pod:28} {n:3} {'#' * n}")

# %% [markdown] en
# ## 4. Scaling: endpoints and rules change live
#
# The live diagram below redraws the green layer each time the cluster changes. We are going to
# scale the Deployment to 5 replicas: the EndpointSlice will get 5 addresses, and kube-proxy will
# rewrite the chain of the Service on every node.
#
# ### Exercise 2: predict the probabilities
#
# Before scaling: with **5** endpoints, what will the `--probability` of each jump of the
# `KUBE-SVC-…` chain of `nb03/web` to a `KUBE-SEP-…` chain be, in order? Put the 5 values in
# `probabilities` (the last jump has no `--probability`: write `1`), then run the `ex.predict`
# cell, which records your prediction. The check, after the scaling, compares it with the rules
# kube-proxy really wrote.
# %% [markdown] fr
# ## 4. Changer le nombre de réplicas : les endpoints et les règles changent en direct
#
# Le schéma en direct ci-dessous se redessine à chaque changement dans le cluster. Nous allons
# passer le Deployment à 5 réplicas : l'EndpointSlice recevra 5 adresses, et kube-proxy réécrira
# la chaîne du Service sur chaque nœud.
#
# ### Exercice 2 : prédire les probabilités
#
# Avant de changer le nombre de réplicas : avec **5** endpoints, quelle sera la `--probability` de chaque
# saut de la chaîne `KUBE-SVC-…` de `nb03/web` vers une chaîne `KUBE-SEP-…`, dans l'ordre ?
# Mettez les 5 valeurs dans `probabilities` (le dernier saut n'a pas de `--probability` : écrivez
# `1`), puis exécutez la cellule `ex.predict`, qui enregistre votre prédiction. La vérification,
# après le changement du nombre de réplicas, la compare aux règles que kube-proxy a vraiment écrites.

# %% en
probabilities = None      # 5 numbers, e.g. [0.5, 0.5, 0.5, 0.5, 1]; fractions such as "1/3" are fine
# %% fr
probabilities = None      # 5 nombres, par ex. [0.5, 0.5, 0.5, 0.5, 1] ; des fractions comme "1/3" conviennent

# %% [markdown] en hint
# Look at the chain with 3 endpoints above: `grep(rules, "-A KUBE-SVC-", "nb03/web ->")`. Why is the
# second value not 0.33?
# %% [markdown] fr hint
# Regardez la chaîne à 3 endpoints plus haut : `grep(rules, "-A KUBE-SVC-", "nb03/web ->")`. Pourquoi
# la deuxième valeur n'est-elle pas 0,33 ?

# %% [markdown] en hint
# A rule is only tried when the rules above it did not match, and every endpoint must end up with
# the same share: the rule takes 1 / (the number of endpoints still left).
# %% [markdown] fr hint
# Une règle n'est essayée que si celles du dessus n'ont pas pris, et chaque endpoint doit finir avec
# la même part : la règle vaut 1 / (le nombre d'endpoints restants).

# %% solution 03.2
probabilities = ["1/5", "1/4", "1/3", "1/2", 1]

# %%
ex.predict("03.2", probabilities, "probabilities")

# %%
view = live.show("services", cluster, lang=LANG, show_chains=True, node=worker.name)
view

# %%
!kubectl -n nb03 scale deployment web --replicas=5
!kubectl -n nb03 rollout status deployment web --timeout=60s
wait_for(lambda: len(read_service_map(worker.run(["iptables-save"])).get("nb03/web").endpoints) == 5)
!kubectl -n nb03 get endpointslices -l kubernetes.io/service-name=web
grep(worker.run(["iptables-save"]), "-A KUBE-SVC-", "nb03/web ->")

# %%
ex.check("03.2", cluster=cluster, service="nb03/web", node="worker")

# %% [markdown] en
# Back to 3 replicas: two pods are deleted, their addresses leave the EndpointSlice and their
# `KUBE-SEP` chains leave every node.
# %% [markdown] fr
# Retour à 3 réplicas : deux pods sont supprimés, leurs adresses quittent l'EndpointSlice et leurs
# chaînes `KUBE-SEP` disparaissent de chaque nœud.

# %%
!kubectl -n nb03 scale deployment web --replicas=3
wait_for(lambda: len(read_service_map(worker.run(["iptables-save"])).get("nb03/web").endpoints) == 3)
!kubectl -n nb03 get endpointslices -l kubernetes.io/service-name=web
grep(worker.run(["iptables-save"]), "-A KUBE-SVC-", "nb03/web ->")

# %% [markdown] en
# ### Services are layer 4, and their IP outlives their pods
#
# Pods have layer 3 connectivity; a Service is layer 4: kube-proxy translates TCP/UDP/SCTP ports,
# one by one, nothing else. A pod `two-ports` serves ports 80 and 8080; its Service exposes 80 only.
# So from `client`, `ping` of the pod IP answers and `ping` of the ClusterIP does not; port 80 of
# the ClusterIP connects; port 8080 connects to the pod itself, not through the ClusterIP. A
# Service cannot take a **port range** either: the API server refuses a Service whose `port` is
# `"8000-8100"` (a port is one number), with a `Status` error that kubectl prints. Then every pod of
# `web` is deleted: the Deployment replaces them, with new names and new IPs, and the ClusterIP stays.
# %% [markdown] fr
# ### Les Services sont de niveau 4, et leur IP survit à leurs pods
#
# Les pods ont une connectivité de niveau 3 ; un Service est de niveau 4 : kube-proxy traduit des
# ports TCP/UDP/SCTP, un par un, rien d'autre. Un pod `two-ports` sert les ports 80 et 8080 ; son
# Service n'expose que le 80. Depuis `client`, le `ping` de l'IP du pod répond donc, et celui de la
# ClusterIP non ; le port 80 de la ClusterIP se connecte ; le port 8080 se connecte au pod lui-même,
# pas à travers la ClusterIP. Un Service ne prend pas non plus de **plage de ports** : le serveur
# d'API refuse un Service dont le `port` vaut `"8000-8100"` (un port est un seul nombre), avec une
# erreur `Status` qu'affiche kubectl. Puis tous les pods de `web` sont supprimés : le Deployment les
# remplace, avec de nouveaux noms et de nouvelles IP, et la ClusterIP reste.

# %%
import subprocess

from labkit import proofs

TWO_PORTS = """
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: two-ports, namespace: nb03, labels: {app: two-ports}}
  spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}, {containerPort: 8080}]}]}
- apiVersion: v1
  kind: Service
  metadata: {name: two-ports, namespace: nb03}
  spec: {selector: {app: two-ports}, ports: [{port: 80}]}
"""
print(subprocess.run(["kubectl", "apply", "-f", "-"], input=TWO_PORTS, capture_output=True, text=True).stdout)
!kubectl -n nb03 wait --for=condition=Ready pod/two-ports --timeout=60s
svc_ip = !kubectl -n nb03 get service two-ports -o jsonpath='{.spec.clusterIP}'
pod_ip = !kubectl -n nb03 get pod two-ports -o jsonpath='{.status.podIP}'
l4 = proofs.service_is_l4(LAB, "nb03/client", svc_ip[0], 80, pod_ip[0], other_port=8080)
display(l4)
ranges = proofs.service_port_range_refused(LAB, namespace=NS, service="ranges", ports="8000-8100")
display(ranges)
survives = proofs.service_ip_survives(LAB, "web", namespace=NS)
!kubectl -n nb03 rollout status deployment web --timeout=60s
display(survives)
assert l4.holds and ranges.holds and survives.holds

# %% [markdown] en
# ## Recap
#
# - A Service is a stable virtual IP and name in front of pods that come and go; its
#   EndpointSlice lists the ready pods behind it, and that is what kube-proxy reads.
# - kube-proxy turns each Service port into rules on **every** node: `KUBE-SERVICES` matches the
#   ClusterIP and port, `KUBE-SVC-…` picks an endpoint at random (1/n, then 1/(n-1)… of what is
#   left: an equal share each), `KUBE-SEP-…` rewrites the destination (DNAT). The source is kept.
# - Changing the number of replicas rewrites those chains live, on every node.
# - Services are layer 4: a ClusterIP answers on the ports it exposes and nothing else (no `ping`),
#   one port at a time (no port ranges), and it stays when every pod behind it is replaced.
#
# Next: `03b-nodeport-dns-proxy-modes.ipynb`.
# %% [markdown] fr
# ## Récapitulatif
#
# - Un Service est une IP virtuelle et un nom stables devant des pods qui vont et viennent ; son
#   EndpointSlice liste les pods prêts derrière lui, et c'est ce que lit kube-proxy.
# - kube-proxy traduit chaque port de Service en règles sur **chaque** nœud : `KUBE-SERVICES`
#   reconnaît la ClusterIP et le port, `KUBE-SVC-…` choisit un endpoint au hasard (1/n, puis
#   1/(n-1)… de ce qui reste : une part égale pour chacun), `KUBE-SEP-…` réécrit la destination
#   (DNAT). La source est conservée.
# - Changer le nombre de réplicas réécrit ces chaînes en direct, sur chaque nœud.
# - Les Services sont de niveau 4 : une ClusterIP répond sur les ports qu'elle expose et rien
#   d'autre (pas de `ping`), un port à la fois (pas de plage de ports), et elle reste quand tous
#   les pods derrière elle sont remplacés.
#
# Suite : `03b-nodeport-dns-proxy-modes.ipynb`.

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
# Stop the live diagram and delete the namespace: its Services leave the rules of every node.
# %% [markdown] fr
# ## Ménage
#
# Arrêtons le schéma en direct et supprimons le namespace : ses Services quittent les règles de
# chaque nœud.

# %%
view.stop()
!kubectl delete namespace nb03 --wait=true
cluster.close()
