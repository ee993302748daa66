"""Which observe and which judge make each exercise written in the observe/judge style."""
from __future__ import annotations

from . import judges, observe
from .core import exercise

exercise("02.5", observe.device_towards, judges.device_towards, prediction=True)
exercise("02.6", observe.route_restored, judges.route_restored)
exercise("03.2", observe.sep_probabilities, judges.sep_probabilities, prediction=True)
exercise("03.4", observe.selector_fixed, judges.selector_fixed)
exercise("04.3", observe.reachers, judges.reachers, prediction=True)
exercise("04.5", observe.dns_allowed, judges.dns_allowed)
exercise("05.1", lambda cluster: observe.mystery(cluster, "05.1"), judges.stack)
exercise("05.2", lambda cluster: observe.mystery(cluster, "05.2"), judges.stack)
exercise("05.3", observe.stack, judges.stack)
