"""Messages of the kube-proxy rule generator and parsers, in English and French."""

MESSAGES = {
    "kubeproxy.netlink_refused": {
        "en": "{where}: the kernel refused the partial sync at \"{line}\": {error}",
        "fr": "{where} : le noyau a refusé la synchronisation partielle à « {line} » : {error}",
    },
    "kubeproxy.file_unreadable": {
        "en": "cannot read {file}: {reason}",
        "fr": "impossible de lire {file} : {reason}",
    },
    "kubeproxy.bad_yaml": {
        "en": "{file}: not valid YAML: {reason}",
        "fr": "{file} : YAML invalide : {reason}",
    },
    "kubeproxy.not_a_mapping": {
        "en": "{file}, document {doc}: expected a Kubernetes object (a mapping), found {found}",
        "fr": "{file}, document {doc} : un objet Kubernetes (un dictionnaire) était attendu, trouvé {found}",
    },
    # {where} is "FILE, document N (Kind ns/name)": the same words in both languages.
    "kubeproxy.field.missing": {
        "en": "{where}: field {field} is required but missing",
        "fr": "{where} : le champ {field} est obligatoire mais absent",
    },
    "kubeproxy.field.not_ip": {
        "en": "{where}: field {field}: {value!r} is not an IP address",
        "fr": "{where} : champ {field} : {value!r} n'est pas une adresse IP",
    },
    "kubeproxy.field.not_cidr": {
        "en": "{where}: field {field}: {value!r} is not a CIDR (such as 10.0.0.0/8)",
        "fr": "{where} : champ {field} : {value!r} n'est pas un CIDR (comme 10.0.0.0/8)",
    },
    "kubeproxy.field.not_port": {
        "en": "{where}: field {field}: {value!r} is not a port number (1 to 65535)",
        "fr": "{where} : champ {field} : {value!r} n'est pas un numéro de port (de 1 à 65535)",
    },
    "kubeproxy.field.not_protocol": {
        "en": "{where}: field {field}: {value!r} is not a protocol, use TCP, UDP or SCTP",
        "fr": "{where} : champ {field} : {value!r} n'est pas un protocole, utilisez TCP, UDP ou SCTP",
    },
    "kubeproxy.field.not_list": {
        "en": "{where}: field {field}: expected a list, found {found!r}",
        "fr": "{where} : champ {field} : liste attendue, valeur trouvée {found!r}",
    },
    "kubeproxy.field.not_mapping": {
        "en": "{where}: field {field}: expected a mapping, found {found!r}",
        "fr": "{where} : champ {field} : dictionnaire attendu, valeur trouvée {found!r}",
    },
    "kubeproxy.field.not_string": {
        "en": "{where}: field {field}: expected a string, found {found!r}",
        "fr": "{where} : champ {field} : chaîne de caractères attendue, valeur trouvée {found!r}",
    },
    "kubeproxy.field.not_bool": {
        "en": "{where}: field {field}: expected true or false, found {found!r}",
        "fr": "{where} : champ {field} : true ou false attendu, valeur trouvée {found!r}",
    },
    "kubeproxy.field.bad_choice": {
        "en": "{where}: field {field}: {value!r} is not one of {choices}",
        "fr": "{where} : champ {field} : {value!r} ne fait pas partie de {choices}",
    },
    "kubeproxy.field.bad_timeout": {
        "en": "{where}: field {field}: {value!r} is not a timeout in seconds (1 to 86400)",
        "fr": "{where} : champ {field} : {value!r} n'est pas un délai en secondes (de 1 à 86400)",
    },
    "kubeproxy.field.bad_name": {
        "en": "{where}: field {field}: {value!r} is not a valid name (lowercase letters, digits "
              "and '-', at most 63 characters, as the API server requires)",
        "fr": "{where} : champ {field} : {value!r} n'est pas un nom valide (minuscules, chiffres "
              "et « - », 63 caractères au plus, comme l'exige le serveur d'API)",
    },
    "kubeproxy.field.duplicate_port": {
        "en": "{where}: field {field}: port name {value!r} is used twice in this Service",
        "fr": "{where} : champ {field} : le nom de port {value!r} est utilisé deux fois dans ce Service",
    },
    "kubeproxy.field.no_service_label": {
        "en": "{where}: an EndpointSlice needs the label `kubernetes.io/service-name` to say which Service it serves",
        "fr": "{where} : une EndpointSlice doit porter l'étiquette `kubernetes.io/service-name` pour dire quel Service elle sert",
    },
    "kubeproxy.option.not_ip": {
        "en": "option {option}: {value!r} is not an IP address",
        "fr": "option {option} : {value!r} n'est pas une adresse IP",
    },
    "kubeproxy.option.not_cidr": {
        "en": "option {option}: {value!r} is not a CIDR (such as 10.244.0.0/16)",
        "fr": "option {option} : {value!r} n'est pas un CIDR (comme 10.244.0.0/16)",
    },
    "kubeproxy.no_services": {
        "en": "no Service found in {files}: give manifests that contain Services (and their EndpointSlices)",
        "fr": "aucun Service trouvé dans {files} : donnez des manifestes qui contiennent des Services (et leurs EndpointSlices)",
    },
    "kubeproxy.unknown_format": {
        "en": "{source}: not iptables-save, nft list ruleset or nft -j output (nothing recognisable on the first lines)",
        "fr": "{source} : ce n'est ni une sortie d'iptables-save, ni de nft list ruleset, ni de nft -j (rien de reconnaissable dans les premières lignes)",
    },
    "kubeproxy.bad_iptables_line": {
        "en": "{source}, line {line}: cannot read this iptables rule: {reason}",
        "fr": "{source}, ligne {line} : impossible de lire cette règle iptables : {reason}",
    },
    "kubeproxy.bad_nft_text": {
        "en": "{source}, line {line}: cannot read this nft text: {reason}",
        "fr": "{source}, ligne {line} : impossible de lire ce texte nft : {reason}",
    },
    "kubeproxy.bad_nft_json": {
        "en": "{source}: not nft JSON output: {reason}",
        "fr": "{source} : ce n'est pas une sortie JSON de nft : {reason}",
    },
    "kubeproxy.no_kube_proxy_rules": {
        "en": "{source}: no kube-proxy rules found (no KUBE-SERVICES chain, no kube-proxy table)",
        "fr": "{source} : aucune règle de kube-proxy trouvée (pas de chaîne KUBE-SERVICES, pas de table kube-proxy)",
    },
    # CLI output
    "kubeproxy.cli.render_help": {
        "en": "print the rules kube-proxy writes for these manifests (iptables-restore or nft -f input)",
        "fr": "affiche les règles que kube-proxy écrit pour ces manifestes (entrée d'iptables-restore ou de nft -f)",
    },
    "kubeproxy.cli.inspect_help": {
        "en": "read iptables-save or nft output and show the services kube-proxy programmed",
        "fr": "lit une sortie d'iptables-save ou de nft et montre les services programmés par kube-proxy",
    },
    "kubeproxy.cli.group_help": {
        "en": "kube-proxy rules: generate them from manifests",
        "fr": "règles de kube-proxy : les générer à partir de manifestes",
    },
    "kubeproxy.cli.inspect_group_help": {
        "en": "read node state and explain it",
        "fr": "lire l'état d'un nœud et l'expliquer",
    },
    "kubeproxy.table.header": {
        "en": "SERVICE|PROTO|CLUSTER-IP|PORT|NODEPORT|ENDPOINT|SHARE|CHAINS",
        "fr": "SERVICE|PROTO|IP-CLUSTER|PORT|NODEPORT|ENDPOINT|PART|CHAÎNES",
    },
    "kubeproxy.table.no_endpoints": {
        "en": "(no endpoints: rejected)",
        "fr": "(aucun endpoint : rejeté)",
    },
    "kubeproxy.table.summary": {
        "en": "{mode} mode: {services} service ports, {endpoints} endpoints",
        "fr": "mode {mode} : {services} ports de service, {endpoints} endpoints",
    },
}

