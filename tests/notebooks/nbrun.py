"""Running the generated notebooks under nbclient, as the notebook tests of both parts do."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT = 240


def kernel_available() -> None:
    """nbclient starts the ``python3`` kernel: register ipykernel's spec when none is installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--user"], check=True)


def execute(name: str, lang: str, env: dict, solved: bool):
    """Run ``notebooks/<lang>/<name>.ipynb`` in a fresh kernel (solution cells emptied when not
    ``solved``); returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    path = NOTEBOOKS / lang / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if not solved:
        for cell in nb.cells:
            if "solution" in cell.metadata.get("tags", []):
                cell.source = "pass"
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env, cwd=str(path.parent))
    return nb


def outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        for mime in ("text/html", "text/plain"):
            parts.append(str((out.get("data") or {}).get(mime, "")))
    return "\n".join(parts)


def run_both(name: str, envs: dict, solved: bool, parallel: bool = True) -> dict:
    """The notebook in every language of ``envs`` (each with its own lab), at once when ``parallel``."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(envs) if parallel else 1) as pool:
        futures = {lang: pool.submit(execute, name, lang, env, solved) for lang, env in envs.items()}
        return {lang: f.result() for lang, f in futures.items()}


OK = {"en": "✔ Well done!", "fr": "✔ Bravo !"}
NOT_YET = {"en": "✘ Not yet:", "fr": "✘ Pas encore :"}


def assert_checks(results: dict, check_cells, count: int, solved: bool) -> None:
    """Every exercise check of every language says OK (solved) or "not yet" (unsolved), in the
    notebook's own language."""
    for lang, nb in results.items():
        checks = check_cells(nb)
        assert len(checks) == count, (lang, [c.source for c in checks])
        for cell in checks:
            text = outputs_text(cell)
            want, refuse = (OK, NOT_YET) if solved else (NOT_YET, OK)
            assert want[lang] in text and refuse[lang] not in text, (lang, cell.source, text)
            if not solved:
                other = "fr" if lang == "en" else "en"
                assert NOT_YET[other] not in text       # the check speaks the notebook's language
