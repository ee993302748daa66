# %% [markdown] en
# # 3b. NodePort, DNS and kube-proxy's modes
#
# Notebook 03 created a Service and read the rules kube-proxy wrote for it. Here the same Service
# is reached from **outside** the cluster, repaired when it sends nowhere, **named** by the cluster
# DNS, and programmed by kube-proxy's other mode, **nftables**.
#
# **Goals** (about 25 minutes):
#
# 1. reach a NodePort from this machine, and choose its port;
# 2. break and fix: a Service whose selector matches no pod;
# 3. resolve Service names with the cluster DNS;
# 4. compare kube-proxy's **iptables** mode with its **nftables** mode on a second lab.
# %% [markdown] fr
# # 3b. NodePort, DNS et les modes de kube-proxy
#
# Le carnet 03 a créé un Service et lu les règles que kube-proxy a écrites pour lui. Ici, le même
# Service est joint depuis l'**extérieur** du cluster, réparé quand il n'envoie nulle part,
# **nommé** par le DNS du cluster, et programmé par l'autre mode de kube-proxy, **nftables**.
#
# **Objectifs** (environ 25 minutes) :
#
# 1. joindre un NodePort depuis cette machine, et choisir son port ;
# 2. casser et réparer : un Service dont le sélecteur ne désigne aucun pod ;
# 3. résoudre des noms de Services avec le DNS du cluster ;
# 4. comparer le mode **iptables** de kube-proxy à son mode **nftables** sur un second lab.

# %% [markdown] en
# ## Setup
#
# The lab (`LABKIT_LAB`, else `kubenet`), `kubectl` pointed at it, and notebook 03's starting point
# in a clean namespace `nb03`: the Deployment `web` (three replicas of `jpetazzo/color`), its
# Service, and a `client` pod.
# %% [markdown] fr
# ## Mise en place
#
# Le lab (`LABKIT_LAB`, sinon `kubenet`), `kubectl` branché dessus, et le point de départ du carnet
# 03 dans un namespace `nb03` propre : le Deployment `web` (trois réplicas de `jpetazzo/color`), son
# Service, et un pod `client`.

# %%
import json
import os
import sys
import time

import labkit
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it
from labkit import exercises as ex
from labkit.kubeproxy import format_table, read_service_map
from labkit.nbsetup import grep, open_lab, wait_for   # the setup notebooks 03 and 03b share

LAB, cluster, lab = open_lab()   # LABKIT_LAB, else kubenet; KUBECONFIG for !kubectl; its shape from its API
LABKIT = f"{sys.executable} -m labkit"          # the `labkit` command, whatever the environment
NS = "nb03"
worker = cluster.node("worker")

print(cluster, tr("- kube-proxy mode:", "- mode de kube-proxy :"), lab["proxyMode"])

# %%
!kubectl delete namespace nb03 --ignore-not-found --wait=true
!kubectl create namespace nb03
!kubectl -n nb03 create deployment web --image=jpetazzo/color --replicas=3
!kubectl -n nb03 expose deployment web --port=80
!kubectl -n nb03 run client --image=nicolaka/netshoot --command -- sleep infinity
!kubectl -n nb03 rollout status deployment web --timeout=60s
!kubectl -n nb03 wait --for=condition=Ready pod/client --timeout=60s
!kubectl -n nb03 get pods -o wide

# %% [markdown] en
# ## 1. NodePort: reaching a Service from outside the cluster
#
# A **NodePort** Service also listens on one port (30000-32767) of **every** node, whether the
# node runs one of the pods or not. This machine is outside the cluster, but it reaches the node
# IPs: let us call every node.
# %% [markdown] fr
# ## 1. NodePort : joindre un Service depuis l'extérieur du cluster
#
# Un Service **NodePort** écoute aussi sur un port (30000-32767) de **chaque** nœud, qu'il
# héberge l'un des pods ou non. Cette machine est hors du cluster, mais elle joint les IP des
# nœuds : appelons chaque nœud.

# %%
!kubectl -n nb03 expose deployment web --name=web-np --type=NodePort --port=80
!kubectl -n nb03 get service web-np
web_np = !kubectl -n nb03 get service web-np -o json
node_port = json.loads(web_np.n)["spec"]["ports"][0]["nodePort"]
for node in lab["nodes"]:
    print(node["name"], node["ip"], end=": ")
    node_ip = node["ip"]
    !curl -s --retry 10 --retry-connrefused --retry-delay 1 -m 2 http://{node_ip}:{node_port}/
    print()

