"""The upload flow (gypsum-api.md §1.5-§1.8, §3): start, presigned URLs, complete, abort.

Upload URLs write into the session's staging area only; ``complete`` moves the bytes into the
version (``selenite.server.staging`` tells why)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import quote

from selenite.names import new_name_problem
from selenite.server import auth, locks, signing, staging, uploadfiles
from selenite.server.changelog import add_log
from selenite.server.context import Context
from selenite.server.errors import BadStorageKey, HttpError
from selenite.server.jsonfiles import dumps, read_json, write_json
from selenite.server.keyspace import (
    latest_key,
    manifest_key,
    quota_key,
    staging_prefix,
    summary_key,
    usage_key,
    version_prefix,
)
from selenite.server.names import check_name
from selenite.server.storage.base import ObjectInfo, validate_key
from selenite.server.timestamps import now_iso
from selenite.server.uploadfiles import MD5
from selenite.server.usage import add_usage, compute_quota

# --- start -------------------------------------------------------------------------------------


def _enc(name: str) -> str:
    return quote(name, safe="")


def make_slug(project: str, asset: str, version: str, path: str, md5: str) -> str:
    # ASCII-only JSON (non-Latin-1 paths work) in URL-safe base64 (never a '/' in the slug).
    text = json.dumps([project, asset, version, path, md5], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii")


def parse_slug(slug: str) -> list[str]:
    """Our URL-safe slugs and the worker's standard-base64 ones (which may hold '/')."""
    try:
        raw = base64.b64decode(slug.replace("-", "+").replace("_", "/"), validate=True)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # the worker's btoa of a Latin-1 JSON string
        value = json.loads(text)
    except (ValueError, binascii.Error) as e:
        raise HttpError(400, f"invalid slug ('{slug}') for the presigned URL endpoint; {e}") from None
    if not (isinstance(value, list) and len(value) == 5 and all(isinstance(v, str) for v in value)):
        raise HttpError(400, f"invalid slug ('{slug}') for the presigned URL endpoint; expected 5 strings")
    return value


# An honest manifest entry needs at least ~43 bytes per object or array: `{"type":"dedup","path":"a",
# "md5sum":"<32 hex>","size":0}` is 80 bytes with one object, a link entry with one-letter names is 86 with
# two. A body denser in objects/arrays is refused before it is parsed (http.json_body tells why).
START_BYTES_PER_CONTAINER = 32


def check_start_rights(ctx: Context, project: str, asset: str, version: str, user: str) -> bool:
    """Everything upload start decides without its body (400 for a bad new name, 400/403 from
    §6.3, 403 for a project locked now): whether the user is a trusted uploader. Called before a
    byte of the body is read."""
    for kind, name in (("asset", asset), ("version", version)):
        problem = new_name_problem(kind, name)
        if problem:
            raise HttpError(400, problem)
    trusted = auth.check_upload(ctx, project, asset, version, user)[1]
    locks.refuse_if_locked(ctx, project)
    return trusted


