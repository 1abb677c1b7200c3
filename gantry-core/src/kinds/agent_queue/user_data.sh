#!/bin/bash
# gantry agent_queue bootstrap for queue {{QUEUE}} (generated; do not edit on the instance)
set -euo pipefail
exec > >(tee /var/log/gantry-agent-bootstrap.log) 2>&1

REGION="{{REGION}}"
ASG_NAME="{{ASG_NAME}}"
TOKEN_PARAMETER="{{TOKEN_PARAMETER}}"
{{PREAMBLE}}
# Docker and the Buildkite agent (package repository as Buildkite documents
# it for Amazon Linux / Red Hat: a yum repo for this machine's architecture).
dnf install -y docker jq
DOCKER_ROOT=/var/lib/docker
BUILD_PATH=/var/lib/buildkite-agent/builds
{{INSTANCE_STORAGE}}
systemctl enable --now docker
# GPU images (the Deep Learning Base GPU AMI) ship the NVIDIA container
# toolkit: make it a Docker runtime, so `docker run --gpus all` sees the GPUs.
if command -v nvidia-ctk >/dev/null 2>&1; then
  nvidia-ctk runtime configure --runtime=docker
  systemctl restart docker
fi
cat > /etc/yum.repos.d/buildkite-agent.repo <<REPO
[buildkite-agent]
name = Buildkite Pty Ltd
baseurl = https://yum.buildkite.com/buildkite-agent/stable/$(uname -m)/
enabled=1
gpgcheck=0
priority=1
REPO
dnf install -y buildkite-agent
usermod -aG docker buildkite-agent
mkdir -p "$BUILD_PATH" && chown buildkite-agent: "$BUILD_PATH"

# The token is read from SSM at boot and never written to user data.
AGENT_TOKEN=$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAMETER" --with-decryption --query Parameter.Value --output text)

cat > /etc/buildkite-agent/buildkite-agent.cfg <<CFG
token="$AGENT_TOKEN"
name="{{QUEUE}}-$INSTANCE_ID-%spawn"
spawn={{AGENTS_PER_INSTANCE}}
tags="queue={{QUEUE}}{{AGENT_TAGS}}"
build-path="$BUILD_PATH"
hooks-path="/etc/buildkite-agent/hooks"{{AGENT_CFG_EXTRA}}
CFG
chmod 600 /etc/buildkite-agent/buildkite-agent.cfg
chown buildkite-agent: /etc/buildkite-agent/buildkite-agent.cfg

{{PROTECTION}}
{{DISK_GUARD}}
mkdir -p /etc/buildkite-agent/hooks
printf '#!/bin/bash\n{{DISK_GUARD_CALL}}sudo /usr/local/bin/gantry-protection acquire\n' > /etc/buildkite-agent/hooks/environment
printf '#!/bin/bash\nsudo /usr/local/bin/gantry-protection release\n' > /etc/buildkite-agent/hooks/pre-exit
chmod 755 /etc/buildkite-agent/hooks/*
echo 'buildkite-agent ALL=(root) NOPASSWD: /usr/local/bin/gantry-protection' > /etc/sudoers.d/gantry-protection
{{SECRETS}}{{ONE_JOB}}
{{DRAIN}}
# Agent environment (a quoted here-document: the shell expands nothing in
# it; values are escaped for systemd by gantry).
mkdir -p /etc/systemd/system/buildkite-agent.service.d
cat > /etc/systemd/system/buildkite-agent.service.d/gantry.conf <<'UNIT'
[Service]
TimeoutStopSec={{DRAIN_SECONDS}}
{{SERVICE_EXTRA}}{{AGENT_ENV}}
UNIT

{{EXTRA_USER_DATA}}

systemctl daemon-reload
systemctl enable --now gantry-drain
systemctl enable --now buildkite-agent
