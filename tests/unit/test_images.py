from labkit.embedded.images import default_ports, image_repository


def test_image_names_are_normalised():
    assert image_repository("docker.io/library/nginx:1.27") == "nginx"
    assert image_repository("jpetazzo/color") == "jpetazzo/color"
    assert image_repository("localhost:5000/app:v1") == "localhost:5000/app"
    assert image_repository("traefik/whoami@sha256:abc") == "traefik/whoami"


def test_http_images_serve_their_usual_port_and_others_nothing():
    assert default_ports("jpetazzo/color") == [(80, "TCP")]
    assert default_ports("nginx:alpine") == [(80, "TCP")]
    assert default_ports("nicolaka/netshoot") == []
    assert default_ports(None) == []


def test_serve_hostname_and_agnhost_modes_answer_like_the_images():
    from labkit.embedded.images import serving
    assert serving({"image": "registry.k8s.io/serve_hostname"}) == ("hostname", [(9376, "TCP")])
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.53"
    assert serving({"image": agnhost, "args": ["netexec", "--http-port=8080", "--udp-port=8081"]}) \
        == ("netexec", [(8080, "TCP"), (8081, "UDP")])
    assert serving({"image": agnhost, "args": ["serve-hostname", "--port", "9000"]}) == \
        ("hostname", [(9000, "TCP")])
    assert serving({"image": agnhost, "args": ["pause"]}) == ("echo", [])
    assert serving({"image": "nginx"}) == ("echo", [(80, "TCP")])


def test_agnhost_modes_run_no_process_but_other_arguments_do():
    from labkit.embedded.processes import container_argv
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.53"
    assert container_argv({"image": agnhost, "args": ["netexec"]}) is None
    assert container_argv({"image": "busybox", "args": ["netexec"]}) == ["netexec"]


def test_agnhost_named_as_the_command_serves_its_mode():
    """`kubectl create deployment --image=...agnhost -- /agnhost netexec --http-port=8080` puts the
    image's entrypoint in `command`: the lab served nothing and the pods crash-looped on `/agnhost`."""
    from labkit.embedded.images import serving
    from labkit.embedded.processes import container_argv
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.53"
    container = {"image": agnhost, "command": ["/agnhost", "netexec", "--http-port=8080"]}
    assert serving(container) == ("netexec", [(8080, "TCP"), (8081, "UDP")])
    assert container_argv(container) is None
    split = {"image": agnhost, "command": ["agnhost"], "args": ["serve-hostname", "--port", "9000"]}
    assert serving(split) == ("hostname", [(9000, "TCP")])
    other = {"image": agnhost, "command": ["sh", "-c", "sleep 1"]}
    assert container_argv(other) == ["sh", "-c", "sleep 1"]


def test_echo_answers_of_hostname_and_netexec_images():
    from labkit.embedded.echo import PodIdentity, image_body
    pod = PodIdentity("default", "hostnames-abc", "n", "10.244.1.5", "ns", answers="hostname")
    assert image_body(pod, ("10.244.2.3", 4242), "/", "TCP") == b"hostnames-abc"
    netexec = PodIdentity("default", "nx", "n", "10.244.1.6", "ns", answers="netexec")
    assert image_body(netexec, ("10.244.2.3", 4242), "/clientip", "TCP") == b"10.244.2.3:4242"
    assert image_body(netexec, ("10.244.2.3", 4242), "/echo?msg=hi", "TCP") == b"hi"
    assert image_body(netexec, ("10.244.2.3", 4242), "hostname", "UDP") == b"nx"
    assert image_body(netexec, ("10.244.2.3", 4242), "/", "TCP").startswith(b"NOW: ")
    echo = PodIdentity("default", "web", "n", "10.244.1.7", "ns")
    assert image_body(echo, ("10.244.2.3", 4242), "/", "TCP") is None


def test_busybox_images_get_busybox_applets_and_others_the_hosts_tools(tmp_path):
    import shutil
    import pytest
    from labkit.embedded.toolsets import HOST, ToolSets
    tools = ToolSets(tmp_path)
    assert tools.of("nicolaka/netshoot") is HOST and tools.of("centos") is HOST
    if shutil.which("busybox") is None:
        pytest.skip("busybox not installed (apt-get install busybox)")
    box = tools.of("busybox:1.28")
    assert box.path == str(tmp_path / "busybox") and tools.of("alpine:3.20") is box
    assert box.argv(["/bin/sh", "-c", "x"]) == [str(tmp_path / "busybox" / "sh"), "-c", "x"]
    assert box.argv(["/opt/app", "x"]) == ["/opt/app", "x"]
    assert box.executable("wget") and box.executable("nslookup") and not box.executable("curl")
    assert (tmp_path / "busybox" / "nslookup").resolve().name == "busybox"
    assert "--timeout" in (tmp_path / "busybox" / "wget").read_text()
