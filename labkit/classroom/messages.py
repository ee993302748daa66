"""The class's messages, EN and FR (one catalog, as every labkit module's)."""
from __future__ import annotations

from .. import i18n

MESSAGES = {
    "class.needs_root": {
        "en": "a class creates Unix users and network namespaces: it needs root. Run: sudo make {target}",
        "fr": "une classe crée des utilisateurs Unix et des espaces de noms réseau : il faut root. Lancez : "
              "sudo make {target}"},
    "class.network_taken": {
        "en": "the class network {network} overlaps {where} on this machine: choose another with --network",
        "fr": "le réseau de la classe {network} chevauche {where} sur cette machine : choisissez-en un autre "
              "avec --network"},
    "class.port_taken": {
        "en": "port {address} is taken{who}: stop what holds it, or choose another port: sudo make class "
              "CLASS_PORT=8010",
        "fr": "le port {address} est pris{who} : arrêtez ce qui l'occupe, ou choisissez un autre port : sudo make "
              "class CLASS_PORT=8010"},
    "class.internal_port_taken": {
        "en": "the class needs port {address} for itself and it is taken{who}: stop what holds it, then run again",
        "fr": "la classe a besoin du port {address} pour elle-même et il est pris{who} : arrêtez ce qui "
              "l'occupe, puis relancez"},
    "class.lab_taken": {
        "en": "{login}'s lab would be named {lab}, and a lab {lab} that is not the class's is on this machine: "
              "take it down (`sudo labkit down --name {lab}`) or choose another login; nothing was changed",
        "fr": "le lab de {login} s'appellerait {lab}, et un lab {lab} qui n'est pas celui de la classe existe sur "
              "cette machine : arrêtez-le (`sudo labkit down --name {lab}`) ou choisissez un autre identifiant ; "
              "rien n'a été modifié"},
    "class.lab_taken_login": {
        "en": "{login}'s lab cannot be made: a lab {lab} that is not the class's is on this server (the instructor "
              "takes it down, `sudo labkit down --name {lab}`, or renames the login)",
        "fr": "le lab de {login} ne peut pas être créé : un lab {lab} qui n'est pas celui de la classe existe sur ce "
              "serveur (le formateur l'arrête, `sudo labkit down --name {lab}`, ou change l'identifiant)"},
    "class.installing_proxy": {
        "en": "installing JupyterHub's proxy from npm into {path} (once)...",
        "fr": "installation du proxy de JupyterHub depuis npm dans {path} (une fois)..."},
    "class.installing_venv": {
        "en": "installing the learners' Python (labkit, JupyterLab) into {path} (again after each change of labkit)...",
        "fr": "installation du Python des apprenants (labkit, JupyterLab) dans {path} (de nouveau après chaque "
              "modification de labkit)..."},
    "class.starting_hub": {
        "en": "starting JupyterHub...",
        "fr": "démarrage de JupyterHub..."},
    "class.hub_failed": {
        "en": "JupyterHub did not start: {error} (log: {log})",
        "fr": "JupyterHub n'a pas démarré : {error} (journal : {log})"},
    "class.hub_failed_clean": {
        "en": "JupyterHub did not start: {error}; the class was removed again, but for its log {log}",
        "fr": "JupyterHub n'a pas démarré : {error} ; la classe a été retirée, sauf son journal {log}"},
    "class.no_roster": {
        "en": "no roster {path}: write one login per line (`admin` after the instructor's), then run again",
        "fr": "pas de liste {path} : écrivez un identifiant par ligne (`admin` après celui du formateur), puis "
              "relancez"},
    "class.up": {
        "en": "The class is up: {url} ({count} accounts; each learner chooses a password at first login)",
        "fr": "La classe est prête : {url} ({count} comptes ; chacun choisit son mot de passe à la première "
              "connexion)"},
    "class.up_one": {
        "en": "The class is up: {url} ({count} account; the learner chooses a password at first login)",
        "fr": "La classe est prête : {url} ({count} compte ; l'apprenant choisit son mot de passe à la première "
              "connexion)"},
    "class.instructor": {
        "en": "Instructor's page: {url}services/class/ (as {admins})",
        "fr": "Page du formateur : {url}services/class/ (en tant que {admins})"},
    "class.down": {
        "en": "class removed: {count} learners' accounts, their worlds, labs and processes swept",
        "fr": "classe supprimée : {count} comptes d'apprenants, leurs mondes, labs et processus balayés"},
    "class.down_one": {
        "en": "class removed: {count} learner's account, its world, lab and processes swept",
        "fr": "classe supprimée : {count} compte d'apprenant, son monde, son lab et ses processus balayés"},
    "class.not_on_roster": {
        "en": "{login} is not on the class roster: add the login to the roster (class.txt) and run `sudo make "
              "class` again (the hub's \"Add Users\" is not enough)",
        "fr": "{login} n'est pas sur la liste de la classe : ajoutez l'identifiant à la liste (class.txt) et "
              "relancez `sudo make class` (« Add Users » du hub ne suffit pas)"},
    "class.reset_failed": {
        "en": "the class service refused the reset: {error}",
        "fr": "le service de la classe a refusé la réinitialisation : {error}"},
    "class.reset_error": {
        "en": "the reset of {login}'s lab failed: {error} (details in the hub's log, hub.log)",
        "fr": "la réinitialisation du lab de {login} a échoué : {error} (détails dans le journal du hub, "
              "hub.log)"},
    "class.reset_not_yours": {
        "en": "in this class you reset only your own lab, {own}: `labkit reset` ({asked} was not touched, "
              "nor was yours)",
        "fr": "dans cette classe, vous ne réinitialisez que votre propre lab, {own} : `labkit reset` ({asked} "
              "n'a pas été touché, ni le vôtre)"},
    "class.status_not_yours": {
        "en": "{asked} is not your lab: in this class you see only your own, {own} (`labkit status`)",
        "fr": "{asked} n'est pas votre lab : dans cette classe, vous ne voyez que le vôtre, {own} "
              "(`labkit status`)"},
    "class.own_lab_down": {
        "en": "your lab {name} is not answering: `labkit reset` rebuilds it (in a terminal, or `!labkit reset` in a "
              "notebook cell; your notebooks are kept, the lab's pods are not)",
        "fr": "votre lab {name} ne répond pas : `labkit reset` le reconstruit (dans un terminal, ou `!labkit reset` "
              "dans une cellule ; vos carnets sont conservés, pas les pods du lab)"},
    "class.reset_done": {
        "en": "your lab {name} was reset (your kubeconfig is refreshed)",
        "fr": "votre lab {name} a été réinitialisé (votre kubeconfig est mis à jour)"},
    "class.command_failed": {
        "en": "`{command}` failed: {error}",
        "fr": "`{command}` a échoué : {error}"},
    "class.cli.help": {"en": "a whole class on this server: JupyterHub, one isolated lab per learner",
                       "fr": "une classe entière sur ce serveur : JupyterHub, un lab isolé par apprenant"},
}


def counted(key: str, count: int, **params: object) -> str:
    """Message ``key`` for ``count`` things: ``<key>_one`` for one (and, in French, for none: « 0 compte »)."""
    lang = i18n.get_language()
    singular = count == 1 or (count == 0 and lang == "fr")
    return i18n.t(f"{key}_one" if singular else key, lang, count=count, **params)
