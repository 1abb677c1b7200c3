//! The EC2 reads gantry makes (DescribeVpcs, DescribeSubnets,
//! DescribeSpotPriceHistory) and the network lookups built on them, used by
//! the `vpc`/`subnets` data sources and by agent_queue's plan-time checks.
//!
//! They go over the EC2 Query API (a form-encoded POST, an XML answer)
//! through gantry-aws-wire's `QueryService` (the SDK's own SigV4 signer,
//! credentials and XML decoder), read with `ec2_xml`, retried and counted
//! as the SDK clients are, instead of through the `aws-sdk-ec2` crate: that
//! crate was a fifth of the test build's compile time (225 of 1,034
//! CPU-seconds on a clean build) for these three reads. Shapes: Amazon EC2
//! API Reference, API version 2016-11-15 ("Query requests", each action's
//! "Response Elements", "Error codes").

use crate::cloud::aws::{from_call, AwsContext};
use crate::cloud::ec2_xml::{read_page, SpotPrice, Subnet, Vpc};
use crate::core::error::ProviderError;
use gantry_aws_wire::QueryService;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// The API version every request names.
const VERSION: &str = "2016-11-15";

/// One `Filter.N` of a describe call: a name and the values any of which match.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    name: String,
    values: Vec<String>,
}

impl Filter {
    /// `name` matching any of `values`.
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
        Filter { name: name.into(), values: values.into_iter().map(Into::into).collect() }
    }
}

/// One `tag:KEY` filter per tag.
pub fn tag_filters(tags: &BTreeMap<String, String>) -> impl Iterator<Item = Filter> + '_ {
    tags.iter().map(|(k, v)| Filter::new(format!("tag:{k}"), [v.as_str()]))
}

/// `Filter.N.Name` and `Filter.N.Value.M` parameters (both 1-based).
pub(crate) fn filter_params(filters: &[Filter]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        out.push((format!("Filter.{}.Name", i + 1), f.name.clone()));
        out.extend(f.values.iter().enumerate().map(|(j, v)| (format!("Filter.{}.Value.{}", i + 1, j + 1), v.clone())));
    }
    out
}

/// An EC2 client for one region.
pub struct Ec2 {
    query: QueryService,
}

impl Ec2 {
    /// A client for `region` with `ctx`'s credentials and call counter. The
    /// endpoint is `AWS_ENDPOINT_URL_EC2`, else the configured endpoint
    /// (`AWS_ENDPOINT_URL`), else the region's.
    pub fn new(ctx: &AwsContext, region: &str) -> Ec2 {
        let stats = ctx.stats.clone();
        Ec2 { query: QueryService::new(&ctx.config, "ec2", VERSION, region).retrying(ctx.wire_retry()).observed(move |op| stats.record("ec2", op)) }
    }

    /// VPCs matching every filter.
    pub async fn vpcs(&self, filters: &[Filter]) -> Result<Vec<Vpc>, ProviderError> {
        self.all_pages("DescribeVpcs", filter_params(filters), "vpcSet").await
    }

    /// Subnets matching every filter.
    pub async fn subnets(&self, filters: &[Filter]) -> Result<Vec<Subnet>, ProviderError> {
        self.all_pages("DescribeSubnets", filter_params(filters), "subnetSet").await
    }

    /// Spot prices of `instance_type` for `product` (`Linux/UNIX`) since
    /// `start`: a start of now answers the price in effect now, per zone.
    pub(crate) async fn spot_prices(&self, instance_type: &str, product: &str, start: SystemTime) -> Result<Vec<SpotPrice>, ProviderError> {
        let params = vec![
            ("InstanceType.1".to_string(), instance_type.to_string()),
            ("ProductDescription.1".to_string(), product.to_string()),
            ("StartTime".to_string(), humantime::format_rfc3339_seconds(start).to_string()),
        ];
        self.all_pages("DescribeSpotPriceHistory", params, "spotPriceHistorySet").await
    }

    /// The VPC of each of `subnets` that exists. Filters do not fail on
    /// unknown ids (a SubnetId list would), so every missing one can be named.
    pub async fn subnet_vpcs(&self, subnets: &[String]) -> Result<BTreeMap<String, String>, ProviderError> {
        let found = self.subnets(&[Filter::new("subnet-id", subnets)]).await?;
        Ok(found.into_iter().map(|s| (s.id, s.vpc_id)).collect())
    }

    /// The default VPC and its default subnets (one per zone), sorted;
    /// None when the region has no default VPC.
    pub async fn default_subnets(&self) -> Result<Option<(String, Vec<String>)>, ProviderError> {
        let vpcs = self.vpcs(&[Filter::new("is-default", ["true"])]).await?;
        let Some(vpc) = vpcs.into_iter().next().map(|v| v.id) else { return Ok(None) };
        let subnets = self.subnets(&[Filter::new("vpc-id", [vpc.as_str()]), Filter::new("default-for-az", ["true"])]).await?;
        let ids: BTreeSet<String> = subnets.into_iter().map(|s| s.id).collect();
        Ok(Some((vpc, ids.into_iter().collect())))
    }

