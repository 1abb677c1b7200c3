//! The image a queue boots when none is named: Amazon Linux 2023 for CPU
//! instance types, AWS's Deep Learning Base GPU AMI (NVIDIA driver, CUDA,
//! Docker with the NVIDIA container toolkit) for NVIDIA GPU types, each
//! for the types' architecture, resolved at deploy time through the public
//! SSM parameters AWS publishes (EC2 user guide, "Reference AMIs using
//! Systems Manager parameters"; DLAMI developer guide, "Finding the ID of a
//! DLAMI": /aws/service/deeplearning/ami/$architecture/$ami_type/latest/ami-id).

/// The accelerator an instance type carries, judged by its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accelerator {
    /// No accelerator.
    None,
    /// NVIDIA GPUs: P (p3, p4d, p5, p6-b200, ...) and G families (g4dn, g5, g5g, g6, g6e, gr6, ...).
    Nvidia,
    /// Other accelerators (AMD GPUs in g4ad, AWS Neuron in inf/trn, Gaudi in dl1):
    /// no image with their drivers is chosen for them.
    Other,
}

/// The accelerator of an instance type (`g6.4xlarge` → NVIDIA).
pub fn accelerator(instance_type: &str) -> Accelerator {
    let family = instance_type.split('.').next().unwrap_or("");
    let letters: String = family.chars().take_while(|c| c.is_ascii_lowercase()).collect();
    let rest = &family[letters.len()..];
    let gpu_family = matches!(letters.as_str(), "p" | "g" | "gr") && rest.starts_with(|c: char| c.is_ascii_digit());
    match () {
        _ if family == "g4ad" || letters == "inf" || letters == "trn" || letters == "dl" => Accelerator::Other,
        _ if gpu_family => Accelerator::Nvidia,
        _ => Accelerator::None,
    }
}

/// Where the plain Amazon Linux images' parameters live.
pub const AMAZON_LINUX_PREFIX: &str = "/aws/service/ami-amazon-linux-latest/";

/// The default image parameter for instance types of one architecture.
pub fn default_parameter(arm64: bool, nvidia: bool) -> &'static str {
    match (arm64, nvidia) {
        (false, false) => "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        (true, false) => "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        (false, true) => "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id",
        (true, true) => "/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id",
    }
}

/// Whether an image parameter is a plain Amazon Linux image (no GPU driver).
pub fn is_plain_amazon_linux(parameter: &str) -> bool {
    parameter.starts_with(AMAZON_LINUX_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerators_by_family() {
        for t in ["g6.4xlarge", "g5g.2xlarge", "p5.48xlarge", "p4d.24xlarge", "g4dn.xlarge", "gr6.4xlarge", "g6e.12xlarge", "p6-b200.48xlarge"] {
            assert_eq!(accelerator(t), Accelerator::Nvidia, "{t}");
        }
        for t in ["c7i.2xlarge", "c7g.4xlarge", "m7i.8xlarge", "r7gd.large"] {
            assert_eq!(accelerator(t), Accelerator::None, "{t}");
        }
        for t in ["g4ad.xlarge", "inf2.xlarge", "trn1.32xlarge", "dl1.24xlarge"] {
            assert_eq!(accelerator(t), Accelerator::Other, "{t}");
        }
    }

    #[test]
    fn default_images_follow_architecture_and_gpu() {
        assert!(default_parameter(true, true).contains("/arm64/base-oss-nvidia-driver-gpu-amazon-linux-2023/"));
        assert!(is_plain_amazon_linux(default_parameter(false, false)));
        assert!(!is_plain_amazon_linux(default_parameter(false, true)));
    }
}
