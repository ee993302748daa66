# %% [markdown] en
# # 0. Welcome to kubenet-lab
#
# In this workshop you will *see* the Kubernetes network model at work, on your own cluster:
#
# 1. **the pod network** (CNI): every pod gets an IP address, and pods talk to each other directly;
# 2. **the pod-to-service network** (kube-proxy): stable addresses and load balancing;
# 3. **network policies**: the firewall between pods.
#
# Each notebook is a hands-on chapter. Run the cells from top to bottom (`Shift+Enter`). Every
# notebook starts from a known state: it deletes and recreates its own namespace (`nb00` here),
# so it never depends on another notebook, and you can run it again at any time.
#
# **Goals** (about 10 minutes):
#
# 1. check that the tools and the cluster are there;
# 2. see the three layers of your cluster, drawn live;
# 3. learn how exercises work (hints, solution, check) with exercise 0.
# %% [markdown] fr
# # 0. Bienvenue dans kubenet-lab
#
# Dans cet atelier, vous allez *voir* le modèle réseau de Kubernetes à l'œuvre, sur votre propre cluster :
#
# 1. **le réseau des pods** (CNI) : chaque pod reçoit une adresse IP, et les pods se parlent directement ;
# 2. **le réseau des services** (kube-proxy) : des adresses stables et de la répartition de charge ;
# 3. **les politiques réseau** : le pare-feu entre les pods.
#
# Chaque carnet est un chapitre pratique. Exécutez les cellules de haut en bas (`Maj+Entrée`).
# Chaque carnet part d'un état connu : il supprime puis recrée son propre namespace (ici `nb00`) ;
# il ne dépend donc d'aucun autre carnet, et vous pouvez le relancer quand vous voulez.
#
# **Objectifs** (environ 10 minutes) :
#
# 1. vérifier que les outils et le cluster sont là ;
# 2. voir les trois couches de votre cluster, dessinées en direct ;
# 3. découvrir comment marchent les exercices (indices, solution, vérification) avec l'exercice 0.

# %% [markdown] en
# ## Which cluster?
#
# By default the notebooks use the **embedded lab** that `make lab` started (named `kubenet`): nodes
# and pods are real Linux network namespaces, wired by the same CNI plugins as a kind cluster. If you
# set `KUBECONFIG` before starting JupyterLab (for instance to a kind cluster made with
# `labkit kind up`), the notebooks follow it: `labkit.connect()` reads the kubeconfig and
# recognises kind.
#
# The next cell points `kubectl` at the cluster and connects labkit to it.
# %% [markdown] fr
# ## Quel cluster ?
#
# Par défaut, les carnets utilisent le **lab embarqué** démarré par `make lab` (nommé `kubenet`) :
# nœuds et pods sont de vrais espaces de noms réseau Linux, câblés par les mêmes plugins CNI qu'un
# cluster kind. Si vous avez défini `KUBECONFIG` avant de lancer JupyterLab (par exemple vers un
# cluster kind créé avec `labkit kind up`), les carnets le suivent : `labkit.connect()` lit le
# kubeconfig et reconnaît kind.
#
# La cellule suivante oriente `kubectl` vers le cluster et y connecte labkit.

# %%
import os
import sys

import labkit.live
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it
from labkit import exercises as ex
from labkit.exercises import pods

LAB = os.environ.get("LABKIT_LAB", "kubenet")                       # the embedded lab `make lab` started
os.environ.setdefault("KUBECONFIG", str(readable_kubeconfig(LAB)))      # kubectl and labkit: the same cluster
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]  # `!labkit` too
cluster = labkit.connect()
cluster

# %% [markdown] en
# ## Is everything there?
#
# This check looks for the tools the notebooks use and asks the cluster for its nodes. Green means
# ready; orange says what is missing and how to fix it.
# %% [markdown] fr
# ## Tout est là ?
#
# Cette vérification cherche les outils dont les carnets se servent et demande ses nœuds au
# cluster. Vert : tout est prêt ; orange : elle dit ce qui manque et comment y remédier.

# %%
pods.check_environment(cluster)

# %% [markdown] en
# The same cluster, seen by `kubectl` (exactly what you would type against any cluster) and, for the
# embedded lab, by `labkit status`, which also lists the pods. `-o custom-columns` picks the fields
# the course uses, each node's IP and pod CIDR (`-o wide` would add the OS, kernel and runtime, in
# lines too long for this page):
# %% [markdown] fr
# Le même cluster, vu par `kubectl` (exactement ce que vous taperiez face à n'importe quel cluster)
# et, pour le lab embarqué, par `labkit status`, qui liste aussi les pods. `-o custom-columns` choisit
# les champs dont le cours se sert, l'IP et le CIDR de pods de chaque nœud (`-o wide` ajouterait le
# système, le noyau et le runtime, en lignes trop longues pour cette page) :