# %% [markdown] en
# The `client_ip` is no longer this machine's address but the **node's** own (its node IP, or the
# gateway address it holds on the pods' side): traffic that enters through a NodePort is
# masqueraded (SNAT), so that the reply goes back through the node it came in by. On the node,
# `KUBE-NODEPORTS` matches the port and jumps to a `KUBE-EXT-…` chain, which marks the packet for
# masquerading and then joins the Service's `KUBE-SVC-…` chain.
# %% [markdown] fr
# Le `client_ip` n'est plus l'adresse de cette machine mais celle du **nœud** (son IP de nœud, ou
# l'adresse de passerelle qu'il porte côté pods) : le trafic entré par un NodePort voit son
# adresse source traduite (SNAT, le « masquerading »), pour que la réponse reparte par le nœud
# d'entrée. Sur le nœud, `KUBE-NODEPORTS` reconnaît
# le port et saute vers une chaîne `KUBE-EXT-…`, qui marque le paquet pour le masquerading puis
# rejoint la chaîne `KUBE-SVC-…` du Service.

# %%
rules = worker.run(["iptables-save"])
grep(rules, "-A KUBE-NODEPORTS", "nb03/web-np")
ext_chain = next(line for line in rules.splitlines()
                 if line.startswith("-A KUBE-NODEPORTS") and '"nb03/web-np"' in line).split()[-1]
grep(rules, f"-A {ext_chain} ")

# %% [markdown] en
# ### Exercise 3: a NodePort on a given port
#
# The port was chosen at random. Make the Service `web-np` answer on port **30080** of every node.
# (Tip: `kubectl patch` or `kubectl edit` the Service and set `nodePort` in its port.)
# %% [markdown] fr
# ### Exercice 3 : un NodePort sur un port donné
#
# Le port a été tiré au hasard. Faites répondre le Service `web-np` sur le port **30080** de chaque
# nœud. (Astuce : `kubectl patch` ou `kubectl edit` sur le Service, en renseignant `nodePort` dans
# son port.)

# %% en
# Your command here (!kubectl ...)
# %% fr
# Votre commande ici (!kubectl ...)

# %% [markdown] en hint
# A Service's port has a `nodePort` field; `kubectl patch` changes it.
# %% [markdown] fr hint
# Le port d'un Service a un champ `nodePort` ; `kubectl patch` le modifie.

# %% [markdown] en hint
# `kubectl -n nb03 patch service web-np -p '{"spec": {"ports": [{"port": 80, "nodePort": ...}]}}'`
# %% [markdown] fr hint
# `kubectl -n nb03 patch service web-np -p '{"spec": {"ports": [{"port": 80, "nodePort": ...}]}}'`

# %% solution 03.3
!kubectl -n nb03 patch service web-np -p '{"spec": {"ports": [{"port": 80, "nodePort": 30080}]}}'

# %%
ex.check("03.3", cluster=cluster, namespace=NS, service="web-np", node_port=30080, deployment="web",
         client_pod="nb03/client")

# %% [markdown] en
# ### Exercise 4: break and fix, a Service that sends nowhere
#
# A colleague exposed the `web` pods under a second name, `shop`, and it does not work: the
# Service exists, it has a ClusterIP, and every request fails. Look at its EndpointSlice, then
# repair the Service (do not delete it: fix it in place).
# %% [markdown] fr
# ### Exercice 4 : casser et réparer, un Service qui n'envoie nulle part
#
# Un collègue a exposé les pods `web` sous un second nom, `shop`, et ça ne marche pas : le Service
# existe, il a une ClusterIP, et chaque requête échoue. Regardez son EndpointSlice, puis réparez le
# Service (ne le supprimez pas : corrigez-le sur place).

# %%
%%bash
kubectl apply -f - <<EOF
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: nb03}
spec:
  selector: {app: wbe}
  ports: [{port: 80, targetPort: 80}]
EOF
kubectl -n nb03 get service shop
kubectl -n nb03 get endpointslices -l kubernetes.io/service-name=shop
kubectl -n nb03 exec client -- curl -s -m 2 http://shop || echo "✘ http://shop (curl: $?)"

# %% en
# Your repair here (!kubectl ...)
# %% fr
# Votre réparation ici (!kubectl ...)

# %% [markdown] en hint
# An empty EndpointSlice means the Service's selector matches no ready pod. Compare
# `kubectl -n nb03 get service shop -o wide` with `kubectl -n nb03 get pods --show-labels`.
# %% [markdown] fr hint
# Une EndpointSlice vide veut dire que le sélecteur du Service ne désigne aucun pod prêt. Comparez
# `kubectl -n nb03 get service shop -o wide` et `kubectl -n nb03 get pods --show-labels`.