def start(
    ctx: Context, project: str, asset: str, version: str, body: object, user: str, trusted: bool
) -> dict[str, Any]:
    """The rest of upload start, once :func:`check_start_rights` passed and the body is parsed."""
    if not isinstance(body, dict):
        raise HttpError(400, "expected request body to be a JSON object")
    probation = body.get("on_probation", False)
    if not isinstance(probation, bool):
        raise HttpError(400, "expected the 'on_probation' property to be a boolean")
    probation = probation or not trusted

    token = locks.acquire(ctx, project, asset, version, upload=True)
    wrote = False
    try:
        # Fix of quirk #1: an existing version is refused and left exactly as it was.
        if ctx.storage.head(summary_key(project, asset, version)) is not None:
            raise HttpError(400, "project-asset-version already exists")
        files = uploadfiles.validate_files(body.get("files"))
        simple = [f for f in files if f["type"] == "simple"]
        dedup = [f for f in files if f["type"] == "dedup"]
        explicit = [f for f in files if f["type"] == "link"]
        fallback, dedup_links = uploadfiles.dedup(ctx, project, asset, dedup) if dedup else ([], [])
        linked = uploadfiles.resolve_links(ctx, project, asset, version, explicit + dedup_links)
        to_upload = simple + fallback
        staged = staging_prefix(project, locks.session_hash(token))
        for f in to_upload:  # every stored key (and its staging name) must be one the storage accepts
            try:
                validate_key(version_prefix(project, asset, version) + f["path"])
                validate_key(staged + f["path"])
            except BadStorageKey as e:
                raise HttpError(400, str(e)) from None

        usage = read_json(ctx.storage, usage_key(project))
        quota = read_json(ctx.storage, quota_key(project))
        try:
            limit = compute_quota(quota)
            total = float(usage["total"])
        except (KeyError, TypeError, ValueError):
            why = f"failed to parse JSON; bad '{usage_key(project)}' or '{quota_key(project)}'"
            raise HttpError(500, why) from None
        if total + sum(f["size"] for f in to_upload) >= limit:
            raise HttpError(400, "upload exceeds the storage quota for this project")

        manifest: dict[str, Any] = {f["path"]: {"size": f["size"], "md5sum": f["md5sum"]} for f in to_upload}
        for entry in linked:
            manifest[entry["path"]] = {"size": entry["size"], "md5sum": entry["md5sum"], "link": entry["link"]}
        wrote = True
        summary = {"upload_user_id": user, "upload_start": now_iso(), "on_probation": probation}
        write_json(ctx.storage, summary_key(project, asset, version), summary)
        write_json(ctx.storage, manifest_key(project, asset, version), manifest)
    except BaseException:
        if wrote:  # only ever what this start itself wrote: the version did not exist before
            ctx.storage.delete_prefix(version_prefix(project, asset, version))
        locks.release(ctx, project, token)
        raise
    return {
        "file_urls": [
            {
                "path": f["path"],
                "url": "/upload/presigned-file/" + make_slug(project, asset, version, f["path"], f["md5sum"]),
                "method": "presigned",
            }
            for f in to_upload
        ],
        # Percent-encoded (the worker concatenates raw names): identical for ordinary names, and
        # names holding '%', '?', '#' or spaces still reach the right version.
        "complete_url": f"/upload/complete/{_enc(project)}/{_enc(asset)}/{_enc(version)}",
        "abort_url": f"/upload/abort/{_enc(project)}/{_enc(asset)}/{_enc(version)}",
        "session_token": token,
    }


# --- presigned URL -----------------------------------------------------------------------------


def presign(ctx: Context, slug: str, authorization: str | None, base_url: str) -> dict[str, str]:
    project, asset, version, path, md5 = parse_slug(slug)
    token = auth.bearer(authorization)
    for kind, name in (("project", project), ("asset", asset), ("version", version)):
        check_name(kind, name)
    rec, _ = locks.check_session(ctx, project, asset, version, token)
    # Beyond the worker: only a file this upload's manifest expects, with its md5, gets a URL.
    manifest = read_json(ctx.storage, manifest_key(project, asset, version))
    entry = manifest.get(path) if isinstance(manifest, dict) else None
    if not isinstance(entry, dict) or "link" in entry or not isinstance(entry.get("md5sum"), str):
        raise HttpError(400, f"path '{path}' is not a file this upload expects")
    if entry["md5sum"].lower() != md5.lower() or not MD5.match(md5):
        raise HttpError(400, f"md5sum in the slug does not match the manifest for '{path}'")
    md5_b64 = base64.b64encode(bytes.fromhex(md5)).decode()
    key, size, expiry = version_prefix(project, asset, version) + path, int(entry["size"]), ctx.settings.presign_expiry
    url = ctx.storage.presign_put(staging_prefix(project, rec["session_hash"]) + path, md5_b64, size, expiry, key=key)
    if url is None:
        # The backend has no upload URLs of its own (the folder): one of this server's, signed. It
        # names the version's key and the session; the upload target derives the staging name from
        # those two (so a URL cannot name another session's staging area).
        secret = signing.upload_secret(ctx.storage)
        base = ctx.settings.public_url or base_url
        url = signing.signed_upload_url(secret, base, key, md5_b64, size, expiry, rec["session_hash"])
    return {"url": url, "md5sum_base64": md5_b64}


