# Busy agents hold scale-in protection: the scaler may lower desired
# capacity, but Auto Scaling can then only terminate idle instances.
mkdir -p /var/lib/gantry
cat > /usr/local/bin/gantry-protection <<'SH'
#!/bin/bash
# usage: gantry-protection acquire|release  (counts running jobs on this instance)
set -euo pipefail
exec 9>/var/lib/gantry/jobs.lock
flock 9
n=$(cat /var/lib/gantry/jobs 2>/dev/null || echo 0)
case "$1" in
  acquire) n=$((n + 1)) ;;
  release) n=$((n > 0 ? n - 1 : 0)) ;;
esac
echo "$n" > /var/lib/gantry/jobs
if [ "$1" = acquire ] && [ "$n" -eq 1 ]; then flag=--protected-from-scale-in
elif [ "$1" = release ] && [ "$n" -eq 0 ]; then flag=--no-protected-from-scale-in
else exit 0; fi
aws autoscaling set-instance-protection --region "__REGION__" --auto-scaling-group-name "__ASG__" --instance-ids "__INSTANCE__" "$flag"
SH
sed -i "s/__REGION__/$REGION/; s/__ASG__/$ASG_NAME/; s/__INSTANCE__/$INSTANCE_ID/" /usr/local/bin/gantry-protection
chmod 755 /usr/local/bin/gantry-protection