# %% [markdown] en hint
# `kubectl set selector service shop KEY=VALUE` replaces the selector (so does `kubectl edit` or a
# `kubectl patch`).
# %% [markdown] fr hint
# `kubectl set selector service shop CLÉ=VALEUR` remplace le sélecteur (`kubectl edit` ou un
# `kubectl patch` aussi).

# %% solution 03.4
!kubectl -n nb03 patch service shop -p '{"spec": {"selector": {"app": "web"}}}'

# %%
ex.check("03.4", cluster=cluster, service="nb03/shop", client_pod="nb03/client")

# %% [markdown] en
# ## 2. DNS: names for Services
#
# A pod's `/etc/resolv.conf` points at the cluster DNS (itself a Service, `kube-dns`, in front of
# the CoreDNS pods) and searches `<namespace>.svc.cluster.local` first. So `web` resolves to the
# ClusterIP of `web` in the pod's own namespace; from elsewhere, say `web.nb03`.
# %% [markdown] fr
# ## 2. DNS : des noms pour les Services
#
# Le `/etc/resolv.conf` d'un pod pointe vers le DNS du cluster (lui-même un Service, `kube-dns`,
# devant les pods CoreDNS) et cherche d'abord dans `<namespace>.svc.cluster.local`. Ainsi `web`
# se résout en la ClusterIP de `web` dans le namespace du pod ; depuis ailleurs, on écrit
# `web.nb03`.

# %%
!kubectl -n nb03 exec client -- cat /etc/resolv.conf
!kubectl -n kube-system get service kube-dns
!kubectl -n nb03 exec client -- dig +short web.nb03.svc.cluster.local
!kubectl -n nb03 exec client -- dig +short +search web
!kubectl -n nb03 get service web -o custom-columns=CLUSTER-IP:.spec.clusterIP

# %% [markdown] en
# The DNS Service is balanced by the same rules as any other: two CoreDNS endpoints, half of the
# new "connections" (UDP flows) each.
# %% [markdown] fr
# Le Service DNS est réparti par les mêmes règles que les autres : deux endpoints CoreDNS, chacun
# recevant la moitié des nouveaux « flux » UDP.

# %%
grep(worker.run(["iptables-save"]), "-A KUBE-SVC-", "kube-system/kube-dns:dns ->")

# %% [markdown] en
# ## 3. iptables mode versus nftables mode
#
# In iptables mode, a packet to a ClusterIP walks `KUBE-SERVICES` **rule by rule** until one
# matches: the more Services, the longer the walk, and every change rewrites big tables. That is
# the "kube-proxy doesn't scale very well" of the chapter. kube-proxy's **nftables** mode (beta in
# Kubernetes 1.31, the "tables have turned" talk) replaces the walk with one lookup in a **verdict
# map** keyed by *IP . protocol . port*, and picks the endpoint with `numgen random`.
#
# Let us start a second, small lab in nftables mode (a few seconds): `labkit.companion("nftables")`
# asks your lab's daemon for it, so no root is needed (as root,
# `labkit up --name <name> --proxy-mode nftables` makes the same). Then we create the same
# Deployment and Service there.
# %% [markdown] fr
# ## 3. Mode iptables contre mode nftables
#
# En mode iptables, un paquet vers une ClusterIP parcourt `KUBE-SERVICES` **règle après règle**
# jusqu'à la bonne : plus il y a de Services, plus le parcours est long, et chaque changement
# réécrit de grosses tables. C'est le « kube-proxy ne passe pas très bien à l'échelle » du
# chapitre. Le mode **nftables** de kube-proxy (bêta en Kubernetes 1.31, GA en 1.33, l'exposé « the tables
# have turned ») remplace ce parcours par une seule recherche dans une **map de verdicts** indexée
# par *IP . protocole . port*, et choisit l'endpoint avec `numgen random`.
#
# Lançons un second petit lab en mode nftables (quelques secondes) : `labkit.companion("nftables")`
# le demande au démon de votre lab, sans besoin d'être root (en root,
# `labkit up --name <nom> --proxy-mode nftables` fait de même). Puis créons-y le même Deployment et
# le même Service.

# %%
cluster2 = labkit.companion("nftables", lab=LAB)   # 2 nodes, kube-proxy in nftables mode
LAB2 = cluster2.lab
KC2 = str(readable_kubeconfig(LAB2))
!kubectl --kubeconfig {KC2} create namespace nb03
!kubectl --kubeconfig {KC2} -n nb03 create deployment web --image=jpetazzo/color --replicas=3
!kubectl --kubeconfig {KC2} -n nb03 expose deployment web --port=80
!kubectl --kubeconfig {KC2} -n nb03 rollout status deployment web --timeout=60s
worker2 = cluster2.node("worker")


def nft_rules():
    return worker2.run(["nft", "list", "table", "ip", "kube-proxy"])


