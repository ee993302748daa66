# %% [markdown] en
# # 4. Network policies
#
# The Kubernetes network model says: **everything can reach everything**. That is good for getting
# started and bad for security: if we want isolation, we add **NetworkPolicies**, the firewall of
# the pod network. They are enforced by a component of the network stack (Calico, Cilium,
# kube-router… here the lab's own enforcer, nftables rules on each node); some clusters have
# none out of the box, and there the policies are accepted by the API and silently ignored.
#
# **Goals** (about 40 minutes):
#
# 1. check with real packets that every pod reaches every pod;
# 2. write a **default deny**, then open exactly what is needed (exercises 1-2);
# 3. predict the whole matrix, fall into the **AND/OR trap** of selectors, and get out of it
#    (exercises 3-4);
# 4. see how an egress policy breaks **DNS**, and fix it (exercise 5);
# 5. compare the matrix the policies **predict** with the one the packets **observe**, and ask
#    `labkit.explain` why a cell is what it is;
# 6. follow one connection through all three layers, and see where a policy change drops it.
# %% [markdown] fr
# # 4. Les politiques réseau
#
# Le modèle réseau de Kubernetes dit : **tout le monde joint tout le monde**. Pratique pour
# démarrer, mauvais pour la sécurité : pour isoler, on ajoute des **NetworkPolicies**, le pare-feu
# du réseau des pods. Elles sont appliquées par un composant de la pile réseau (Calico, Cilium,
# kube-router… ici le contrôleur du lab, des règles nftables sur chaque nœud) ; certains clusters
# n'en ont aucun d'origine, et les politiques y sont acceptées par l'API puis ignorées sans un mot.
#
# **Objectifs** (environ 40 minutes) :
#
# 1. vérifier avec de vrais paquets que chaque pod joint chaque pod ;
# 2. écrire un **refus par défaut**, puis ouvrir exactement ce qu'il faut (exercices 1 et 2) ;
# 3. prédire toute la matrice, tomber dans le **piège du ET/OU** des sélecteurs, et en sortir
#    (exercices 3 et 4) ;
# 4. voir comment une politique de sortie casse le **DNS**, et le réparer (exercice 5) ;
# 5. comparer la matrice que les politiques **prévoient** à celle que les paquets **constatent**,
#    et demander à `labkit.explain` pourquoi une case est ce qu'elle est ;
# 6. suivre une connexion à travers les trois couches, et voir où un changement de politique la
#    bloque.

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
# Le schéma en direct de la couche rouge : un pod passe en rouge quand une politique l'isole,
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
# ### Exercise 3: predict the whole matrix
#
# Once that policy is applied (on top of the policies already there), who will reach whom on port
# 80? Predict the **whole** reachability matrix, the one `labkit.probe` drew in section 1, column
# by column: for each pod, the set of pods that reach it. Fill `who_reaches` below (`set()` for
# nobody, `"*"` for every other pod; a pod always reaches itself, the diagonal is not asked) and run
# the `ex.predict` cell, which records your prediction. Then apply the policy: the check probes the
# 30 pairs with real packets and compares.
# %% [markdown] fr
# ## 4. Le piège du ET/OU
#
# L'intention : « seuls les pods de **monitoring** de l'équipe **ops** peuvent joindre `api` ».
# La politique de la cellule `%%bash` plus bas en a l'air. Lisez-la, **ne l'exécutez pas encore**.
#
# ### Exercice 3 : prédire toute la matrice
#
# Une fois cette politique appliquée (en plus des politiques déjà là), qui joindra qui sur le port
# 80 ? Prédisez **toute** la matrice de joignabilité, celle que `labkit.probe` a dessinée à la
# section 1, colonne par colonne : pour chaque pod, l'ensemble des pods qui le joignent. Remplissez
# `who_reaches` ci-dessous (`set()` pour personne, `"*"` pour tous les autres pods ; un pod se
# joint toujours lui-même, la diagonale n'est pas demandée) et exécutez la cellule `ex.predict`, qui
# enregistre votre prédiction. Appliquez ensuite la politique : la vérification sonde les 30 paires
# avec de vrais paquets et compare.

# %% en
who_reaches = {          # destination pod: the pods that reach it on port 80
    "nb04/web": None,
    "nb04/api": None,
    "nb04/metrics": None,
    "nb04-front/front": None,
    "nb04-ops/prometheus": None,
    "nb04-ops/shell": None,
}
# %% fr
who_reaches = {          # pod de destination : les pods qui le joignent sur le port 80
    "nb04/web": None,
    "nb04/api": None,
    "nb04/metrics": None,
    "nb04-front/front": None,
    "nb04-ops/prometheus": None,
    "nb04-ops/shell": None,
}

