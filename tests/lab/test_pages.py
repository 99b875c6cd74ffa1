"""celerylab's pages open as JupyterLab tabs in the lab's look, and every button that starts
something slow says so at once (issue 17 item 7)."""

from celerylab_lab import pages, proxy


def test_our_pages_open_inside_jupyterlab_and_flower_in_its_own_tab(monkeypatch):
    monkeypatch.setenv("CELERYLAB_GRADING_BROKER", "redis://broker")
    entries = {
        "Celery worker": proxy.worker_page(),
        "My courses": proxy.courses_page(),
        "Grade all": proxy.grading_page(),
    }
    for title, entry in entries.items():
        assert entry["launcher_entry"]["title"] == title
        assert entry["new_browser_tab"] is False, title
    assert proxy.flower().get("new_browser_tab", True) is True


def test_every_page_disables_a_pressed_button_and_says_it_is_working():
    html = pages.page("Celery worker", '<form><button data-busy="Restarting…">Restart</button>')
    assert "addEventListener('submit'" in html and "b.disabled=true" in html
    assert "b.dataset.busy" in html
    assert "system-ui" in html  # JupyterLab's font stack, not the browser's serif default


STUDENT_TILES = ("courses_page", "worker_page", "flower")


def test_a_course_containers_launcher_shows_staff_tools_not_a_students(monkeypatch):
    monkeypatch.delenv("CELERYLAB_COURSE", raising=False)
    monkeypatch.delenv("CELERYLAB_GRADING_BROKER", raising=False)
    for tile in STUDENT_TILES:
        assert getattr(proxy, tile)()["launcher_entry"]["enabled"] is True, tile
    assert proxy.grading_page()["launcher_entry"]["enabled"] is False
    monkeypatch.setenv("CELERYLAB_COURSE", '{"id": "c1"}')
    monkeypatch.setenv("CELERYLAB_GRADING_BROKER", "redis://broker")
    for tile in STUDENT_TILES:
        assert getattr(proxy, tile)()["launcher_entry"]["enabled"] is False, tile
    assert proxy.grading_page()["launcher_entry"]["enabled"] is True