def block(text, start):
    """The lines of the nft block whose first line contains `start`, down to its closing brace."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line and line.rstrip().endswith("{"))
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    last = next(i for i in range(first + 1, len(lines)) if lines[i] == indent + "}")
    return "\n".join(lines[first:last + 1])


wait_for(lambda: "nb03/web" in nft_rules())

# %% [markdown] en
# On a node of the nftables lab (`nft list table ip kube-proxy`): the `services` chain does **one**
# lookup in the `service-ips` map, whose elements send each ClusterIP and port to the Service's
# chain; that chain picks an endpoint with `numgen random mod 3`.
# %% [markdown] fr
# Sur un nœud du lab nftables (`nft list table ip kube-proxy`) : la chaîne `services` fait **une
# seule** recherche dans la map `service-ips`, dont les éléments envoient chaque ClusterIP et port
# vers la chaîne du Service ; celle-ci choisit un endpoint avec `numgen random mod 3`.

# %%
nft = nft_rules()
print(block(nft, "chain services "))
print(block(nft, "map service-ips "))
print(block(nft, "nb03/web/tcp/ {"))

# %% [markdown] en
# The same reader gives the same service map (here from `nft -j list ruleset`): a third each.
# %% [markdown] fr
# Le même lecteur donne la même carte des services (ici depuis `nft -j list ruleset`) : un tiers
# chacun.

# %%
print(format_table(read_service_map(worker2.run(["nft", "-j", "list", "ruleset"]), "worker: nft -j")))

# %% [markdown] en
# Count what a packet may have to walk through: in iptables mode, one `KUBE-SERVICES` rule per
# Service port (try it with thousands of Services, as notebook 5 does); in nftables mode, one map
# lookup whatever the number of elements. We are done with the second lab: `labkit.companion(..., stop=True)` removes it.
# %% [markdown] fr
# Comptons ce qu'un paquet peut avoir à parcourir : en mode iptables, une règle `KUBE-SERVICES` par
# port de Service (imaginez des milliers de Services, comme au carnet 5) ; en mode nftables, une
# recherche dans une map, quel que soit son nombre d'éléments. Nous en avons fini avec le second
# lab : `labkit.companion(..., stop=True)` le supprime.

# %%
iptables_rules = sum(1 for line in worker.run(["iptables-save"]).splitlines()
                     if line.startswith("-A KUBE-SERVICES") and "--comment" in line)
print(tr("iptables: KUBE-SERVICES rules to walk:", "iptables : règles de KUBE-SERVICES à parcourir :"),
      iptables_rules)
print(tr("nftables: {} lookup in a map of {} elements",
         "nftables : {} recherche dans une map de {} éléments").format(
    nft.count("vmap @service-ips"), block(nft, "map service-ips ").count(" : goto ")))
cluster2.close()
labkit.companion("nftables", lab=LAB, stop=True)

# %% [markdown] en
# ## Recap
#
# - A NodePort opens a Service on one port (30000-32767) of **every** node; what enters by it is
#   masqueraded (SNAT), so that the reply goes back through the node it came in by.
# - An empty EndpointSlice means the Service's selector matches no ready pod: the ClusterIP exists,
#   and every request to it fails.
# - The cluster DNS names each Service `<service>.<namespace>.svc.cluster.local`; a pod's search
#   list makes the short name work in its own namespace. The DNS Service is balanced like any other.
# - In iptables mode a packet walks `KUBE-SERVICES` rule by rule; the nftables mode does one lookup
#   in a verdict map, whatever the number of Services.
# %% [markdown] fr
# ## Récapitulatif
#
# - Un NodePort ouvre un Service sur un port (30000-32767) de **chaque** nœud ; ce qui entre par là
#   voit sa source traduite (SNAT), pour que la réponse reparte par le nœud d'entrée.
# - Une EndpointSlice vide veut dire que le sélecteur du Service ne désigne aucun pod prêt : la
#   ClusterIP existe, et chaque requête vers elle échoue.
# - Le DNS du cluster nomme chaque Service `<service>.<namespace>.svc.cluster.local` ; la liste de
#   recherche d'un pod fait marcher le nom court dans son propre namespace. Le Service DNS est
#   réparti comme les autres.
# - En mode iptables, un paquet parcourt `KUBE-SERVICES` règle après règle ; le mode nftables fait
#   une seule recherche dans une map de verdicts, quel que soit le nombre de Services.

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
# Delete the namespace: its Services leave the rules of every node.
# %% [markdown] fr
# ## Ménage
#
# Supprimons le namespace : ses Services quittent les règles de chaque nœud.

# %%
!kubectl delete namespace nb03 --wait=true
cluster.close()
