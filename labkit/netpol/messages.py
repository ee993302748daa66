"""Every user-facing text of ``labkit.netpol`` and ``labkit netpol``, in English and French.

Field-error details keep the API server's English wording (learners will meet it in kubectl),
and say the same thing in French.
"""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # -- validation (API-server style) --------------------------------------------------------
    "netpol.fieldtype.FieldValueRequired": {"en": "Required value", "fr": "Valeur requise"},
    "netpol.fieldtype.FieldValueInvalid": {"en": "Invalid value: {value}", "fr": "Valeur invalide : {value}"},
    "netpol.fieldtype.FieldValueNotSupported": {
        "en": "Unsupported value: {value}", "fr": "Valeur non prise en charge : {value}"},
    "netpol.fieldtype.FieldValueForbidden": {"en": "Forbidden", "fr": "Interdit"},
    "netpol.field.join": {"en": "{head}: {detail}", "fr": "{head} : {detail}"},
    "netpol.field.line": {"en": "{field}: {message}", "fr": "{field} : {message}"},
    "netpol.field.not_object": {"en": "must be an object", "fr": "doit être un objet (des paires clé: valeur)"},
    "netpol.field.not_list": {"en": "must be a list", "fr": "doit être une liste"},
    "netpol.field.not_integer": {"en": "must be an integer", "fr": "doit être un entier"},
    "netpol.field.not_port": {
        "en": "must be a port number or a port name", "fr": "doit être un numéro ou un nom de port"},
    "netpol.field.name_required": {
        "en": "name or generateName is required", "fr": "name ou generateName est obligatoire"},
    "netpol.field.dns_subdomain": {
        "en": "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
              "and must start and end with an alphanumeric character",
        "fr": "un sous-domaine RFC 1123 ne contient que des minuscules, des chiffres, « - » ou « . », "
              "et commence et finit par une lettre ou un chiffre"},
    "netpol.field.supported_protocols": {
        "en": 'supported values: "TCP", "UDP", "SCTP"', "fr": 'valeurs acceptées : "TCP", "UDP", "SCTP"'},
    "netpol.field.supported_policy_types": {
        "en": 'supported values: "Ingress", "Egress"', "fr": 'valeurs acceptées : "Ingress", "Egress"'},
    "netpol.field.too_many_policy_types": {
        "en": "may not specify more than two policyTypes", "fr": "pas plus de deux policyTypes"},
    "netpol.field.end_port_without_port": {
        "en": "may not be specified when `port` is not specified", "fr": "interdit quand `port` est absent"},
    "netpol.field.end_port_below_port": {
        "en": "must be greater than or equal to `port`", "fr": "doit être supérieur ou égal à `port`"},
    "netpol.field.end_port_named": {
        "en": "may not be specified when `port` is non-numeric",
        "fr": "interdit quand `port` n'est pas numérique (un port nommé ne se prête pas à une plage)"},
    "netpol.field.port_range": {
        "en": "must be between 1 and 65535, inclusive", "fr": "doit être compris entre 1 et 65535 inclus"},
    "netpol.field.port_name_length": {
        "en": "must be no more than 15 characters", "fr": "ne doit pas dépasser 15 caractères"},
    "netpol.field.port_name_chars": {
        "en": "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "fr": "ne doit contenir que des minuscules, des chiffres (a-z, 0-9) et des tirets (-)"},
    "netpol.field.port_name_letter": {
        "en": "must contain at least one letter (a-z)", "fr": "doit contenir au moins une lettre (a-z)"},
    "netpol.field.port_name_hyphens": {
        "en": "must not contain consecutive hyphens", "fr": "ne doit pas contenir deux tirets de suite"},
    "netpol.field.port_name_edges": {
        "en": "must not begin or end with a hyphen", "fr": "ne doit ni commencer ni finir par un tiret"},
    "netpol.field.peer_required": {
        "en": "must specify a peer",
        "fr": "il faut indiquer un pair : podSelector, namespaceSelector ou ipBlock"},
    "netpol.field.ipblock_and_selector": {
        "en": "may not specify both ipBlock and another peer",
        "fr": "ipBlock ne se combine pas avec un sélecteur dans le même pair"},
    "netpol.field.cidr": {
        "en": "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        "fr": "doit être un bloc CIDR valide (par exemple 10.9.8.0/24 ou 2001:db8::/64)"},
    "netpol.field.except_subset": {
        "en": "must be a strict subset of `cidr`", "fr": "doit être un sous-ensemble strict de `cidr`"},
    "netpol.field.values_required": {
        "en": "must be specified when `operator` is 'In' or 'NotIn'",
        "fr": "obligatoire quand `operator` vaut 'In' ou 'NotIn'"},
    "netpol.field.values_forbidden": {
        "en": "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        "fr": "interdit quand `operator` vaut 'Exists' ou 'DoesNotExist'"},
    "netpol.field.operator": {
        "en": "not a valid selector operator (In, NotIn, Exists, DoesNotExist)",
        "fr": "opérateur de sélecteur inconnu (In, NotIn, Exists ou DoesNotExist)"},
    "netpol.field.label_key": {
        "en": "must be a valid label key: an optional DNS subdomain prefix and '/', then at most 63 "
              "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character",
        "fr": "doit être une clé d'étiquette valide : un préfixe DNS facultatif suivi de « / », puis au plus "
              "63 caractères alphanumériques, « - », « _ » ou « . », commençant et finissant par une lettre "
              "ou un chiffre"},
    "netpol.field.label_value": {
        "en": "a valid label must be an empty string or consist of at most 63 alphanumeric characters, '-', "
              "'_' or '.', and must start and end with an alphanumeric character",
        "fr": "une valeur d'étiquette est vide ou faite d'au plus 63 caractères alphanumériques, « - », « _ » "
              "ou « . », et commence et finit par une lettre ou un chiffre"},
    # -- errors -------------------------------------------------------------------------------
    "netpol.list_sep": {"en": "; ", "fr": " ; "},
    "netpol.error.policy_invalid": {
        "en": "NetworkPolicy {name} is invalid: {errors}", "fr": "la NetworkPolicy {name} est invalide : {errors}"},
    "netpol.error.in_source": {"en": "{source}: {message}", "fr": "{source} : {message}"},
    "netpol.error.manifest": {"en": "{source}: {field}: {problem}", "fr": "{source} : {field} : {problem}"},
    "netpol.source": {"en": "{file}, document {doc}", "fr": "{file}, document {doc}"},
    "netpol.error.file_missing": {
        "en": "{file}: no such file", "fr": "{file} : fichier introuvable"},
    "netpol.error.file_unreadable": {
        "en": "{file}: cannot be read as UTF-8 text", "fr": "{file} : illisible comme texte UTF-8"},
    "netpol.error.yaml": {
        "en": "{file}: not valid YAML (line {line}, column {column})",
        "fr": "{file} : YAML invalide (ligne {line}, colonne {column})"},
    "netpol.error.duplicate_pod": {
        "en": "pod {pod} is listed twice", "fr": "le pod {pod} apparaît deux fois"},
    "netpol.error.unknown_pod": {
        "en": "no pod {pod} (write namespace/name); known pods: {known}",
        "fr": "aucun pod {pod} (écrire namespace/nom) ; pods connus : {known}"},
    "netpol.error.bad_protocol": {
        "en": "protocol must be TCP, UDP or SCTP, not {protocol}",
        "fr": "le protocole doit être TCP, UDP ou SCTP, pas {protocol}"},
    "netpol.error.bad_port": {
        "en": "port must be a number between 1 and 65535, not {port}",
        "fr": "le port doit être un nombre entre 1 et 65535, pas {port}"},
    "netpol.error.no_engine": {
        "en": "this result was built without its engine: it cannot explain cells",
        "fr": "ce résultat a été construit sans son moteur : il ne peut pas expliquer les cases"},
    "netpol.problem.not_object": {"en": "must be an object", "fr": "doit être un objet (des paires clé: valeur)"},
    "netpol.problem.not_list": {"en": "must be a list", "fr": "doit être une liste"},
    "netpol.problem.not_string": {"en": "must be a string", "fr": "doit être une chaîne de caractères"},
    "netpol.problem.kind_missing": {
        "en": "every document needs a kind (Namespace, Pod, NetworkPolicy or a List)",
        "fr": "chaque document doit avoir un kind (Namespace, Pod, NetworkPolicy ou une List)"},
    "netpol.problem.name_missing": {"en": "a name is required", "fr": "le nom est obligatoire"},
    "netpol.problem.label_not_string": {
        "en": "label values must be strings (quote them: \"1\", \"true\")",
        "fr": "les valeurs d'étiquette doivent être des chaînes (mettez-les entre guillemets : \"1\", \"true\")"},
    "netpol.problem.duplicate": {
        "en": "{kind} {name} is defined twice", "fr": "{kind} {name} est défini deux fois"},
    "netpol.problem.bad_ip": {"en": "{value} is not an IP address", "fr": "{value} n'est pas une adresse IP"},
    "netpol.problem.bad_port": {
        "en": "{value} is not a port number (1-65535)", "fr": "{value} n'est pas un numéro de port (1-65535)"},
    "netpol.problem.bad_protocol": {
        "en": "{value} is not TCP, UDP or SCTP", "fr": "{value} n'est ni TCP, ni UDP, ni SCTP"},
    # -- tables and explanations --------------------------------------------------------------
    "netpol.table.corner": {"en": "src\\dst", "fr": "src\\dst"},
    "netpol.table.caption": {
        "en": "Reachability ({view}), {protocol}/{port}: rows are sources, columns destinations; "
              "'.' allowed, 'X' denied",
        "fr": "Joignabilité ({view}), {protocol}/{port} : lignes = sources, colonnes = destinations ; "
              "« . » autorisé, « X » refusé"},
    "netpol.view.combined": {"en": "ingress and egress", "fr": "entrée et sortie"},
    "netpol.view.ingress": {"en": "ingress only", "fr": "entrée seule"},
    "netpol.view.egress": {"en": "egress only", "fr": "sortie seule"},
    "netpol.html.too_large": {
        "en": "{pods} pods: too many to draw; {allowed} of {total} pairs allowed. Use .to_table() or .pairs().",
        "fr": "{pods} pods : trop pour les dessiner ; {allowed} paires autorisées sur {total}. "
              "Utilisez .to_table() ou .pairs()."},
    "netpol.verdict.allowed": {"en": "ALLOWED", "fr": "AUTORISÉ"},
    "netpol.verdict.denied": {"en": "DENIED", "fr": "REFUSÉ"},
    "netpol.explain.head": {
        "en": "{src} -> {dst}, {protocol}/{port}: {verdict}", "fr": "{src} -> {dst}, {protocol}/{port} : {verdict}"},
    "netpol.explain.section.Egress": {"en": "Egress from {pod}", "fr": "Sortie de {pod}"},
    "netpol.explain.section.Ingress": {"en": "Ingress to {pod}", "fr": "Entrée vers {pod}"},
    "netpol.explain.for.Egress": {"en": "for egress", "fr": "en sortie"},
    "netpol.explain.for.Ingress": {"en": "for ingress", "fr": "en entrée"},
    "netpol.explain.not_isolated": {
        "en": "{section}: not isolated (no policy selects {pod} {direction}), so allowed",
        "fr": "{section} : non isolé (aucune politique ne sélectionne {pod} {direction}), donc autorisé"},
    "netpol.explain.isolated_allowed": {
        "en": "{section}: isolated by {policies}; allowed by {rules}",
        "fr": "{section} : isolé par {policies} ; autorisé par {rules}"},
    "netpol.explain.isolated_denied": {
        "en": "{section}: isolated by {policies}; no rule allows it, so denied",
        "fr": "{section} : isolé par {policies} ; aucune règle ne l'autorise, donc refusé"},
    "netpol.explain.port_miss": {
        "en": "{rule} admits this peer, but not this port and protocol",
        "fr": "{rule} admet ce pair, mais pas ce port ni ce protocole"},
    "netpol.explain.self_allowed": {
        "en": "A pod may always reach itself over its own IP: policies do not apply (switch: allow_self=False; "
              "upstream e2e tests do not check self pairs).",
        "fr": "Un pod peut toujours se joindre par sa propre IP : les politiques ne s'appliquent pas "
              "(option : allow_self=False ; les tests e2e amont ne vérifient pas ces paires)."},
    "netpol.explain.self_evaluated": {
        "en": "Self pair evaluated like any other (allow_self=False); upstream e2e tests do not check it.",
        "fr": "Paire vers soi évaluée comme les autres (allow_self=False) ; les tests e2e amont ne la "
              "vérifient pas."},
    "netpol.explain.ipblock_off": {
        "en": "ipBlock peers are not matched against pod IPs here (ipblock_matches_pods=False).",
        "fr": "Les pairs ipBlock ne sont pas comparés aux IP des pods ici (ipblock_matches_pods=False)."},
    # -- CLI ----------------------------------------------------------------------------------
    "netpol.cli.group": {
        "en": "NetworkPolicy semantics, offline: reachability matrix and explanations from YAML",
        "fr": "Sémantique des NetworkPolicy, hors ligne : matrice de joignabilité et explications depuis du YAML"},
    "netpol.cli.matrix": {
        "en": "print who can connect to whom for one port and protocol",
        "fr": "afficher qui peut se connecter à qui pour un port et un protocole"},
    "netpol.cli.explain": {
        "en": "explain why one connection is allowed or denied",
        "fr": "expliquer pourquoi une connexion est autorisée ou refusée"},
    "netpol.cli.files": {
        "en": "YAML files with Namespaces, Pods and NetworkPolicies",
        "fr": "fichiers YAML contenant des Namespaces, des Pods et des NetworkPolicies"},
    "netpol.cli.port": {"en": "destination port (default 80)", "fr": "port de destination (80 par défaut)"},
    "netpol.cli.protocol": {"en": "TCP, UDP or SCTP (default TCP)", "fr": "TCP, UDP ou SCTP (TCP par défaut)"},
    "netpol.cli.json": {
        "en": "print JSON: port, protocol, pods and the allowed pairs",
        "fr": "sortie JSON : port, protocole, pods et paires autorisées"},
    "netpol.cli.direction": {
        "en": "which table: combined (default), ingress or egress",
        "fr": "quelle table : combined (par défaut), ingress ou egress"},
    "netpol.cli.ipblock": {
        "en": "ipBlock peers ignore pod IPs (as Cilium does)",
        "fr": "les pairs ipBlock ignorent les IP des pods (comme Cilium)"},
    "netpol.cli.no_self": {
        "en": "evaluate a pod's traffic to itself like any other pair",
        "fr": "évaluer le trafic d'un pod vers lui-même comme toute autre paire"},
    "netpol.cli.from": {"en": "source pod, namespace/name", "fr": "pod source, namespace/nom"},
    "netpol.cli.to": {"en": "destination pod, namespace/name", "fr": "pod de destination, namespace/nom"},
}

