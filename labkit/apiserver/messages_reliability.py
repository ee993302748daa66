"""EN/FR messages of the API server's guards: failure isolation, limits, body decoding."""
from __future__ import annotations

MESSAGES = {
    "reliability.event.skipped": {
        "en": "{component} cannot reconcile this object and skips it until it changes: {error}",
        "fr": "{component} ne peut pas réconcilier cet objet et l'ignore jusqu'à sa prochaine "
              "modification : {error}"},
    "reliability.event.policy_closed": {
        "en": "{component} cannot compile this NetworkPolicy and enforces it closed: the pods it "
              "selects are isolated and nothing is allowed to them until it is fixed: {error}",
        "fr": "{component} ne peut pas compiler cette NetworkPolicy et l'applique fermée : les "
              "pods qu'elle sélectionne sont isolés et rien ne leur est permis tant qu'elle "
              "n'est pas corrigée : {error}"},
    "reliability.too_large": {
        "en": "the request body is too large (more than {limit} bytes)",
        "fr": "le corps de la requête est trop gros (plus de {limit} octets)"},
    "reliability.too_deep": {
        "en": "the {what} body is nested too deeply (more than {limit} levels)",
        "fr": "le corps {what} est trop imbriqué (plus de {limit} niveaux)"},
    "reliability.too_big": {
        "en": "the {what} body expands to too many values (more than {limit}; aliases count "
              "each time they are used)",
        "fr": "le corps {what} contient trop de valeurs une fois développé (plus de {limit} ; "
              "chaque usage d'un alias compte)"},
    "reliability.bad_query": {
        "en": "invalid value {value!r} for the query parameter {name}: an integer is expected",
        "fr": "valeur {value!r} invalide pour le paramètre {name} : un entier est attendu"},
    "reliability.cannot_decode": {
        "en": '{kind} in version "{version}" cannot be handled as a {kind}: json: cannot '
              "unmarshal {found} into Go struct field {path} of type {wanted}",
        "fr": '{kind} en version "{version}" ne peut pas être lu comme un {kind} : le champ '
              "{path} est de type {found} au lieu de {wanted}"},
    "reliability.pod_cap": {
        "en": 'pods "{name}" is forbidden: the lab runs at most {limit} pods (each is a network '
              "namespace on this machine); delete some first",
        "fr": 'pods "{name}" est interdit : le lab fait tourner au plus {limit} pods (chacun est '
              "un espace de noms réseau sur cette machine) ; supprimez-en d'abord"},
    "reliability.event.failed_create": {
        "en": "Error creating: {error}",
        "fr": "Erreur à la création : {error}"},
    "reliability.event.sandbox_changed": {
        "en": "Pod sandbox changed, it will be killed and re-created.",
        "fr": "Le bac à sable du pod a changé, il sera arrêté puis recréé."},
    "cause.too_long": {
        "en": "Too long: must have at most {limit} bytes",
        "fr": "Trop long : au plus {limit} octets"},
    "reliability.rule.qualified_name": {
        "en": "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
              "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
              "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
              ", and must be no more than 63 characters",
        "fr": "le nom ne contient que des lettres, chiffres, '-', '_' ou '.', commence et finit par "
              "une lettre ou un chiffre, et ne dépasse pas 63 caractères"},
    "reliability.rule.qualified_prefix": {
        "en": "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
              "characters, '-' or '.', and must start and end with an alphanumeric character",
        "fr": "le préfixe doit être un sous-domaine RFC 1123 (minuscules, chiffres, '-' ou '.', "
              "commençant et finissant par une lettre ou un chiffre)"},
    "reliability.rule.label_value": {
        "en": "a valid label must be an empty string or consist of alphanumeric characters, '-', "
              "'_' or '.', and must start and end with an alphanumeric character, and must be no "
              "more than 63 characters",
        "fr": "une valeur d'étiquette est vide ou faite de lettres, chiffres, '-', '_' ou '.', "
              "commence et finit par une lettre ou un chiffre, et ne dépasse pas 63 caractères"},
    "reliability.rule.no_values": {
        "en": "may not be specified when `operator` is '{operator}'",
        "fr": "ne peut pas être donné quand `operator` vaut '{operator}'"},
    "reliability.rule.port_name": {
        "en": "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at least "
              "one letter, no two adjacent hyphens, no hyphen at either end, and at most 15 "
              "characters",
        "fr": "ne contient que des minuscules, des chiffres et des tirets (-), au moins une "
              "lettre, jamais deux tirets de suite ni en bordure, et au plus 15 caractères"},
    "reliability.rule.port_range": {
        "en": "must be between {low} and 65535, inclusive",
        "fr": "doit être compris entre {low} et 65535 inclus"},
    "reliability.rule.ip": {
        "en": "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        "fr": "doit être une adresse IP valide (par ex. 10.9.8.7 ou 2001:db8::ffff)"},
    "reliability.rule.special_ip": {
        "en": "may not be unspecified (0.0.0.0), loopback, link-local or multicast",
        "fr": "ne peut être ni non spécifiée (0.0.0.0), ni de bouclage, ni lien-local, ni "
              "multicast"},
    "reliability.rule.dns_label": {
        "en": "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
              "'-', and must start and end with an alphanumeric character, at most 63 characters",
        "fr": "une étiquette RFC 1123 ne contient que des minuscules, des chiffres ou '-', "
              "commence et finit par une lettre ou un chiffre, 63 caractères au plus"},
    "reliability.rule.int_or_percent": {
        "en": "must be an integer >= 0 or a percentage (e.g. '25%')",
        "fr": "doit être un entier >= 0 ou un pourcentage (par ex. '25%')"},
    "reliability.rule.percent_max": {
        "en": "must not be greater than 100%",
        "fr": "ne doit pas dépasser 100 %"},
    "reliability.rule.both_zero": {
        "en": "may not be 0 when `maxSurge` is 0",
        "fr": "ne peut pas valoir 0 quand `maxSurge` vaut 0"},
    "reliability.rule.affinity_timeout": {
        "en": "must be greater than 0 and less than or equal to 86400",
        "fr": "doit être supérieur à 0 et au plus 86400"},
    "reliability.rule.duplicate_port": {
        "en": "the lab serves each containerPort/protocol of a pod once (a real cluster accepts "
              "the duplicate with a warning)",
        "fr": "le lab sert chaque containerPort/protocole d'un pod une seule fois (un vrai "
              "cluster accepte le doublon avec un avertissement)"},
    "reliability.rule.toleration_value": {
        "en": "value must be empty when `operator` is 'Exists'",
        "fr": "la valeur doit être vide quand `operator` vaut 'Exists'"},
    "reliability.rule.toleration_key": {
        "en": "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
        "fr": "l'opérateur doit valoir Exists quand `key` est vide (« toutes les clés et valeurs »)"},
    "reliability.rule.cluster_ip_edge": {
        "en": "failed to allocate IP {ip}: the provided IP ({ip}) is the network or broadcast "
              "address of {cidr}, which is never allocated",
        "fr": "impossible d'attribuer l'IP {ip} : l'IP donnée ({ip}) est l'adresse de réseau ou "
              "de diffusion de {cidr}, jamais attribuée"},
    "reliability.rule.recreate_rolling": {
        "en": "may not be specified when strategy `type` is 'Recreate'",
        "fr": "ne peut pas être donné quand le `type` de stratégie vaut 'Recreate'"},
    "reliability.rule.too_many": {
        "en": "must have at most {limit} items",
        "fr": "doit avoir au plus {limit} éléments"},
    "reliability.rule.addresses_one": {
        "en": "must contain at least 1 and at most 100 addresses",
        "fr": "doit contenir au moins 1 et au plus 100 adresses"},
    "reliability.rule.address_family": {
        "en": "must be an {family} address",
        "fr": "doit être une adresse {family}"},
}