# %% [markdown] en hint
# Go column by column, and first ask: does some policy select this pod for ingress? The pods of
# `nb04-front` and `nb04-ops` are selected by none: everyone reaches them (`"*"`). Every pod of
# `nb04` is isolated by the default deny of exercise 1: only what some policy allows gets in.
# `kubectl get netpol -A` lists them.
# %% [markdown] fr hint
# Allez colonne par colonne, en vous demandant d'abord : une politique sélectionne-t-elle ce pod en
# entrée ? Aucune ne sélectionne les pods de `nb04-front` et de `nb04-ops` : tout le monde les joint
# (`"*"`). Chaque pod de `nb04` est isolé par le refus par défaut de l'exercice 1 : n'entre que ce
# qu'une politique autorise. `kubectl get netpol -A` les liste.

# %% [markdown] en hint
# `web`: exercise 2 lets the `nb04-front` namespace in on port 80. `metrics`: no policy allows
# anything to it. `api`: count the dashes under `from`: each one starts a peer, and a pod gets in
# when **any** peer matches it; a peer with only `podSelector` means pods of the policy's own
# namespace. Namespace labels: `kubectl get namespaces -l team --show-labels`.
# %% [markdown] fr hint
# `web` : l'exercice 2 laisse entrer le namespace `nb04-front` sur le port 80. `metrics` : aucune
# politique ne lui autorise quoi que ce soit. `api` : comptez les tirets sous `from` : chacun
# commence un pair, et un pod entre dès qu'**un** pair lui correspond ; un pair avec seulement
# `podSelector` désigne des pods du namespace de la politique. Étiquettes des namespaces :
# `kubectl get namespaces -l team --show-labels`.

# %% solution 04.3
who_reaches = {
    "nb04/web": {"nb04-front/front"},
    "nb04/api": {"nb04-ops/prometheus", "nb04-ops/shell", "nb04/metrics"},
    "nb04/metrics": set(),
    "nb04-front/front": "*",
    "nb04-ops/prometheus": "*",
    "nb04-ops/shell": "*",
}

# %%
ex.predict("04.3", who_reaches, "who_reaches")

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
ex.check("04.3", cluster=cluster, namespaces=NAMESPACES, variable="who_reaches")

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
# `front` still cannot reach `nb04-ops/shell`). While the name does not resolve, the check keeps
# trying for about ten seconds before it answers "Not yet": policies take a moment to apply.
# %% [markdown] fr
# La requête échoue avant même de partir : la **résolution de noms** est du trafic elle aussi (UDP
# et TCP port 53 vers les pods CoreDNS derrière `kube-dns`), et le refus en sortie l'a bloquée.
# Toute politique de sortie a besoin de sa règle DNS.
#
# ### Exercice 5 : casser et réparer, rendre le DNS
#
# Gardez `deny-egress`, et ajoutez une politique dans `nb04-front` qui laisse ses pods interroger
# le DNS du cluster, **et rien d'autre** (la vérification résout `web.nb04.svc.cluster.local`
# depuis `front`, et s'assure que `front` ne joint toujours pas `nb04-ops/shell`). Tant que le nom
# ne se résout pas, la vérification réessaie une dizaine de secondes avant de répondre « Pas encore » :
# une politique met un instant à s'appliquer.

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
# Let us see it: `labkit.companion("nopol")` starts a second small lab with **no policy
# enforcer** (your lab's daemon builds it, no root needed, about ten seconds). The same manifest goes
# to both clusters: a namespace `nb04-np` with two pods `a` and `b` and a policy `deny-all` that
# selects every pod and allows no ingress. Then the probe, on each. In the lab without an enforcer
# the policy is stored, every connection still gets through, and the probe warns that nothing
# seems to enforce NetworkPolicies; on your lab the same policy denies them all. (In a terminal:
# `labkit companion up nopol`, then `labkit probe --name <its name>`; `labkit companion down nopol`
# removes it.)
# %% [markdown] fr
# ### Un cluster sans contrôleur de politiques
#
# Le serveur d'API ne fait qu'*enregistrer* les NetworkPolicies ; quelque chose dans chaque nœud doit
# les appliquer (le CNI ou un agent à côté). Certains clusters n'en ont pas (AWS EKS ne les
# appliquait pas par défaut, flannel seul jamais) : votre politique est acceptée, `kubectl get
# netpol` la liste, et elle ne fait rien. Voyons-le : `labkit.companion("nopol")` démarre un second
# petit lab **sans contrôleur de politiques** (le démon de votre lab le construit, sans besoin d'être
# root, une dizaine de secondes). Le même manifeste part vers les deux clusters : un namespace
# `nb04-np` avec deux pods `a` et `b` et une politique `deny-all` qui sélectionne tous les pods et
# n'autorise aucune entrée. Puis la sonde, sur chacun. Dans le lab sans contrôleur, la politique est
# enregistrée, toutes les connexions passent encore, et la sonde avertit que rien ne semble
# appliquer les NetworkPolicies ; sur votre lab, la même politique les refuse toutes. (Dans un
# terminal : `labkit companion up nopol`, puis `labkit probe --name <son nom>` ;
# `labkit companion down nopol` le supprime.)

