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
