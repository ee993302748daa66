"""EN/FR messages of the API server's guards: failure isolation, limits, body decoding."""
from __future__ import annotations

from .. import i18n

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
}

i18n.register(MESSAGES)
