"""The EN/FR message catalog: read from every module's MESSAGES table on first use, no import
side effects, no key defined twice, and every key the code uses exists in both languages."""
import ast
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import i18n

LABKIT = Path(i18n.__file__).resolve().parent
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.$")
NOT_KEYS = re.compile(r"\.(json|ya?ml|py|txt|svg|png|html|local|conf|sh)$")   # file and domain names
# calls that take a message key, and at which position
KEY_CALLS = {"t": 0, "BadInput": 0, "LabkitError": 0, "bad_request": 0, "forbidden": 0, "cause": 1,
             "ApiError": 2}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _code_trees():
    for path in sorted(LABKIT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        tables = set()
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == i18n.TABLE for t in targets):
                    tables |= {id(n) for n in ast.walk(node)}
        yield path.relative_to(LABKIT.parent), tree, tables


def test_every_message_has_english_and_french():
    keys = i18n.keys()
    assert len(keys) > 500
    for key in keys:
        texts = i18n._catalog[key]
        assert texts["en"].strip() and texts["fr"].strip(), key
        for lang in ("en", "fr"):
            _fields(texts[lang])                  # a well-formed format string


def test_every_key_used_in_code_exists():
    """Literal keys (also in conditional expressions), keys given to the message calls, and the
    constant prefix of keys built at run time (f"netpol.view.{direction}") all have messages."""
    catalog = set(i18n.keys())
    namespaces = {k.split(".")[0] for k in catalog}
    missing = []
    for rel, tree, tables in _code_trees():
        for node in ast.walk(tree):
            if id(node) in tables:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value) \
                    and node.value.split(".")[0] in namespaces and not NOT_KEYS.search(node.value) \
                    and node.value not in catalog:
                missing.append(f"{rel}:{node.lineno}: {node.value}")
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                prefix = str(node.values[0].value)
                if PREFIX.match(prefix) and prefix.split(".")[0] in namespaces \
                        and not any(k.startswith(prefix) for k in catalog):
                    missing.append(f"{rel}:{node.lineno}: {prefix}*")
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                at = KEY_CALLS.get(name, len(node.args))
                arg = node.args[at] if at < len(node.args) else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and KEY.match(arg.value) and arg.value not in catalog:
                    missing.append(f"{rel}:{node.lineno}: {arg.value}")
    assert not missing, ("keys with no message (a module's messages are a module-level literal "
                         "`MESSAGES = {...}`, not an i18n.register call):\n" + "\n".join(missing))


def test_no_module_registers_messages_at_import():
    """Tables are read, not registered: no module calls ``register`` at its top level, and the
    one allowed ``noqa: F401`` budget of the tree is not spent on importing messages."""
    calls = []
    for rel, tree, _ in _code_trees():
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "attr", "") == "register" \
                    and getattr(node.value.func, "value", None) is not None \
                    and getattr(node.value.func.value, "id", "") == "i18n":
                calls.append(f"{rel}:{node.lineno}")
    assert not calls, ("define the table as a module-level literal `MESSAGES = {key: {\"en\": ..., "
                       "\"fr\": ...}}` instead of calling i18n.register at import: " + ", ".join(calls))
    noqa = [f"{p}:{n}" for p in LABKIT.rglob("*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1) if "noqa: F401" in line]
    assert len(noqa) <= 5, noqa


def test_a_lookup_imports_nothing():
    code = ("import sys; from labkit import i18n; before = set(sys.modules); "
            "i18n.t('netpol.verdict.allowed'); i18n.keys(); "
            "print(sorted(set(sys.modules) - before))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_key_defined_twice_is_refused_naming_both_files(tmp_path):
    pkg = _package(tmp_path, {
        "a.py": 'MESSAGES = {"x.one": {"en": "one", "fr": "un"}}\n',
        "sub/b.py": 'MESSAGES: dict = {"x.one": {"en": "One", "fr": "Un"}}\n',
    })
    with pytest.raises(ValueError, match=r"x\.one.*twice.*a\.py.*sub/b\.py"):
        i18n.build(pkg)


def test_a_message_without_french_or_a_table_that_is_not_a_literal_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"x\.one.*lacks \['fr'\]"):
        i18n.build(_package(tmp_path / "p1", {"a.py": 'MESSAGES = {"x.one": {"en": "one"}}\n'}))
    with pytest.raises(ValueError, match="must be a literal"):
        i18n.build(_package(tmp_path / "p2", {"a.py": 'MESSAGES = dict(x={"en": "a", "fr": "b"})\n'}))


def test_register_refuses_a_key_of_another_file():
    with pytest.raises(ValueError, match="twice"):
        i18n.register({"netpol.verdict.allowed": {"en": "a", "fr": "b"}})
    assert i18n.t("netpol.verdict.allowed", "en") != "a"
