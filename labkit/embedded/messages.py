"""Messages of the embedded lab, in English and French."""

MESSAGES = {
    "lab.bad_name": {
        "en": "invalid lab name {name!r}: use 1 to {max} lowercase letters and digits, starting with a letter",
        "fr": "nom de lab invalide {name!r} : utilisez de 1 à {max} lettres minuscules et chiffres, en commençant par une lettre",
    },
    "lab.bad_node_count": {
        "en": "invalid node count {count}: a lab has between 1 and {max} nodes",
        "fr": "nombre de nœuds invalide {count} : un lab a entre 1 et {max} nœuds",
    },
    "lab.no_br_netfilter": {
        "en": "the bridge and flannel flavors need the kernel module br_netfilter (bridged packets through "
              "iptables, as kubeadm requires); load it as root with: modprobe br_netfilter",
        "fr": "les variantes `bridge` et `flannel` ont besoin du module noyau br_netfilter (les paquets pontés "
              "passent par iptables, comme kubeadm l'exige) ; chargez-le en root avec : modprobe br_netfilter",
    },
    "lab.bad_cni": {
        "en": "unknown CNI flavor {cni!r}: choose one of {choices}",
        "fr": "variante de CNI inconnue {cni!r} : choisissez parmi {choices}",
    },
    "lab.bad_proxy_mode": {
        "en": "unknown kube-proxy mode {mode!r}: choose one of {choices}",
        "fr": "mode de kube-proxy inconnu {mode!r} : choisissez parmi {choices}",
    },
    "lab.bad_cidr": {
        "en": "invalid {what} {value!r}: {reason}",
        "fr": "{what} invalide {value!r} : {reason}",
    },
    "lab.bad_bound": {
        "en": "invalid {what} {value}: it must be between {low} and {high}",
        "fr": "{what} invalide {value} : la valeur doit être comprise entre {low} et {high}",
    },
    "lab.cidr_too_small": {
        "en": "{what} {cidr} is too small for {count} nodes with a /{mask} each",
        "fr": "{what} {cidr} est trop petit pour {count} nœuds avec un /{mask} chacun",
    },
    "lab.cidr_overlap": {
        "en": "{what} {cidr} overlaps {other} ({where}); choose another with {flag}, or use --no-host-routes",
        "fr": "{what} {cidr} chevauche {other} ({where}) ; choisissez-en un autre avec {flag}, ou utilisez --no-host-routes",
    },
    "lab.cidrs_overlap_each_other": {
        "en": "the lab's networks overlap each other: {a} and {b}",
        "fr": "les réseaux du lab se chevauchent : {a} et {b}",
    },
    "lab.down_all": {
        "en": "labs removed: {labs} ({count} objects)",
        "fr": "labs supprimés : {labs} ({count} objets)",
    },
    "lab.up_needs_root": {
        "en": "building a lab creates network namespaces and needs root: run it with sudo (sudo make lab); "
              "without root, your running lab starts a second small one: labkit companion up {presets}",
        "fr": "construire un lab crée des espaces de noms réseau et demande root : lancez-le avec sudo (sudo make lab) ; "
              "sans root, votre lab en marche en démarre un second petit : labkit companion up {presets}",
    },
    "lab.needs_root": {
        "en": "the embedded lab creates network namespaces and needs root: run it with sudo",
        "fr": "le lab embarqué crée des espaces de noms réseau et doit tourner en root : lancez-le avec sudo",
    },
    "lab.missing_tool": {
        "en": "{tool} is missing: install the Debian package {package} (make lab does it)",
        "fr": "{tool} est absent : installez le paquet Debian {package} (make lab le fait)",
    },
    "lab.not_running": {
        "en": "no lab named {name!r} is running: start it with `labkit up --name {name}`",
        "fr": "aucun lab nommé {name!r} ne tourne : démarrez-le avec `labkit up --name {name}`",
    },
    "lab.command_failed": {
        "en": "command failed in {where}: {command}: {error}",
        "fr": "la commande a échoué dans {where} : {command} : {error}",
    },
    "lab.cni_failed": {
        "en": "CNI plugin {plugin} failed ({command}) for pod {pod}: {error}",
        "fr": "le plugin CNI {plugin} a échoué ({command}) pour le pod {pod} : {error}",
    },
    "lab.daemon_failed": {
        "en": "the lab daemon of {name!r} did not start: {error} (log: {log})",
        "fr": "le démon du lab {name!r} n'a pas démarré : {error} (journal : {log})",
    },
    "lab.unknown_node": {
        "en": "no node {node!r} in lab {name!r}; nodes: {nodes}",
        "fr": "pas de nœud {node!r} dans le lab {name!r} ; nœuds : {nodes}",
    },
    "lab.unknown_pod": {
        "en": "no pod {pod!r} in lab {name!r}",
        "fr": "pas de pod {pod!r} dans le lab {name!r}",
    },
    "lab.pod_exists": {
        "en": "pod {pod!r} already exists in lab {name!r}",
        "fr": "le pod {pod!r} existe déjà dans le lab {name!r}",
    },
    "lab.bad_pod": {
        "en": "invalid pod {pod!r}: {reason}",
        "fr": "pod invalide {pod!r} : {reason}",
    },
    "lab.pod_cidr_full": {
        "en": "node {node} has no free address left in its pod CIDR {cidr}",
        "fr": "le nœud {node} n'a plus d'adresse libre dans son CIDR de pods {cidr}",
    },
    "lab.up": {
        "en": "lab {name!r} is up: {nodes} nodes, CNI {cni}, API {api}",
        "fr": "le lab {name!r} est démarré : {nodes} nœuds, CNI {cni}, API {api}",
    },
    "lab.kubeconfig_hint": {
        "en": "kubectl: export KUBECONFIG={path}",
        "fr": "kubectl : export KUBECONFIG={path}",
    },
    "lab.status": {
        "en": "lab {name} ({state}), CNI {cni}, pods {pods}, nodes {nodes}",
        "fr": "lab {name} ({state}), CNI {cni}, pods {pods}, nœuds {nodes}",
    },
    "lab.state.running": {"en": "running", "fr": "en marche"},
    "lab.state.stopped": {"en": "stopped", "fr": "arrêté"},
    "lab.no_policy_controller": {
        "en": "lab {name!r} runs without a policy controller: NetworkPolicies are accepted by the API "
              "and enforced by nothing (as on a cluster whose CNI does not implement them)",
        "fr": "le lab {name!r} tourne sans contrôleur de politiques : l'API accepte les NetworkPolicies "
              "et rien ne les applique (comme sur un cluster dont le CNI ne les implémente pas)",
    },
    "lab.other_ranges": {
        "en": "note: lab {name!r} took other ranges than the defaults (another lab or network uses them): {ranges}. "
              "Addresses in the notebooks and slides will differ; `labkit status` shows them",
        "fr": "remarque : le lab {name!r} a pris d'autres plages que celles par défaut (un autre lab ou réseau les "
              "utilise) : {ranges}. Les adresses des carnets et des diapos seront différentes ; `labkit status` les montre",
    },
    "lab.user_kubeconfig_hint": {
        "en": "kubectl as {user}: export KUBECONFIG={path}",
        "fr": "kubectl en tant que {user} : export KUBECONFIG={path}",
    },
    "lab.reset": {
        "en": "lab {name!r} reset: {nodes} nodes, CNI {cni}, nothing else left",
        "fr": "lab {name!r} réinitialisé : {nodes} nœuds, CNI {cni}, plus rien d'autre",
    },
    "lab.already_up": {
        "en": "lab {name!r} is already up",
        "fr": "le lab {name!r} est déjà démarré",
    },
    "lab.down": {
        "en": "lab {name!r} removed ({count} objects swept)",
        "fr": "lab {name!r} supprimé ({count} objets nettoyés)",
    },
    "lab.nothing_to_remove": {
        "en": "nothing left of lab {name!r}",
        "fr": "il ne reste rien du lab {name!r}",
    },
}

