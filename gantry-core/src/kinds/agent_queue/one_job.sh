# One job per instance: each agent disconnects after its job; when the agent
# service then stops, the instance leaves its group and lowers the group's
# desired capacity in the same call, so the scaler and the group agree. At
# min_size the group refuses the decrement: the instance powers off instead
# and the group's health check replaces it with a fresh one.
cat > /usr/local/bin/gantry-terminate-self <<'SH'
#!/bin/bash
# usage: gantry-terminate-self  (run by systemd after the agent service stops)
set -euo pipefail
# Stopped by the drain watcher: the instance is already going away.
[ -e /var/lib/gantry/draining ] && exit 0
aws autoscaling terminate-instance-in-auto-scaling-group --region "__REGION__" --instance-id "__INSTANCE__" --should-decrement-desired-capacity \
  || shutdown -h now
SH
sed -i "s/__REGION__/$REGION/; s/__INSTANCE__/$INSTANCE_ID/" /usr/local/bin/gantry-terminate-self
chmod 755 /usr/local/bin/gantry-terminate-self