# %%
import subprocess

NOPOL_MANIFEST = """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: nb04-np}}
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: nb04-np, labels: {app: a}}
  spec: {containers: [{name: a, image: nginx, ports: [{containerPort: 80}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: b, namespace: nb04-np, labels: {app: b}}
  spec: {containers: [{name: b, image: nginx, ports: [{containerPort: 80}]}]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: deny-all, namespace: nb04-np}
  spec: {podSelector: {}, policyTypes: [Ingress]}
"""


def kubectl_on(lab, *args, stdin=None):
    """kubectl against lab ``lab`` (its kubeconfig, or your copy of it), its output printed."""
    done = subprocess.run(["kubectl", "--kubeconfig", str(readable_kubeconfig(lab)), *args],
                          input=stdin, capture_output=True, text=True)
    print(done.stdout + done.stderr, end="")


nopol = labkit.companion("nopol", lab=LAB)      # 2 nodes, no policy enforcer, started by your lab's daemon
NOPOL = nopol.lab
unenforced = {}
for lab in (NOPOL, LAB):
    print(f"\n━━ {lab} ━━")
    kubectl_on(lab, "apply", "-f", "-", stdin=NOPOL_MANIFEST)
    kubectl_on(lab, "-n", "nb04-np", "wait", "--for=condition=Ready", "pod", "--all", "--timeout=60s")
    kubectl_on(lab, "-n", "nb04-np", "get", "networkpolicy")
    unenforced[lab] = labkit.probe(lab, namespaces="nb04-np")
    display(unenforced[lab])
nopol.close()
labkit.companion("nopol", lab=LAB, stop=True)
kubectl_on(LAB, "delete", "namespace", "nb04-np", "--wait=true")

# %% [markdown] en
# ## 7. All the layers again: one connection, end to end
#
# The chapter's last picture stacks the three layers. Let us follow **one** connection through all
# of them: from `front` (namespace `nb04-front`) to the Service `web` of `nb04`, port 80.
# `labkit.trace` computes it from the cluster's state, hop by hop, each row coloured by its layer:
# the **service** layer (green) picks a backend and rewrites the destination (DNAT to the `web`
# pod); the **pod** layer (blue) routes the packet out of `front`, between the nodes and into the
# veth of `web`; the **policy** layer (red) decides on the pod's address, after the DNAT: the egress
# policies of `front` (`deny-egress`, `to-web`) and the ingress policies of `web` (`default-deny`,
# `web-from-front`). The overview schema paints that connection in orange **across the three
# layers**: the Service `web` and its arrow to the node of the chosen backend (service layer), the
# pods and routing circles it crosses (pod layer), and the policies that let it through (policy
# layer). Then `curl` sends a real one.
# %% [markdown] fr
# ## 7. Toutes les couches : une connexion, de bout en bout
#
# La dernière image du chapitre empile les trois couches. Suivons **une** connexion à travers
# toutes : de `front` (namespace `nb04-front`) vers le Service `web` de `nb04`, port 80.
# `labkit.trace` la calcule d'après l'état du cluster, étape par étape, chaque ligne colorée selon
# sa couche : la couche des **services** (en vert) choisit un backend et réécrit la destination
# (DNAT vers le pod `web`) ; la couche des **pods** (en bleu) route le paquet hors de `front`, entre
# les nœuds et jusque dans la veth de `web` ; la couche des **politiques** (en rouge) décide sur
# l'adresse du pod, après le DNAT : les politiques de sortie de `front` (`deny-egress`, `to-web`) et
# les politiques d'entrée de `web` (`default-deny`, `web-from-front`). Le schéma d'ensemble peint
# cette connexion en orange **à travers les trois couches** : le Service `web` et sa flèche vers le
# nœud du backend choisi (couche des services), les pods et les cercles de routage qu'elle traverse
# (couche des pods), et les politiques qui la laissent passer (couche des politiques). Puis `curl`
# en envoie une vraie.

