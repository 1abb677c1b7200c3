//! Image profiles: what each image gantry boots (by default or in its docs)
//! has when user data or a startup script starts, as its vendor documents
//! it. The harness builds a sandbox from a profile; each fact names where
//! it comes from. What a stand-in cannot model is listed in the README
//! ("Boot harness").

/// One image.
pub(crate) struct Profile {
    pub name: &'static str,
    /// `uname -m`.
    pub arch: &'static str,
    /// Files the image ships (release files).
    pub files: &'static [(&'static str, &'static str)],
    /// Commands on the image before anything is installed (stand-ins;
    /// coreutils, bash, python3, useradd and friends are the host's own).
    pub commands: &'static [&'static str],
    /// Groups and units that come with preinstalled software.
    pub groups: &'static [&'static str],
    pub units: &'static [&'static str],
    /// The package manager and what its configured repositories hold:
    /// (package, recipe run when it is installed).
    pub manager: &'static str,
    pub repo: &'static [(&'static str, &'static str)],
    /// A third-party repository's packages, available once it is configured.
    pub extra_repo: &'static [(&'static str, &'static str)],
    /// The NVIDIA driver answers (nvidia-smi works).
    pub gpu: bool,
    /// A boot service has claimed the instance-store disks and mounted them here.
    pub claims_instance_store: Option<&'static str>,
    /// The user the image creates for logins.
    pub default_user: &'static str,
    /// unattended-upgrades holds dpkg's lock when the startup script starts.
    pub dpkg_locked_at_boot: bool,
    pub sources: &'static [&'static str],
}

const DOCKER_DNF: &str = "provide docker; groupadd -f docker; unit docker";
const DOCKER_APT: &str = "provide docker; groupadd -f docker; unit docker";
/// Buildkite's rpm/deb: the agent binary, a system user that runs it, the
/// config and hooks directories, the unit (buildkite-agent docs, "Red Hat" /
/// "Ubuntu" installation: the service runs as buildkite-agent).
const BUILDKITE: &str = "provide buildkite-agent; useradd --system --create-home --home-dir /var/lib/buildkite-agent buildkite-agent; mkdir -p /etc/buildkite-agent/hooks; unit buildkite-agent buildkite-agent";
const LIB: &str = ":";

const AL2023_FILES: &[(&str, &str)] = &[
    ("/etc/os-release", "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n"),
    ("/etc/system-release", "Amazon Linux release 2023 (Amazon Linux)\n"),
    ("/etc/amazon-linux-release", "Amazon Linux release 2023 (Amazon Linux)\n"),
];
const AL2023_COMMANDS: &[&str] =
    &["dnf", "yum", "aws", "curl", "systemctl", "journalctl", "shutdown", "mkfs.xfs", "mount", "mountpoint", "blkid", "uname", "sleep", "sudo", "runuser"];
const AL2023_REPO: &[(&str, &str)] = &[
    ("docker", DOCKER_DNF),
    ("jq", "provide jq"),
    ("mdadm", "provide mdadm"),
    ("libicu", LIB),
    ("krb5-libs", LIB),
    ("openssl-libs", LIB),
    ("zlib", LIB),
    ("git", "provide git"),
];
const BUILDKITE_REPO: &[(&str, &str)] = &[("buildkite-agent", BUILDKITE)];

/// Amazon Linux 2023, the default image of CPU queues.
pub(crate) const AL2023: Profile = Profile {
    name: "Amazon Linux 2023",
    arch: "x86_64",
    files: AL2023_FILES,
    commands: AL2023_COMMANDS,
    groups: &[],
    units: &[],
    manager: "dnf",
    repo: AL2023_REPO,
    extra_repo: BUILDKITE_REPO,
    gpu: false,
    claims_instance_store: None,
    default_user: "ec2-user",
    dpkg_locked_at_boot: false,
    sources: &[
        "AL2023 user guide, 'Comparing AL2 and AL2023': dnf; /etc/os-release and /etc/amazon-linux-release, no /etc/redhat-release (actions/runner#2523)",
        "AL2023 AMIs include the AWS CLI v2 and curl-minimal; Docker, jq and mdadm come from the AL2023 repository (AL2023 package list)",
        "buildkite-agent docs, 'Installing on Red Hat/CentOS/Amazon Linux': yum.buildkite.com repository",
    ],
};

/// AWS Deep Learning Base OSS NVIDIA Driver GPU AMI (Amazon Linux 2023), the
/// default image of NVIDIA queues.
pub(crate) const DLAMI_AL2023: Profile = Profile {
    name: "Deep Learning Base OSS NVIDIA Driver GPU AMI (Amazon Linux 2023)",
    arch: "x86_64",
    files: AL2023_FILES,
    commands: &[
        "dnf",
        "yum",
        "aws",
        "curl",
        "systemctl",
        "journalctl",
        "shutdown",
        "mkfs.xfs",
        "mount",
        "mountpoint",
        "blkid",
        "uname",
        "sleep",
        "sudo",
        "runuser",
        "docker",
        "nvidia-smi",
        "nvidia-ctk",
    ],
    groups: &["docker"],
    units: &["docker"],
    manager: "dnf",
    repo: AL2023_REPO,
    extra_repo: BUILDKITE_REPO,
    gpu: true,
    claims_instance_store: Some("/opt/dlami/nvme"),
    default_user: "ec2-user",
    dpkg_locked_at_boot: false,
    sources: &[
        "DLAMI release notes (gpubaseoss-al2023): nvidia_driver, nvidia_container_toolkit_version, docker in the package table",
        "DLAMI release notes (Ubuntu 22.04 GPU AMIs): nvme_location /opt/dlami/nvme; assumed the same on AL2023 (not listed there)",
    ],
};

