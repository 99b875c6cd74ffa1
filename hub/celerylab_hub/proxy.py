"""The external configurable-http-proxy, with its routes put back within seconds of a restart.

The proxy runs in its own container and keeps its routing table in memory. A restarted proxy
(crash, `docker compose restart proxy`, a dockerd restart without live-restore) comes back
empty: every student sees the hub's error page instead of their lab. JupyterHub re-adds missing
routes only in its activity sweep (`last_activity_interval`, 5 minutes), so here the hub asks
the proxy every `route_check_interval` seconds whether the hub's own route is still there (one
GET of the routing table; the hub's route, marked {"hub": true}, is never removed otherwise; a
restarted proxy has only its unmarked default route) and, when it is gone, runs JupyterHub's own
check_routes, which adds back the hub, every running lab and every service.
"""

from __future__ import annotations

from jupyterhub.proxy import ConfigurableHTTPProxy
from tornado.ioloop import PeriodicCallback
from traitlets import Integer


class CeleryLabProxy(ConfigurableHTTPProxy):
    route_check_interval = Integer(
        5,
        config=True,
        help="""Seconds between checks that the proxy still has its routes (0: only JupyterHub's
        own sweep, every last_activity_interval). A restarted proxy gets them all back within
        this time.""",
    )

    _route_check: PeriodicCallback | None = None

    async def check_routes(self, user_dict, service_dict, routes=None):
        # First called when the hub has started and its routes are known: the moment to begin.
        if self._route_check is None and self.route_check_interval > 0:
            self._route_check = PeriodicCallback(
                self.restore_lost_routes, 1e3 * self.route_check_interval
            )
            self._route_check.start()
        return await super().check_routes(user_dict, service_dict, routes)

    async def restore_lost_routes(self) -> bool:
        """Put the routes back if the proxy lost them; True if it had."""
        try:
            routes = await self.get_all_routes()
        except Exception as e:  # a proxy that is down now is checked again soon
            self.log.debug("celerylab: proxy routes not readable yet (%s)", e)
            return False
        hub_route = routes.get(self.app.hub.routespec) or {}
        if hub_route.get("data", {}).get("hub"):
            return False
        self.log.warning("celerylab: the proxy lost its routes (restarted?); adding them back")
        await super().check_routes(self.app.users, self.app._service_map, routes)
        return True
