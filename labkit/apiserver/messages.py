"""EN/FR messages of the API server: the ``message`` of Status answers, and the server's own errors.

The ``reason`` of a Status (``NotFound``, ``Invalid``...) is an API enum and stays English; the
``message`` a learner reads is looked up here in the server's language.
"""
from __future__ import annotations

MESSAGES = {
    "api.not_found": {
        "en": '{resource} "{name}" not found',
        "fr": '{resource} "{name}" introuvable'},
    "api.already_exists": {
        "en": '{resource} "{name}" already exists',
        "fr": '{resource} "{name}" existe déjà'},
    "api.conflict": {
        "en": 'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
              "please apply your changes to the latest version and try again",
        "fr": "Opération impossible sur {resource} \"{name}\" : l'objet a été modifié entre-temps ; "
              "appliquez vos changements à la dernière version et réessayez"},
    "api.invalid": {
        "en": '{kind} "{name}" is invalid: {summary}',
        "fr": '{kind} "{name}" est invalide : {summary}'},
    "api.unauthorized": {
        "en": "Unauthorized",
        "fr": "Non authentifié (jeton absent ou incorrect)"},
    "api.method_not_allowed": {
        "en": "the server does not allow this method on the requested resource",
        "fr": "le serveur n'autorise pas cette méthode sur la ressource demandée"},
    "api.no_resource": {
        "en": "the server could not find the requested resource",
        "fr": "le serveur n'a pas trouvé la ressource demandée"},
    "api.bad_body": {
        "en": "the request body could not be decoded: {error}",
        "fr": "impossible de décoder le corps de la requête : {error}"},
    "api.bad_content_type": {
        "en": "unsupported media type {content_type!r}",
        "fr": "type de contenu {content_type!r} non pris en charge"},
    "api.bad_selector": {
        "en": "unable to parse requirement: {selector!r}: {error}",
        "fr": "sélecteur illisible : {selector!r} : {error}"},
    "api.bad_field_selector": {
        "en": "invalid field selector {selector!r}: {error}",
        "fr": "sélecteur de champs invalide {selector!r} : {error}"},
    "api.name_mismatch": {
        "en": "the name of the object ({body}) does not match the name on the URL ({url})",
        "fr": "le nom de l'objet ({body}) ne correspond pas au nom dans l'URL ({url})"},
    "api.namespace_mismatch": {
        "en": "the namespace of the provided object ({body}) does not match the namespace sent on "
              "the request ({url})",
        "fr": "le namespace de l'objet ({body}) ne correspond pas à celui de la requête ({url})"},
    "api.kind_mismatch": {
        "en": "the kind of the object ({body}) does not match the resource {resource}",
        "fr": "le kind de l'objet ({body}) ne correspond pas à la ressource {resource}"},
    "api.bad_patch": {
        "en": "the patch could not be applied: {error}",
        "fr": "impossible d'appliquer le patch : {error}"},
    "api.expired": {
        "en": "too old resource version: {asked} ({oldest})",
        "fr": "version de ressource trop ancienne : {asked} ({oldest})"},
    "api.bad_resource_version": {
        "en": "invalid resource version {value!r}",
        "fr": "version de ressource invalide {value!r}"},
    "api.namespace_terminating": {
        "en": 'unable to create new content in namespace {namespace} because it is being terminated',
        "fr": "impossible de créer du contenu dans le namespace {namespace} : il est en cours de "
              "suppression"},
    "api.namespace_protected": {
        "en": 'namespaces "{name}" is forbidden: this namespace may not be deleted',
        "fr": "namespaces \"{name}\" est interdit : ce namespace ne peut pas être supprimé"},
    "api.pod_not_running": {
        "en": 'pod {name} does not have a host assigned',
        "fr": "le pod {name} n'est encore placé sur aucun nœud"},
    "api.bad_container": {
        "en": "container {container} is not valid for pod {name}",
        "fr": "le conteneur {container} n'existe pas dans le pod {name}"},
    "api.exec_needs_websocket": {
        "en": "exec and attach need a WebSocket upgrade with the v5.channel.k8s.io or "
              "v4.channel.k8s.io subprotocol (SPDY is not supported by this server)",
        "fr": "exec et attach demandent une connexion WebSocket avec le sous-protocole "
              "v5.channel.k8s.io ou v4.channel.k8s.io (ce serveur ne gère pas SPDY)"},
    "api.attach_unsupported": {
        "en": "this lab's runtime cannot attach to a container's main process; use exec",
        "fr": "le runtime de ce lab ne sait pas s'attacher au processus principal d'un conteneur ; "
              "utilisez exec"},
    "api.exec_no_command": {
        "en": "you must specify at least 1 command",
        "fr": "indiquez au moins une commande"},
    "api.exec_not_found": {
        "en": 'exec: "{command}": executable file not found in $PATH',
        "fr": 'exec : "{command}" : exécutable introuvable dans le $PATH'},
    "api.exec_failed": {
        "en": "command terminated with non-zero exit code: error executing command {command}, "
              "exit code {exit_code}",
        "fr": "la commande s'est terminée avec un code non nul : {command}, "
              "code de sortie {exit_code}"},
    "api.internal": {
        "en": "an internal error occurred: {error}",
        "fr": "erreur interne : {error}"},
    "api.immutable": {
        "en": "field is immutable",
        "fr": "ce champ ne peut pas être modifié"},
    "api.pod_update_forbidden": {
        "en": "pod updates may not change fields other than `spec.containers[*].image`, "
              "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
              "`spec.tolerations` (only additions to existing tolerations)",
        "fr": "une mise à jour de pod ne peut modifier que `spec.containers[*].image`, "
              "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds` et "
              "`spec.tolerations` (ajouts seulement)"},
    # Field causes of 422 Invalid answers.
    "cause.required": {"en": "Required value", "fr": "Valeur requise"},
    "cause.invalid_name": {
        "en": 'Invalid value: "{value}": {rule}',
        "fr": 'Valeur invalide : "{value}" : {rule}'},
    "cause.invalid": {
        "en": "Invalid value: {value}: {detail}",
        "fr": "Valeur invalide : {value} : {detail}"},
    "cause.unsupported": {
        "en": 'Unsupported value: "{value}": supported values: {supported}',
        "fr": 'Valeur non prise en charge : "{value}" : valeurs possibles : {supported}'},
    "cause.external": {"en": "{message}", "fr": "{message}"},
    "cause.duplicate": {"en": 'Duplicate value: "{value}"', "fr": 'Valeur en double : "{value}"'},
    "rule.dns1123_subdomain": {
        "en": "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
              "'-' or '.', and must start and end with an alphanumeric character (e.g. "
              "'example.com', regex used for validation is "
              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        "fr": "un sous-domaine RFC 1123 ne contient que des minuscules, des chiffres, '-' ou '.', "
              "et commence et finit par une lettre ou un chiffre (par ex. 'example.com')"},
    "rule.dns1123_label": {
        "en": "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
              "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
              "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "fr": "une étiquette RFC 1123 ne contient que des minuscules, des chiffres ou '-', et "
              "commence et finit par une lettre ou un chiffre (par ex. 'mon-nom' ou '123-abc')"},
    "rule.dns1035_label": {
        "en": "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
              "with an alphabetic character, and end with an alphanumeric character (e.g. "
              "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        "fr": "une étiquette DNS-1035 ne contient que des minuscules, des chiffres ou '-', commence "
              "par une lettre et finit par une lettre ou un chiffre (par ex. 'mon-nom' ou 'abc-123')"},
    "rule.too_long": {
        "en": "must be no more than {max} characters",
        "fr": "ne doit pas dépasser {max} caractères"},
    "rule.label_value": {
        "en": "a valid label must be an empty string or consist of alphanumeric characters, '-', "
              "'_' or '.', and must start and end with an alphanumeric character",
        "fr": "une valeur d'étiquette est vide ou faite de lettres, chiffres, '-', '_' ou '.', et "
              "commence et finit par une lettre ou un chiffre"},
    "rule.selector_mismatch": {
        "en": "`selector` does not match template `labels`",
        "fr": "le `selector` ne correspond pas aux `labels` du modèle"},
    "rule.port_range": {
        "en": "must be between 1 and 65535, inclusive",
        "fr": "doit être compris entre 1 et 65535 inclus"},
    "api.strict_decoding": {
        "en": '{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {fields}',
        "fr": '{kind} en version "{version}" illisible : erreur de décodage strict : {fields}'},
    "cause.forbidden": {"en": "Forbidden: {detail}", "fr": "Interdit : {detail}"},
    "rule.string_map": {
        "en": "must be a map of string keys to string values",
        "fr": "doit être une table de clés et de valeurs de type chaîne"},
    "rule.ip_address": {
        "en": "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        "fr": "doit être une adresse IP valide (par ex. 10.9.8.7)"},
    "rule.list": {"en": "must be a list", "fr": "doit être une liste"},
    "rule.object": {"en": "must be an object", "fr": "doit être un objet"},
    "rule.etp_needs_external": {
        "en": "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
        "fr": "ne peut être défini que si `type` vaut 'NodePort' ou 'LoadBalancer'"},
    "rule.node_port_type": {
        "en": "may not be used when `type` is '{type}'",
        "fr": "ne peut pas être utilisé quand `type` vaut '{type}'"},
    "rule.node_port_range": {
        "en": "provided port is not in the valid range. The range of valid ports is {low}-{high}",
        "fr": "le port donné n'est pas dans la plage valide. La plage valide est {low}-{high}"},
    "rule.node_port_taken": {
        "en": "provided port is already allocated",
        "fr": "le port donné est déjà attribué"},
    "rule.cluster_ip_range": {
        "en": "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
              "The range of valid IPs is {cidr}",
        "fr": "impossible d'attribuer l'IP {ip} : l'IP donnée ({ip}) n'est pas dans la plage valide. "
              "La plage valide est {cidr}"},
    "rule.cluster_ip_taken": {
        "en": "failed to allocate IP {ip}: provided IP is already allocated",
        "fr": "impossible d'attribuer l'IP {ip} : l'IP donnée est déjà attribuée"},
    "rule.non_negative": {
        "en": "must be greater than or equal to 0",
        "fr": "doit être supérieur ou égal à 0"},
    # Server lifecycle and CLI.
    "apiserver.tls_failed": {
        "en": "could not create the lab's certificates with openssl in {path}: {error}",
        "fr": "impossible de créer les certificats du lab avec openssl dans {path} : {error}"},
    "apiserver.bad_state": {
        "en": "the saved object {path} is unreadable ({error}); move it away and restart",
        "fr": "l'objet sauvegardé {path} est illisible ({error}) ; déplacez-le puis relancez"},
    "apiserver.not_started": {
        "en": "the API server of lab {name} is not started",
        "fr": "le serveur d'API du lab {name} n'est pas démarré"},
    "apiserver.start_timeout": {
        "en": "the API server of lab {name} did not start within {seconds} s",
        "fr": "le serveur d'API du lab {name} n'a pas démarré en {seconds} s"},
    # Events written by the controllers (shown by kubectl describe).
    "event.scheduled": {
        "en": "Successfully assigned {namespace}/{name} to {node}",
        "fr": "{namespace}/{name} placé sur le nœud {node}"},
    "event.failed_scheduling": {
        "en": "0/{total} nodes are available: {detail}",
        "fr": "0/{total} nœuds disponibles : {detail}"},
    "event.no_fit": {
        "en": "no node matches the pod's node selector, taints or nodeName",
        "fr": "aucun nœud ne correspond au nodeSelector, aux taints ou au nodeName du pod"},
    "event.pulled": {
        "en": 'Container image "{image}" already present on machine',
        "fr": "L'image \"{image}\" est déjà présente sur la machine"},
    "event.created": {"en": "Created container: {container}", "fr": "Conteneur créé : {container}"},
    "event.started": {"en": "Started container {container}", "fr": "Conteneur {container} démarré"},
    "event.killing": {"en": "Stopping container {container}", "fr": "Arrêt du conteneur {container}"},
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff (pod: format.Pod, name_ns(uid))
    "event.back_off": {
        "en": "Back-off restarting failed container {container} in pod {pod}",
        "fr": "Redémarrage du conteneur en échec {container} du pod {pod} différé (back-off)"},
    "event.sandbox_failed": {
        "en": "Failed to create pod sandbox: {error}",
        "fr": "Échec de la création du bac à sable du pod : {error}"},
    "event.rs_created_pod": {"en": "Created pod: {pod}", "fr": "Pod créé : {pod}"},
    "event.rs_deleted_pod": {"en": "Deleted pod: {pod}", "fr": "Pod supprimé : {pod}"},
    "event.scaled": {
        "en": "Scaled {direction} replica set {rs} from {old} to {new}",
        "fr": "Replica set {rs} passé de {old} à {new} réplicas"},
}