# --- complete and abort ------------------------------------------------------------------------


def complete(ctx: Context, project: str, asset: str, version: str, authorization: str | None) -> None:
    token = auth.bearer(authorization)
    rec, _ = locks.check_session(ctx, project, asset, version, token)
    prefix = version_prefix(project, asset, version)
    staged = staging_prefix(project, rec["session_hash"])
    listing = {key[len(prefix):]: size for key, size in ctx.storage.list_recursive(prefix)}
    manifest = read_json(ctx.storage, manifest_key(project, asset, version))
    summary = read_json(ctx.storage, summary_key(project, asset, version))

    linkable: dict[str, dict[str, Any]] = {}
    to_promote: list[tuple[str, ObjectInfo]] = []
    added = 0
    files = [path for path, entry in manifest.items() if "link" not in entry]
    # One call for all: an S3 store answers them several at a time (one HEAD after another cost a
    # push of 500 small files 10 s here).
    staged_infos = dict(zip(files, ctx.storage.head_staged_many([staged + p for p in files]), strict=True))
    for path, entry in manifest.items():
        if "link" in entry:
            if path in listing:
                raise HttpError(500, f"linked-from path '{path}' in manifest should not have a file")
            host, _, name = path.rpartition("/")
            linkable.setdefault(host + "/" if host else "", {})[name] = entry["link"]
            continue
        info = staged_infos[path]
        if info is not None:
            to_promote.append((path, info))
        elif path in listing:  # promoted by an earlier complete of this session that was cut short
            info = ctx.storage.head(prefix + path)
        added += _checked_size(path, entry, info)
    # Each promoted as it was checked here (the S3 backend copies it by the ETag seen).
    missed = ctx.storage.promote_many([(staged + path, prefix + path) for path, _ in to_promote],
                                      [info for _, info in to_promote])
    if missed:
        path = missed[0][len(staged):]
        raise HttpError(409, f"the uploaded file '{path}' changed while the upload was completing; try again")

    # Order matters if we die half-way: the finished summary is what makes the version exist.
    ctx.storage.put_many([(f"{prefix}{host}..links", dumps(links)) for host, links in linkable.items()],
                         content_type="application/json")
    official = not summary.get("on_probation")
    if official:
        summary.pop("on_probation", None)
    summary["upload_finish"] = now_iso()
    write_json(ctx.storage, summary_key(project, asset, version), summary)
    if official:
        write_json(ctx.storage, latest_key(project, asset), {"version": version})
    add_usage(ctx.storage, project, added)
    staging.discard(ctx, project, rec["session_hash"])
    locks.release(ctx, project, token)
    if official:
        change = {"type": "add-version", "project": project, "asset": asset, "version": version, "latest": True}
        add_log(ctx.storage, ctx.log_prunes, change)


def _checked_size(path: str, entry: dict[str, Any], info: ObjectInfo | None) -> int:
    """The size of the file uploaded for a manifest entry, once it is there with its size and md5."""
    if info is None:
        raise HttpError(400, f"path '{path}' in manifest should have a file")
    if info.size != entry["size"]:
        raise HttpError(400, f"actual size of '{path}' does not match its reported size in the manifest")
    if info.md5 and info.md5 != str(entry["md5sum"]).lower():
        raise HttpError(400, f"md5 of '{path}' does not match its md5sum in the manifest")
    return info.size


def abort(ctx: Context, project: str, asset: str, version: str, authorization: str | None) -> None:
    token = auth.bearer(authorization)
    rec, current = locks.check_session(ctx, project, asset, version, token, allow_expired=True)
    if locks.take_over_if_expired(ctx, project, current):
        return  # the take-over already removed the partial version, its staged bytes and the lock
    ctx.storage.delete_prefix(version_prefix(project, asset, version))
    staging.discard(ctx, project, rec["session_hash"])
    locks.release(ctx, project, token)
