"""Every label, legend and message of the diagrams, the trace and ``labkit draw``/``labkit trace``.

Device names, addresses, chain names and ``ip route`` lines stay as the kernel prints them (a
learner types them in a terminal); everything around them is translated.
"""
from __future__ import annotations

from .. import i18n

MESSAGES: dict[str, dict[str, str]] = {
    # -- titles -------------------------------------------------------------------------------
    "diagrams.title.pods": {"en": "Pod-to-pod network ({cni})", "fr": "Réseau de pod à pod ({cni})"},
    "diagrams.title.services": {
        "en": "Pod-to-service network: kube-proxy ({mode} mode), rules read on {node}",
        "fr": "Réseau de pod à service : kube-proxy (mode {mode}), règles lues sur {node}"},
    "diagrams.title.services_no_rules": {
        "en": "Pod-to-service network: EndpointSlices (no kube-proxy rules in the snapshot)",
        "fr": "Réseau de pod à service : EndpointSlices (aucune règle kube-proxy dans l'instantané)"},
    "diagrams.title.policies": {"en": "Network policies: who may connect on {protocol}/{port}",
                                "fr": "Politiques réseau : qui peut se connecter en {protocol}/{port}"},
    "diagrams.title.overview": {"en": "The three layers of the Kubernetes network",
                                "fr": "Les trois couches du réseau Kubernetes"},
    "diagrams.title.overview_detail": {"en": "All the layers together ({cni}, {protocol}/{port})",
                                       "fr": "Toutes les couches ensemble ({cni}, {protocol}/{port})"},
    "diagrams.title.trace": {"en": "Path of a new connection: {src} → {dst}",
                             "fr": "Chemin d'une nouvelle connexion : {src} → {dst}"},
    "diagrams.unknown_cni": {"en": "CNI unknown", "fr": "CNI inconnu"},
    # -- nodes and devices ----------------------------------------------------------------------
    "diagrams.node.label": {"en": "node {name}", "fr": "nœud {name}"},
    "diagrams.node.label_cp": {"en": "node {name} (control plane)", "fr": "nœud {name} (plan de contrôle)"},
    "diagrams.node.addresses": {"en": "node IP {ip}\npod CIDR {cidr}", "fr": "IP du nœud {ip}\nCIDR des pods {cidr}"},
    "diagrams.node_network": {"en": "node network\n{cidr}", "fr": "réseau des nœuds\n{cidr}"},
    "diagrams.bridge": {"en": "{name} (bridge)\n{addr}", "fr": "{name} (pont)\n{addr}"},
    "diagrams.tunnel": {"en": "{name} (VXLAN, VNI {vni})\nVTEP {local}", "fr": "{name} (VXLAN, VNI {vni})\nVTEP {local}"},
    "diagrams.uplink": {"en": "{name}\n{addr}", "fr": "{name}\n{addr}"},
    "diagrams.veths": {"en": "{count} veths", "fr": "{count} veth"},
    "diagrams.pod.group": {"en": "{owner} ×{count}", "fr": "{owner} ×{count}"},
    "diagrams.pod.no_ip": {"en": "no IP yet", "fr": "pas encore d'IP"},
    "diagrams.no_pods": {"en": "no pods", "fr": "aucun pod"},
    "diagrams.encap": {"en": "UDP {port}", "fr": "UDP {port}"},
    "diagrams.link.vxlan": {"en": "VXLAN to {vtep}", "fr": "VXLAN vers {vtep}"},
    # -- services -------------------------------------------------------------------------------
    "diagrams.svc.cluster_ip": {"en": "ClusterIP {ip}:{port}", "fr": "ClusterIP {ip}:{port}"},
    "diagrams.svc.node_port": {"en": "NodePort {port} on every node", "fr": "NodePort {port} sur chaque nœud"},
    "diagrams.svc.no_endpoints": {"en": "no ready endpoint: connections are rejected",
                                  "fr": "aucun endpoint prêt : les connexions sont rejetées"},
    "diagrams.svc.share": {"en": "{share} of new connections", "fr": "{share} des nouvelles connexions"},
    "diagrams.svc.clients": {"en": "any pod\n(client)", "fr": "n'importe quel pod\n(client)"},
    "diagrams.svc.outside": {"en": "outside the cluster\n(any node IP)", "fr": "hors du cluster\n(toute IP de nœud)"},
    "diagrams.svc.not_ready": {"en": "not in the rules", "fr": "absent des règles"},
    # -- policies -------------------------------------------------------------------------------
    "diagrams.ns.label": {"en": "namespace {name}", "fr": "namespace {name}"},
    "diagrams.pol.isolated": {"en": "isolated: {directions}", "fr": "isolé : {directions}"},
    "diagrams.pol.ingress": {"en": "ingress", "fr": "entrée"},
    "diagrams.pol.egress": {"en": "egress", "fr": "sortie"},
    "diagrams.pol.open": {"en": "not isolated", "fr": "non isolé"},
    "diagrams.pol.policy": {"en": "policy {name}", "fr": "politique {name}"},
    "diagrams.pol.mixed": {"en": "partly allowed", "fr": "en partie autorisé"},
    "diagrams.pol.no_policies": {"en": "no network policy: every pod may reach every pod",
                                 "fr": "aucune politique réseau : tout pod peut joindre tout pod"},
    "diagrams.pol.rest_allowed": {"en": "pairs not drawn: allowed (nothing isolates them)",
                                  "fr": "paires non dessinées : autorisées (rien ne les isole)"},
    # -- legend ---------------------------------------------------------------------------------
    "diagrams.legend": {"en": "Legend", "fr": "Légende"},
    "diagrams.legend.pod_route": {"en": "pod-to-pod: route to another node",
                                  "fr": "pod à pod : route vers un autre nœud"},
    "diagrams.legend.tunnel": {"en": "pod-to-pod: VXLAN tunnel", "fr": "pod à pod : tunnel VXLAN"},
    "diagrams.legend.wire": {"en": "veth pair, bridge port, uplink", "fr": "paire veth, port de pont, lien montant"},
    "diagrams.legend.dnat": {"en": "pod-to-service: DNAT by kube-proxy", "fr": "pod à service : DNAT par kube-proxy"},
    "diagrams.legend.selects": {"en": "policy selects the pod", "fr": "la politique sélectionne le pod"},
    "diagrams.legend.allowed": {"en": "allowed by a policy rule", "fr": "autorisé par une règle"},
    "diagrams.legend.blocked": {"en": "blocked", "fr": "bloqué"},
    "diagrams.legend.trace": {"en": "path of the traced connection", "fr": "chemin de la connexion tracée"},
    # -- trace ----------------------------------------------------------------------------------
    "trace.head": {"en": "{src} → {dst}: path of a new {protocol} connection",
                   "fr": "{src} → {dst} : chemin d'une nouvelle connexion {protocol}"},
    "trace.pod_route": {"en": "pod {pod}: route {route}", "fr": "pod {pod} : route {route}"},
    "trace.veth": {"en": "leaves the pod by {pod_if}, enters node {node} by {host_if}",
                   "fr": "sort du pod par {pod_if}, entre dans le nœud {node} par {host_if}"},
    "trace.no_pod_route": {"en": "pod {pod}: no route to {ip}", "fr": "pod {pod} : aucune route vers {ip}"},
    "trace.kube_proxy": {"en": "kube-proxy on {node} ({service}): {path}",
                         "fr": "kube-proxy sur {node} ({service}) : {path}"},
    "trace.no_service": {"en": "kube-proxy on {node}: no rule for {dst}, no DNAT",
                         "fr": "kube-proxy sur {node} : aucune règle pour {dst}, pas de DNAT"},
    "trace.no_rules": {"en": "node {node}: no kube-proxy rules in the snapshot",
                       "fr": "nœud {node} : aucune règle kube-proxy dans l'instantané"},
    "trace.no_candidates": {"en": "service {service} has no endpoint: the connection is rejected",
                            "fr": "le service {service} n'a aucun endpoint : la connexion est rejetée"},
    "trace.candidate": {"en": "candidate {n}/{total}: {target} ({pod}), {share} of new connections",
                        "fr": "candidat {n}/{total} : {target} ({pod}), {share} des nouvelles connexions"},
    "trace.dnat": {"en": "{chain}: DNAT to {target}", "fr": "{chain} : DNAT vers {target}"},
    "trace.node_route": {"en": "node {node}: route {route} → node {next}",
                         "fr": "nœud {node} : route {route} → nœud {next}"},
    "trace.tunnel": {"en": "node {node}: route {route}, VXLAN on {dev} (VNI {vni}) to VTEP {vtep} "
                           "(node {next}), UDP {port} over {uplink}",
                     "fr": "nœud {node} : route {route}, VXLAN sur {dev} (VNI {vni}) vers le VTEP {vtep} "
                           "(nœud {next}), UDP {port} par {uplink}"},
    "trace.deliver": {"en": "node {node}: route {route} → {host_if} → pod {pod} ({pod_if})",
                      "fr": "nœud {node} : route {route} → {host_if} → pod {pod} ({pod_if})"},
    "trace.local_address": {"en": "node {node}: {ip} is the node's own address", "fr": "nœud {node} : {ip} est l'adresse du nœud"},
    "trace.leave": {"en": "node {node}: route {route}, the packet leaves the cluster",
                    "fr": "nœud {node} : route {route}, le paquet sort du cluster"},
    "trace.no_route": {"en": "node {node}: no route to {ip}", "fr": "nœud {node} : aucune route vers {ip}"},
    "trace.loop": {"en": "stopped after {hops} nodes: routing loop?", "fr": "arrêt après {hops} nœuds : boucle de routage ?"},
    "trace.policy": {"en": "network policies: {verdict}", "fr": "politiques réseau : {verdict}"},
    "trace.policy_none": {"en": "network policies: not evaluated (the destination is not a pod)",
                          "fr": "politiques réseau : non évaluées (la destination n'est pas un pod)"},
    "trace.allowed": {"en": "allowed", "fr": "autorisée"},
    "trace.denied": {"en": "denied", "fr": "refusée"},
    "trace.html.step": {"en": "step", "fr": "étape"},
    "trace.html.layer": {"en": "layer", "fr": "couche"},
    "trace.html.where": {"en": "where", "fr": "où"},
    "trace.html.what": {"en": "what happens", "fr": "ce qui se passe"},
    "trace.layer.pod": {"en": "pod network", "fr": "réseau des pods"},
    "trace.layer.service": {"en": "service", "fr": "service"},
    "trace.layer.policy": {"en": "policy", "fr": "politique"},
    # -- errors ---------------------------------------------------------------------------------
    "diagrams.error.no_dot": {
        "en": "graphviz's `dot` was not found: install it (apt-get install graphviz) and retry",
        "fr": "la commande `dot` de graphviz est introuvable : installez-la (apt-get install graphviz) puis recommencez"},
    "diagrams.error.dot_failed": {"en": "dot failed: {reason}", "fr": "échec de dot : {reason}"},
    "diagrams.error.bad_output": {"en": "output file {file}: the name must end in .svg or .png",
                                  "fr": "fichier de sortie {file} : le nom doit finir par .svg ou .png"},
    "diagrams.error.write_failed": {"en": "cannot write {file}: {reason}", "fr": "impossible d'écrire {file} : {reason}"},
    "diagrams.error.unknown_node": {"en": "no node {node} in the snapshot (nodes: {known})",
                                    "fr": "aucun nœud {node} dans l'instantané (nœuds : {known})"},
    "diagrams.error.bad_port": {"en": "port {port}: expected a number from 1 to 65535",
                                "fr": "port {port} : un nombre de 1 à 65535 est attendu"},
    "diagrams.error.bad_snapshot": {"en": "snapshot {file}: {reason}", "fr": "instantané {file} : {reason}"},
    "diagrams.error.snapshot_field": {"en": "snapshot {file}: field {field}: {reason}",
                                      "fr": "instantané {file} : champ {field} : {reason}"},
    "trace.error.unknown_pod": {"en": "no pod {pod} in the snapshot (pods: {known})",
                                "fr": "aucun pod {pod} dans l'instantané (pods : {known})"},
    "trace.error.no_ip": {"en": "pod {pod} has no IP yet (status.podIP is empty)",
                          "fr": "le pod {pod} n'a pas encore d'IP (status.podIP est vide)"},
    "trace.error.bad_destination": {
        "en": "destination {dst}: expected namespace/pod, namespace/service:port, IP or IP:port",
        "fr": "destination {dst} : attendu namespace/pod, namespace/service:port, IP ou IP:port"},
    "trace.error.unknown_port": {"en": "service {service} has no port {port} (ports: {ports})",
                                 "fr": "le service {service} n'a pas de port {port} (ports : {ports})"},
    "trace.error.unknown_destination": {"en": "destination {dst}: no such pod or service in the snapshot",
                                        "fr": "destination {dst} : ni pod ni service de ce nom dans l'instantané"},
    # -- CLI ------------------------------------------------------------------------------------
    "draw.cli.help": {"en": "draw a network layer of the lab as SVG or PNG",
                      "fr": "dessiner une couche réseau du lab en SVG ou PNG"},
    "draw.cli.layer_help": {"en": "which layer to draw", "fr": "la couche à dessiner"},
    "draw.cli.snapshot_help": {"en": "a snapshot JSON file (default: take one from the running embedded lab)",
                               "fr": "un fichier JSON d'instantané (par défaut : en prendre un du lab embarqué en marche)"},
    "draw.cli.name_help": {"en": "name of the embedded lab", "fr": "nom du lab embarqué"},
    "draw.cli.output_help": {"en": "output file (.svg or .png); default: SVG on standard output",
                             "fr": "fichier de sortie (.svg ou .png) ; par défaut : SVG sur la sortie standard"},
    "draw.cli.port_help": {"en": "port for the policy layer", "fr": "port pour la couche des politiques"},
    "draw.cli.chains_help": {"en": "show kube-proxy chain names", "fr": "afficher les noms des chaînes kube-proxy"},
    "draw.cli.wrote": {"en": "wrote {file}", "fr": "{file} écrit"},
    "trace.cli.help": {"en": "show the path a new connection takes, hop by hop",
                       "fr": "montrer le chemin d'une nouvelle connexion, saut par saut"},
    "trace.cli.src_help": {"en": "source pod (namespace/name)", "fr": "pod source (namespace/nom)"},
    "trace.cli.dst_help": {"en": "destination: namespace/pod, namespace/service:port, IP[:port]",
                           "fr": "destination : namespace/pod, namespace/service:port, IP[:port]"},
    "draw.cli.needs_root": {
        "en": "taking a snapshot of the embedded lab needs root: run as root or pass --snapshot FILE",
        "fr": "prendre un instantané du lab embarqué demande root : lancez en root ou passez --snapshot FICHIER"},
}

i18n.register(MESSAGES)


def percent(share: float, lang: str | None = None) -> str:
    """``33.3%`` in English, ``33,3 %`` in French (comma, narrow no-break space)."""
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    if (lang or i18n.get_language()) == "fr":
        return text.replace(".", ",") + "\u202f%"
    return text + "%"