# %%
COLUMNS = "NAME:.metadata.name,INTERNAL-IP:.status.addresses[0].address,POD-CIDR:.spec.podCIDR"
!kubectl get nodes
!kubectl get nodes -o custom-columns={COLUMNS}
if cluster.kind == "embedded":
    !labkit status --name {cluster.lab}

# %% [markdown] en
# ## Start from a known state
#
# Every notebook owns a namespace. We delete it (with whatever an earlier run left in it) and create
# it again.
# %% [markdown] fr
# ## Partir d'un état connu
#
# Chaque carnet possède un namespace. On le supprime (avec ce qu'une exécution précédente y a laissé)
# puis on le recrée.

# %%
!kubectl delete namespace nb00 --ignore-not-found --wait
!kubectl create namespace nb00

# %% [markdown] en
# ## The three layers, live
#
# This diagram is drawn from your cluster and **redraws itself** when something changes (a pod, a
# service, a policy): keep an eye on it while you work. Blue is the pod network, green the services,
# red the policies. `view.stop()` ends the updates (the clean-up cell at the end calls it).
# %% [markdown] fr
# ## Les trois couches, en direct
#
# Ce schéma est dessiné à partir de votre cluster et **se redessine tout seul** dès que quelque chose
# change (un pod, un service, une politique) : gardez-le à l'œil pendant que vous travaillez. En bleu
# le réseau des pods, en vert les services, en rouge les politiques. `view.stop()` interrompt les
# mises à jour (la cellule de ménage, à la fin, l'appelle).

# %%
view = labkit.live.show("overview", cluster)
view

# %% [markdown] en
# ## How exercises work
#
# An exercise is an **empty cell** for you to fill in, followed by a **check** that looks at the
# real cluster (never at your code) and says, in your language, what is right or still missing.
# Running the notebook from top to bottom does **not** solve anything: until you act, every check
# says "not yet". Stuck? Open **Hint 1**, then **Hint 2**, and only then the **Solution** (collapsed
# just before the check: it shows the code to copy and never runs by itself; `labkit.solution("00.0")`
# prints it too). You can run a check as often as you like, and the last cell of each notebook shows
# which exercises you solved (`labkit.progress()`).
#
# **Exercise 0.** Run a pod named `hello` with the image `jpetazzo/color` in the namespace `nb00`
# (`kubectl run ... -n nb00`). Watch the diagram above when you do.
# %% [markdown] fr
# ## Comment marchent les exercices
#
# Un exercice, c'est une **cellule vide** à remplir, suivie d'une **vérification** qui regarde le
# vrai cluster (jamais votre code) et dit, dans votre langue, ce qui est juste ou ce qui manque
# encore. Exécuter le carnet de haut en bas ne résout **rien** : tant que vous n'agissez pas, chaque
# vérification dit « pas encore ». Vous bloquez ? Ouvrez l'**Indice 1**, puis l'**Indice 2**, et
# seulement ensuite la **Solution** (repliée juste avant la vérification : elle montre le code à
# copier et ne s'exécute jamais toute seule ; `labkit.solution("00.0")` l'affiche aussi). Vous
# pouvez relancer une vérification autant de fois que vous voulez, et la dernière cellule de chaque
# carnet montre les exercices que vous avez résolus (`labkit.progress()`).
#
# **Exercice 0.** Lancez un pod nommé `hello` avec l'image `jpetazzo/color` dans le namespace
# `nb00` (`kubectl run ... -n nb00`). Regardez le schéma au-dessus quand vous le faites.

# %%

# %% [markdown] en hint
# `kubectl run NAME --image=IMAGE` creates a pod; add `-n nb00` for the namespace.
# %% [markdown] fr hint
# `kubectl run NOM --image=IMAGE` crée un pod ; ajoutez `-n nb00` pour le namespace.

# %% [markdown] en hint
# `!kubectl -n nb00 run hello --image=...` in the empty cell, then `!kubectl -n nb00 wait --for=condition=Ready pod/hello` so the check finds it running.
# %% [markdown] fr hint
# `!kubectl -n nb00 run hello --image=...` dans la cellule vide, puis `!kubectl -n nb00 wait --for=condition=Ready pod/hello` pour que la vérification le trouve démarré.

