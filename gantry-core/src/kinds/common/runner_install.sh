# The Actions runner: a release of actions/runner, installed as GitHub's
# "Adding self-hosted runners" does, run by an unprivileged user.
id runner >/dev/null 2>&1 || useradd --create-home runner
usermod -aG docker runner
RUNNER_VERSION="{{RUNNER_VERSION}}"
case "$(uname -m)" in
  x86_64) RUNNER_ARCH=x64 ;;
  aarch64) RUNNER_ARCH=arm64 ;;
  *) echo "no Actions runner build for $(uname -m)" >&2; false ;;
esac
if [ "$(cat /opt/actions-runner/.gantry-version 2>/dev/null)" != "$RUNNER_VERSION" ]; then
  curl -fsSL --retry 5 -o /tmp/actions-runner.tar.gz \
    "https://github.com/actions/runner/releases/download/v${RUNNER_VERSION}/actions-runner-linux-${RUNNER_ARCH}-${RUNNER_VERSION}.tar.gz"
  rm -rf /opt/actions-runner && mkdir -p /opt/actions-runner
  tar xzf /tmp/actions-runner.tar.gz -C /opt/actions-runner
  rm -f /tmp/actions-runner.tar.gz
  # The runner (.NET) needs ICU, Kerberos, OpenSSL and zlib (.NET's Linux
  # dependencies; LTTng is optional).
  # bin/installdependencies.sh knows Debian, Red Hat (/etc/redhat-release)
  # and SUSE only: on Amazon Linux 2023, which has no /etc/redhat-release,
  # it exits 1 (actions/runner#2523). There the packages come from dnf, as
  # terraform-aws-github-runner installs them; elsewhere the runner's own
  # script knows the distribution.
  if [ ! -e /etc/redhat-release ] && command -v dnf >/dev/null 2>&1; then
    dnf install -y libicu krb5-libs openssl-libs zlib
  else
    /opt/actions-runner/bin/installdependencies.sh
  fi
  echo "$RUNNER_VERSION" > /opt/actions-runner/.gantry-version
fi