const UBUNTU_FILES: &[(&str, &str)] = &[
    ("/etc/os-release", "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n"),
    ("/etc/debian_version", "bookworm/sid\n"),
];
const UBUNTU_COMMANDS: &[&str] = &[
    "apt-get",
    "apt",
    "curl",
    "gpg",
    "gcloud",
    "systemctl",
    "journalctl",
    "shutdown",
    "mkfs.ext4",
    "mount",
    "mountpoint",
    "blkid",
    "uname",
    "sleep",
    "runuser",
];
/// Ubuntu 22.04's archive, plus Docker's packages as get.docker.com installs them.
const UBUNTU_REPO: &[(&str, &str)] = &[
    ("docker-ce", DOCKER_APT),
    ("docker-ce-cli", LIB),
    ("containerd.io", LIB),
    ("jq", "provide jq"),
    ("liblttng-ust1", LIB),
    ("libkrb5-3", LIB),
    ("zlib1g", LIB),
    ("libssl3", LIB),
    ("libicu70", LIB),
];

/// Ubuntu 22.04 LTS on Compute Engine (`ubuntu-os-cloud/ubuntu-2204-lts`).
pub(crate) const UBUNTU_2204_GCE: Profile = Profile {
    name: "Ubuntu 22.04 LTS (Compute Engine)",
    arch: "x86_64",
    files: UBUNTU_FILES,
    commands: UBUNTU_COMMANDS,
    groups: &[],
    units: &[],
    manager: "apt",
    repo: UBUNTU_REPO,
    extra_repo: BUILDKITE_REPO,
    gpu: false,
    claims_instance_store: None,
    default_user: "ubuntu",
    dpkg_locked_at_boot: true,
    sources: &[
        "Compute Engine 'OS images': Ubuntu images include the Google Cloud CLI and the guest environment; no Docker",
        "Ubuntu: apt-daily and unattended-upgrades run shortly after boot and hold dpkg's lock (apt.systemd.daily); apt 2.4 waits for it only with DPkg::Lock::Timeout",
        "buildkite-agent docs, 'Installing on Ubuntu': apt.buildkite.com with a signed-by keyring",
    ],
};

/// Deep Learning VM (`deeplearning-platform-release`, `common-cu128-ubuntu-2204-nvidia-570`): Ubuntu with the driver.
pub(crate) const DLVM_UBUNTU_2204: Profile = Profile {
    name: "Deep Learning VM, CUDA 12.8, NVIDIA 570 (Ubuntu 22.04)",
    arch: "x86_64",
    files: UBUNTU_FILES,
    commands: &[
        "apt-get",
        "apt",
        "curl",
        "gpg",
        "gcloud",
        "systemctl",
        "journalctl",
        "shutdown",
        "mkfs.ext4",
        "mount",
        "mountpoint",
        "blkid",
        "uname",
        "sleep",
        "runuser",
        "docker",
        "nvidia-smi",
        "nvidia-ctk",
    ],
    groups: &["docker"],
    units: &["docker"],
    manager: "apt",
    repo: UBUNTU_REPO,
    extra_repo: BUILDKITE_REPO,
    gpu: true,
    claims_instance_store: None,
    default_user: "ubuntu",
    dpkg_locked_at_boot: true,
    sources: &[
        "Deep Learning VM docs, 'Choose an image': -nvidia- families ship the NVIDIA driver, Docker and the NVIDIA container toolkit",
        "Ubuntu: apt-daily and unattended-upgrades hold dpkg's lock after boot, as on every Ubuntu image",
    ],
};

/// TPU VM software versions the stacks use (`v2-alpha-tpuv6e`, `tpu-ubuntu2204-base`): Ubuntu 22.04.
pub(crate) const TPU_VM_UBUNTU_2204: Profile = Profile {
    name: "TPU VM (v2-alpha-tpuv6e, v2-alpha-tpuv5-lite: Ubuntu 22.04)",
    arch: "x86_64",
    files: UBUNTU_FILES,
    commands: UBUNTU_COMMANDS,
    groups: &[],
    units: &[],
    manager: "apt",
    repo: UBUNTU_REPO,
    extra_repo: BUILDKITE_REPO,
    gpu: false,
    claims_instance_store: None,
    default_user: "ubuntu",
    dpkg_locked_at_boot: true,
    sources: &[
        "Cloud TPU 'TPU software versions': Ubuntu 22.04 base images; Docker is not assumed (the script installs it when absent)",
        "Ubuntu: apt-daily and unattended-upgrades hold dpkg's lock after boot, as on every Ubuntu image",
    ],
};
