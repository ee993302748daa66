"""Running the generated notebooks under nbclient, as the notebook tests of both parts do."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "notebooks"     # git-ignored
CELL_TIMEOUT = 240


def kernel_available() -> None:
    """nbclient starts the ``python3`` kernel: register ipykernel's spec when none is installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--user"], check=True)


def notebook(name: str, lang: str, solved: bool):
    """The learner notebook ``notebooks/<lang>/<name>.ipynb`` as shipped (not ``solved``), or the
    instructor build of its source (``solved``: the solutions are code cells)."""
    import nbformat

    from labkit.notebook_build import build

    if solved:
        src = NOTEBOOKS / "src" / f"{name}.py"
        return build(src.read_text(), lang, f"src/{src.name}", instructor=True)
    nb = nbformat.read(NOTEBOOKS / lang / f"{name}.ipynb", as_version=4)
    runnable = [c.source for c in nb.cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]
    assert not runnable, f"a learner notebook carries executable solutions: {runnable}"
    return nb


def execute(name: str, lang: str, env: dict, solved: bool):
    """Run the learner notebook (or the instructor build when ``solved``) top to bottom in a fresh
    kernel; returns the executed notebook."""
    from nbclient import NotebookClient

    path = NOTEBOOKS / lang / f"{name}.ipynb"
    nb = notebook(name, lang, solved)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=env, cwd=str(path.parent))
    finally:                     # what the learner (or the instructor) would see, to look at: test-output/
        import nbformat

        OUTPUT.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, OUTPUT / f"{name}.{lang}.{'instructor' if solved else 'learner'}.ipynb")
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


def assert_progress(results: dict, name: str) -> None:
    """The progress cell at the end lists every exercise of the notebook as solved (the checks
    that passed recorded them in the kernel's ~/.local/share/kubenet-lab/progress.json)."""
    from labkit.exercises.reveal import catalog

    ids = [k for k, v in catalog().items() if v["notebook"] == name]
    for lang, nb in results.items():
        cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.strip() == "labkit.progress()")
        text = outputs_text(cell)
        assert all(f"✔ {i}" in text for i in ids), (lang, ids, text)


def assert_absent(results: dict, check_cells, names: list[str]) -> None:
    """No solution ran: the checks of the learner notebook name what is missing (the objects the
    solutions would have created), in every language."""
    for lang, nb in results.items():
        text = "\n".join(outputs_text(c) for c in check_cells(nb))
        assert all(name in text for name in names), (lang, names, text)
