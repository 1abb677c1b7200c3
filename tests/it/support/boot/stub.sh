#!/bin/bash
# The boot harness's stand-ins for the commands of a machine image: one
# script, linked under each command's name. Every call is logged to
# /harness/calls; each stand-in fails the way the real command does when
# what it needs is missing (a package not in a repository, a unit that does
# not exist, a parameter or secret that was never created, a busy disk, a
# host that cannot be reached). State lives under /harness/state.
set -u
cmd=${0##*/}
H=/harness
S=$H/state
echo "$cmd $*" >> $H/calls
die() { local code=$1; shift; echo "$*" >&2; exit "$code"; }
# What a package's recipe (repo/MANAGER/NAME) may do besides real commands.
provide() { local c; for c in "$@"; do ln -sf $H/stub "/usr/bin/$c"; done; }
unit() { mkdir -p $H/units; echo "User=${2:-root}" > "$H/units/$1.service"; }
has_unit() { [ -e "/etc/systemd/system/$1" ] || [ -e "/etc/systemd/system/$1.service" ] || [ -e "$H/units/$1" ] || [ -e "$H/units/$1.service" ]; }
install_pkg() { # $1 manager, $2 package: runs the package's recipe
  local recipe
  for recipe in "$H/repo/$1/$2" "$H/repo/$1-extra/$2"; do
    [ -f "$recipe" ] || continue
    if [ "$recipe" = "$H/repo/$1-extra/$2" ] && ! extra_repo_ready "$1"; then continue; fi
    # shellcheck disable=SC1090
    . "$recipe"
    echo "$2" >> $S/installed
    return 0
  done
  return 1
}
install_all() { # $1 manager, $2 exit code and $3 message for a package no repository has, then the arguments
  local mgr=$1 code=$2 msg=$3 p
  shift 3
  for p in "$@"; do
    case "$p" in -*) continue ;; esac
    grep -qx "$p" $S/installed 2>/dev/null && continue
    install_pkg "$mgr" "$p" || die "$code" "$msg$p"
  done
}
extra_repo_ready() { # a third-party repository (Buildkite's) counts once configured
  case "$1" in
    dnf) grep -qs 'yum.buildkite.com' /etc/yum.repos.d/*.repo ;;
    apt) [ -f $S/apt-updated-buildkite ] ;;
  esac
}
case "$cmd" in
  dnf|yum)
    [ "${1:-}" = install ] || exit 0
    shift
    install_all dnf 1 "Error: Unable to find a match: " "$@" ;;
  apt-get|apt)
    # First boot: unattended-upgrades holds dpkg's lock for a while; apt
    # fails at once unless told to wait (DPkg::Lock::Timeout).
    if [ -f $S/dpkg-locked ]; then
      if grep -rqs 'DPkg::Lock::Timeout' /etc/apt/apt.conf.d/ || [[ "$*" == *DPkg::Lock::Timeout* ]]; then
        rm -f $S/dpkg-locked
      else
        die 100 "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1201 (unattended-upgr)"
      fi
    fi
    case "${1:-}" in
      update)
        if grep -qs 'apt.buildkite.com' /etc/apt/sources.list.d/*.list; then
          kr=$(sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' /etc/apt/sources.list.d/buildkite-agent.list 2>/dev/null)
          [ -n "$kr" ] && [ -s "$kr" ] || die 100 "E: The repository 'https://apt.buildkite.com/buildkite-agent stable InRelease' is not signed."
          touch $S/apt-updated-buildkite
        fi ;;
      install)
        shift
        install_all apt 100 "E: Unable to locate package " "$@" ;;
    esac ;;
  systemctl)
    now=""; args=()
    for a in "$@"; do case "$a" in --now) now=1 ;; --*) ;; *) args+=("$a") ;; esac; done
    verb=${args[0]:-}
    for u in "${args[@]:1}"; do
      u=${u%.service}
      case "$verb" in
        enable) has_unit "$u" || die 1 "Failed to enable unit: Unit file $u.service does not exist."
                echo "$u" >> $S/enabled
                if [ -n "$now" ]; then echo "$u" >> $S/started; fi ;;
        start|restart) has_unit "$u" || die 5 "Failed to $verb $u.service: Unit $u.service not found."
                echo "$u" >> $S/started ;;
        stop) sed -i "/^$u\$/d" $S/started 2>/dev/null ;;
      esac
    done ;;
  aws)
    service=${1:-}; op=${2:-}
    name=""; secret=""
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; --secret-id) secret=$2; shift ;; esac; shift; done
    case "$service $op" in
      "ssm get-parameter")
        f="$H/ssm/$(echo "$name" | tr / _)"
        [ -f "$f" ] || die 254 "An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter $name not found."
        cat "$f" ;;
      "secretsmanager get-secret-value")
        f="$H/secretsmanager/$(echo "$secret" | tr / _)"
        [ -f "$f" ] || die 254 "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret."
        cat "$f" ;;
      autoscaling*) ;;
      *) die 252 "harness: aws $service $op is not modelled" ;;
    esac ;;
  gcloud)
    case "$*" in
      "secrets versions access latest --secret="*)
        all="$*"; s=${all##*--secret=}
        [ -f "$H/gcp-secrets/$s" ] || die 1 "ERROR: (gcloud.secrets.versions.access) NOT_FOUND: Secret [$s] not found or has no versions."
        cat "$H/gcp-secrets/$s" ;;
      *) die 2 "harness: gcloud $* is not modelled" ;;
    esac ;;
  curl)
    url=""; out=""; prev=""
    for a in "$@"; do
      case "$prev" in -o) out=$a ;; esac
      case "$a" in http://*|https://*) url=$a ;; esac
      prev=$a
    done
    reply() { if [ -n "$out" ]; then cat > "$out"; else cat; fi; }
    case "$url" in
      http://169.254.169.254/latest/api/token) echo harness-token ;;
      http://169.254.169.254/latest/meta-data/*)
        f="$H/imds/${url#*/meta-data/}"; [ -f "$f" ] || exit 22; cat "$f" ;;
      http://metadata.google.internal/computeMetadata/v1/*)
        # Compute docs, "Query metadata": requests without this header are refused (403).
        [[ " $* " == *" Metadata-Flavor: Google "* ]] || die 22 "curl: (22) The requested URL returned error: 403"
        f="$H/gce-metadata/${url#*/computeMetadata/v1/}"; [ -f "$f" ] || exit 22; cat "$f" ;;
      https://github.com/actions/runner/releases/download/*)
        [ "$(cat $S/egress 2>/dev/null)" = yes ] || die 7 "curl: (7) Failed to connect to github.com: no route to the internet (no external IP and no NAT)"
        reply < $H/downloads/actions-runner.tar.gz ;;
      *)
        [ "$(cat $S/egress 2>/dev/null)" = yes ] || die 7 "curl: (7) Failed to connect to ${url#*://}: no route to the internet (no external IP and no NAT)"
        f="$H/downloads/$(echo "${url#*://}" | tr / _)"
        [ -f "$f" ] || die 22 "curl: (22) The requested URL returned error: 404 (the harness serves no fixture for $url)"
        reply < "$f" ;;
    esac ;;
  gpg)
    out=""; prev=""; yes=""
    for a in "$@"; do [ "$prev" = -o ] && out=$a; [ "$a" = --yes ] && yes=1; prev=$a; done
    # An existing output file makes gpg ask on the terminal, which a boot has not.
    if [ -n "$out" ] && [ -e "$out" ] && [ -z "$yes" ]; then die 2 "gpg: cannot open '/dev/tty': No such device or address"; fi
    if [ -n "$out" ]; then cat > "$out"; fi ;;
  mkfs.xfs|mkfs.ext4)
    dev=""; for a in "$@"; do case "$a" in /dev/*) dev=$a ;; esac; done
    grep -qx "$dev" $S/busy 2>/dev/null && die 1 "$cmd: cannot open $dev: Device or resource busy"
    echo "$dev" >> $S/formatted ;;
  mdadm)
    for a in "$@"; do grep -qx "$a" $S/busy 2>/dev/null && die 1 "mdadm: cannot open $a: Device or resource busy"; done ;;
  blkid) grep -qx "${1:-}" $S/formatted 2>/dev/null || exit 2 ;;
  mount) echo "${*: -1}" >> $S/mounts ;;
  mountpoint) grep -qx "${*: -1}" $S/mounts 2>/dev/null; exit $? ;;
  journalctl) cat $S/journal 2>/dev/null ;;
  shutdown) echo "$*" >> $S/shutdown ;;
  sleep) ;;
  uname) if [ "${1:-}" = -m ]; then cat $H/profile/arch; else echo Linux; fi ;;
  nvidia-smi) [ -f $S/gpu ] || die 9 "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." ;;
  runuser)
    [ "${1:-}" = -u ] || die 1 "harness: runuser $* is not modelled"
    user=$2; shift 2; [ "${1:-}" = -- ] && shift
    # runuser (like su) sets HOME and SHELL from the user's passwd entry.
    exec setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups -- env HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" "$@" ;;
  sudo)
    # sudo itself cannot be modelled without root: the rule is checked as
    # sudo would (this user, this exact command, NOPASSWD), and the command
    # is queued for the harness to run as root right after the caller.
    me=$(id -un)
    grep -hqs "^$me ALL=(root) NOPASSWD: $1\$" /etc/sudoers.d/* || die 1 "sudo: a password is required ($me may not run $1 as root)"
    printf '%q ' "$@" >> $H/spool/sudo; echo >> $H/spool/sudo ;;
  *) : ;;
esac
# A branch that fails says so with die/exit; anything else succeeded.
exit 0
