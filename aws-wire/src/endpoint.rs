//! Where a service's calls go, resolved as the SDKs resolve the endpoints
//! of SSM, EC2 and Auto Scaling: their generated rule sets are the same
//! (aws-sdk-ssm 1.133, aws-sdk-ec2 1.274, aws-sdk-autoscaling 1.141,
//! `config/endpoint.rs`), over the partitions the SDKs embed
//! (`endpoint_lib.rs`, partitions version 1.1). FIPS and dual-stack come
//! from the `SdkConfig` (`AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`
//! or the profile's `use_fips_endpoint`, `use_dualstack_endpoint`), and so
//! do configured endpoints.

use crate::error::CallError;
use aws_types::service_config::ServiceConfigKey;
use aws_types::SdkConfig;

/// A partition's DNS suffixes. Every partition supports FIPS and
/// dual-stack endpoints in partitions version 1.1.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Partition {
    name: &'static str,
    dns_suffix: &'static str,
    dual_stack_dns_suffix: &'static str,
}

/// Each partition and the shape of its region names (`regionRegex`: a
/// fixed first segment or two, a word, a number).
const PARTITIONS: [(&[&str], Partition); 7] = [
    (&["cn"], Partition { name: "aws-cn", dns_suffix: "amazonaws.com.cn", dual_stack_dns_suffix: "api.amazonwebservices.com.cn" }),
    (&["eusc", "de"], Partition { name: "aws-eusc", dns_suffix: "amazonaws.eu", dual_stack_dns_suffix: "api.amazonwebservices.eu" }),
    (&["us", "iso"], Partition { name: "aws-iso", dns_suffix: "c2s.ic.gov", dual_stack_dns_suffix: "api.aws.ic.gov" }),
    (&["us", "isob"], Partition { name: "aws-iso-b", dns_suffix: "sc2s.sgov.gov", dual_stack_dns_suffix: "api.aws.scloud" }),
    (&["eu", "isoe"], Partition { name: "aws-iso-e", dns_suffix: "cloud.adc-e.uk", dual_stack_dns_suffix: "api.cloud-aws.adc-e.uk" }),
    (&["us", "isof"], Partition { name: "aws-iso-f", dns_suffix: "csp.hci.ic.gov", dual_stack_dns_suffix: "api.aws.hci.ic.gov" }),
    (&["us", "gov"], Partition { name: "aws-us-gov", dns_suffix: "amazonaws.com", dual_stack_dns_suffix: "api.aws" }),
];

/// The commercial partition: regions of its shape, and any region no
/// partition claims (the SDKs fall back to it).
const AWS: Partition = Partition { name: "aws", dns_suffix: "amazonaws.com", dual_stack_dns_suffix: "api.aws" };

fn partition(region: &str) -> Partition {
    let parts: Vec<&str> = region.split('-').collect();
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let number = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    // PREFIX-word-number, where `\w` cannot span a dash.
    let shaped = |prefix: &[&str]| parts.len() == prefix.len() + 2 && parts.starts_with(prefix) && word(parts[prefix.len()]) && number(parts[prefix.len() + 1]);
    PARTITIONS.iter().find(|(prefix, _)| shaped(prefix)).map(|(_, p)| *p).unwrap_or(AWS)
}

/// The URL of `service` (its endpoint prefix) in `region`, ending in `/`:
/// the service's configured endpoint, else the configured endpoint of all
/// services, else the region's. A configured endpoint together with FIPS
/// or dual-stack is refused, as the SDKs refuse it.
pub(crate) fn endpoint(config: &SdkConfig, service: &str, region: &str) -> Result<String, CallError> {
    let custom = configured(config, service);
    let (fips, dual_stack) = (config.use_fips() == Some(true), config.use_dual_stack() == Some(true));
    let url = resolve(service, region, custom.as_deref(), fips, dual_stack).map_err(|m| CallError::Config(m.to_string()))?;
    Ok(url.trim_end_matches('/').to_string() + "/")
}