    /// Every page of a describe call. Pages may be empty with a next token
    /// (EC2 filters after paging): all are followed.
    async fn all_pages<T: crate::cloud::ec2_xml::Item>(&self, action: &'static str, params: Vec<(String, String)>, set: &str) -> Result<Vec<T>, ProviderError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut p = params.clone();
            if let Some(t) = &token {
                p.push(("NextToken".into(), t.clone()));
            }
            let body = self.call(action, &p).await?;
            let (items, next) = read_page::<T>(&body, set).map_err(|e| from_call("ec2", action, e))?;
            out.extend(items);
            match next {
                Some(t) if token.as_ref() != Some(&t) => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// One action, retried as the SDKs retry (throttling, 5xx, no answer).
    async fn call(&self, action: &'static str, params: &[(String, String)]) -> Result<String, ProviderError> {
        self.query.call(action, params).await.map_err(|e| from_call("ec2", action, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorClass;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers each connection with the next of `answers`
    /// (status, body), and keeps the requests' heads and bodies.
    async fn serve(answers: Vec<(u16, &'static str)>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for (status, body) in answers {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 16 * 1024];
                let mut request = String::new();
                // The head, then the body its content-length announces.
                while !request.contains("\r\n\r\n") || request.split("\r\n\r\n").nth(1).is_some_and(|b| b.is_empty()) {
                    let n = conn.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    request.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
                seen.push(request);
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                conn.write_all(reply.as_bytes()).await.unwrap();
            }
            seen
        });
        (url, task)
    }

    fn context(endpoint: &str) -> AwsContext {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        let config = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-west-2"))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build();
        AwsContext { config, stats: crate::cloud::stats::ApiStats::new(), tagged: Default::default() }
    }

    const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>";
    const DENIED: &str = "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r-2</RequestID></Response>";
    const PAGE_1: &str =
        "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId><isDefault>true</isDefault></item></vpcSet><nextToken>t2</nextToken></DescribeVpcsResponse>";
    const PAGE_2: &str = "<DescribeVpcsResponse><vpcSet/><nextToken/></DescribeVpcsResponse>";

    #[tokio::test]
    async fn throttling_is_retried_pages_are_followed_and_requests_are_signed() {
        let (url, server) = serve(vec![(503, THROTTLED), (200, PAGE_1), (200, PAGE_2)]).await;
        let ctx = context(&url);
        let vpcs = Ec2::new(&ctx, "us-west-2").vpcs(&[Filter::new("is-default", ["true"])]).await.unwrap();
        assert_eq!(vpcs.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), ["vpc-1"]);
        assert_eq!(ctx.stats.per_operation().get(&("ec2".to_string(), "DescribeVpcs".to_string())), Some(&3), "every attempt is counted");
        let seen = server.await.unwrap();
        let head = seen[0].to_lowercase();
        assert!(head.contains("authorization: aws4-hmac-sha256 credential=akidexample/") && head.contains("/us-west-2/ec2/aws4_request"), "{head}");
        assert!(head.contains("signedheaders=content-type;host;x-amz-date;x-amz-security-token,"), "the host and the body's type are signed: {head}");
        assert!(head.contains("x-amz-security-token: token") && head.contains("x-amz-date: "), "{head}");
        assert!(seen[1].ends_with("Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=is-default&Filter.1.Value.1=true"), "{}", seen[1]);
        assert!(seen[2].ends_with("&NextToken=t2"), "the next page asks with the token: {}", seen[2]);
    }

    #[tokio::test]
    async fn the_configured_attempts_bound_the_retries() {
        // AWS_MAX_ATTEMPTS=1 reaches the SdkConfig as its retry config.
        let (url, server) = serve(vec![(503, THROTTLED)]).await;
        let mut ctx = context(&url);
        ctx.config = ctx.config.into_builder().retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1)).build();
        let e = Ec2::new(&ctx, "us-west-2").vpcs(&[]).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Throttled);
        assert_eq!(server.await.unwrap().len(), 1, "one attempt in all");
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried_and_says_what_aws_said() {
        let (url, server) = serve(vec![(403, DENIED)]).await;
        let ctx = context(&url);
        let e = Ec2::new(&ctx, "us-west-2").subnets(&[]).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::AccessDenied);
        assert_eq!(e.to_string(), "ec2 DescribeSubnets: UnauthorizedOperation: You are not authorized to perform this operation. (request id r-2)");
        assert_eq!(server.await.unwrap().len(), 1, "asked once");
    }

    #[test]
    fn filters_and_values_are_numbered_from_one_and_encoded() {
        let f = [Filter::new("tag:Name", ["ci runners"]), Filter::new("subnet-id", ["subnet-1", "subnet-2"])];
        let form = |action: &str, params: &[(String, String)]| gantry_aws_wire::form(action, VERSION, params);
        assert_eq!(
            form("DescribeSubnets", &filter_params(&f)),
            "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=ci%20runners\
             &Filter.2.Name=subnet-id&Filter.2.Value.1=subnet-1&Filter.2.Value.2=subnet-2"
        );
        let spot = [("ProductDescription.1".to_string(), "Linux/UNIX".to_string())];
        assert_eq!(form("DescribeSpotPriceHistory", &spot), "Action=DescribeSpotPriceHistory&Version=2016-11-15&ProductDescription.1=Linux%2FUNIX");
    }
}
