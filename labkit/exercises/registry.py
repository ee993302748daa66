"""Which observe and which judge make each exercise written in the observe/judge style."""
from __future__ import annotations

from . import judges, observe, policies, services
from .core import exercise

exercise("00.0", observe.pod_running, judges.pod_running)
exercise("01.1", observe.pod_on_node, judges.pod_on_node)
exercise("01.2", observe.pod_ip, judges.pod_ip)
exercise("01.3", observe.no_nat, judges.no_nat)
exercise("02.4", observe.host_veth, judges.host_veth)
exercise("02.5", observe.device_towards, judges.device_towards, prediction=True)
exercise("02.6", observe.route_restored, judges.route_restored)
exercise("02.7", observe.tunnel_device, judges.tunnel_device)
exercise("03.1", services.observe_exposed, services.judge_exposed)
exercise("03.2", observe.sep_probabilities, judges.sep_probabilities, prediction=True)
exercise("03.4", observe.selector_fixed, judges.selector_fixed)
exercise("03.3", services.observe_node_port, services.judge_node_port)
exercise("04.1", policies.observe_matrix, policies.judge_default_deny)
exercise("04.2", policies.observe_matrix, policies.judge_allow_from_namespace)
exercise("04.3", policies.observe_matrix, judges.reach_matrix, prediction=True)
exercise("04.4", policies.observe_matrix, policies.judge_and_or)
exercise("04.5", observe.dns_allowed, judges.dns_allowed)
exercise("05.1", lambda cluster: observe.mystery(cluster, "05.1"), judges.stack)
exercise("05.2", lambda cluster: observe.mystery(cluster, "05.2"), judges.stack)
exercise("05.3", observe.stack, judges.stack)