/// A configured endpoint, looked up as the SDK clients look theirs up:
/// the `SdkConfig`'s service config (`AWS_ENDPOINT_URL_<SERVICE_ID>`, a
/// profile's `services` section; aws-config leaves both out under
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else its endpoint URL
/// (`AWS_ENDPOINT_URL`, a profile's `endpoint_url`).
fn configured(config: &SdkConfig, service: &str) -> Option<String> {
    let id = service_id(service);
    let key = ServiceConfigKey::builder().service_id(&id).env("AWS_ENDPOINT_URL").profile("endpoint_url").build().ok()?;
    config.service_config().and_then(|c| c.load_config(key)).or_else(|| config.endpoint_url().map(String::from))
}

/// The rule set itself.
fn resolve(service: &str, region: &str, custom: Option<&str>, fips: bool, dual_stack: bool) -> Result<String, &'static str> {
    if let Some(url) = custom {
        return match (fips, dual_stack) {
            (true, _) => Err("Invalid Configuration: FIPS and custom endpoint are not supported"),
            (_, true) => Err("Invalid Configuration: Dualstack and custom endpoint are not supported"),
            _ => Ok(url.to_string()),
        };
    }
    if region.is_empty() {
        return Err("Invalid Configuration: Missing Region");
    }
    let p = partition(region);
    Ok(match (fips, dual_stack) {
        (true, true) => format!("https://{service}-fips.{region}.{}", p.dual_stack_dns_suffix),
        // GovCloud's regular endpoints are its FIPS endpoints.
        (true, false) if p.name == "aws-us-gov" => format!("https://{service}.{region}.amazonaws.com"),
        (true, false) => format!("https://{service}-fips.{region}.{}", p.dns_suffix),
        (false, true) => format!("https://{service}.{region}.{}", p.dual_stack_dns_suffix),
        (false, false) => format!("https://{service}.{region}.{}", p.dns_suffix),
    })
}

