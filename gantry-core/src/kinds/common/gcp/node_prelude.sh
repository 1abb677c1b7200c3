#!/bin/bash
# gantry {{WHAT}} bootstrap on {{NODE}} (generated; do not edit on the machine)
set -euo pipefail
exec > >(tee -a /var/log/gantry-agent-bootstrap.log) 2>&1
# Ubuntu's images ship gcloud as a snap (/snap/bin), which not every
# service's PATH includes.
export PATH="$PATH:/snap/bin"
# A fresh Ubuntu runs apt's daily jobs and unattended-upgrades right after
# boot, holding dpkg's lock: apt waits for it rather than failing (apt 1.9.11+
# DPkg::Lock::Timeout, also for get.docker.com's apt calls), and never prompts.
export DEBIAN_FRONTEND=noninteractive
if [ -d /etc/apt/apt.conf.d ]; then echo 'DPkg::Lock::Timeout "600";' > /etc/apt/apt.conf.d/90gantry-dpkg-lock; fi

# A data disk, if attached, holds builds and Docker's data root. It is found
# by its stable /dev/disk/by-id name (sdX and nvmeXnY names vary by machine).
DATA_DEV="{{DATA_DEVICE}}"
DATA_DIR=""
if [ -n "$DATA_DEV" ]; then
  for _ in $(seq 1 60); do [ -b "$DATA_DEV" ] && break; sleep 1; done
  if [ ! -b "$DATA_DEV" ]; then echo "data disk $DATA_DEV did not appear" >&2; exit 1; fi
  if ! blkid "$DATA_DEV" >/dev/null 2>&1; then mkfs.ext4 -m 0 -F -E lazy_itable_init=0,discard "$DATA_DEV"; fi
  mkdir -p /mnt/data
  grep -q "^$DATA_DEV " /etc/fstab || echo "$DATA_DEV /mnt/data ext4 discard,defaults,nofail 0 2" >> /etc/fstab
  mountpoint -q /mnt/data || mount /mnt/data
  mkdir -p /mnt/data/docker /mnt/data/builds
  DATA_DIR=/mnt/data
  # Docker's own setting for where images and containers live (daemon.json
  # data-root), merged into any existing configuration.
  mkdir -p /etc/docker
  python3 - /mnt/data/docker <<'PY'
import json, os, sys
path = "/etc/docker/daemon.json"
cfg = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as f:
        cfg = json.load(f)
cfg["data-root"] = sys.argv[1]
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
PY
fi

# Docker.
if ! command -v docker >/dev/null; then curl -fsSL https://get.docker.com | sh; fi
systemctl enable docker
{{GPU_SETUP}}# Restart so a data-root written above takes effect on a preinstalled Docker.
systemctl restart docker
