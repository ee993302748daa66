# %% [markdown] en
# # 90. A first Service (the authoring guide's example)
#
# A Deployment of two pods, a Service in front of them, and one exercise. This notebook is the worked
# example of `docs/AUTHORING.md`; it is not part of the course.
#
# **Goals** (about 10 minutes):
#
# 1. watch a Service appear on the live diagram;
# 2. count the pods a Service sends to (exercise 1).
# %% [markdown] fr
# # 90. Un premier Service (l'exemple du guide des auteurs)
#
# Un Deployment de deux pods, un Service devant eux, et un exercice. Ce carnet est l'exemple
# commenté de `docs/AUTHORING.fr.md` ; il ne fait pas partie du cours.
#
# **Objectifs** (environ 10 minutes) :
#
# 1. voir un Service apparaître sur le schéma en direct ;
# 2. compter les pods vers lesquels un Service envoie (exercice 1).

# %%
import os
import sys

from kubernetes import client
from labkit import exercises as ex
from labkit.embedded.userconfig import readable_kubeconfig   # the lab's, or your copy of it

LAB = os.environ.get("LABKIT_LAB", "kubenet")                       # the embedded lab `make lab` started
os.environ.setdefault("KUBECONFIG", str(readable_kubeconfig(LAB)))      # kubectl and labkit: the same cluster
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
cluster = labkit.connect()

!kubectl delete namespace nb90 --ignore-not-found --wait
!kubectl create namespace nb90

# %% [markdown] en
# ## The Service layer, live
#
# Keep this diagram in sight: the Service and its pods appear as soon as they are created.
# %% [markdown] fr
# ## Le réseau des services, en direct
#
# Gardez ce schéma sous les yeux : le Service et ses pods y apparaissent dès leur création.

# %%
view = labkit.show("services", cluster)
view

# %% [markdown] en
# Two pods of `web`, and a Service in front of them. In the lab each pod is a network namespace and
# its container is emulated (this machine's tools, an echo server on port 80): a departure from a
# real cluster, where an image runs.
# %% [markdown] fr
# Deux pods de `web`, et un Service devant eux. Dans le lab, chaque pod est un espace de noms réseau
# et son conteneur est émulé (les outils de cette machine, un serveur d'écho sur le port 80) : un
# écart avec un vrai cluster, où une image tourne.

# %%
!kubectl -n nb90 create deployment web --image=jpetazzo/color --replicas=2
!kubectl -n nb90 expose deployment web --port 80
!kubectl -n nb90 wait --for=condition=Available deployment/web --timeout=60s
print(tr("Shared code prints in the notebook's language.", "Le code partagé affiche dans la langue du carnet."))

# %% [markdown] en
# ## Exercise 1: how many pods does `web` send to?
#
# Count the pods behind the Service `web` (its ready endpoints) and put the number in `endpoints`.
# %% [markdown] fr
# ## Exercice 1 : vers combien de pods `web` envoie-t-il ?
#
# Comptez les pods derrière le Service `web` (ses endpoints prêts) et mettez le nombre dans
# `endpoints`.

# %%
endpoints = None

# %% [markdown] en hint
# A Service's endpoints are in its EndpointSlices: `kubectl -n nb90 get endpointslices`.
# %% [markdown] fr hint
# Les endpoints d'un Service sont dans ses EndpointSlices : `kubectl -n nb90 get endpointslices`.

# %% [markdown] en hint
# The slices of `web` carry the label `kubernetes.io/service-name=web`; count the endpoints whose
# `conditions.ready` is true.
# %% [markdown] fr hint
# Les tranches de `web` portent l'étiquette `kubernetes.io/service-name=web` ; comptez les endpoints
# dont `conditions.ready` est vrai.

# %% solution 90.1
slices = client.DiscoveryV1Api(cluster.api).list_namespaced_endpoint_slice(
    "nb90", label_selector="kubernetes.io/service-name=web")
endpoints = sum(1 for s in slices.items for e in s.endpoints or [] if e.conditions.ready)
endpoints

# %% [markdown] en
# The check: `observe` reads the cluster (I/O), `judge` compares with your answer (pure). A course
# chapter keeps them in `labkit/exercises/`; a draft may declare them here.
# %% [markdown] fr
# La vérification : `observe` lit le cluster (entrées-sorties), `judge` compare avec votre réponse
# (pur). Un chapitre du cours les range dans `labkit/exercises/` ; un brouillon peut les déclarer ici.

# %%
from labkit import i18n

i18n.register({
    "nb90.none": {"en": "no answer yet: put a number in `endpoints`",
                  "fr": "pas encore de réponse : mettez un nombre dans `endpoints`"},
    "nb90.wrong": {"en": "`web` sends to {count} pod(s), not {answer}",
                   "fr": "`web` envoie vers {count} pod(s), pas {answer}"},
    "nb90.ok": {"en": "`web` sends to {count} pods", "fr": "`web` envoie vers {count} pods"},
    "nb90.missing": {"en": "there is no Service {service} yet: run the cells above",
                     "fr": "il n'y a pas encore de Service {service} : exécutez les cellules au-dessus"},
})


def observe_endpoints(cluster, service):
    """I/O: the number of ready endpoints of ``service`` ("namespace/name")."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    namespace, _, name = service.partition("/")
    try:
        client.CoreV1Api(cluster.api).read_namespaced_service(name, namespace)
    except ApiException as error:
        if error.status != 404:
            raise
        raise ex.NotObserved("nb90.missing", service=service) from None
    slices = client.DiscoveryV1Api(cluster.api).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={name}")
    return {"count": sum(1 for s in slices.items for e in s.endpoints or [] if e.conditions.ready)}


def judge_endpoints(facts, answer, lang):
    """Pure: facts and the learner's answer in, a verdict out."""
    if answer is None:
        return ex.failed(i18n.t("nb90.none", lang))
    if answer != facts["count"]:
        return ex.failed(i18n.t("nb90.wrong", lang, count=facts["count"], answer=answer))
    return ex.passed(i18n.t("nb90.ok", lang, count=facts["count"]))


ex.exercise("90.1", observe_endpoints, judge_endpoints)

# %%
ex.check("90.1", endpoints, cluster, service="nb90/web")

# %% [markdown] en
# ## Recap
#
# - a Service appears on the live diagram with the pods it selects;
# - its ready endpoints are the pods it sends to.
# %% [markdown] fr
# ## Récapitulatif
#
# - un Service apparaît sur le schéma en direct avec les pods qu'il sélectionne ;
# - ses endpoints prêts sont les pods vers lesquels il envoie.

# %%
view.stop()
!kubectl delete namespace nb90 --wait