/// The SDK service id of an endpoint prefix (what names its variable,
/// `AWS_ENDPOINT_URL_AUTO_SCALING`, and its profile section): Auto
/// Scaling's is `Auto Scaling`, the others gantry calls this way are their
/// prefix upper-cased.
pub(crate) fn service_id(service: &str) -> String {
    match service {
        "autoscaling" => "Auto Scaling".to_string(),
        other => other.to_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's own endpoint tests for SSM (aws-sdk-ssm 1.133,
    /// `config/endpoint.rs`): region, FIPS, dual-stack, URL.
    const SDK_CASES: &[(&str, bool, bool, &str)] = &[
        ("us-east-1", false, false, "https://ssm.us-east-1.amazonaws.com"),
        ("us-east-1", true, false, "https://ssm-fips.us-east-1.amazonaws.com"),
        ("us-east-1", true, true, "https://ssm-fips.us-east-1.api.aws"),
        ("us-east-1", false, true, "https://ssm.us-east-1.api.aws"),
        ("ca-central-1", true, false, "https://ssm-fips.ca-central-1.amazonaws.com"),
        ("cn-north-1", false, false, "https://ssm.cn-north-1.amazonaws.com.cn"),
        ("cn-north-1", true, true, "https://ssm-fips.cn-north-1.api.amazonwebservices.com.cn"),
        ("cn-north-1", true, false, "https://ssm-fips.cn-north-1.amazonaws.com.cn"),
        ("cn-north-1", false, true, "https://ssm.cn-north-1.api.amazonwebservices.com.cn"),
        ("us-gov-east-1", false, false, "https://ssm.us-gov-east-1.amazonaws.com"),
        ("us-gov-east-1", true, false, "https://ssm.us-gov-east-1.amazonaws.com"),
        ("us-gov-west-1", true, false, "https://ssm.us-gov-west-1.amazonaws.com"),
        ("us-gov-east-1", true, true, "https://ssm-fips.us-gov-east-1.api.aws"),
        ("us-gov-east-1", false, true, "https://ssm.us-gov-east-1.api.aws"),
        ("us-iso-east-1", false, false, "https://ssm.us-iso-east-1.c2s.ic.gov"),
        ("us-iso-east-1", true, false, "https://ssm-fips.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", false, false, "https://ssm.us-isob-east-1.sc2s.sgov.gov"),
        ("us-isob-east-1", true, false, "https://ssm-fips.us-isob-east-1.sc2s.sgov.gov"),
    ];

    #[test]
    fn regions_resolve_as_the_sdks_endpoint_tests_say() {
        for (region, fips, dual, want) in SDK_CASES {
            assert_eq!(resolve("ssm", region, None, *fips, *dual).as_deref(), Ok(*want), "{region} fips={fips} dualstack={dual}");
        }
    }

    #[test]
    fn a_custom_endpoint_is_used_as_is_and_refused_with_fips_or_dual_stack() {
        assert_eq!(resolve("ssm", "us-east-1", Some("https://example.com"), false, false).as_deref(), Ok("https://example.com"));
        assert_eq!(resolve("ssm", "", Some("https://example.com"), false, false).as_deref(), Ok("https://example.com"), "no region needed");
        assert_eq!(
            resolve("ssm", "us-east-1", Some("https://example.com"), true, false),
            Err("Invalid Configuration: FIPS and custom endpoint are not supported")
        );
        assert_eq!(
            resolve("ssm", "us-east-1", Some("https://example.com"), false, true),
            Err("Invalid Configuration: Dualstack and custom endpoint are not supported")
        );
        assert_eq!(resolve("ssm", "", None, false, false), Err("Invalid Configuration: Missing Region"));
    }

    #[test]
    fn partitions_follow_the_region_shapes() {
        let name = |r| partition(r).name;
        assert_eq!(
            ["eusc-de-east-1", "eu-isoe-west-1", "us-isof-south-1", "us-gov-west-1", "mx-central-1", "eu-west-1", "xx-unknown-9", "us-gov-west"].map(name),
            ["aws-eusc", "aws-iso-e", "aws-iso-f", "aws-us-gov", "aws", "aws", "aws", "aws"]
        );
        assert_eq!(resolve("autoscaling", "eusc-de-east-1", None, false, false).as_deref(), Ok("https://autoscaling.eusc-de-east-1.amazonaws.eu"));
    }

    /// A service config that knows one service's endpoint, as aws-config's
    /// answers from `AWS_ENDPOINT_URL_<SERVICE_ID>` or a profile.
    #[derive(Debug)]
    struct OneService(&'static str, &'static str);

    impl aws_types::service_config::LoadServiceConfig for OneService {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            (key.service_id() == self.0 && key.env() == "AWS_ENDPOINT_URL" && key.profile() == "endpoint_url").then(|| self.1.to_string())
        }
    }

    #[test]
    fn a_service_endpoint_is_asked_by_service_id_before_the_shared_one() {
        let config = SdkConfig::builder().service_config(OneService("Auto Scaling", "http://127.0.0.1:7000")).endpoint_url("http://127.0.0.1:5000").build();
        assert_eq!(endpoint(&config, "autoscaling", "us-west-2"), Ok("http://127.0.0.1:7000/".to_string()));
        assert_eq!(endpoint(&config, "ssm", "us-west-2"), Ok("http://127.0.0.1:5000/".to_string()), "the others use the shared one");
        assert_eq!(service_id("ec2"), "EC2");
    }

    #[test]
    fn fips_from_the_config_picks_the_fips_endpoint_and_is_refused_with_a_custom_one() {
        let config = SdkConfig::builder().use_fips(true).build();
        assert_eq!(endpoint(&config, "ec2", "us-west-2"), Ok("https://ec2-fips.us-west-2.amazonaws.com/".to_string()));
        let custom = SdkConfig::builder().use_fips(true).endpoint_url("http://127.0.0.1:5000").build();
        assert!(matches!(endpoint(&custom, "ssm", "us-west-2"), Err(CallError::Config(m)) if m.contains("FIPS and custom endpoint")));
    }
}
