//! The SSM Parameter Store calls gantry (plan-time checks that a queue's
//! parameters exist) and its scaler (the agent token, the GitHub App's
//! credentials, runner configurations) make. Shapes: AWS Systems Manager
//! API Reference, each action's "Request Syntax" and "Response Syntax";
//! timestamps are epoch seconds (JSON 1.1 protocol).

use crate::error::CallError;
use crate::json_service::JsonService;
use crate::transport::Retry;
use aws_types::SdkConfig;
use serde::{Deserialize, Serialize};

/// One parameter, as GetParameter(s) and GetParametersByPath return it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Parameter {
    /// Its full name (`/ci/bk/token`).
    pub name: String,
    /// `String`, `StringList` or `SecureString`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Its value (decrypted when asked).
    pub value: String,
    /// Its version, from 1.
    pub version: i64,
}

/// One parameter's description (DescribeParameters never returns values).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ParameterMetadata {
    /// Its full name.
    pub name: String,
    /// When it was last written, in seconds since the epoch.
    pub last_modified_date: Option<f64>,
    /// `Standard`, `Advanced` or `Intelligent-Tiering`.
    pub tier: Option<String>,
}

/// A `ParameterStringFilter` of DescribeParameters, e.g. `Path`,
/// `OneLevel`, `[/ci/jit]` or `Name`, `Equals`, names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterFilter {
    /// What is filtered on (`Name`, `Path`, `Type`, `tag:KEY`, ...).
    pub key: String,
    /// How (`Equals`, `BeginsWith`, `OneLevel`, `Recursive`).
    pub option: String,
    /// The values, any of which matches.
    pub values: Vec<String>,
}

/// A tag given to a parameter when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The tag's key.
    pub key: String,
    /// Its value.
    pub value: String,
}

/// The input of PutParameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutParameter {
    /// Its full name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// `String`, `StringList` or `SecureString`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// `Standard` (up to 4 KB) or `Advanced` (up to 8 KB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Replace an existing value (SSM refuses it together with tags).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overwrite: bool,
    /// Tags, on create only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl PutParameter {
    /// A new SecureString (encrypted with the account's default key).
    pub fn secure(name: impl Into<String>, value: impl Into<String>) -> PutParameter {
        PutParameter { name: name.into(), value: value.into(), kind: "SecureString".into(), ..Default::default() }
    }
}

/// Parameter Store in one region.
pub struct Ssm {
    service: JsonService,
}

/// The most parameters a page may hold: DescribeParameters' maximum, and
/// GetParametersByPath's.
const DESCRIBE_PAGE: u32 = 50;
const PATH_PAGE: u32 = 10;
/// The most names one GetParameters call takes.
const GET_MAX: usize = 10;

impl Ssm {
    /// A client for `region` with `config`'s credentials and endpoint.
    pub fn new(config: &SdkConfig, region: &str) -> Ssm {
        Ssm { service: JsonService::new(config, "ssm", "AmazonSSM", region) }
    }

    /// Calls `f` with the operation's name before every attempt (gantry
    /// counts its calls).
    pub fn observed(self, f: impl Fn(&str) + Send + Sync + 'static) -> Ssm {
        Ssm { service: self.service.observed(f) }
    }

    /// Tries calls as `retry` says.
    pub fn retrying(self, retry: Retry) -> Ssm {
        Ssm { service: self.service.retrying(retry) }
    }

    async fn call<I: Serialize, O: serde::de::DeserializeOwned>(&self, operation: &str, input: &I) -> Result<O, CallError> {
        self.service.call(operation, input).await
    }

    /// One parameter, decrypted.
    pub async fn get_parameter(&self, name: &str) -> Result<Parameter, CallError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Out {
            parameter: Parameter,
        }
        let out: Out = self.call("GetParameter", &serde_json::json!({"Name": name, "WithDecryption": true})).await?;
        Ok(out.parameter)
    }

    /// Of `names`, the ones that do not exist (values are not decrypted:
    /// only existence is asked). GetParameters takes 10 names at most: more
    /// are asked 10 at a time.
    pub async fn missing(&self, names: &[String]) -> Result<Vec<String>, CallError> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "PascalCase", default)]
        struct Out {
            invalid_parameters: Vec<String>,
        }
        let mut missing = Vec::new();
        for some in names.chunks(GET_MAX) {
            let out: Out = self.call("GetParameters", &serde_json::json!({"Names": some})).await?;
            missing.extend(out.invalid_parameters);
        }
        Ok(missing)
    }

    /// Every parameter directly under `path`, decrypted.
    pub async fn parameters_by_path(&self, path: &str) -> Result<Vec<Parameter>, CallError> {
        let input = serde_json::json!({"Path": path, "WithDecryption": true, "MaxResults": PATH_PAGE});
        self.all_pages("GetParametersByPath", input).await
    }

    /// Every parameter `filters` match, described.
    pub async fn describe(&self, filters: &[ParameterFilter]) -> Result<Vec<ParameterMetadata>, CallError> {
        let input = serde_json::json!({"ParameterFilters": filters, "MaxResults": DESCRIBE_PAGE});
        self.all_pages("DescribeParameters", input).await
    }

    /// The `Parameters` of every page of `operation`, asking with each
    /// `NextToken` in turn. A page may be empty and still carry one (SSM
    /// filters after paging): every page is followed.
    async fn all_pages<T: serde::de::DeserializeOwned>(&self, operation: &str, mut input: serde_json::Value) -> Result<Vec<T>, CallError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Page<T> {
            #[serde(default = "Vec::new")]
            parameters: Vec<T>,
            #[serde(default)]
            next_token: Option<String>,
        }
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            if let (Some(t), serde_json::Value::Object(m)) = (&token, &mut input) {
                m.insert("NextToken".into(), t.clone().into());
            }
            let page: Page<T> = self.call(operation, &input).await?;
            out.extend(page.parameters);
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(t) if token.as_ref() != Some(&t) => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// Writes a parameter.
    pub async fn put_parameter(&self, input: &PutParameter) -> Result<(), CallError> {
        self.call::<_, serde_json::Value>("PutParameter", input).await.map(|_| ())
    }

    /// A parameter's tags.
    pub async fn tags(&self, name: &str) -> Result<Vec<Tag>, CallError> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "PascalCase", default)]
        struct Out {
            tag_list: Vec<Tag>,
        }
        let out: Out = self.call("ListTagsForResource", &serde_json::json!({"ResourceType": "Parameter", "ResourceId": name})).await?;
        Ok(out.tag_list)
    }

    /// Deletes a parameter (`ParameterNotFound` when there is none).
    pub async fn delete_parameter(&self, name: &str) -> Result<(), CallError> {
        self.call::<_, serde_json::Value>("DeleteParameter", &serde_json::json!({"Name": name})).await.map(|_| ())
    }
}
