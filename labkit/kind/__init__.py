"""kind clusters for each network stack: config (pure), install plan (pure), up/down (the tools).

``KindPlan`` describes the cluster (CNI, kube-proxy mode, workers, name) and refuses combinations
that cannot work; ``kind_config``/``render`` write the kind Cluster; ``install.plan_steps`` lists
the commands ``up`` runs; every version comes from :mod:`labkit.kind.versions`.
"""
from .config import CNIS, PROXY_MODES, KindPlan, kind_config, render
from .install import Step, plan_steps
from .lifecycle import down, up

__all__ = ["CNIS", "PROXY_MODES", "KindPlan", "Step", "down", "kind_config", "plan_steps", "render", "up"]
