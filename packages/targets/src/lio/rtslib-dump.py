# Reads the live LIO configuration through rtslib-fb (the library targetcli is built
# on) and prints it as one JSON document. Fed to `python3 -I -` on stdin by
# rtslib-dump.ts, which prepends one line defining PARAMS_B64 (base64 JSON):
#   wwns            list of target IQNs to describe, or null for all
#   wwn_prefix      only targets whose IQN starts with this, or null
#   storage_objects include the backstores (bool)
#   saveconfig_path also list the iSCSI targets saved in this file, or null
#   hmac_key        hex key for CHAP password digests
# CHAP passwords never leave this process: only HMAC-SHA256(hmac_key, password) is
# printed, with a key that is fresh for every read, so the caller can tell whether a
# password matches the one it wants without ever seeing it.
import base64
import hashlib
import hmac
import json
import sys

try:
    import rtslib_fb as rtslib
except ImportError:  # older distributions ship the same API as `rtslib`
    import rtslib

PARAMS = json.loads(base64.b64decode(PARAMS_B64).decode("utf-8"))  # noqa: F821 (prepended)
KEY = bytes.fromhex(PARAMS["hmac_key"])
TPG_ATTRIBUTES = ("authentication", "generate_node_acls", "demo_mode_write_protect", "cache_dynamic_acls")


def attempt(read, default=None):
    """One unreadable attribute (old kernel, broken link) must not hide the rest."""
    try:
        return read()
    except Exception:
        return default


def text(value):
    return value if value else None


def digest(value):
    if not value:
        return None
    return hmac.new(KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()


def so_ref(so):
    return {"plugin": so.plugin, "name": so.name}


def dump_storage_object(so):
    size = attempt(lambda: int(so.size))
    return {
        "plugin": so.plugin,
        "name": so.name,
        "udev_path": text(attempt(lambda: so.udev_path)),
        "size": size,
    }


def dump_lun(lun):
    return {"index": int(lun.lun), "storage_object": attempt(lambda: so_ref(lun.storage_object))}


def dump_mapped_lun(mlun):
    return {
        "index": int(mlun.mapped_lun),
        "tpg_lun": attempt(lambda: int(mlun.tpg_lun.lun)),
        "write_protect": bool(attempt(lambda: mlun.write_protect, False)),
    }


def dump_acl(acl):
    return {
        "node_wwn": acl.node_wwn,
        "mapped_luns": [dump_mapped_lun(m) for m in acl.mapped_luns],
        "chap_userid": text(attempt(lambda: acl.chap_userid)),
        "chap_password_digest": digest(attempt(lambda: acl.chap_password)),
        "chap_mutual_userid": text(attempt(lambda: acl.chap_mutual_userid)),
        "chap_mutual_password_digest": digest(attempt(lambda: acl.chap_mutual_password)),
    }


def dump_tpg(tpg):
    attributes = {}
    for name in TPG_ATTRIBUTES:
        value = attempt(lambda: tpg.get_attribute(name))
        if value is not None:
            attributes[name] = str(value).strip()
    return {
        "tag": int(tpg.tag),
        "enable": bool(attempt(lambda: tpg.enable, False)),
        "attributes": attributes,
        "portals": [{"ip_address": p.ip_address, "port": int(p.port)} for p in tpg.network_portals],
        "luns": [dump_lun(lun) for lun in tpg.luns],
        "node_acls": [dump_acl(acl) for acl in tpg.node_acls],
    }


def wanted(wwn):
    if PARAMS.get("wwns") is not None and wwn not in PARAMS["wwns"]:
        return False
    prefix = PARAMS.get("wwn_prefix")
    return prefix is None or wwn.startswith(prefix)


def dump_targets(root):
    targets = []
    for target in root.targets:
        if target.fabric_module.name != "iscsi" or not wanted(target.wwn):
            continue
        targets.append({"wwn": target.wwn, "tpgs": [dump_tpg(tpg) for tpg in target.tpgs]})
    return targets


def dump_saved(path):
    """IQNs of the iSCSI targets in a saveconfig file; its passwords are never printed."""
    try:
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
    except FileNotFoundError:
        return {"path": path, "targets": None}
    wwns = [t.get("wwn") for t in saved.get("targets", []) if t.get("fabric") == "iscsi"]
    return {"path": path, "targets": sorted(w for w in wwns if w)}


def main():
    root = rtslib.RTSRoot()
    out = {"format": "bootlun-rtslib-dump/1", "targets": dump_targets(root)}
    if PARAMS.get("storage_objects"):
        out["storage_objects"] = [dump_storage_object(so) for so in root.storage_objects]
    if PARAMS.get("saveconfig_path"):
        out["saved"] = dump_saved(PARAMS["saveconfig_path"])
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


main()
