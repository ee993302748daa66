"""Messages of the streaming subresources (attach, logs, port-forward), in English and French.

Where kubectl shows the server's text as is, the English text is the real API server's or
kubelet's, so what learners read matches a real cluster.
"""
from __future__ import annotations

MESSAGES = {
    "stream.no_process": {
        "en": "container {container} of pod {name} runs no process to attach to (its image {image} "
              "is emulated); give it a command, e.g. kubectl run {name} -it --image={image} -- sh",
        "fr": "le conteneur {container} du pod {name} n'exécute aucun processus auquel s'attacher "
              "(son image {image} est émulée) ; donnez-lui une commande, par exemple "
              "kubectl run {name} -it --image={image} -- sh"},
    "stream.completed_pod": {
        "en": "cannot attach a container in a completed pod; current phase is {phase}",
        "fr": "impossible de s'attacher à un conteneur d'un pod terminé ; phase actuelle : {phase}"},
    "stream.portforward_unsupported": {
        "en": "this lab's runtime cannot forward ports to pods",
        "fr": "le runtime de ce lab ne sait pas rediriger de ports vers les pods"},
    "stream.portforward_needs_websocket": {
        "en": "port-forward needs a WebSocket upgrade with the SPDY/3.1+portforward.k8s.io "
              "(kubectl) or v4.channel.k8s.io (Python client) subprotocol; plain SPDY is not "
              "supported by this server",
        "fr": "port-forward demande une connexion WebSocket avec le sous-protocole "
              "SPDY/3.1+portforward.k8s.io (kubectl) ou v4.channel.k8s.io (client Python) ; "
              "ce serveur ne gère pas SPDY seul"},
    "stream.bad_ports": {
        "en": "invalid port in the ports parameter: {ports!r} (one or more numbers from 1 to 65535)",
        "fr": "port invalide dans le paramètre ports : {ports!r} (un ou plusieurs nombres de 1 à "
              "65535)"},
    "stream.portforward_failed": {
        "en": "error forwarding port {port} to pod {pod}, uid {uid}: failed to connect to "
              "localhost:{port} inside the pod's network namespace: {error}",
        "fr": "échec de la redirection du port {port} vers le pod {pod}, uid {uid} : connexion "
              "impossible à localhost:{port} dans l'espace réseau du pod : {error}"},
}

