
# Artifact Registry ({{HOSTS}}): Docker asks this credential helper
# (docker-credential-helpers protocol: `get` reads a host on stdin), which
# answers with the machine's service-account token from the metadata
# server as the oauth2accesstoken user; nothing is stored on disk.
cat > /usr/local/bin/docker-credential-{{HELPER}} <<'SH'
#!/bin/bash
set -euo pipefail
case "${1:-}" in
  get)
    read -r host || true
    host=${host//[\"\\]/}
    token=$(curl -fsS -H 'Metadata-Flavor: Google' \
      http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token |
      sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
    if [ -z "$token" ]; then echo "no access token from the metadata server" >&2; exit 1; fi
    printf '{"ServerURL":"%s","Username":"oauth2accesstoken","Secret":"%s"}\n' "$host" "$token" ;;
  store | erase) cat > /dev/null ;;
  list) echo '{}' ;;
  *) echo "usage: docker-credential-{{HELPER}} get|store|erase|list" >&2; exit 1 ;;
esac
SH
chmod 755 /usr/local/bin/docker-credential-{{HELPER}}
# Each user's Docker configuration names the helper for these hosts
# (credHelpers), merged into what is there.
for who in root {{USER}}; do
  home=$(getent passwd "$who" | cut -d: -f6)
  install -d -m 700 -o "$who" -g "$(id -gn "$who")" "$home/.docker"
  python3 - "$home/.docker/config.json" {{HELPER}} {{HOSTS}} <<'PY'
import json, os, sys
path, helper, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
cfg = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as f:
        cfg = json.load(f)
cfg.setdefault("credHelpers", {}).update({h: helper for h in hosts})
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
PY
  chown "$who": "$home/.docker/config.json"
done
