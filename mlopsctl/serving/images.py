"""This project's images in the Docker engine, as plain data read once per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving import engine, oci

if TYPE_CHECKING:
    from mlopsctl.core.context import Context

@dataclass
class ImageList:
    """The run's memo of this project's images (None: not read yet)."""

    images: list[dict[str, Any]] | None = None



def list_images(ctx: Context) -> list[dict[str, Any]]:
    """This project's images as plain data (one engine call per run; dropped after a build)."""
    memo = ctx.memo(ImageList)
    if memo.images is not None:
        return list(memo.images)
    label = f"{bctx.LABEL_PROJECT}={ctx.project.name}"
    listed = engine.images(label)  # the engine's API on a unix socket, as a probe; else docker-py
    if listed is None:
        listed = [{"Id": img.id, "RepoTags": img.tags, "RepoDigests": img.attrs.get("RepoDigests"),
                   "Labels": img.labels, "Created": img.attrs.get("Created")}
                  for img in engine.client().images.list(filters={"label": label})]
    out = []
    for img in listed:
        labels = img.get("Labels") or {}
        parts = bctx.parse_parts(labels.get(bctx.LABEL_PARTS) or "")
        repo = bctx.repository(ctx, labels.get(bctx.LABEL_MODEL, ""))
        pushed = [d for d in img.get("RepoDigests") or [] if d.startswith(f"{repo}@")]
        out.append(
            {
                "id": img["Id"],
                # What deployments run: the registry digest once pushed, else the local image id.
                "ref": pushed[0] if pushed and oci.split(repo)[0] else img["Id"],
                "model": labels.get(bctx.LABEL_MODEL, ""),
                "version": int(labels[bctx.LABEL_VERSION]) if str(labels.get(bctx.LABEL_VERSION, "")).isdigit() else 0,
                "digest": labels.get(bctx.LABEL_DIGEST, ""),
                "parts": parts,
                "tags": sorted(t for t in img.get("RepoTags") or [] if t != "<none>:<none>"),
                "created": _created(img.get("Created")),
            }
        )
    # Oldest first: the last image of a version is the one its v<N> tag points to (within one
    # second, the one carrying that tag goes last).
    out.sort(key=lambda i: (i["model"], i["version"], i["created"],
                            any(t.endswith(f":v{i['version']}") for t in i["tags"]), i["digest"]))
    memo.images = out
    return list(out)


def _created(value: Any) -> str:
    """When an image was made, as one sortable text: the list API gives seconds since the epoch,
    docker-py's inspect an ISO time; both become ``YYYY-MM-DDTHH:MM:SS``."""
    import datetime as dt

    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return str(value or "")[:19]


def find_image(ctx: Context, model: str, digest: str) -> dict[str, Any] | None:
    for img in list_images(ctx):
        if img["model"] == model and img["digest"] == digest:
            return img
    return None


def forget_images(ctx: Context) -> None:
    """Drop the run's image list (after a build or removal, the next read asks the engine again)."""
    ctx.forget(ImageList)