# %% solution 00.0
!kubectl -n nb00 run hello --image=jpetazzo/color
!kubectl -n nb00 wait --for=condition=Ready pod/hello --timeout=60s

# %%
ex.check("00.0", cluster=cluster, pod="nb00/hello")

# %% [markdown] en
# ## Language
#
# The notebooks exist in English (`notebooks/en/`) and in French (`notebooks/fr/`): open the other
# folder to switch. labkit's own messages and the text of its diagrams follow `labkit.set_language(...)`; the
# first (hidden) cell of each notebook sets it. Here is the same check in both languages:
# %% [markdown] fr
# ## Langue
#
# Les carnets existent en anglais (`notebooks/en/`) et en français (`notebooks/fr/`) : ouvrez l'autre
# dossier pour changer. Les messages de labkit et les légendes des schémas suivent
# `labkit.set_language(...)` ; la première cellule (masquée) de chaque carnet le règle. Voici la
# même vérification dans les deux langues :

# %%
for lang in ("en", "fr"):
    print(ex.check("00.0", cluster=cluster, pod="nb00/hello", lang=lang), end="\n\n")

# %% [markdown] en
# ## When the lab is broken, and where the slides are
#
# - `labkit status` shows the lab; `sudo make reset` rebuilds it from scratch, same shape, in a few
#   seconds (your pods are gone, the notebooks recreate theirs). `sudo make down` removes it, `sudo make lab`
#   starts it again. A second small lab with another CNI flavor, without root: `labkit companion up
#   bridge|flannel|calico` (the lab's daemon builds it; `labkit companion status` lists them).
# - **In a class** (JupyterHub on a shared server), your lab is your own, named after your login, and
#   you have no `sudo`: `labkit reset` in a terminal, or `!labkit reset` in a cell, rebuilds it.
# - The slides of the chapter are in `slides/`: `make slides` builds `slides/build/en/index.html`
#   (and `fr/`), which open offline in any browser.
# - Next notebook: `01-network-model.ipynb`.
# %% [markdown] fr
# ## Quand le lab est cassé, et où sont les diapos
#
# - `labkit status` montre le lab ; `sudo make reset` le reconstruit de zéro, à l'identique, en
#   quelques secondes (vos pods disparaissent, les carnets recréent les leurs). `sudo make down` le
#   supprime, `sudo make lab` le relance. Un second petit lab avec une autre variante de CNI, sans root :
#   `labkit companion up bridge|flannel|calico` (le démon du lab le construit ; `labkit companion status` les
#   liste).
# - **En classe** (JupyterHub sur un serveur partagé), votre lab est à vous, nommé d'après votre
#   identifiant, et vous n'avez pas `sudo` : `labkit reset` dans un terminal, ou `!labkit reset` dans
#   une cellule, le reconstruit.
# - Les diapositives du chapitre sont dans `slides/` : `make slides` produit
#   `slides/build/fr/index.html` (et `en/`), qui s'ouvrent hors ligne dans n'importe quel navigateur.
# - Carnet suivant : `01-network-model.ipynb`.

# %% [markdown] en
# ## Recap
#
# - The notebooks talk to your cluster with `kubectl` and labkit, found the same way
#   (`KUBECONFIG`, else the embedded lab).
# - The live schema shows the three layers: blue the pod network, green the services, red the
#   policies; it redraws itself when the cluster changes.
# - An exercise is an empty cell, two hints, a collapsed solution and a check that looks at the
#   cluster: running a notebook top to bottom solves nothing by itself.
# %% [markdown] fr
# ## Récapitulatif
#
# - Les carnets parlent à votre cluster avec `kubectl` et labkit, trouvé de la même façon
#   (`KUBECONFIG`, sinon le lab embarqué).
# - Le schéma en direct montre les trois couches : en bleu le réseau des pods, en vert les services,
#   en rouge les politiques ; il se redessine tout seul quand le cluster change.
# - Un exercice, c'est une cellule vide, deux indices, une solution repliée et une vérification qui
#   regarde le cluster : exécuter un carnet de haut en bas ne résout rien tout seul.

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
# Stop the live diagram and delete the namespace of this notebook.
# %% [markdown] fr
# ## Ménage
#
# On arrête le schéma en direct et on supprime le namespace de ce carnet.

# %%
view.stop()
!kubectl delete namespace nb00 --wait
