# Graceful termination (and a registration watchdog). A watcher notices that this instance is going away
# (Auto Scaling terminating it: the group's lifecycle hook holds it in
# Terminating:Wait; a spot interruption notice; a rebalance recommendation),
# stops the agent gracefully (it takes no new job and finishes the running
# one; at the bound the job is cancelled), then lets the termination go on.
cat > /usr/local/bin/gantry-drain-watch <<'SH'
#!/bin/bash
# usage: gantry-drain-watch  (a systemd service; polls instance metadata)
set -uo pipefail
REGION="__REGION__"; ASG="__ASG__"; INSTANCE="__INSTANCE__"; HOOK="__HOOK__"; GRACE="__GRACE__"
POLL="${GANTRY_DRAIN_POLL:-5}"
UPTIME_FILE="${GANTRY_UPTIME_FILE:-/proc/uptime}"
imds() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60") || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
drained=""
registered=""
while true; do
  # An agent that has not registered within the grace period never will
  # (bad token, no network, a broken image): the instance reports itself
  # unhealthy, so the group replaces it and the scaler counts it. (The
  # Buildkite agent logs `Successfully registered agent "NAME" with tags
  # [...]` on every registration, in every v3 release; the Actions runner
  # prints `Listening for Jobs` once connected.)
  if [ -z "$registered" ]; then
    if journalctl -u {{AGENT_UNIT}} --no-pager 2>/dev/null | grep -q "{{REGISTERED_PATTERN}}"; then
      registered=yes
    elif [ "$(cut -d. -f1 "$UPTIME_FILE")" -ge "$GRACE" ]; then
      echo "gantry: no agent registered ${GRACE}s after boot; reporting this instance unhealthy"
      aws autoscaling set-instance-health --region "$REGION" --instance-id "$INSTANCE" --health-status Unhealthy --no-should-respect-grace-period \
        || shutdown -h now
      registered=never
    fi
  fi
  state=$(imds autoscaling/target-lifecycle-state 2>/dev/null || true)
  notice=$(imds spot/instance-action 2>/dev/null || imds events/recommendations/rebalance 2>/dev/null || true)
  if [ -z "$drained" ] && { [ "$state" = Terminated ] || [ -n "$notice" ]; }; then
    echo "gantry: this instance is going away (target state: ${state:-none}; notice: ${notice:-none}); stopping the agent"
    mkdir -p /var/lib/gantry && touch /var/lib/gantry/draining
    # Waits for the running job up to the unit's TimeoutStopSec (the drain bound).
    systemctl stop {{AGENT_UNIT}}
    drained=yes
    if [ "$state" != Terminated ]; then
      # Spot notice or rebalance: leave the group now (it terminates through the hook).
      aws autoscaling terminate-instance-in-auto-scaling-group --region "$REGION" --instance-id "$INSTANCE" --should-decrement-desired-capacity || true
    fi
  fi
  if [ -n "$drained" ] && [ "$state" = Terminated ]; then
    aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$ASG" --lifecycle-hook-name "$HOOK" \
      --instance-id "$INSTANCE" --lifecycle-action-result CONTINUE
    exit 0
  fi
  [ -n "${GANTRY_DRAIN_ONCE:-}" ] && exit 0 # tests: one round
  sleep "$POLL"
done
SH
sed -i "s/__REGION__/$REGION/; s/__ASG__/$ASG_NAME/; s/__INSTANCE__/$INSTANCE_ID/; s/__HOOK__/{{DRAIN_HOOK}}/; s/__GRACE__/{{REGISTRATION_GRACE}}/" /usr/local/bin/gantry-drain-watch
chmod 755 /usr/local/bin/gantry-drain-watch
cat > /etc/systemd/system/gantry-drain.service <<'UNIT'
[Unit]
Description=gantry: drain the CI agent before this instance goes away
After=network-online.target

[Service]
ExecStart=/usr/local/bin/gantry-drain-watch
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
