"""The class service (a JupyterHub-managed service, root): the instructor's page and learners' resets.

``/services/class/``: the instructor's page (hub login, roster admins only): each learner, whether
their server runs, their lab's health (daemon ready, pods), the exercises they solved (their
``labkit.progress`` record), and a reset button per learner.
``POST /services/class/api/reset``: a learner's own ``labkit reset`` (their server's token
identifies them: it resets their lab and nobody else's). ``GET /services/class/api/learners``: the
page's data as JSON (admins).
"""
from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import time
from pathlib import Path

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, ioloop, web

from .. import i18n
from ..embedded import cleanup
from ..embedded.lifecycle import daemon_alive
from ..errors import LabkitError
from . import world
from .plan import ClassPlan, Learner

PROGRESS = Path(".local/share/kubenet-lab/progress.json")
log = logging.getLogger("labkit.classroom.service")


class ResetFailed(Exception):
    """A learner's reset that failed even after the rebuild: said plainly, never a bare 500."""

    def __init__(self, login: str, error: str) -> None:
        super().__init__(f"{login}: {error}")
        self.login, self.error = login, error

    def message(self, lang: str) -> str:
        return i18n.t("class.reset_error", lang, login=self.login, error=self.error)


# -- facts (I/O) and the page (pure) --------------------------------------------------------------

def learner_facts(learner: Learner, running: bool | None) -> dict:
    pods = [n for n in cleanup.lab_namespaces(learner.lab)
            if "-pod-" in n and "-pod-kube-system-" not in n]
    try:
        solved = sorted(json.loads((Path(learner.home) / PROGRESS).read_text()).get("solved") or {})
    except (OSError, ValueError, AttributeError):
        solved = []
    return {"login": learner.login, "admin": learner.admin, "server": running,
            "lab_ready": daemon_alive(learner.lab, ready=True), "pods": len(pods), "solved": solved}


HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>kubenet-lab class</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;border-bottom:1px solid #ccc;text-align:left}
.error{color:#b00020}</style></head><body>"""


SERVER_STATES = {True: "running / démarré", False: "stopped / arrêté", None: "unknown / inconnu"}


def page(rows: list[dict], xsrf_form: str, prefix: str) -> str:
    """The instructor's page (pure): one row per learner, EN/FR headers, a reset form per learner."""
    def row(r: dict) -> str:
        lab = "ready / prêt" if r["lab_ready"] else ("not started / pas démarré" if not r["server"] else "down / arrêté")
        solved = ", ".join(html.escape(s) for s in r["solved"]) or "–"
        reset = (f'<form method="post" action="{prefix}reset/{r["login"]}">{xsrf_form}'
                 f'<button type="submit">reset / réinitialiser</button></form>')
        return (f'<tr data-login="{r["login"]}"><td>{html.escape(r["login"])}{" (admin)" if r["admin"] else ""}</td>'
                f'<td>{SERVER_STATES[r["server"]]}</td><td>{lab}</td>'
                f'<td>{r["pods"]}</td><td>{len(r["solved"])}: {solved}</td><td>{reset}</td></tr>')
    body = "\n".join(row(r) for r in rows)
    return f"""{HEAD}<h1>Class / Classe</h1>
<table><tr><th>Learner / Apprenant</th><th>Server / Serveur</th><th>Lab health / État du lab</th>
<th>Pods</th><th>Exercises solved / Exercices réussis</th><th></th></tr>
{body}</table></body></html>"""


def error_page(error: ResetFailed, prefix: str) -> str:
    """What the instructor sees when a reset failed (pure): the cause in both languages, a way back."""
    return (f'{HEAD}<h1>Reset failed / Échec de la réinitialisation</h1><p class="error" data-login="{error.login}">'
            f'{html.escape(error.message("en"))}</p><p class="error" lang="fr">{html.escape(error.message("fr"))}</p>'
            f'<p><a href="{prefix}">Back to the class / Retour à la classe</a></p></body></html>')


# -- handlers -------------------------------------------------------------------------------------

class Base(HubOAuthenticated, web.RequestHandler):
    def initialize(self, plan: ClassPlan, locks: dict) -> None:
        self.plan, self.locks = plan, locks

    def instructor(self) -> dict:
        user = self.get_current_user()
        if not user:
            raise web.HTTPError(401)
        if user["name"] not in {p.login for p in self.plan.learners if p.admin}:
            raise web.HTTPError(403, "instructors only / réservé aux formateurs")
        return user

    async def servers(self) -> dict[str, bool]:
        req = httpclient.HTTPRequest(url_path_join(self.hub_auth.api_url, "users"),
                                     headers={"Authorization": f"token {self.hub_auth.api_token}"},
                                     request_timeout=60)
        users = json.loads((await httpclient.AsyncHTTPClient().fetch(req)).body)
        return {u["name"]: bool(u.get("servers") or u.get("server")) for u in users}

    async def rows(self) -> list[dict]:
        try:
            running: dict[str, bool | None] = dict(await self.servers())
        except (httpclient.HTTPClientError, OSError) as error:   # a busy hub: the page still comes
            log.warning("the hub's list of servers did not come: %s", error)
            running = {x.login: None for x in self.plan.learners}
        return await asyncio.to_thread(
            lambda: [learner_facts(x, running.get(x.login, False)) for x in self.plan.learners])

    async def reset(self, login: str) -> None:
        """Reset ``login``'s lab (one at a time per learner); a failure becomes :class:`ResetFailed`."""
        lock = self.locks.setdefault(login, asyncio.Lock())
        async with lock:
            began = time.monotonic()
            log.info("reset of %s: started", login)
            try:
                await asyncio.to_thread(world.reset, self.plan, self.plan.learner(login))
            except (LabkitError, OSError, KeyError) as error:
                log.exception("reset of %s failed after %.1f s", login, time.monotonic() - began)
                raise ResetFailed(login, str(error)) from error
            log.info("reset of %s: done in %.1f s", login, time.monotonic() - began)


class Page(Base):
    @web.authenticated
    async def get(self) -> None:
        self.instructor()
        self.write(page(await self.rows(), self.xsrf_form_html(), self.hub_auth.base_url))


class Learners(Base):
    @web.authenticated
    async def get(self) -> None:
        self.instructor()
        self.write({"learners": await self.rows()})


class InstructorReset(Base):
    @web.authenticated
    async def post(self, login: str) -> None:
        self.instructor()
        if login not in {x.login for x in self.plan.learners}:
            raise web.HTTPError(404)
        try:
            await self.reset(login)
        except ResetFailed as error:
            self.set_status(500)
            self.finish(error_page(error, self.hub_auth.base_url))
            return
        self.redirect(self.hub_auth.base_url)


class OwnReset(Base):
    """A learner resets their own lab: their token says who they are, nothing else is accepted."""

    def check_xsrf_cookie(self) -> None:      # a token in a header, no cookie: nothing to forge
        return None

    async def post(self) -> None:
        match = self.hub_auth.auth_header_pat.match(self.request.headers.get("Authorization", ""))
        model = await self.hub_auth.user_for_token(match.group(1), use_cache=False, sync=False) if match else None
        if not model or model.get("kind", "user") != "user" or model["name"] not in \
                {x.login for x in self.plan.learners}:
            raise web.HTTPError(403, "a learner's token is needed / il faut le jeton d'un apprenant")
        try:
            await self.reset(model["name"])
        except ResetFailed as error:
            self.set_status(500)
            self.finish({"error": "reset_failed", "login": error.login,
                         "message": {lang: error.message(lang) for lang in ("en", "fr")}})
            return
        self.write({"reset": model["name"]})


def make_app(plan: ClassPlan) -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/class/")
    args = {"plan": plan, "locks": {}}
    return web.Application([
        (prefix, Page, args),
        (url_path_join(prefix, "api/learners"), Learners, args),
        (url_path_join(prefix, "api/reset"), OwnReset, args),
        (url_path_join(prefix, r"reset/([a-z][a-z0-9]*)"), InstructorReset, args),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
    ], cookie_secret=os.urandom(32), xsrf_cookies=True, hub_auth=HubOAuth.instance())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[%(levelname).1s %(asctime)s %(name)s] %(message)s")
    plan = ClassPlan.from_json(Path(args.plan).read_text())
    url = os.environ.get("JUPYTERHUB_SERVICE_URL", plan.service_url)
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    make_app(plan).listen(int(port), host)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
