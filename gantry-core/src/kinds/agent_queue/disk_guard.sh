# Disk guard, run by the environment hook before every job: below the
# minimum free space, prune Docker (images, containers, build cache unused
# for an hour); if that is not enough, fail the job with the reason rather
# than let it die halfway on a full disk.
cat > /usr/local/bin/gantry-disk-guard <<'SH'
#!/bin/bash
# usage: gantry-disk-guard  (as the agent user, before each job)
set -euo pipefail
MIN_GB=__MIN_GB__
DIR=__DIR__
free_gb() { df -P -BG "$DIR" | awk 'NR == 2 { sub("G", "", $4); print $4 }'; }
if [ "$(free_gb)" -lt "$MIN_GB" ]; then
  echo "gantry: $(free_gb) GB free on $DIR, below $MIN_GB GB: pruning Docker"
  docker system prune --all --force --filter "until=1h" > /dev/null || true
  docker builder prune --all --force > /dev/null 2>&1 || true
  if [ "$(free_gb)" -lt "$MIN_GB" ]; then
    echo "gantry: still only $(free_gb) GB free on $DIR (at least $MIN_GB GB needed); this job cannot run here" >&2
    exit 1
  fi
fi
SH
sed -i "s|__MIN_GB__|{{DISK_MIN_FREE_GB}}|; s|__DIR__|$DOCKER_ROOT|" /usr/local/bin/gantry-disk-guard
chmod 755 /usr/local/bin/gantry-disk-guard
