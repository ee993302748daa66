# %% [markdown] en
# # 4. Network policies
#
# The Kubernetes network model says: **everything can reach everything**. That is good for getting
# started and bad for security: if we want isolation, we add **NetworkPolicies**, the firewall of
# the pod network. They are enforced by a component of the network stack (Calico, Cilium,
# kube-router… here the lab's own enforcer, nftables rules on each node); some clusters have
# none out of the box, and there the policies are accepted by the API and silently ignored.
#
# In this notebook we will:
#
# 1. check with real packets that every pod reaches every pod;
# 2. write a **default deny**, then open exactly what is needed;
# 3. fall into the **AND/OR trap** of selectors, and get out of it;
# 4. see how an egress policy breaks **DNS**, and fix it;
# 5. compare the matrix the policies **predict** with the one the packets **observe**, and ask
#    `labkit.explain` why a cell is what it is.
# %% [markdown] fr
# # 4. Les politiques réseau
#
# Le modèle réseau de Kubernetes dit : **tout le monde joint tout le monde**. Pratique pour
# démarrer, mauvais pour la sécurité : pour isoler, on ajoute des **NetworkPolicies**, le pare-feu
# du réseau de pods. Elles sont appliquées par un composant de la pile réseau (Calico, Cilium,
# kube-router… ici le contrôleur du lab, des règles nftables sur chaque nœud) ; certains clusters
# n'en ont aucun d'origine, et les politiques y sont acceptées par l'API puis ignorées sans un mot.
#
# Dans ce carnet, nous allons :
#
# 1. vérifier avec de vrais paquets que chaque pod joint chaque pod ;
# 2. écrire un **refus par défaut**, puis ouvrir exactement ce qu'il faut ;
# 3. tomber dans le **piège du ET/OU** des sélecteurs, et en sortir ;
# 4. voir comment une politique de sortie casse le **DNS**, et le réparer ;
# 5. comparer la matrice que les politiques **prévoient** à celle que les paquets **constatent**,
#    et demander à `labkit.explain` pourquoi une case est ce qu'elle est.

# %% [markdown] en
# ## Setup
#
# The lab (`LABKIT_LAB`, else `kubenet`), `kubectl` pointed at it, and three namespaces made from
# scratch: `nb04` (a small shop: `web`, `api`, and a `metrics` pod labelled `role=monitoring`),
# `nb04-front` (the `front` pod) and `nb04-ops` (`prometheus`, labelled `role=monitoring`, and a
# `shell`). The namespaces carry a `team` label; every namespace also gets
# `kubernetes.io/metadata.name=<its name>` automatically.
# %% [markdown] fr
# ## Mise en place
#
# Le lab (`LABKIT_LAB`, sinon `kubenet`), `kubectl` branché dessus, et trois namespaces créés de
# zéro : `nb04` (une petite boutique : `web`, `api`, et un pod `metrics` étiqueté
# `role=monitoring`), `nb04-front` (le pod `front`) et `nb04-ops` (`prometheus`, étiqueté
# `role=monitoring`, et un `shell`). Les namespaces portent une étiquette `team` ; chaque
# namespace reçoit aussi automatiquement `kubernetes.io/metadata.name=<son nom>`.

# %%
import os

from IPython.display import HTML

import labkit
from labkit import live
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it
from labkit import exercises as ex

LAB = os.environ.get("LABKIT_LAB", "kubenet")
os.environ["KUBECONFIG"] = str(readable_kubeconfig(LAB))
cluster = labkit.connect(lab=LAB)
NAMESPACES = "nb04,nb04-front,nb04-ops"
!kubectl delete namespace nb04 nb04-front nb04-ops --ignore-not-found --wait=true

