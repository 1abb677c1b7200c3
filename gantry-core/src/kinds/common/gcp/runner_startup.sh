# The GitHub Actions runner ({{SCOPE}}; labels {{LABELS}}). `gantry runner
# wake` leaves a just-in-time configuration in this machine's metadata
# (gantry-runner-jitconfig) and starts the machine when a job for these
# labels is queued; the loop below runs one job per configuration, and
# after {{IDLE_STOP}}s without a new one stops the machine (a guest shutdown
# stops a Compute Engine VM: TERMINATED, disks kept, no compute billed).
{{RUNNER_INSTALL}}
WORK="${DATA_DIR:-/var/lib/gantry}/builds"
mkdir -p "$WORK"
ln -sfn "$WORK" /opt/actions-runner/_work
chown -R runner: /opt/actions-runner "$WORK"

cat > /usr/local/bin/gantry-runner-loop <<'SH'
#!/bin/bash
# usage: gantry-runner-loop  (a systemd service: one job per configuration; stops the machine when idle)
set -uo pipefail
IDLE_STOP="__IDLE_STOP__"
POLL="${GANTRY_RUNNER_POLL:-10}"
STATE="${GANTRY_STATE_DIR:-/var/lib/gantry}"
RUNNER="${GANTRY_RUNNER_DIR:-/opt/actions-runner}"
URL="http://metadata.google.internal/computeMetadata/v1/instance/attributes/gantry-runner-jitconfig"
mkdir -p "$STATE"
idle_since=$(date +%s)
while true; do
  cfg=$(curl -fsS -H "Metadata-Flavor: Google" "$URL" 2>/dev/null || true)
  sum=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  if [ -n "$cfg" ] && [ "$sum" != "$(cat "$STATE/runner-config-used" 2>/dev/null)" ]; then
    # A configuration works once: mark it used before the runner connects.
    echo "$sum" > "$STATE/runner-config-used"
    echo "gantry: a new runner configuration; running one job"
    runuser -u runner -- "$RUNNER/run.sh" --jitconfig "$cfg" || echo "gantry: the runner exited with status $?"
    idle_since=$(date +%s)
    continue
  fi
  if [ "$IDLE_STOP" -gt 0 ] && [ $(($(date +%s) - idle_since)) -ge "$IDLE_STOP" ]; then
    echo "gantry: no job for ${IDLE_STOP}s; stopping this machine"
    shutdown -h now
    exit 0
  fi
  [ -n "${GANTRY_RUNNER_ONCE:-}" ] && exit 0 # tests: one round
  sleep "$POLL"
done
SH
sed -i "s/__IDLE_STOP__/{{IDLE_STOP}}/" /usr/local/bin/gantry-runner-loop
chmod 755 /usr/local/bin/gantry-runner-loop
{{EXTRAS}}cat > /etc/systemd/system/gantry-runner-loop.service <<'UNIT'
[Unit]
Description=gantry: GitHub Actions runner, one job per configuration
After=network-online.target docker.service
Wants=network-online.target

[Service]
ExecStart=/usr/local/bin/gantry-runner-loop
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable gantry-runner-loop
systemctl restart gantry-runner-loop
