"""A whole class on one server: JupyterHub with one isolated embedded lab per learner.

``make class`` (``labkit class up``) serves the workshop to a class from one Linux server:

- **accounts from a roster** (:mod:`.roster`): one login per line; each learner sets their password
  on first login (JupyterHub's FirstUseAuthenticator, restricted to the roster); ``admin`` marks the
  instructor(s);
- **each learner's world in a network namespace of its own** (:mod:`.plan`): ``kc_<login>`` holds
  the learner's lab (``labkit up --name <login>`` run inside it) and their single-user server, so
  every learner sees the canonical 172.18.0.0/16, 10.244.0.0/16 and 10.96.0.0/16 and nobody reaches
  anybody else's lab; the hub reaches the single-user server through a veth (``kc_<login>`` on the
  host, ``eth0`` inside), and a firewall table (:mod:`.firewall`) lets the learner's world reach
  nothing on the host but the hub's API and the class service;
- **each learner's server and kernels run as their own Unix user** ``kc_<login>`` (never root),
  created by ``labkit class up`` and swept by ``labkit class down`` with everything else;
- **the class service** (:mod:`.service`): the instructor's page (learners, lab health, exercises
  solved, per-learner reset) and the learner's own ``labkit reset``.

The description (roster, plan, hub configuration, firewall) is pure and unit-tested; the I/O lives
in :mod:`.host` (users, namespaces, firewall, installs), :mod:`.world` (one learner's world) and
:mod:`.hub` (the hub process).
"""
