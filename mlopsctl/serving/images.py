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
    client = engine.client()
    out = []
    for img in client.images.list(filters={"label": f"{bctx.LABEL_PROJECT}={ctx.project.name}"}):
        labels = img.labels or {}
        parts = bctx.parse_parts(labels.get(bctx.LABEL_PARTS) or "")
        repo = bctx.repository(ctx, labels.get(bctx.LABEL_MODEL, ""))
        pushed = [d for d in img.attrs.get("RepoDigests") or [] if d.startswith(f"{repo}@")]
        out.append(
            {
                "id": img.id,
                # What deployments run: the registry digest once pushed, else the local image id.
                "ref": pushed[0] if pushed and oci.split(repo)[0] else img.id,
                "model": labels.get(bctx.LABEL_MODEL, ""),
                "version": int(labels[bctx.LABEL_VERSION]) if str(labels.get(bctx.LABEL_VERSION, "")).isdigit() else 0,
                "digest": labels.get(bctx.LABEL_DIGEST, ""),
                "parts": parts,
                "tags": sorted(img.tags),
                "created": str(img.attrs.get("Created") or ""),
            }
        )
    # Oldest first: the last image of a version is the one its v<N> tag points to.
    out.sort(key=lambda i: (i["model"], i["version"], i["created"], i["digest"]))
    memo.images = out
    return list(out)


def find_image(ctx: Context, model: str, digest: str) -> dict[str, Any] | None:
    for img in list_images(ctx):
        if img["model"] == model and img["digest"] == digest:
            return img
    return None


def forget_images(ctx: Context) -> None:
    """Drop the run's image list (after a build or removal, the next read asks the engine again)."""
    ctx.forget(ImageList)
