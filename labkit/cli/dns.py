"""``labkit dns``: how this machine can resolve the lab's Service names, printed, never applied.

The host reaches ClusterIPs through a route into the lab (``hostnet``), so it can also ask the
lab's DNS (the ``kube-dns`` ClusterIP). Changing the host's resolver is the learner's choice: this
command prints the opt-in, per-domain ``resolvectl`` lines (only ``cluster.local`` goes to the lab,
every other name as before) or, with ``--resolv-conf``, a resolv.conf for a shell or mount
namespace of its own (the lab's DNS has no upstream: other names do not resolve there).
"""
from __future__ import annotations

import argparse

from .. import i18n
from ..embedded.dns import DOMAIN
from ..embedded.topology import DEFAULT_NAME, LabSpec

MESSAGES = {
    "dns.cli.help": {
        "en": "print how to resolve <service>.<namespace>.svc.cluster.local from this machine (opt-in)",
        "fr": "affiche comment résoudre <service>.<namespace>.svc.cluster.local depuis cette machine "
              "(à activer soi-même)"},
    "dns.cli.resolv_conf_help": {
        "en": "print a resolv.conf (for a shell or mount namespace of its own) instead",
        "fr": "affiche plutôt un resolv.conf (pour un shell ou un espace de montage à part)"},
    "dns.cli.namespace_help": {
        "en": "namespace searched first for short names (default: default)",
        "fr": "namespace cherché en premier pour les noms courts (défaut : default)"},
    "dns.cli.stanza": {
        "en": "# The DNS of lab {name} answers at {dns} (reached through {link}); nothing was changed.\n"
              "# To resolve *.{domain} from this machine with systemd-resolved (only that domain goes\n"
              "# to the lab; undo with `sudo resolvectl revert {link}`):\n"
              "sudo resolvectl dns {link} {dns}\nsudo resolvectl domain {link} '~{domain}'\n"
              "# Or ask it directly: dig @{dns} kubernetes.default.svc.{domain}",
        "fr": "# Le DNS du lab {name} répond en {dns} (joint par {link}) ; rien n'a été modifié.\n"
              "# Pour résoudre *.{domain} depuis cette machine avec systemd-resolved (seul ce domaine va\n"
              "# au lab ; pour annuler : `sudo resolvectl revert {link}`) :\n"
              "sudo resolvectl dns {link} {dns}\nsudo resolvectl domain {link} '~{domain}'\n"
              "# Ou interrogez-le directement : dig @{dns} kubernetes.default.svc.{domain}"},
    "dns.cli.resolv_conf_comment": {
        "en": "lab {name}'s DNS only: names outside {domain} do not resolve with this file",
        "fr": "uniquement le DNS du lab {name} : les noms hors de {domain} ne se résolvent pas avec ce fichier"},
    "dns.cli.no_host_routes": {
        "en": "lab {name} runs with --no-host-routes: this machine does not reach its DNS ({dns})",
        "fr": "le lab {name} tourne avec --no-host-routes : cette machine ne joint pas son DNS ({dns})"},
}


def resolv_conf(spec: LabSpec, namespace: str = "default") -> str:
    """A resolv.conf that sends every lookup to the lab's DNS, with a pod's search path."""
    return (f"# {i18n.t('dns.cli.resolv_conf_comment', name=spec.name, domain=DOMAIN)}\n"
            f"nameserver {spec.dns_ip}\nsearch {namespace}.svc.{DOMAIN} svc.{DOMAIN} {DOMAIN}\n"
            "options ndots:5\n")


def stanza(spec: LabSpec) -> str:
    return i18n.t("dns.cli.stanza", name=spec.name, dns=spec.dns_ip, link=spec.host_link, domain=DOMAIN)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dns", help=i18n.t("dns.cli.help"), description=i18n.t("dns.cli.help"))
    p.add_argument("--name", default=DEFAULT_NAME)
    p.add_argument("--resolv-conf", action="store_true", help=i18n.t("dns.cli.resolv_conf_help"))
    p.add_argument("--namespace", default="default", help=i18n.t("dns.cli.namespace_help"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..embedded.client import EmbeddedLab
    from ..errors import LabkitError

    spec = EmbeddedLab(args.name).spec
    if not spec.host_routes:
        raise LabkitError("dns.cli.no_host_routes", name=spec.name, dns=spec.dns_ip)
    print(resolv_conf(spec, args.namespace) if args.resolv_conf else stanza(spec))
    return 0
