"""Messages of ``labkit bench``, in English and French."""

MESSAGES = {
    "bench.cli.group_help": {
        "en": "measure the lab: kube-proxy's scaling in iptables and nftables modes",
        "fr": "mesurer le lab : le passage à l'échelle de kube-proxy en modes iptables et nftables",
    },
    "bench.cli.kube_proxy_help": {
        "en": "program N services in a namespace of their own, time it, and time new connections (root)",
        "fr": "programmer N services dans un namespace dédié, mesurer le temps, puis celui des nouvelles connexions (root)",
    },
    "bench.bad_sizes": {
        "en": "--services: {value!r} is not a list of service counts such as 1000,5000 (1 to 50000 each)",
        "fr": "--services : {value!r} n'est pas une liste de nombres de services comme 1000,5000 (de 1 à 50000 chacun)",
    },
    "bench.bad_modes": {
        "en": "--modes: {value!r} is not a list of iptables and/or nftables",
        "fr": "--modes : {value!r} n'est pas une liste de iptables et/ou nftables",
    },
    "bench.needs_root": {
        "en": "the benchmark creates network namespaces: run it as root",
        "fr": "le banc d'essai crée des namespaces réseau : lancez-le en root",
    },
    "bench.no_connection": {
        "en": "no connection through ClusterIP {ip} answered in the benchmark namespace",
        "fr": "aucune connexion via la ClusterIP {ip} n'a répondu dans le namespace du banc d'essai",
    },
    "bench.col.mode": {"en": "mode", "fr": "mode"},
    "bench.col.services": {"en": "services", "fr": "services"},
    "bench.col.full": {"en": "full sync CPU/wall", "fr": "sync complète CPU/réel"},
    "bench.col.partial": {"en": "1-svc change", "fr": "1 svc modifié"},
    "bench.col.first": {"en": "1st svc p50/p99", "fr": "1er svc p50/p99"},
    "bench.col.last": {"en": "last svc p50/p99", "fr": "dern. svc p50/p99"},
    "bench.col.memory": {"en": "memory", "fr": "mémoire"},
    "bench.mib": {"en": "MiB", "fr": "Mio"},
    "bench.cpu_note": {
        "en": "CPU: the lab + nft/iptables-restore + the kernel, best of {runs} runs (wall time varies with the load)",
        "fr": "CPU : le lab + nft/iptables-restore + le noyau, meilleur de {runs} essais (le temps réel varie avec la charge)",
    },
    "bench.cpu_note_one": {
        "en": "CPU: the lab + nft/iptables-restore + the kernel (wall time varies with the load)",
        "fr": "CPU : le lab + nft/iptables-restore + le noyau (le temps réel varie avec la charge)",
    },
    "bench.latency_note": {
        "en": "p50/p99: round trip of a new connection's first packet (SYN to SYN-ACK) to the first and the last Service",
        "fr": "p50/p99 : aller-retour du premier paquet d'une nouvelle connexion (SYN puis SYN-ACK) vers le premier et le dernier Service",
    },
    "bench.plot_title": {
        "en": "kube-proxy in the lab: {modes}",
        "fr": "kube-proxy dans le lab : {modes}",
    },
    "bench.axis_services": {"en": "services (2 endpoints each)", "fr": "services (2 endpoints chacun)"},
    "bench.axis_sync": {"en": "rule programming (CPU, s)", "fr": "programmation (CPU, s)"},
    "bench.axis_latency": {"en": "first packet round trip, p50 (ms)", "fr": "aller-retour du 1er paquet, p50 (ms)"},
    "bench.axis_memory": {"en": "ruleset memory (MiB, kernel slab)", "fr": "mémoire des règles (Mio, slab du noyau)"},
    "bench.series_full": {"en": "{mode}: full sync", "fr": "{mode} : sync complète"},
    "bench.series_partial": {"en": "{mode}: one-service change", "fr": "{mode} : un service modifié"},
    "bench.series_first": {"en": "{mode}: first service", "fr": "{mode} : premier service"},
    "bench.series_last": {"en": "{mode}: last service", "fr": "{mode} : dernier service"},
    "bench.plot_written": {"en": "plot written to {path}", "fr": "graphique écrit dans {path}"},
}

