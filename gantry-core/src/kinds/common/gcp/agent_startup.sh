# The Buildkite agent.
if ! command -v buildkite-agent >/dev/null; then
  curl -fsSL https://keys.openpgp.org/vks/v1/by-fingerprint/32A37959C2FA5C3C99EFBC32A79206696452D198 | gpg --batch --yes --dearmor -o /usr/share/keyrings/buildkite-agent-archive-keyring.gpg
  echo "deb [signed-by=/usr/share/keyrings/buildkite-agent-archive-keyring.gpg] https://apt.buildkite.com/buildkite-agent stable main" > /etc/apt/sources.list.d/buildkite-agent.list
  apt-get update && apt-get install -y buildkite-agent
fi
usermod -aG docker buildkite-agent

# The token comes from Secret Manager at boot; it is never in metadata.
AGENT_TOKEN=$(gcloud secrets versions access latest --secret="{{TOKEN_SECRET}}")

# The agent runs as buildkite-agent and checks out under its build path:
# on a data disk that directory was made by root (mode 0755), so it is
# handed to the agent user, as the EC2 bootstrap does with its own.
BUILD_PATH="${DATA_DIR:-/var/lib/buildkite-agent}/builds"
mkdir -p "$BUILD_PATH" && chown buildkite-agent: "$BUILD_PATH"

cat > /etc/buildkite-agent/buildkite-agent.cfg <<CFG
token="$AGENT_TOKEN"
name="{{NODE}}-%spawn"
spawn={{AGENTS}}
tags="queue={{QUEUE}}{{AGENT_TAGS}}"
build-path="$BUILD_PATH"
hooks-path="/etc/buildkite-agent/hooks"{{AGENT_CFG_EXTRA}}
CFG
chmod 600 /etc/buildkite-agent/buildkite-agent.cfg
chown buildkite-agent: /etc/buildkite-agent/buildkite-agent.cfg
{{EXTRAS}}systemctl enable --now buildkite-agent
