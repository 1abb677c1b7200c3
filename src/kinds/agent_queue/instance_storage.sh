# Instance-store NVMe (when the type has it) holds Docker's data and the
# builds: multi-GB ML images and checkouts then never fill the root volume.
# Several disks are striped (RAID 0); the data is scratch and goes with the
# instance.
# (by-id may list one disk under several names: resolve and keep each once)
NVME=()
for link in /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*; do
  [ -e "$link" ] || continue
  case "$link" in *-part*) continue ;; esac
  dev=$(readlink -f "$link")
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
  mkdir -p /mnt/scratch/docker /mnt/scratch/builds /etc/docker
  echo '{"data-root": "/mnt/scratch/docker"}' > /etc/docker/daemon.json
  DOCKER_ROOT=/mnt/scratch/docker
  BUILD_PATH=/mnt/scratch/builds
fi
