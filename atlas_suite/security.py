"""API keys tried every way on a route: what a server must refuse and what it must accept."""

from __future__ import annotations

from dataclasses import dataclass

from atlas_suite import routes
from atlas_suite.faults import OTHER_ROUTES, V1_ROUTES, Route, send_route
from atlas_suite.http import ApiClient, Exchange
from atlas_suite.schemas import registry


@dataclass(frozen=True)
class Credential:
    """How a request presents a key (or none); ``right`` when it is the configured key."""

    description: str
    headers: dict[str, str]
    right: bool


@dataclass
class CredentialAttempt:
    credential: Credential
    route: Route
    exchange: Exchange

    def describe(self) -> str:
        text = self.exchange.text[:200]
        return (f"{self.route.describe()} with {self.credential.description}: "
                f"HTTP {self.exchange.status} {text}")


def credentials(key: str) -> list[Credential]:
    """No key; wrong keys in both headers (another key, the key cut short, the key with a
    character added); an empty Bearer; then the right key in each header."""
    wrong = {"another key": "wrong-" + key, "the key cut short": key[:-1],
             "the key with a character added": key + "0"}
    found = [Credential("no key", {}, False),
             Credential("an empty Bearer token", {"Authorization": "Bearer "}, False)]
    for what, value in wrong.items():
        found.append(Credential(f"{what} as a Bearer token",
                                {"Authorization": f"Bearer {value}"}, False))
        found.append(Credential(f"{what} in X-Api-Key", {"X-Api-Key": value}, False))
    found.append(Credential("the key as a Bearer token", {"Authorization": f"Bearer {key}"}, True))
    found.append(Credential("the key in X-Api-Key", {"X-Api-Key": key}, True))
    return found


def every_route(atlas: bool) -> list[Route]:
    """Every route of the API; the ATLAS ones only where the server has ATLAS."""
    return [r for r in V1_ROUTES + OTHER_ROUTES if atlas or not r.atlas]


def find_route(method: str, path: str) -> Route:
    for route in V1_ROUTES + OTHER_ROUTES:
        if (route.method, route.path) == (method, path):
            return route
    return Route(method, path, path.startswith(routes.ATLAS_PREFIX))


def try_credentials(client: ApiClient, route: Route, key: str) -> list[CredentialAttempt]:
    """Send ``route``'s request once per credential; the client's own key is set aside."""
    saved = dict(client.headers)
    client.use_api_key(None)
    try:
        return [CredentialAttempt(c, route, send_route(client, route, headers=c.headers))
                for c in credentials(key)]
    finally:
        client.headers = saved


def unrefused(attempts: list[CredentialAttempt]) -> list[str]:
    """The attempts without the right key that were not a 401 in the error envelope."""
    problems = []
    for attempt in attempts:
        if attempt.credential.right:
            continue
        if attempt.exchange.status != 401:
            problems.append(attempt.describe())
            continue
        body = _json(attempt.exchange)
        errors = registry().errors("error", body) if body is not None else ["not JSON"]
        error = (body or {}).get("error") if isinstance(body, dict) else None
        if errors or not isinstance(error, dict) or error.get("type") != "authentication_error":
            problems.append(f"{attempt.describe()} (not an authentication_error envelope)")
    return problems


def refused_wrongly(attempts: list[CredentialAttempt]) -> list[str]:
    """The attempts with the right key that were refused as unauthorised."""
    return [a.describe() for a in attempts
            if a.credential.right and a.exchange.status in (401, 403)]


def _json(exchange: Exchange) -> object | None:
    try:
        return exchange.json()
    except AssertionError:
        return None
