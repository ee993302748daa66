"""labkit.solution prints a solution in the learner's language; labkit.progress remembers what passed."""
import pytest

import labkit
from labkit.exercises import Result, recorded, reveal


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path


def test_solution_prints_the_code_with_a_header_in_the_learner_language():
    en = labkit.solution("02.5", lang="en")
    fr = labkit.solution("02.5", lang="fr")
    assert str(en).startswith("Solution of exercise 02.5") and "Solution de l'exercice 02.5" in str(fr)
    assert en.code == fr.code and en.code.strip()
    assert "<pre" in en._repr_html_()


def test_an_unknown_exercise_is_a_bad_input_naming_the_known_ones():
    with pytest.raises(labkit.BadInput) as info:
        labkit.solution("9.9", lang="fr")
    assert "00.0" in info.value.message("fr") and "il n'y a pas d'exercice" in info.value.message("fr")


def test_a_check_that_passes_records_its_exercise_and_one_that_fails_does_not(data_home):
    verdicts = iter([Result(False, ["no"]), Result(True)])

    @recorded
    def check():
        return next(verdicts)

    assert not check(exercise="02.5") and "02.5" not in reveal.solved()
    assert check(exercise="02.5") and "02.5" in reveal.solved()
    assert (data_home / "kubenet-lab" / "progress.json").exists()


def test_progress_survives_a_new_process_and_shows_each_notebook(data_home):
    reveal.record("00.0")
    reveal.record("02.5")
    text = str(labkit.progress(lang="fr"))
    assert text.startswith("Votre progression : 2 exercice(s) résolu(s) sur")
    assert "✔ 00.0" in text and "✔ 02.5" in text and "· 02.4" in text
    assert "02-pod-to-pod" in labkit.progress(lang="en")._repr_html_()


def test_a_corrupt_progress_file_counts_as_nothing_solved(data_home):
    path = data_home / "kubenet-lab" / "progress.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert reveal.solved() == {}
    reveal.record("01.1")
    assert list(reveal.solved()) == ["01.1"]
