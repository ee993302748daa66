"""'… and N more' lines agree in number (they said 'autre(s) connexion(s)' / 'connection(s)')."""
from labkit.exercises import policies


def test_one_more_is_singular_and_more_is_plural():
    five = [f"line {i}" for i in range(policies.MAX_LISTED + 1)]
    assert policies._listed(five, "fr")[-1] == "… et 1 autre connexion du même genre"
    assert policies._listed(five, "en")[-1] == "… and 1 more connection like these"
    six = five + ["line x"]
    assert policies._listed(six, "fr")[-1] == "… et 2 autres connexions du même genre"
