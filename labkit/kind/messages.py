"""Messages of the kind path (config, up, down), in English and French."""
from __future__ import annotations

MESSAGES = {
    "kind.bad_cni": {
        "en": "--cni {value}: unknown CNI; choose one of {choices}",
        "fr": "--cni {value} : CNI inconnu ; choisissez parmi {choices}"},
    "kind.bad_proxy_mode": {
        "en": "--proxy-mode {value}: unknown mode; choose one of {choices}",
        "fr": "--proxy-mode {value} : mode inconnu ; choisissez parmi {choices}"},
    "kind.bad_workers": {
        "en": "--workers {value}: give a number of workers between 0 and {max}",
        "fr": "--workers {value} : donnez un nombre de workers entre 0 et {max}"},
    "kind.bad_name": {
        "en": "--name {value}: a kind cluster name is 1-32 lowercase letters, digits or '-' "
              "(starting and ending with a letter or digit)",
        "fr": "--name {value} : un nom de cluster kind fait 1 à 32 caractères parmi minuscules, "
              "chiffres et « - » (commençant et finissant par une lettre ou un chiffre)"},
    "kind.proxy_none_needs_replacement": {
        "en": "--proxy-mode none with --cni {cni}: nothing would implement Services; "
              "only {choices} replace kube-proxy (or keep iptables, nftables or ipvs)",
        "fr": "--proxy-mode none avec --cni {cni} : plus rien n'implémenterait les Services ; "
              "seuls {choices} remplacent kube-proxy (sinon gardez iptables, nftables ou ipvs)"},
    "kind.cilium_ipvs": {
        "en": "--cni cilium with --proxy-mode ipvs: Cilium's kube-proxy replacement does not work "
              "alongside IPVS; use --proxy-mode none (Cilium handles Services) or iptables",
        "fr": "--cni cilium avec --proxy-mode ipvs : le remplacement de kube-proxy par Cilium ne "
              "cohabite pas avec IPVS ; utilisez --proxy-mode none (Cilium gère les Services) ou iptables"},
    "kind.missing_tool": {
        "en": "`{tool}` is not installed: {how}",
        "fr": "`{tool}` n'est pas installé : {how}"},
    "kind.how.docker": {
        "en": "install Docker Engine (Debian: apt-get install docker.io) and start it",
        "fr": "installez Docker Engine (Debian : apt-get install docker.io) et démarrez-le"},
    "kind.how.kind": {
        "en": "install kind {version} (go install sigs.k8s.io/kind@{version}, or the binary from "
              "https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
        "fr": "installez kind {version} (go install sigs.k8s.io/kind@{version}, ou le binaire de "
              "https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"},
    "kind.how.kubectl": {
        "en": "install kubectl (Debian: apt-get install kubectl, or https://kubernetes.io/docs/tasks/tools/)",
        "fr": "installez kubectl (Debian : apt-get install kubectl, ou https://kubernetes.io/docs/tasks/tools/)"},
    "kind.how.helm": {
        "en": "install Helm 3 (https://helm.sh/docs/intro/install/); Cilium is installed from its chart",
        "fr": "installez Helm 3 (https://helm.sh/docs/intro/install/) ; Cilium s'installe depuis son chart"},
    "kind.how.curl": {
        "en": "install curl (Debian: apt-get install curl); kind up downloads the CNI's manifest with it",
        "fr": "installez curl (Debian : apt-get install curl) ; kind up télécharge avec lui le manifeste du CNI"},
    "kind.docker_unreachable": {
        "en": "docker cannot reach a Docker engine ({error}); start it (systemctl start docker) "
              "or check DOCKER_HOST",
        "fr": "docker ne joint aucun moteur Docker ({error}) ; démarrez-le (systemctl start docker) "
              "ou vérifiez DOCKER_HOST"},
    "kind.command_failed": {
        "en": "`{command}` failed (exit {code}): {error}",
        "fr": "`{command}` a échoué (code {code}) : {error}"},
    "kind.no_node_ip": {
        "en": "cannot find the IP address of node {node} (docker inspect printed nothing)",
        "fr": "impossible de trouver l'adresse IP du nœud {node} (docker inspect n'a rien affiché)"},
    "kind.step.create": {
        "en": "Creating kind cluster {name} (CNI {cni}, kube-proxy {proxy_mode})...",
        "fr": "Création du cluster kind {name} (CNI {cni}, kube-proxy {proxy_mode})..."},
    "kind.step.plugins": {
        "en": "Copying the reference CNI plugins into node {node}...",
        "fr": "Copie des plugins CNI de référence dans le nœud {node}..."},
    "kind.step.cni": {
        "en": "Installing {cni} {version}...",
        "fr": "Installation de {cni} {version}..."},
    "kind.step.kubeconfig": {
        "en": "Creating ConfigMap {name} (kube-router's kubeconfig: without kube-proxy, kubeadm wrote none)...",
        "fr": "Création de la ConfigMap {name} (le kubeconfig de kube-router : sans kube-proxy, kubeadm n'en a écrit aucun)..."},
    "kind.step.fetch": {
        "en": "Downloading {url}...",
        "fr": "Téléchargement de {url}..."},
    "kind.step.wait": {
        "en": "Waiting until every node is Ready...",
        "fr": "Attente que tous les nœuds soient Ready..."},
    "kind.step.route": {
        "en": "Route from this machine: {route}",
        "fr": "Route depuis cette machine : {route}"},
    "kind.route_hint": {
        "en": "Not root: add the routes yourself to reach pods and Services: {commands}",
        "fr": "Vous n'êtes pas root : ajoutez vous-même les routes vers les pods et les Services : {commands}"},
    "kind.up": {
        "en": "kind cluster {name} is ready: kubectl --context {context} get nodes -o wide",
        "fr": "Le cluster kind {name} est prêt : kubectl --context {context} get nodes -o wide"},
    "kind.down": {
        "en": "kind cluster {name} deleted ({routes} host route(s) removed)",
        "fr": "Cluster kind {name} supprimé ({routes} route(s) de la machine retirée(s))"},
}