# %%
from labkit import diagrams, i18n
from labkit.trace import layers_highlight


def all_layers(result):
    """The overview schema with the traced connection painted across its three layers."""
    title = i18n.t("diagrams.title.trace", LANG, src=result.source, dst=result.destination)
    return diagrams.overview(result.snapshot, lang=LANG, highlight=layers_highlight(result), title=title)


before = labkit.trace(cluster, "nb04-front/front", "nb04/web:80")
display(before, all_layers(before))
!kubectl -n nb04-front exec front -- curl -s -m 3 http://web.nb04

# %% [markdown] en
# Now the shop moves the front end to port 8080: `web-from-front` lets `nb04-front` in on port
# **8080** only. Same connection, same trace: the service and pod layers do not change at all, and
# the policy layer now says where the connection is dropped (at `web`'s ingress), which the real
# `curl` confirms. On the schema, the Service and the pod path are still orange (DNAT and routing
# happen as before), `web` carries a no-entry sign, and the policies that decide are dashed red. (This needs the policies of exercises 1 and 2; `labkit.explain` says which
# policy decides.)
# %% [markdown] fr
# La boutique passe maintenant le front sur le port 8080 : `web-from-front` ne laisse entrer
# `nb04-front` que sur le port **8080**. Même connexion, même trace : les couches des services et
# des pods ne changent pas du tout, et la couche des politiques dit maintenant où la connexion est
# bloquée (à l'entrée de `web`), ce que confirme le vrai `curl`. Sur le schéma, le Service et le
# chemin des pods restent orange (le DNAT et le routage se font comme avant), `web` porte un sens
# interdit, et les politiques qui décident sont en pointillés rouges. (Il faut pour cela les politiques
# des exercices 1 et 2 ; `labkit.explain` dit quelle politique décide.)

# %%
PORT_8080 = '[{"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 8080}]'   # a JSON patch
!kubectl -n nb04 patch networkpolicy web-from-front --type=json -p '{PORT_8080}'
after = labkit.trace(cluster, "nb04-front/front", "nb04/web:80")
display(after, all_layers(after))
!kubectl -n nb04-front exec front -- curl -s -m 3 http://web.nb04 || echo "✘ curl"

# %% [markdown] en
# ## Recap
#
# - Without policies, everything reaches everything. A policy isolates the pods it selects, for
#   the directions it names; policies add up, and replies to allowed connections always pass.
# - Peers in one `from` entry are ORed, selectors inside one peer are ANDed: one dash changes who
#   gets in.
# - An egress policy must allow DNS; policies apply to pod IPs, after the Service's DNAT.
# - The prediction (`labkit.reachability`) can be checked against real packets (`labkit.probe`),
#   and one connection can be followed through the three layers (`labkit.trace`).
# - A policy does nothing where nothing enforces it.
# %% [markdown] fr
# ## Récapitulatif
#
# - Sans politique, tout le monde joint tout le monde. Une politique isole les pods qu'elle
#   sélectionne, dans les sens qu'elle nomme ; les politiques s'additionnent, et les réponses aux
#   connexions autorisées passent toujours.
# - Les pairs d'une entrée `from` se combinent en OU, les sélecteurs d'un même pair en ET : un tiret
#   change qui entre.
# - Une politique de sortie doit autoriser le DNS ; les politiques s'appliquent aux IP des pods,
#   après le DNAT du Service.
# - La prévision (`labkit.reachability`) se vérifie avec de vrais paquets (`labkit.probe`), et une
#   connexion se suit à travers les trois couches (`labkit.trace`).
# - Une politique ne fait rien là où rien ne l'applique.

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
# Stop the live schema and delete the three namespaces (and their policies).
# %% [markdown] fr
# ## Ménage
#
# Arrêtons le schéma en direct et supprimons les trois namespaces (et leurs politiques).

# %%
view.stop()
!kubectl delete namespace nb04 nb04-front nb04-ops --wait=true
cluster.close()
