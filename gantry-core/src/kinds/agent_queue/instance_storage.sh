# Instance-store NVMe (when the type has it) holds Docker's data and the
# builds: multi-GB ML images and checkouts then never fill the root volume.
# Several disks are striped (RAID 0); the data is scratch and goes with the
# instance.
SCRATCH_DIR=""
if mountpoint -q /opt/dlami/nvme 2>/dev/null; then
  # The Deep Learning AMIs claim the instance store themselves before user
  # data runs (their release notes list nvme_location /opt/dlami/nvme: the
  # disks are in LVM and mounted there), so mkfs or mdadm on them would
  # meet busy devices. Their mount is the scratch space.
  SCRATCH_DIR=/opt/dlami/nvme
else
  # (by-id may list one disk under several names: resolve and keep each
  # once; a disk that is mounted or held by LVM/md is someone else's)
  NVME=()
  for link in /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*; do
    [ -e "$link" ] || continue
    case "$link" in *-part*) continue ;; esac
    dev=$(readlink -f "$link")
    holders=$(ls -A "/sys/class/block/${dev##*/}/holders" 2>/dev/null || true)
    if [ -n "$holders" ] || grep -q "^$dev " /proc/mounts; then
      echo "gantry: $dev is in use (holders: ${holders:-none}); leaving it alone"
      continue
    fi
    case " ${NVME[*]} " in *" $dev "*) ;; *) NVME+=("$dev") ;; esac
  done
  if [ "${#NVME[@]}" -gt 0 ]; then
    if [ "${#NVME[@]}" -gt 1 ]; then
      dnf install -y mdadm
      mdadm --create /dev/md0 --level=0 --raid-devices="${#NVME[@]}" "${NVME[@]}" --run
      SCRATCH=/dev/md0
    else
      SCRATCH="${NVME[0]}"
    fi
    mkfs.xfs -f "$SCRATCH"
    mkdir -p /mnt/scratch
    mount -o noatime "$SCRATCH" /mnt/scratch
    SCRATCH_DIR=/mnt/scratch
  fi
fi
if [ -n "$SCRATCH_DIR" ]; then
  mkdir -p "$SCRATCH_DIR/docker" "$SCRATCH_DIR/builds" /etc/docker
  echo "{\"data-root\": \"$SCRATCH_DIR/docker\"}" > /etc/docker/daemon.json
  DOCKER_ROOT="$SCRATCH_DIR/docker"
  BUILD_PATH="$SCRATCH_DIR/builds"
fi
