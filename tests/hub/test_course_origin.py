"""A course's formgrader runs on its own origin, logs people in at the hub's, and uses the
__Host- cookies the hub uses."""

from celerylab_hub import coursecontainers
from celerylab_hub.courses import load


def test_the_course_service_has_its_own_origin_and_logs_in_at_the_hubs(tmp_path):
    declaration = tmp_path / "c101.yaml"
    (tmp_path / "c101.csv").write_text("username\ncara\n")
    declaration.write_text("id: c101\ntitle: Celery 101\ninstructors: [ida]\nroster: c101.csv\n")
    course = load(declaration)
    env = coursecontainers.environment(course, "token", public_url="https://lab.example.org:8443")
    origin = "https://formgrader-c101--service.lab.example.org:8443"
    assert env["JUPYTERHUB_HOST"] == "https://lab.example.org:8443"
    assert env["JUPYTERHUB_PUBLIC_URL"] == f"{origin}/services/formgrader-c101/"
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == (
        f"{origin}/services/formgrader-c101/oauth_callback"
    )
    assert env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] == "1"
    assert env["JUPYTERHUB_COOKIE_OPTIONS"] == '{"secure": true}'  # __Host- needs Secure
