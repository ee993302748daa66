"""The embedded lab: a Kubernetes-shaped cluster made of network namespaces on this machine.

``topology`` describes a lab (pure, testable without root); ``dataplane`` turns a description into
namespaces, links and routes; ``daemon`` keeps the lab running (pods, echo responders); ``client`` is
the Python API the CLI, the tests and the notebooks use to talk to a running lab; ``cleanup`` sweeps
everything a lab made, by name.
"""
