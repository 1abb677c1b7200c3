#!/bin/bash
# gantry agent_queue bootstrap for queue {{QUEUE}} (generated; do not edit on the instance)
set -euo pipefail
exec > >(tee /var/log/gantry-agent-bootstrap.log) 2>&1

REGION="{{REGION}}"
ASG_NAME="{{ASG_NAME}}"
TOKEN_PARAMETER="{{TOKEN_PARAMETER}}"
INSTANCE_ID=$(TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60") && curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)

# Docker and the Buildkite agent.
dnf install -y docker jq
systemctl enable --now docker
curl -fsSL https://yum.buildkite.com/buildkite-agent.repo -o /etc/yum.repos.d/buildkite-agent.repo
dnf install -y buildkite-agent
usermod -aG docker buildkite-agent

# The token is read from SSM at boot and never written to user data.
AGENT_TOKEN=$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAMETER" --with-decryption --query Parameter.Value --output text)

cat > /etc/buildkite-agent/buildkite-agent.cfg <<CFG
token="$AGENT_TOKEN"
name="{{QUEUE}}-$INSTANCE_ID-%spawn"
spawn={{AGENTS_PER_INSTANCE}}
tags="queue={{QUEUE}}{{AGENT_TAGS}}"
build-path="/var/lib/buildkite-agent/builds"
hooks-path="/etc/buildkite-agent/hooks"
CFG
chmod 600 /etc/buildkite-agent/buildkite-agent.cfg
chown buildkite-agent: /etc/buildkite-agent/buildkite-agent.cfg

# Busy agents hold scale-in protection: the scaler may lower desired
# capacity, but Auto Scaling can then only terminate idle instances.
mkdir -p /etc/buildkite-agent/hooks /var/lib/gantry
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
aws autoscaling set-instance-protection --region "__REGION__" --auto-scaling-group-name "__ASG__" --instance-ids "__INSTANCE__" $flag
SH
sed -i "s/__REGION__/$REGION/; s/__ASG__/$ASG_NAME/; s/__INSTANCE__/$INSTANCE_ID/" /usr/local/bin/gantry-protection
chmod 755 /usr/local/bin/gantry-protection
printf '#!/bin/bash\nsudo /usr/local/bin/gantry-protection acquire\n' > /etc/buildkite-agent/hooks/environment
printf '#!/bin/bash\nsudo /usr/local/bin/gantry-protection release\n' > /etc/buildkite-agent/hooks/pre-exit
chmod 755 /etc/buildkite-agent/hooks/*
echo 'buildkite-agent ALL=(root) NOPASSWD: /usr/local/bin/gantry-protection' > /etc/sudoers.d/gantry-protection

# Agent environment.
mkdir -p /etc/systemd/system/buildkite-agent.service.d
cat > /etc/systemd/system/buildkite-agent.service.d/gantry.conf <<UNIT
[Service]
{{AGENT_ENV}}
UNIT

{{EXTRA_USER_DATA}}

systemctl daemon-reload
systemctl enable --now buildkite-agent
