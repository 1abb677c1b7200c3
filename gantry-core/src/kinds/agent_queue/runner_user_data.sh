#!/bin/bash
# gantry agent_queue bootstrap for GitHub Actions runner queue {{QUEUE}} (generated; do not edit on the instance)
set -euo pipefail
exec > >(tee /var/log/gantry-runner-bootstrap.log) 2>&1

REGION="{{REGION}}"
ASG_NAME="{{ASG_NAME}}"
{{PREAMBLE}}
dnf install -y docker jq
DOCKER_ROOT=/var/lib/docker
BUILD_PATH=/var/lib/gantry/work
{{INSTANCE_STORAGE}}
systemctl enable --now docker
# GPU images (the Deep Learning Base GPU AMI) ship the NVIDIA container
# toolkit: make it a Docker runtime, so `docker run --gpus all` sees the GPUs.
if command -v nvidia-ctk >/dev/null 2>&1; then
  nvidia-ctk runtime configure --runtime=docker
  systemctl restart docker
fi

{{RUNNER_INSTALL}}
mkdir -p "$BUILD_PATH"
# Jobs check out and build under the work folder: on instance storage when there is some.
ln -sfn "$BUILD_PATH" /opt/actions-runner/_work
chown -R runner: /opt/actions-runner "$BUILD_PATH"
{{PROTECTION}}
{{DISK_GUARD}}
# The runner's job hooks (ACTIONS_RUNNER_HOOK_JOB_STARTED/COMPLETED): a
# busy runner's instance is protected from scale-in. actions/runner runs a
# hook only from an absolute path ending in .sh (bash -e FILE) or .ps1 and
# fails the job when a pre-job hook fails (GitHub docs, "Running scripts
# before or after a job"; ScriptHandlerHelpers in actions/runner).
printf '#!/bin/bash\n{{DISK_GUARD_CALL}}sudo /usr/local/bin/gantry-protection acquire\n' > /usr/local/bin/gantry-job-started.sh
printf '#!/bin/bash\nsudo /usr/local/bin/gantry-protection release\n' > /usr/local/bin/gantry-job-completed.sh
chmod 755 /usr/local/bin/gantry-job-started.sh /usr/local/bin/gantry-job-completed.sh
echo 'runner ALL=(root) NOPASSWD: /usr/local/bin/gantry-protection' > /etc/sudoers.d/gantry-protection
{{ONE_JOB}}
{{DRAIN}}

{{EXTRA_USER_DATA}}

# This instance's just-in-time runner configuration: the scaler registers a
# runner named after the instance and leaves its configuration in SSM. It
# is good for one connection; only this path is readable by the instance.
cat > /usr/local/bin/gantry-runner-config <<'SH'
#!/bin/bash
# usage: gantry-runner-config  (waits for this instance's runner configuration, then writes the runner's root-only environment file)
set -euo pipefail
REGION="__REGION__"; PARAMETER="__JIT_PATH__/__INSTANCE__"; ROUNDS="__ROUNDS__"
DIR="${GANTRY_CONFIG_DIR:-/etc/gantry}"
POLL="${GANTRY_CONFIG_POLL:-5}"
echo "gantry: waiting for the runner configuration $PARAMETER"
for _ in $(seq 1 "$ROUNDS"); do
  if jit=$(aws ssm get-parameter --region "$REGION" --name "$PARAMETER" --with-decryption --query Parameter.Value --output text 2>/dev/null) && [ -n "$jit" ]; then
    install -d -m 700 "$DIR"
    (umask 077 && printf 'GANTRY_JITCONFIG=%s\n' "$jit" > "$DIR/runner.env")
    echo "gantry: runner configuration received"
    exit 0
  fi
  sleep "$POLL"
done
echo "gantry: no runner configuration arrived at $PARAMETER" >&2
exit 1
SH
sed -i "s|__REGION__|$REGION|; s|__INSTANCE__|$INSTANCE_ID|; s|__JIT_PATH__|{{JIT_PATH}}|; s|__ROUNDS__|{{JIT_WAIT_ROUNDS}}|" /usr/local/bin/gantry-runner-config
chmod 755 /usr/local/bin/gantry-runner-config
/usr/local/bin/gantry-runner-config

# One job, then the runner exits and the instance leaves its group.
cat > /etc/systemd/system/gantry-runner.service <<'UNIT'
[Unit]
Description=GitHub Actions runner (gantry queue {{QUEUE}})
After=network-online.target docker.service
Wants=network-online.target

[Service]
User=runner
WorkingDirectory=/opt/actions-runner
EnvironmentFile=/etc/gantry/runner.env
Environment=ACTIONS_RUNNER_HOOK_JOB_STARTED=/usr/local/bin/gantry-job-started.sh
Environment=ACTIONS_RUNNER_HOOK_JOB_COMPLETED=/usr/local/bin/gantry-job-completed.sh
ExecStart=/opt/actions-runner/run.sh --jitconfig ${GANTRY_JITCONFIG}
# The runner stops on SIGINT after telling GitHub; a running job gets the drain bound.
KillSignal=SIGINT
TimeoutStopSec={{DRAIN_SECONDS}}
Restart=no
ExecStopPost=/usr/local/bin/gantry-terminate-self
{{AGENT_ENV}}
UNIT

systemctl daemon-reload
systemctl enable --now gantry-drain
systemctl start gantry-runner
