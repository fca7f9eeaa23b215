"""Read a container registry (the OCI distribution API) to tell whether an image is pushed.

``images.repository`` in mlops.yaml names the registry. Credentials never come from the specs:
``MLOPSCTL_REGISTRY_USERNAME`` / ``MLOPSCTL_REGISTRY_PASSWORD`` when set, else the Docker config
(``~/.docker/config.json`` ``auths``, what ``docker login`` writes; credential helpers are used
by the push itself). Registries on 127.0.0.1/localhost are spoken to over plain HTTP, as the
engine does; every other one over HTTPS. Bearer-token registries (ghcr.io, Docker Hub) get a
token for the pull scope first.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)


class RegistryUnreachable(MlopsError):
    """The registry did not answer, or refused our credentials."""


def split(repository: str) -> tuple[str | None, str]:
    """``127.0.0.1:5000/team/x`` -> ("127.0.0.1:5000", "team/x"); no registry host -> (None, repository).

    Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
    """
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, repository


def _scheme(host: str) -> str:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    return "http" if name in ("127.0.0.1", "localhost", "[::1]") else "https"


def credentials(host: str) -> tuple[str, str] | None:
    """(username, password) for ``host``: the environment first, then the Docker config."""
    user, password = os.environ.get("MLOPSCTL_REGISTRY_USERNAME"), os.environ.get("MLOPSCTL_REGISTRY_PASSWORD")
    if user and password:
        return user, password
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        auths = json.loads(config.read_text()).get("auths") or {}
    except (OSError, ValueError):
        return None
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/"):
        raw = (auths.get(key) or {}).get("auth")
        if raw:
            u, _, p = base64.b64decode(raw).decode().partition(":")
            return u, p
    return None


def push_auth() -> dict[str, str] | None:
    """docker-py ``auth_config`` from the environment (None: docker-py reads the Docker config)."""
    user, password = os.environ.get("MLOPSCTL_REGISTRY_USERNAME"), os.environ.get("MLOPSCTL_REGISTRY_PASSWORD")
    return {"username": user, "password": password} if user and password else None


def _token(challenge: str, host: str, name: str) -> str | None:
    import urllib.parse
    import urllib.request

    fields = dict(part.split("=", 1) for part in challenge[len("Bearer "):].replace('"', "").split(",") if "=" in part)
    query = {"service": fields.get("service", host), "scope": f"repository:{name}:pull"}
    req = urllib.request.Request(f"{fields['realm']}?{urllib.parse.urlencode(query)}")
    creds = credentials(host)
    if creds:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(creds).encode()).decode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        doc = json.loads(resp.read())
    return doc.get("token") or doc.get("access_token")


def manifest_digest(repository: str, tag: str, timeout: float = 10) -> str | None:
    """The digest the registry holds for ``repository:tag``; None when it has no such tag."""
    import urllib.error  # imported here: every plan imports this module, few ask a registry
    import urllib.request

    host, name = split(repository)
    if host is None:
        raise MlopsError(f"{repository} names no registry host (expected e.g. ghcr.io/team or 127.0.0.1:5000/team)")
    url = f"{_scheme(host)}://{host}/v2/{name}/manifests/{tag}"
    headers = {"Accept": ", ".join(MANIFEST_TYPES)}
    creds = credentials(host)
    for attempt in range(2):
        req = urllib.request.Request(url, method="HEAD", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return str(resp.headers.get("Docker-Content-Digest") or "") or None
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            challenge = e.headers.get("WWW-Authenticate") or ""
            if e.code == 401 and attempt == 0 and challenge.startswith("Bearer "):
                try:
                    token = _token(challenge, host, name)
                except (urllib.error.URLError, OSError, ValueError, KeyError) as te:
                    raise RegistryUnreachable(f"{host}: cannot get a token: {te}") from None
                headers["Authorization"] = f"Bearer {token}"
                continue
            if e.code == 401 and attempt == 0 and challenge.startswith("Basic") and creds:
                headers["Authorization"] = "Basic " + base64.b64encode(":".join(creds).encode()).decode()
                continue
            hint = (" (log in with `docker login " + host + "` or set MLOPSCTL_REGISTRY_USERNAME/PASSWORD)"
                    if e.code in (401, 403) else "")
            raise RegistryUnreachable(f"{host} answered {e.code} {e.reason} for {name}:{tag}{hint}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise RegistryUnreachable(f"the registry {host} is not reachable: {reason}") from None
    raise RegistryUnreachable(f"{host} refused the credentials for {name}:{tag}")


def push(client: Any, repository: str, tags: list[str], log: Any, progress: Any = None) -> dict[str, Any]:
    """Push ``repository:tag`` for each tag with docker-py; facts: digest, layers pushed and reused.

    ``progress(done, total)`` hears the bytes sent so far across the layers being uploaded."""
    from docker.errors import APIError, DockerException

    pushed, reused, digest = set(), set(), None
    sent: dict[str, tuple[int, int]] = {}
    for tag in tags:
        try:
            for chunk in client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=push_auth()):
                if "error" in chunk:
                    raise MlopsError(f"pushing {repository}:{tag} failed: {str(chunk['error']).strip()}"
                                     + _login_hint(repository, str(chunk["error"])))
                status, layer = str(chunk.get("status") or ""), chunk.get("id")
                detail = chunk.get("progressDetail") or {}
                if progress is not None and layer and isinstance(detail, dict) and detail.get("total"):
                    sent[layer] = (int(detail.get("current") or 0), int(detail["total"]))
                    progress(sum(c for c, _ in sent.values()), sum(t for _, t in sent.values()))
                if status == "Pushed" and layer:
                    pushed.add(layer)
                elif status == "Layer already exists" and layer:
                    reused.add(layer)
                aux = chunk.get("aux") or {}
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest = aux["Digest"]
        except APIError as e:
            raise MlopsError(f"pushing {repository}:{tag} failed: {e.explanation or e}") from None
        except DockerException as e:
            raise MlopsError(f"pushing {repository}:{tag} failed: {e}") from None
        log(f"pushed {repository}:{tag}" + (f" ({digest})" if digest else ""))
    return {"digest": digest, "layers_pushed": len(pushed), "layers_reused": len(reused - pushed)}


def _login_hint(repository: str, error: str) -> str:
    if any(w in error.lower() for w in ("denied", "unauthorized", "authentication")):
        host = split(repository)[0] or repository
        return f"\nLog in with `docker login {host}`, or set MLOPSCTL_REGISTRY_USERNAME and MLOPSCTL_REGISTRY_PASSWORD."
    return ""