# %%
%%bash
kubectl apply -f - <<EOF
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: nb04, labels: {team: shop}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: nb04-front, labels: {team: front}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: nb04-ops, labels: {team: ops}}}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: nb04, labels: {app: web}}
  spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}, {containerPort: 8080}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: api, namespace: nb04, labels: {app: api}}
  spec: {containers: [{name: api, image: nginx, ports: [{containerPort: 80}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: metrics, namespace: nb04, labels: {role: monitoring}}
  spec: {containers: [{name: metrics, image: nginx, ports: [{containerPort: 80}]}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: nb04}
  spec: {selector: {app: web}, ports: [{port: 80}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: front, namespace: nb04-front, labels: {app: front}}
  spec: {containers: [{name: front, image: nginx, ports: [{containerPort: 80}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: prometheus, namespace: nb04-ops, labels: {role: monitoring}}
  spec: {containers: [{name: prometheus, image: nginx, ports: [{containerPort: 80}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: shell, namespace: nb04-ops, labels: {app: shell}}
  spec: {containers: [{name: shell, image: nginx, ports: [{containerPort: 80}]}]}
EOF
for ns in nb04 nb04-front nb04-ops; do kubectl -n $ns wait --for=condition=Ready pod --all --timeout=60s; done
kubectl get namespaces -l team --show-labels

# %% [markdown] en
# ## 1. Everything reaches everything
#
# `labkit.probe` does what the upstream e2e tests of NetworkPolicy do: from **every** pod, it
# opens a TCP connection to **every** pod on port 80, with real packets, and draws the matrix
# (rows: sources, columns: destinations). It also compares each cell with what the policies
# predict. No policy yet: everything is open.
# %% [markdown] fr
# ## 1. Tout le monde joint tout le monde
#
# `labkit.probe` fait ce que font les tests e2e de NetworkPolicy en amont : depuis **chaque** pod,
# il ouvre une connexion TCP vers **chaque** pod sur le port 80, avec de vrais paquets, et dessine
# la matrice (lignes : sources, colonnes : destinations). Il compare aussi chaque case à ce que
# prévoient les politiques. Pas encore de politique : tout est ouvert.

# %%
labkit.probe(LAB, namespaces=NAMESPACES)

# %% [markdown] en
# The live diagram of the red layer: a pod turns red when a policy isolates it, and the arrows
# show who may connect to whom on port 80. It redraws at each change, so keep it in view while
# you write policies.
# %% [markdown] fr
# Le diagramme en direct de la couche rouge : un pod passe en rouge quand une politique l'isole,
# et les flèches montrent qui peut se connecter à qui sur le port 80. Il se redessine à chaque
# changement : gardez-le sous les yeux pendant que vous écrivez des politiques.

# %%
view = live.show("policies", cluster, lang=LANG, port=80)
view

# %% [markdown] en
# ## 2. Default deny
#
# A pod is **isolated** for incoming traffic as soon as one policy selects it with the `Ingress`
# type; from then on, only what some policy allows gets in (policies add up). A policy whose
# `podSelector` is empty (`{}`) selects every pod of its namespace; with no `ingress` rule, it
# allows nothing. Replies to allowed connections always pass, and a pod can always reach itself.
#
# ### Exercise 1: a default deny
#
# Write a policy that denies all **incoming** traffic to every pod of `nb04` (and only incoming:
# the pods of `nb04` must still be able to connect out). Apply it with `kubectl apply`.
# %% [markdown] fr
# ## 2. Refus par défaut
#
# Un pod est **isolé** en entrée dès qu'une politique le sélectionne avec le type `Ingress` ; dès
# lors, n'entre que ce qu'une politique autorise (les politiques s'additionnent). Une politique au
# `podSelector` vide (`{}`) sélectionne tous les pods de son namespace ; sans règle `ingress`, elle
# n'autorise rien. Les réponses aux connexions autorisées passent toujours, et un pod peut toujours
# se joindre lui-même.
#
# ### Exercice 1 : un refus par défaut
#
# Écrivez une politique qui refuse tout le trafic **entrant** vers chaque pod de `nb04` (et
# seulement l'entrant : les pods de `nb04` doivent toujours pouvoir se connecter vers
# l'extérieur). Appliquez-la avec `kubectl apply`.

# %% en
# Your policy here: a cell that starts with %%bash, then
# kubectl apply -f - <<EOF
# ...
# EOF
# %% fr
# Votre politique ici : une cellule qui commence par %%bash, puis
# kubectl apply -f - <<EOF
# ...
# EOF

# %% [markdown] en hint
# An empty `podSelector: {}` selects every pod of the policy's namespace.
# %% [markdown] fr hint
# Un `podSelector: {}` vide sélectionne tous les pods du namespace de la politique.

# %% [markdown] en hint
# `policyTypes: [Ingress]` and no `ingress` rule: nothing gets in, and egress is left alone.
# %% [markdown] fr hint
# `policyTypes: [Ingress]` et aucune règle `ingress` : rien n'entre, et la sortie n'est pas touchée.

# %% solution 04.1
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: nb04
spec:
  podSelector: {}
  policyTypes: [Ingress]
EOF

# %%
ex.check("04.1", cluster=cluster, namespace="nb04", namespaces=NAMESPACES)

# %% [markdown] en
# ## 3. Allow from a namespace
#
# A rule's `from` lists **peers**. A peer with a `namespaceSelector` selects the pods of the
# namespaces whose labels match; a peer with only a `podSelector` selects pods of the policy's
# **own** namespace. A rule may also list `ports`: without them, every port is open to the peers.
#
# ### Exercise 2: only the front end, only on port 80
#
# The `web` pod serves ports 80 and 8080. Allow the pods of namespace `nb04-front` (and no one
# else) to reach `web` in `nb04`, on TCP port **80** only.
# %% [markdown] fr
# ## 3. Autoriser depuis un namespace
#
# Le `from` d'une règle liste des **pairs**. Un pair avec un `namespaceSelector` désigne les pods
# des namespaces dont les étiquettes correspondent ; un pair avec seulement un `podSelector`
# désigne des pods du namespace **de la politique**. Une règle peut aussi lister des `ports` : sans
# eux, tous les ports sont ouverts aux pairs.
#
# ### Exercice 2 : seulement le front, seulement le port 80
#
# Le pod `web` sert les ports 80 et 8080. Autorisez les pods du namespace `nb04-front` (et
# personne d'autre) à joindre `web` dans `nb04`, sur le port TCP **80** seulement.

# %% en
# Your policy here (%%bash + kubectl apply -f - <<EOF ... EOF)
# %% fr
# Votre politique ici (%%bash + kubectl apply -f - <<EOF ... EOF)

# %% [markdown] en hint
# `kubectl get namespace nb04-front --show-labels`: a `namespaceSelector` matches those labels.
# %% [markdown] fr hint
# `kubectl get namespace nb04-front --show-labels` : un `namespaceSelector` s'appuie sur ces étiquettes.

# %% [markdown] en hint
# Select `web` with `podSelector: {matchLabels: {app: web}}`, one rule with a `namespaceSelector` peer and `ports: [{protocol: TCP, port: 80}]`.
# %% [markdown] fr hint
# Sélectionnez `web` avec `podSelector: {matchLabels: {app: web}}`, une règle avec un pair `namespaceSelector` et `ports: [{protocol: TCP, port: 80}]`.

# %% solution 04.2
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-front
  namespace: nb04
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: front}
    ports:
    - {protocol: TCP, port: 80}
EOF

# %%
ex.check("04.2", cluster=cluster, dst="nb04/web", from_namespace="nb04-front", other_port=8080,
         namespaces=NAMESPACES)

# %% [markdown] en
# ## 4. The AND/OR trap
#
# The intent: "only the **monitoring** pods of the **ops** team may reach `api`". The policy in the
# `%%bash` cell below looks right. Read it, **do not run it yet**.
#
# ### Exercise 3: predict who gets in
#
# Once that policy is applied (on top of the policies already there), which pods will reach
# `nb04/api` on port 80? Put them in `reaches_api`, a set of `"namespace/name"` strings (the pods:
# `nb04/web`, `nb04/metrics`, `nb04-front/front`, `nb04-ops/prometheus`, `nb04-ops/shell`), and
# run the `ex.predict` cell. Then apply the policy: the check probes with real packets.
# %% [markdown] fr
# ## 4. Le piège du ET/OU
#
# L'intention : « seuls les pods de **monitoring** de l'équipe **ops** peuvent joindre `api` ».
# La politique de la cellule `%%bash` plus bas en a l'air. Lisez-la, **ne l'exécutez pas encore**.
#
# ### Exercice 3 : prédire qui entre
#
# Une fois cette politique appliquée (en plus des politiques déjà là), quels pods joindront
# `nb04/api` sur le port 80 ? Mettez-les dans `reaches_api`, un ensemble de chaînes
# `"namespace/nom"` (les pods : `nb04/web`, `nb04/metrics`, `nb04-front/front`,
# `nb04-ops/prometheus`, `nb04-ops/shell`), et exécutez la cellule `ex.predict`. Appliquez ensuite
# la politique : la vérification sonde avec de vrais paquets.

# %%
reaches_api = None

# %% [markdown] en hint
# Count the dashes under `from`: each one starts a peer, and a pod gets in when **any** peer
# matches it. A peer with only `podSelector` means pods of the policy's own namespace.
# %% [markdown] fr hint
# Comptez les tirets sous `from` : chacun commence un pair, et un pod entre dès qu'**un** pair lui
# correspond. Un pair avec seulement `podSelector` désigne des pods du namespace de la politique.

# %% [markdown] en hint
# Also mind what is already there: is `api` isolated by an earlier policy (exercise 1)? Then only
# what some policy allows gets in. Namespace labels: `kubectl get namespaces -l team --show-labels`.
# %% [markdown] fr hint
# Pensez aussi à ce qui est déjà là : `api` est-il isolé par une politique antérieure (exercice 1) ?
# Alors n'entre que ce qu'une politique autorise. Étiquettes des namespaces :
# `kubectl get namespaces -l team --show-labels`.

# %% solution 04.3
reaches_api = {"nb04-ops/prometheus", "nb04-ops/shell", "nb04/metrics"}

# %%
ex.predict("04.3", reaches_api, "reaches_api")

# %%
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-from-monitoring
  namespace: nb04
spec:
  podSelector:
    matchLabels: {app: api}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: ops}
    - podSelector:
        matchLabels: {role: monitoring}
    ports:
    - {protocol: TCP, port: 80}
EOF

# %% [markdown] en
# Its `from` has **two peers** (two dashes): they are ORed. The first lets in every pod of the ops
# namespaces; the second lets in the `role=monitoring` pods of the policy's own namespace, `nb04`.
# The check compares your prediction with real packets:
# %% [markdown] fr
# Son `from` a **deux pairs** (deux tirets) : ils se combinent en OU. Le premier laisse entrer
# tous les pods des namespaces d'ops ; le second laisse entrer les pods `role=monitoring` du
# namespace de la politique, `nb04`. La vérification compare votre prédiction à de vrais paquets :

# %%
ex.check("04.3", cluster=cluster, dst="nb04/api", namespaces=NAMESPACES)

# %% [markdown] en
# What the policies predict (`labkit.reachability`, computed from the objects, no packet sent):
# look at the `nb04/api` column. `labkit.explain` says, rule by rule, why `nb04-ops/shell` gets
# in.
# %% [markdown] fr
# Ce que prévoient les politiques (`labkit.reachability`, calculé d'après les objets, sans envoyer
# de paquet) : regardez la colonne `nb04/api`. `labkit.explain` dit, règle par règle, pourquoi
# `nb04-ops/shell` entre.

# %%
labkit.reachability(LAB, namespaces=NAMESPACES)

# %%
labkit.explain(LAB, "nb04-ops/shell", "nb04/api", port=80)

# %% [markdown] en
# ### Exercise 4: fix the AND/OR mistake
#
# Change the policy `api-from-monitoring` so that **only** `nb04-ops/prometheus` (a
# `role=monitoring` pod in a `team=ops` namespace) reaches `nb04/api`. Tip: both selectors must
# be in **one** peer (one dash), so that both must match.
# %% [markdown] fr
# ### Exercice 4 : corriger l'erreur de ET/OU
#
# Modifiez la politique `api-from-monitoring` pour que **seul** `nb04-ops/prometheus` (un pod
# `role=monitoring` dans un namespace `team=ops`) joigne `nb04/api`. Astuce : les deux sélecteurs
# doivent être dans **un seul** pair (un seul tiret), pour que les deux conditions s'appliquent (ET).

# %% en
# Your fixed policy here (%%bash + kubectl apply -f - <<EOF ... EOF)
# %% fr
# Votre politique corrigée ici (%%bash + kubectl apply -f - <<EOF ... EOF)

# %% [markdown] en hint
# In YAML, each `-` under `from` starts a new peer; peers are ORed.
# %% [markdown] fr hint
# En YAML, chaque `-` sous `from` commence un nouveau pair ; les pairs se combinent en OU.

# %% [markdown] en hint
# Remove the dash before `podSelector`, so that it sits in the same peer as `namespaceSelector`.
# %% [markdown] fr hint
# Enlevez le tiret devant `podSelector`, pour qu'il soit dans le même pair que `namespaceSelector`.

# %% solution 04.4
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-from-monitoring
  namespace: nb04
spec:
  podSelector:
    matchLabels: {app: api}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: ops}
      podSelector:
        matchLabels: {role: monitoring}
    ports:
    - {protocol: TCP, port: 80}
EOF

# %%
ex.check("04.4", cluster=cluster, dst="nb04/api", expected=["nb04-ops/prometheus"], namespaces=NAMESPACES)

# %% [markdown] en
# ## 5. Egress, and the DNS trap
#
# Policies also filter what leaves a pod (`policyTypes: [Egress]`). Deny all outgoing traffic of
# `nb04-front`, then try to call the `web` Service by name from `front`…
# %% [markdown] fr
# ## 5. La sortie, et le piège du DNS
#
# Les politiques filtrent aussi ce qui sort d'un pod (`policyTypes: [Egress]`). Refusons tout le
# trafic sortant de `nb04-front`, puis essayons d'appeler le Service `web` par son nom depuis
# `front`…

# %%
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-egress
  namespace: nb04-front
spec:
  podSelector: {}
  policyTypes: [Egress]
EOF
sleep 1
kubectl -n nb04-front exec front -- curl -s -m 3 http://web.nb04 || echo "✘ curl: $?"
kubectl -n nb04-front exec front -- dig +time=1 +tries=1 web.nb04.svc.cluster.local || true

# %% [markdown] en
# The request fails before it even starts: **name resolution** is traffic too (UDP and TCP port 53
# to the CoreDNS pods behind `kube-dns`), and the egress deny dropped it. Every egress policy needs
# its DNS rule.
#
# ### Exercise 5: break and fix, give DNS back
#
# Keep `deny-egress`, and add a policy in `nb04-front` that lets its pods query the cluster DNS,
# **and nothing else** (the check resolves `web.nb04.svc.cluster.local` from `front`, and makes sure
# `front` still cannot reach `nb04-ops/shell`).
# %% [markdown] fr
# La requête échoue avant même de partir : la **résolution de noms** est du trafic elle aussi (UDP
# et TCP port 53 vers les pods CoreDNS derrière `kube-dns`), et le refus en sortie l'a bloquée.
# Toute politique de sortie a besoin de sa règle DNS.
#
# ### Exercice 5 : casser et réparer, rendre le DNS
#
# Gardez `deny-egress`, et ajoutez une politique dans `nb04-front` qui laisse ses pods interroger
# le DNS du cluster, **et rien d'autre** (la vérification résout `web.nb04.svc.cluster.local`
# depuis `front`, et s'assure que `front` ne joint toujours pas `nb04-ops/shell`).

# %% en
# Your policy here (%%bash + kubectl apply -f - <<EOF ... EOF)
# %% fr
# Votre politique ici (%%bash + kubectl apply -f - <<EOF ... EOF)

# %% [markdown] en hint
# An `Egress` policy with one rule: `to` the DNS pods, on `ports` 53. Where do they run, and with
# which labels? `kubectl -n kube-system get pods --show-labels`.
# %% [markdown] fr hint
# Une politique `Egress` avec une règle : `to` vers les pods DNS, sur les `ports` 53. Où tournent-ils,
# avec quelles étiquettes ? `kubectl -n kube-system get pods --show-labels`.

# %% [markdown] en hint
# One peer with both `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}`
# and `podSelector: {matchLabels: {k8s-app: kube-dns}}`; ports `{protocol: UDP, port: 53}` and
# `{protocol: TCP, port: 53}`.
# %% [markdown] fr hint
# Un seul pair avec à la fois `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}`
# et `podSelector: {matchLabels: {k8s-app: kube-dns}}` ; ports `{protocol: UDP, port: 53}` et
# `{protocol: TCP, port: 53}`.

# %% solution 04.5
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
  namespace: nb04-front
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
EOF

# %%
ex.check("04.5", cluster=cluster, pod="nb04-front/front", name="web.nb04.svc.cluster.local", other="nb04-ops/shell")

# %%
%%bash
kubectl -n nb04-front exec front -- dig +short +time=1 +tries=1 web.nb04.svc.cluster.local
kubectl -n nb04-front exec front -- curl -s -m 3 http://web.nb04 || echo "✘ curl: $?"

# %% [markdown] en
# The name resolves now, but the connection to `web` still has no way out. Policies are checked
# **after** kube-proxy's DNAT: an egress rule names the **pods** behind a Service (by label), not
# its ClusterIP. Allow `front` to reach the `web` pods of `nb04` on port 80:
# %% [markdown] fr
# Le nom se résout maintenant, mais la connexion vers `web` n'a toujours pas le droit de sortir.
# Les politiques s'appliquent **après** le DNAT de kube-proxy : une règle de sortie désigne les
# **pods** derrière un Service (par leurs étiquettes), pas sa ClusterIP. Autorisons `front` à
# joindre les pods `web` de `nb04` sur le port 80 :

# %%
%%bash
kubectl apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: to-web
  namespace: nb04-front
spec:
  podSelector: {}
  egress:
  - to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: nb04}
      podSelector:
        matchLabels: {app: web}
    ports:
    - {protocol: TCP, port: 80}
EOF
sleep 1
kubectl -n nb04-front exec front -- curl -s -m 3 http://web.nb04 || echo "✘ curl: $?"

# %% [markdown] en
# ## 6. Predicted versus observed
#
# On the left, the matrix the policies predict (computed by labkit's policy engine from the API
# objects); on the right, the one real packets observe. Where they differ, the probe outlines the
# cell: an enforcer that disagrees with the specification is a bug worth knowing about (with some
# network stacks, that is exactly how you find out that policies are not enforced at all).
# %% [markdown] fr
# ## 6. Prévu contre constaté
#
# À gauche, la matrice que prévoient les politiques (calculée par le moteur de politiques de labkit
# d'après les objets de l'API) ; à droite, celle que constatent de vrais paquets. Là où elles
# diffèrent, la sonde encadre la case : un contrôleur qui contredit la spécification est un bogue à
# connaître (avec certaines piles réseau, c'est justement ainsi qu'on découvre que les politiques
# ne sont pas appliquées du tout).

# %%
predicted = labkit.reachability(LAB, namespaces=NAMESPACES)
observed = labkit.probe(LAB, namespaces=NAMESPACES)
HTML(f'<div style="display:flex;gap:2em;flex-wrap:wrap">{predicted._repr_html_()}{observed._repr_html_()}</div>')

# %% [markdown] en
# And why is one cell what it is? `labkit.explain` walks the policies for one pair: the egress
# side of the source, then the ingress side of the destination.
# %% [markdown] fr
# Et pourquoi une case est-elle ce qu'elle est ? `labkit.explain` parcourt les politiques pour une
# paire : la sortie de la source, puis l'entrée de la destination.

# %%
labkit.explain(LAB, "nb04-front/front", "nb04/api", port=80)

# %% [markdown] en
# ### A cluster without a policy controller
#
# The API server only *stores* NetworkPolicies; something in every node must apply them (the CNI or
# an agent beside it). Some clusters have none (AWS EKS did not enforce policies by default, plain
# flannel never does): your policy is accepted, `kubectl get netpol` lists it, and it does nothing.
# Try it in a terminal with a lab of its own: `sudo labkit up --name nopol --no-policy-controller`,
# point `KUBECONFIG` at the kubeconfig it prints, run two pods (`kubectl run a --image=nginx`, then
# `b`) and apply a deny-all policy, then `labkit probe --name nopol`: every pair still connects, and the
# probe warns that *nothing seems to enforce NetworkPolicies in this cluster* (every connection
# the policies deny got through). `labkit down --name nopol` removes it.
# %% [markdown] fr
# ### Un cluster sans contrôleur de politiques
#
# Le serveur d'API ne fait qu'*enregistrer* les NetworkPolicies ; quelque chose dans chaque nœud doit
# les appliquer (le CNI ou un agent à côté). Certains clusters n'en ont pas (AWS EKS ne les
# appliquait pas par défaut, flannel seul jamais) : votre politique est acceptée, `kubectl get
# netpol` la liste, et elle ne fait rien. Essayez dans un terminal avec un lab à part :
# `sudo labkit up --name nopol --no-policy-controller`, faites pointer `KUBECONFIG` sur le kubeconfig
# qu'il affiche, lancez deux pods (`kubectl run a --image=nginx`, puis `b`), appliquez une politique
# qui interdit tout,
# puis `labkit probe --name nopol` : toutes les paires se connectent encore, et la sonde avertit que
# *rien ne semble appliquer les NetworkPolicies dans ce cluster* (toutes les connexions que les
# politiques interdisent sont passées). `labkit down --name nopol` le supprime.

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
# **What we saw**: without policies, everything reaches everything; a policy isolates the pods it
# selects, for the directions it names, and policies add up; peers in one `from` entry are ORed,
# selectors inside one peer are ANDed; an egress policy must allow DNS; policies apply to pod IPs,
# after the Service's DNAT. And the prediction can be checked against real packets.
# %% [markdown] fr
# ## Ménage
#
# **Ce que nous avons vu** : sans politique, tout le monde joint tout le monde ; une politique isole
# les pods qu'elle sélectionne, dans les sens qu'elle nomme, et les politiques s'additionnent ; les
# pairs d'une entrée `from` se combinent en OU, les sélecteurs d'un même pair en ET ; une politique
# de sortie doit autoriser le DNS ; les politiques s'appliquent aux IP des pods, après le DNAT du
# Service. Et la prévision se vérifie avec de vrais paquets.

# %%
view.stop()
!kubectl delete namespace nb04 nb04-front nb04-ops --wait=true
cluster.close()
