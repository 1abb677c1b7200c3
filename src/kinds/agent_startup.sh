#!/bin/bash
# gantry CI agent bootstrap for queue {{QUEUE}} on {{NODE}} (generated; do not edit on the machine)
set -euo pipefail
exec > >(tee -a /var/log/gantry-agent-bootstrap.log) 2>&1

# A data disk, if attached, holds builds and the Docker cache.
DATA_DEV="{{DATA_DEVICE}}"
if [ -n "$DATA_DEV" ] && [ -b "$DATA_DEV" ]; then
  if ! blkid "$DATA_DEV" >/dev/null 2>&1; then mkfs.ext4 -m 0 -F -E lazy_itable_init=0,discard "$DATA_DEV"; fi
  mkdir -p /mnt/data
  grep -q "$DATA_DEV" /etc/fstab || echo "$DATA_DEV /mnt/data ext4 discard,defaults,nofail 0 2" >> /etc/fstab
  mount -a
  mkdir -p /mnt/data/docker /mnt/data/builds
  ln -sfn /mnt/data/docker /var/lib/docker
fi

# Docker and the Buildkite agent.
if ! command -v docker >/dev/null; then curl -fsSL https://get.docker.com | sh; fi
systemctl enable --now docker
if ! command -v buildkite-agent >/dev/null; then
  curl -fsSL https://keys.openpgp.org/vks/v1/by-fingerprint/32A37959C2FA5C3C99EFBC32A79206696452D198 | gpg --dearmor -o /usr/share/keyrings/buildkite-agent-archive-keyring.gpg
  echo "deb [signed-by=/usr/share/keyrings/buildkite-agent-archive-keyring.gpg] https://apt.buildkite.com/buildkite-agent stable main" > /etc/apt/sources.list.d/buildkite-agent.list
  apt-get update && apt-get install -y buildkite-agent
fi
usermod -aG docker buildkite-agent

# The token comes from Secret Manager at boot; it is never in metadata.
AGENT_TOKEN=$(gcloud secrets versions access latest --secret="{{TOKEN_SECRET}}")

cat > /etc/buildkite-agent/buildkite-agent.cfg <<CFG
token="$AGENT_TOKEN"
name="{{NODE}}-%spawn"
spawn={{AGENTS}}
tags="queue={{QUEUE}}{{AGENT_TAGS}}"
build-path="${DATA_DEV:+/mnt/data/builds}"
CFG
sed -i 's|^build-path=""$|build-path="/var/lib/buildkite-agent/builds"|' /etc/buildkite-agent/buildkite-agent.cfg
chmod 600 /etc/buildkite-agent/buildkite-agent.cfg
chown buildkite-agent: /etc/buildkite-agent/buildkite-agent.cfg
systemctl enable --now buildkite-agent
