"""Numbers in the learner's language: ``1,234.5`` in English, ``1 234,5`` in French (glossary)."""
from __future__ import annotations

from labkit import i18n
from labkit.inspect.servicemap import EndpointEntry, ServiceEntry, ServiceMap, format_table


def test_french_numbers_use_a_decimal_comma_and_a_narrow_space_between_thousands():
    assert i18n.number(1234.5, ",.1f", "en") == "1,234.5"
    assert i18n.number(1234.5, ",.1f", "fr") == "1\u202f234,5"
    assert i18n.number(0.25, ".3f", "fr") == "0,250"
    assert i18n.number(10000, ",", "fr") == "10\u202f000"


def test_the_service_map_table_writes_shares_the_french_way_in_french():
    smap = ServiceMap("iptables", [ServiceEntry("nb03/web", "tcp", "10.96.0.9", 80,
                                                endpoints=[EndpointEntry("10.244.1.2", 80, 0.5)])])
    assert "0,500" in format_table(smap, "fr") and "0.500" not in format_table(smap, "fr")
    assert "0.500" in format_table(smap, "en")
