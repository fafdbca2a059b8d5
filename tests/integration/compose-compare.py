#!/usr/bin/env python3
# compose-compare.py - compare what cara understood of a compose project
# (`cara convert`, a caravanserai/v1 Project) with what the compose file
# means (`docker-compose config`, or an expected.yaml written in the same
# form for a file docker-compose 1.29 cannot read), field by field.
#
#   compose-compare.py CONVERTED ORACLE PROJECT SOURCE_ROOT
#
# Both sides are brought to one form: the Project's fields, each compose
# field mapped to the Project field cara uses for it (doc/cara-manifest.5,
# COMPOSE FILES).  A compose field this script does not know, or a Project
# field it does not know, is a difference: nothing is dropped unseen.
# Every difference is one line "SERVICE: FIELD: compose X, cara Y"; the
# exit status is 1 when there is one.
#
# The differences that are intended are folded in the INTENDED functions
# below, each with its reason; nothing else is normalised.
import os
import re
import shlex
import sys

import yaml

converted, oracle_file, project, source_root = sys.argv[1:5]
profiles = [p for p in os.environ.get("COMPOSE_PROFILES", "").split(",") if p]
diffs = []


def differ(where, what):
    diffs.append("%s: %s" % (where, what))


# ---- units ----

DUR = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)")
DUR_UNITS = {"h": 3600e3, "m": 60e3, "s": 1e3, "ms": 1, "us": 1e-3, "ns": 1e-6}


def duration_ms(v):
    """A compose or cara duration ("1m30s", "500ms", "2000us") in ms."""
    s = str(v)
    if not s or DUR.sub("", s):
        return "bad duration %r" % s
    return round(sum(float(n) * DUR_UNITS[u] for n, u in DUR.findall(s)), 3)


SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)(i?b?)$", re.I)


def size_bytes(v):
    """A compose byte size (256M, 1g, 65536k, 1gb, an integer: binary
    units, as docker-compose parses them) or cara's (256Mi) in bytes."""
    m = SIZE.match(str(v).strip())
    if not m:
        return "bad size %r" % v
    mult = 1024 ** "bkmgt".index(m.group(2).lower() or "b")
    return int(float(m.group(1)) * mult)


def swap_bytes(v):
    """memswap_limit / memorySwap: a size, or -1 for no limit on swap."""
    return -1 if str(v).strip() == "-1" else size_bytes(v)


def nano_cpus(v):
    return round(float(v) * 1e9)


def unescape(v):
    """docker-compose config prints a literal '$' as '$$' (it writes a
    file compose would read again); cara's convert does the same.  The
    value the container gets has one."""
    if isinstance(v, str):
        return v.replace("$$", "$")
    if isinstance(v, list):
        return [unescape(x) for x in v]
    if isinstance(v, dict):
        return {k: unescape(x) for k, x in v.items()}
    return v


