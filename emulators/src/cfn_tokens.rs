//! CloudFormation's request tokens and name rules, which moto lacks: moto
//! creates a second change set (and a second stack of the same name) when
//! `CreateChangeSet` is repeated, and executes a change set twice. Real
//! CloudFormation (API reference, CreateChangeSet `ClientToken` and
//! ExecuteChangeSet `ClientRequestToken`: "Specify this token if you plan
//! to retry requests so that CloudFormation knows that you're not
//! attempting to create another change set with the same name"):
//!
//! - a repeated `CreateChangeSet` (same stack and change set name) with the
//!   same `ClientToken` answers as the first did; without it (or with
//!   another) it fails with `AlreadyExistsException`;
//! - a `CREATE` change set for a stack that exists (not only
//!   `REVIEW_IN_PROGRESS`) fails with `AlreadyExistsException`;
//! - a repeated `ExecuteChangeSet` with the same `ClientRequestToken`
//!   succeeds; without it, `InvalidChangeSetStatus` (the change set is no
//!   longer `AVAILABLE`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, HashSet};

/// What the proxy remembers of CloudFormation requests.
#[derive(Default)]
pub(crate) struct CfnTokens {
    /// (stack, change set name) → (ClientToken, the first answer).
    change_sets: HashMap<(String, String), (Option<String>, Vec<u8>)>,
    /// Change set (as named in ExecuteChangeSet) → ClientRequestToken.
    executed: HashMap<String, Option<String>>,
    /// Stacks that were created by an executed change set (and not deleted).
    stacks: HashSet<String>,
}

fn error(code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>proxy-cfn</RequestId></ErrorResponse>"
    );
    (StatusCode::BAD_REQUEST, [("content-type", "text/xml")], body).into_response()
}

fn ok(body: Vec<u8>) -> Response {
    (StatusCode::OK, [("content-type", "text/xml")], body).into_response()
}

/// The request's form parameters used here.
pub(crate) struct CfnRequest<'a> {
    pub action: &'a str,
    pub param: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

impl CfnTokens {
    /// An answer in CloudFormation's place, when the request must not
    /// reach moto; `rule` names what fired.
    pub(crate) fn before(&self, req: &CfnRequest) -> Option<(&'static str, Response)> {
        let p = req.param;
        let stack = p("StackName").unwrap_or_default();
        match req.action {
            "CreateChangeSet" => {
                let name = p("ChangeSetName").unwrap_or_default();
                if let Some((token, first)) = self.change_sets.get(&(stack.clone(), name.clone())) {
                    if token.is_some() && *token == p("ClientToken") {
                        return Some(("token_replay", ok(first.clone())));
                    }
                    return Some(("already_exists", error("AlreadyExistsException", &format!("ChangeSet {name} already exists"))));
                }
                if p("ChangeSetType").as_deref() == Some("CREATE") && self.stacks.contains(&stack) {
                    return Some(("already_exists", error("AlreadyExistsException", &format!("Stack [{stack}] already exists"))));
                }
                None
            }
            "ExecuteChangeSet" => {
                let cs = p("ChangeSetName").unwrap_or_default();
                match self.executed.get(&cs) {
                    Some(token) if token.is_some() && *token == p("ClientRequestToken") => Some(("token_replay", ok(EXECUTED.as_bytes().to_vec()))),
                    Some(_) => Some((
                        "invalid_status",
                        error("InvalidChangeSetStatus", &format!("ChangeSet [{cs}] cannot be executed in its current status of [EXECUTE_COMPLETE]")),
                    )),
                    None => None,
                }
            }
            _ => None,
        }
    }

    /// Remembers a request that succeeded.
    pub(crate) fn after(&mut self, req: &CfnRequest, body: &[u8]) {
        let p = req.param;
        let stack = p("StackName").unwrap_or_default();
        match req.action {
            "CreateChangeSet" => {
                let name = p("ChangeSetName").unwrap_or_default();
                self.change_sets.insert((stack, name), (p("ClientToken"), body.to_vec()));
            }
            "ExecuteChangeSet" => {
                self.executed.insert(p("ChangeSetName").unwrap_or_default(), p("ClientRequestToken"));
                self.stacks.insert(stack);
            }
            "DeleteStack" => {
                self.stacks.remove(&stack);
                self.change_sets.retain(|(s, _), _| *s != stack);
            }
            _ => {}
        }
    }
}

/// ExecuteChangeSet's (empty) answer.
const EXECUTED: &str = "<ExecuteChangeSetResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><ExecuteChangeSetResult/><ResponseMetadata><RequestId>proxy-cfn</RequestId></ResponseMetadata></ExecuteChangeSetResponse>";

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(action: &'a str, p: &'a (dyn Fn(&str) -> Option<String> + Sync)) -> CfnRequest<'a> {
        CfnRequest { action, param: p }
    }

    #[test]
    fn repeats_need_the_same_token() {
        let mut t = CfnTokens::default();
        let with = |k: &str| match k {
            "StackName" => Some("s".to_string()),
            "ChangeSetName" => Some("cs".into()),
            "ChangeSetType" => Some("CREATE".into()),
            "ClientToken" | "ClientRequestToken" => Some("tok".into()),
            _ => None,
        };
        let without = |k: &str| if k.ends_with("Token") { None } else { with(k) };
        assert!(t.before(&req("CreateChangeSet", &with)).is_none());
        t.after(&req("CreateChangeSet", &with), b"<first/>");
        assert_eq!(t.before(&req("CreateChangeSet", &with)).map(|(r, _)| r), Some("token_replay"));
        assert_eq!(t.before(&req("CreateChangeSet", &without)).map(|(r, _)| r), Some("already_exists"));
        t.after(&req("ExecuteChangeSet", &with), b"");
        assert_eq!(t.before(&req("ExecuteChangeSet", &with)).map(|(r, _)| r), Some("token_replay"));
        assert_eq!(t.before(&req("ExecuteChangeSet", &without)).map(|(r, _)| r), Some("invalid_status"));
        // The stack exists now: a CREATE change set of another name is refused.
        let other = |k: &str| if k == "ChangeSetName" { Some("cs2".to_string()) } else { with(k) };
        assert_eq!(t.before(&req("CreateChangeSet", &other)).map(|(r, _)| r), Some("already_exists"));
        t.after(&req("DeleteStack", &with), b"");
        assert!(t.before(&req("CreateChangeSet", &other)).is_none());
    }
}