def scalar(v):
    """A YAML scalar as the string a container sees: true, 42, 1.5."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# ---- the compose side ----

def compose_port(p, where):
    """A compose port, short or long, as (hostIP, hostPort, containerPort,
    protocol) tuples (a range gives one a port)."""
    if isinstance(p, dict):
        unknown = set(p) - {"target", "published", "host_ip", "protocol", "mode"}
        if unknown:
            differ(where, "compose port keys not compared: %s" % sorted(unknown))
        # INTENDED: mode: host is what a single Engine does anyway
        return [(p.get("host_ip", ""), int(p.get("published", 0) or 0),
                 int(p["target"]), p.get("protocol", "tcp"))]
    s = str(p)
    proto = "tcp"
    if "/" in s:
        s, proto = s.rsplit("/", 1)
    parts = s.rsplit(":", 2)
    ip, host = "", ""
    if len(parts) == 3:
        ip, host, cont = parts
        ip = ip.strip("[]")
    elif len(parts) == 2:
        host, cont = parts
    else:
        cont = parts[0]

    def rng(x):
        if "-" in x:
            a, b = x.split("-")
            return list(range(int(a), int(b) + 1))
        return [int(x)]
    conts = rng(cont)
    hosts = rng(host) if host else [0] * len(conts)
    return [(ip, h, c, proto) for h, c in zip(hosts, conts)]


def compose_mounts(svc, top_volumes, where, mounts, out):
    for v in svc.get("volumes", []):
        if isinstance(v, str):
            parts = v.split(":")
            mode = "rw"
            if len(parts) == 3:
                src, target, mode = parts
            elif len(parts) == 2:
                src, target = parts
            else:
                differ(where, "compose volume %r not compared" % v)
                continue
            kind = "bind" if src.startswith("/") else "volume"
            opts = mode.split(",")
            v = {"type": kind, "source": src, "target": target,
                 "read_only": "ro" in opts}
            # INTENDED: Docker Desktop's consistency options do nothing on
            # Linux, for the Engine as for cara
            if set(opts) - {"ro", "rw", "cached", "delegated", "consistent"}:
                differ(where, "compose volume mode %r not compared" % mode)
        unknown = set(v) - {"type", "source", "target", "read_only", "tmpfs"}
        if unknown:
            differ(where, "compose volume keys not compared: %s" % sorted(unknown))
        t, src, target = v.get("type"), v.get("source"), v["target"]
        ro = bool(v.get("read_only", False))
        if t == "tmpfs":
            # tmpfs mounts are cara's tmpfs list, "TARGET[:size=BYTES]"
            size = (v.get("tmpfs") or {}).get("size")
            out.setdefault("tmpfs", []).append(
                target + (":size=%d" % size_bytes(size) if size else ""))
            continue
        if t == "bind":
            rel = os.path.relpath(src, source_root)
            if rel.startswith("../") or rel == "..":
                desc = ("HostPath", src)
            else:
                # INTENDED: a bind of a file or directory of the source is
                # a read-only copy of it (a File volume of that path)
                desc = ("File", rel)
                ro = True
        elif t == "volume":
            tv = top_volumes.get(src) or {}
            if tv.get("external"):
                desc = ("External", tv.get("name", src))
            else:
                desc = ("Managed", src)
        else:
            differ(where, "compose volume type %r not compared" % t)
            continue
        mounts[target] = (desc, ro)


def expose_ports(s):
    proto = "tcp"
    if "/" in s:
        s, proto = s.split("/", 1)
    a, _, b = s.partition("-")
    return ["%d/%s" % (p, proto) for p in range(int(a), int(b or a) + 1)]


def compose_configs(svc, top_configs, where, out):
    """configs: files of the source, mounted read-only at target (default
    /NAME), as File volumes."""
    mounts = out.setdefault("volumeMounts", {})
    for c in svc["configs"]:
        if isinstance(c, str):
            c = {"source": c}
        unknown = set(c) - {"source", "target", "mode"}
        if unknown:
            differ(where, "compose config keys not compared: %s" % sorted(unknown))
        # not compared: mode, which a Project cannot say (convert drops it)
        top = top_configs.get(c["source"]) or {}
        if set(top) != {"file"}:
            differ(where, "compose config %s not compared: %r" % (c["source"], top))
            continue
        mounts[c.get("target", "/" + c["source"])] = (
            ("File", os.path.relpath(top["file"], source_root)), True)


PULL = {"always": "Always", "never": "Never", "missing": None,
        "if_not_present": None}
CONDITIONS = {"service_started": "Started", "service_healthy": "Healthy",
              "service_completed_successfully": "Completed"}
LIST_FIELDS = {"cap_add": "capAdd", "cap_drop": "capDrop",
               "security_opt": "securityOpt", "dns": "dns", "tmpfs": "tmpfs"}
PLAIN_FIELDS = {"image": "image", "user": "user", "working_dir": "workingDir",
                "hostname": "hostname", "stop_signal": "stopSignal"}
BOOL_FIELDS = {"privileged": "privileged", "read_only": "readOnly",
               "tty": "tty", "stdin_open": "stdinOpen"}
INT_FIELDS = {"pids_limit": "pidsLimit", "oom_score_adj": "oomScoreAdj"}


def compose_service(name, svc, top_volumes, top_configs):
    where = "service %s" % name
    out = {}
    for k, v in svc.items():
        if k == "image" and "build" in svc:
            continue   # the tag of the built image (below)
        if k == "build":
            # INTENDED: cara tags what it builds with its own name and the
            # hash of the context, and never pulls it
            out["image"] = "cara-build/%s-%s:HASH" % (project, name)
            out["imagePullPolicy"] = "Never"
            unknown = set(v) - {"context", "dockerfile", "args", "target"} \
                if isinstance(v, dict) else set()
            if unknown:
                differ(where, "compose build keys not compared: %s" % sorted(unknown))
        elif k == "pull_policy":
            if "build" not in svc and PULL.get(v):
                out["imagePullPolicy"] = PULL[v]
        elif k == "configs":
            compose_configs(svc, top_configs, where, out)
        elif k in PLAIN_FIELDS:
            out[PLAIN_FIELDS[k]] = scalar(v)
        elif k in ("command", "entrypoint"):
            # a string is split as compose splits it (shlex, no shell)
            out[k] = shlex.split(v) if isinstance(v, str) else [scalar(x) for x in v]
        elif k == "environment":
            # a KEY without a value that is not set is not passed
            out["env"] = {e: scalar(x) for e, x in v.items() if x is not None}
        elif k == "ports":
            out["ports"] = sorted(t for p in v for t in compose_port(p, where))
        elif k == "expose":
            # INTENDED: the ports as the Engine's ExposedPorts keys: a
            # range one a port, "/tcp" written
            out["expose"] = [e for x in v for e in expose_ports(scalar(x))]
        elif k == "volumes":
            compose_mounts(svc, top_volumes, where, out.setdefault("volumeMounts", {}), out)
        elif k == "healthcheck":
            h = {}
            for hk, hv in v.items():
                if hk == "test":
                    h["test"] = ["CMD-SHELL", hv] if isinstance(hv, str) else hv
                elif hk == "disable":
                    if hv:
                        h["test"] = ["NONE"]
                elif hk in ("interval", "timeout", "start_period", "start_interval"):
                    ms = duration_ms(hv)
                    if ms:   # INTENDED: 0s is the Engine's default, not written
                        h[{"start_period": "startPeriod",
                           "start_interval": "startInterval"}.get(hk, hk)] = ms
                elif hk == "retries":
                    h["retries"] = int(hv)
                else:
                    differ(where, "compose healthcheck key %s not compared" % hk)
            if h:   # disable: false alone: the image's own healthcheck
                out["healthcheck"] = h
        elif k == "depends_on":
            # restart: true rides with the condition (compared on both sides)
            out["dependsOn"] = {d: CONDITIONS[c.get("condition", "service_started")]
                                + ("+restart" if c.get("restart") else "")
                                for d, c in v.items()}
        elif k == "restart":
            if str(v).startswith("on-failure:"):
                out["restart"] = "on-failure"
                out["restartRetries"] = int(v.split(":")[1])
            else:
                out["restart"] = str(v)
        elif k == "stop_grace_period":
            out["stopGracePeriod"] = duration_ms(v)
        elif k == "labels":
            out["labels"] = {lk: scalar(lv) for lk, lv in v.items()}
        elif k == "mem_limit":
            out["memory"] = size_bytes(v)
        elif k == "cpus":
            out["cpus"] = nano_cpus(v)
        elif k == "mem_reservation":
            # INTENDED: deploy.resources.reservations.memory wins (below),
            # whichever comes first, as in docker compose
            out.setdefault("memoryReservation", size_bytes(v))
        elif k == "memswap_limit":
            out["memorySwap"] = swap_bytes(v)
        elif k == "cpu_shares":
            out["cpuShares"] = int(v)
        elif k == "deploy":
            lim = v.get("resources", {}).get("limits", {})
            rsv = v.get("resources", {}).get("reservations", {})
            if set(v) - {"resources", "replicas"} or \
                    set(v.get("resources", {})) - {"limits", "reservations"} \
                    or set(lim) - {"memory", "cpus", "pids"} \
                    or set(rsv) - {"memory", "cpus"}:
                differ(where, "compose deploy keys not compared: %r" % v)
            if "replicas" in v:
                out["replicas"] = int(v["replicas"])
            if "memory" in lim:
                out["memory"] = size_bytes(lim["memory"])
            if "cpus" in lim:
                out["cpus"] = nano_cpus(lim["cpus"])
            if "pids" in lim:
                out["pidsLimit"] = int(lim["pids"])
            if "memory" in rsv:
                out["memoryReservation"] = size_bytes(rsv["memory"])
            if "cpus" in rsv:
                out["cpusReservation"] = nano_cpus(rsv["cpus"])
        elif k in LIST_FIELDS:
            out[LIST_FIELDS[k]] = out.get(LIST_FIELDS[k], []) + \
                ([v] if isinstance(v, str) else [scalar(x) for x in v])
        elif k == "scale":
            out["replicas"] = int(v)
        elif k in INT_FIELDS:
            out[INT_FIELDS[k]] = int(v)
        elif k == "domainname":
            out["domainname"] = scalar(v)
        elif k in ("group_add", "dns_search", "dns_opt"):
            f = {"group_add": "groupAdd", "dns_search": "dnsSearch",
                 "dns_opt": "dnsOptions"}[k]
            out[f] = [v] if isinstance(v, str) else [scalar(x) for x in v]
        elif k == "container_name":
            # INTENDED: the container keeps cara's name, PROJECT-SERVICE;
            # its container_name is an alias of it on each of its networks
            # (compose_service's end), where compose's name is resolved
            out["container_name"] = str(v)
        elif k == "links":
            # INTENDED: a link is a dependency (started) and its alias a
            # name of the target on the project network (compose_side)
            out["links"] = [str(x) for x in v]
        elif k == "logging":
            out["logging"] = {"driver": v.get("driver"),
                              "options": {ok: scalar(ov) for ok, ov in
                                          (v.get("options") or {}).items()}}
        elif k in BOOL_FIELDS:
            if v:   # INTENDED: false is the default, which cara leaves out
                out[BOOL_FIELDS[k]] = True
        elif k == "init":
            out["init"] = bool(v)
        elif k == "extra_hosts":
            out["extraHosts"] = ["%s:%s" % (h, ip) for h, ip in v.items()] \
                if isinstance(v, dict) else list(v)
        elif k == "shm_size":
            out["shmSize"] = size_bytes(v)
        elif k == "sysctls":
            out["sysctls"] = {sk: scalar(sv) for sk, sv in v.items()}
        elif k == "ulimits":
            out["ulimits"] = {u: (int(x), int(x)) if not isinstance(x, dict)
                              else (int(x["soft"]), int(x["hard"]))
                              for u, x in v.items()}
        elif k == "networks":
            # a list names networks; a mapping gives their settings
            nets = {n: None for n in v} if isinstance(v, list) else v
            out["networks"] = {}
            for n, opts in nets.items():
                unknown = set(opts or {}) - {"aliases"}
                if unknown:
                    differ(where, "compose network keys not compared: %s"
                           % sorted(unknown))
                out["networks"][n] = sorted((opts or {}).get("aliases", []))
        elif k == "profiles":
            pass   # decided by the caller: the service is there or not
        elif k.startswith("x-"):
            pass   # extension fields: ignored by compose and cara
        else:
            differ(where, "compose field %s not compared" % k)
    # INTENDED: a compose service without restart is restart: "no", which
    # cara writes out (a Project's default is unless-stopped)
    out.setdefault("restart", "no")
    # without networks, a service is on the default one
    out.setdefault("networks", {"default": []})
    cn = out.pop("container_name", None)
    if cn is not None and cn != name:
        for n in out["networks"]:
            if cn not in out["networks"][n]:
                out["networks"][n] = sorted(out["networks"][n] + [cn])
    if "tmpfs" in out:   # the order of mounts does not matter
        out["tmpfs"] = sorted(out["tmpfs"])
    if not out.get("volumeMounts"):   # only tmpfs ones
        out.pop("volumeMounts", None)
    return out


def compose_side(doc):
    top_volumes = doc.get("volumes") or {}
    for k in doc:
        # version is ignored by compose and cara; the default network has
        # no settings (others are refused); x- keys are ignored
        if k not in ("services", "volumes", "networks", "version", "name",
                     "configs") \
                and not k.startswith("x-"):
            differ("top level", "compose field %s not compared" % k)
    networks = {}
    for n, v in (doc.get("networks") or {}).items():
        v = v or {}
        unknown = set(v) - {"external", "name", "internal", "driver", "attachable"}
        if unknown:
            differ("network %s" % n, "compose keys not compared: %s" % sorted(unknown))
        ext = v.get("external")
        if isinstance(ext, dict):   # the old form, external: {name: N}
            networks[n] = ("External", ext.get("name", n))
        elif ext:
            networks[n] = ("External", v.get("name", n))
        else:
            networks[n] = ("Made", bool(v.get("internal")))
    services = {}
    for name, svc in (doc.get("services") or {}).items():
        prof = svc.get("profiles")
        if prof and not set(prof) & set(profiles):
            continue   # not part of the project under these profiles
        try:
            services[name] = compose_service(name, svc, top_volumes,
                                             doc.get("configs") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            # a form this script does not read: a difference, not a crash
            differ("service %s" % name, "compose side not compared: %r" % e)
    for name, out in services.items():
        for link in out.pop("links", []):
            target, _, alias = link.partition(":")
            out.setdefault("dependsOn", {}).setdefault(target, "Started")
            # (cara refuses an alias where the services are on networks
            # other than the default one)
            t = services.get(target)
            on = t.get("networks", {}).get("default") if t else None
            if alias and alias != target and on is not None and alias not in on:
                t["networks"]["default"] = sorted(on + [alias])
    volumes = {}
    for name, v in top_volumes.items():
        v = v or {}
        unknown = set(v) - {"external", "name", "driver"}
        if unknown:
            differ("volume %s" % name, "compose keys not compared: %s" % sorted(unknown))
        volumes[name] = ("External", v.get("name", name)) if v.get("external") \
            else ("Managed", name)
    return {"name": doc.get("name", project), "services": services,
            "volumes": volumes, "networks": networks}


# ---- the cara side ----

CARA_PLAIN = {"user", "workingDir", "hostname", "stopSignal",
              "restart"}
CARA_LIST = {"command", "entrypoint", "capAdd", "capDrop", "securityOpt",
             "dns", "tmpfs", "expose", "aliases", "extraHosts", "groupAdd",
             "dnsSearch", "dnsOptions"}


def cara_side(doc):
    spec = doc["spec"]
    vols = {}
    for v in spec.get("volumes", []):
        t = v.get("type") or ("HostPath" if "hostPath" in v else "Managed")
        ref = {"HostPath": v.get("hostPath"),
               "External": v.get("externalName", v["name"]),
               # the path is relative to the compose file's directory
               "File": os.path.normpath(os.path.join(project, v.get("path", "?")))
               }.get(t, v["name"])
        vols[v["name"]] = (t, ref)
    services = {}
    for s in spec["services"]:
        name, out = s["name"], {}
        where = "service %s" % name
        try:
            cara_service(s, vols, where, out)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            differ(where, "cara side not compared: %r" % e)
        services[name] = out
    volumes = {n: d for n, d in vols.items() if d[0] in ("Managed", "External")}
    networks = {n["name"]: ("External", n.get("externalName", n["name"]))
                if n.get("external") else ("Made", bool(n.get("internal")))
                for n in spec.get("networks", [])}
    return {"name": doc["metadata"]["name"], "services": services,
            "volumes": volumes, "networks": networks}


def cara_service(s, vols, where, out):
    for k, v in s.items():
        if k == "name":
            continue
        if k == "image":
            out[k] = re.sub(r"^(cara-build/.*):[0-9a-f]{16}$", r"\1:HASH", v)
        elif k in CARA_PLAIN or k == "imagePullPolicy":
            out[k] = scalar(v)
        elif k in CARA_LIST:
            out[k] = [scalar(x) for x in v]
            if k == "tmpfs":
                out[k].sort()
        elif k == "env":
            out["env"] = {e["name"]: e.get("value", "") for e in v}
        elif k == "volumeMounts":
            out["volumeMounts"] = {m["mountPath"]: (vols.get(m["name"]),
                                                    bool(m.get("readOnly")))
                                   for m in v}
        elif k == "ports":
            out["ports"] = sorted((p.get("hostIP", ""), p.get("hostPort", 0),
                                   p["containerPort"], p.get("protocol", "tcp"))
                                  for p in v)
        elif k == "healthcheck":
            h = {}
            for hk, hv in v.items():
                h[hk] = duration_ms(hv) if hk in ("interval", "timeout",
                                                   "startPeriod",
                                                   "startInterval") else hv
            out["healthcheck"] = h
        elif k == "dependsOn":
            out["dependsOn"] = {d: "Started" for d in v if isinstance(d, str)}
            out["dependsOn"].update({d["service"]: d.get("condition", "Started")
                                     + ("+restart" if d.get("restart") else "")
                                     for d in v if isinstance(d, dict)})
        elif k == "restartRetries":
            out[k] = int(v)
        elif k == "stopGracePeriod":
            out[k] = duration_ms(v)
        elif k in ("labels", "sysctls"):
            out[k] = {lk: scalar(lv) for lk, lv in v.items()}
        elif k == "resources":
            unknown = set(v) - {"memory", "cpus", "memoryReservation",
                                "memorySwap", "cpuShares", "cpusReservation"}
            if unknown:
                differ(where, "cara resources keys not compared: %s"
                       % sorted(unknown))
            if "memory" in v:
                out["memory"] = size_bytes(v["memory"])
            if "cpus" in v:
                out["cpus"] = nano_cpus(v["cpus"])
            if "memoryReservation" in v:
                out["memoryReservation"] = size_bytes(v["memoryReservation"])
            if "memorySwap" in v:
                out["memorySwap"] = swap_bytes(v["memorySwap"])
            if "cpuShares" in v:
                out["cpuShares"] = int(v["cpuShares"])
            if "cpusReservation" in v:
                out["cpusReservation"] = nano_cpus(v["cpusReservation"])
        elif k in ("privileged", "readOnly", "init", "tty", "stdinOpen"):
            out[k] = bool(v)
        elif k in ("pidsLimit", "oomScoreAdj", "replicas"):
            out[k] = int(v)
        elif k == "domainname":
            out[k] = scalar(v)
        elif k == "logging":
            out[k] = {"driver": v.get("driver"),
                      "options": {ok: scalar(ov) for ok, ov in
                                  (v.get("options") or {}).items()}}
        elif k == "shmSize":
            out[k] = size_bytes(v)
        elif k == "ulimits":
            out[k] = {u: (x, x) if not isinstance(x, dict)
                      else (x["soft"], x["hard"]) for u, x in v.items()}
        elif k == "networks":
            out[k] = {n["name"]: sorted(n.get("aliases", [])) for n in v}
        else:
            differ(where, "cara field %s not compared" % k)
    # aliases alone are the default network's
    if "networks" not in out:
        out["networks"] = {"default": sorted(out.pop("aliases", []))}


# ---- compare ----

cara_docs = [d for d in yaml.safe_load_all(open(converted)) if d]
if len(cara_docs) != 1:
    print("cara convert gave %d projects, not 1" % len(cara_docs))
    sys.exit(1)
cara = cara_side(unescape(cara_docs[0]))
compose = compose_side(unescape(yaml.safe_load(open(oracle_file)) or {}))

if os.environ.get("COMPARE_DUMP"):   # both sides, to read a case
    import pprint
    pprint.pprint({"compose": compose, "cara": cara}, width=100)
if compose["name"] != cara["name"]:
    differ("project", "name: compose %r, cara %r" % (compose["name"], cara["name"]))
for name in sorted(set(compose["services"]) | set(cara["services"])):
    a, b = compose["services"].get(name), cara["services"].get(name)
    if a is None or b is None:
        differ("service %s" % name, "only in %s" % ("cara" if a is None else "compose"))
        continue
    for f in sorted(set(a) | set(b)):
        if a.get(f) != b.get(f):
            differ("service %s" % name, "%s: compose %r, cara %r"
                   % (f, a.get(f), b.get(f)))
if compose["volumes"] != cara["volumes"]:
    differ("volumes", "compose %r, cara %r" % (compose["volumes"], cara["volumes"]))
if compose["networks"] != cara["networks"]:
    differ("networks", "compose %r, cara %r" % (compose["networks"], cara["networks"]))

for d in diffs:
    print(d)
sys.exit(1 if diffs else 0)
