//! What a queue's stack lets its machines and its scaler do, read from its
//! CloudFormation template (desired, or live from GetTemplate): the roles'
//! inline and managed policies and boundaries, and the security group's
//! ingress. The broadening review compares it before against after.

use crate::policy::access::Access;
use serde_json::Value;

/// The access a queue template grants. `given_only` leaves out gantry's
/// own policies (`gantry-agent`, `gantry-scaler`): a new queue is reviewed
/// for what its block adds — instance policies, managed policies, ingress —
/// while a changed one is compared whole (a new agent secret is a new read).
pub fn of_template(template: Option<&Value>, given_only: bool) -> Access {
    let mut a = Access::default();
    let Some(resources) = template.and_then(|t| t.get("Resources")).and_then(Value::as_object) else { return a };
    for (id, r) in resources {
        let props = r.get("Properties").cloned().unwrap_or(Value::Null);
        match r.get("Type").and_then(Value::as_str) {
            Some("AWS::IAM::Role") => {
                let own = |p: &&Value| given_only && p.get("PolicyName").and_then(Value::as_str).is_some_and(|n| n.starts_with("gantry-"));
                for p in props.get("Policies").and_then(Value::as_array).into_iter().flatten().filter(|p| !own(p)) {
                    if let Some(doc) = p.get("PolicyDocument") {
                        a.add_policy(doc, id);
                    }
                }
                for arn in props.get("ManagedPolicyArns").and_then(Value::as_array).into_iter().flatten() {
                    let arn = arn.as_str().map(String::from).unwrap_or_else(|| arn.to_string());
                    a.managed_policy(&arn, Some(id));
                }
                if let Some(b) = props.get("PermissionsBoundary") {
                    a.guards.insert(format!("{id} permissions boundary"), b.as_str().map(String::from).unwrap_or_else(|| b.to_string()));
                }
            }
            Some("AWS::EC2::SecurityGroup") => {
                for rule in props.get("SecurityGroupIngress").and_then(Value::as_array).into_iter().flatten() {
                    a.extras.insert(ingress(rule, id));
                }
            }
            Some("AWS::EC2::SecurityGroupIngress") => {
                a.extras.insert(ingress(&props, id));
            }
            _ => {}
        }
    }
    a
}

/// One ingress rule in words: `ingress tcp 22 from 0.0.0.0/0 (SecurityGroup)`.
fn ingress(rule: &Value, id: &str) -> String {
    let text = |k: &str| rule.get(k).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).unwrap_or_default();
    let (from, to) = (text("FromPort"), text("ToPort"));
    let ports = if from == to { from } else { format!("{from}-{to}") };
    let source = ["CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourcePrefixListId"].iter().map(|k| text(k)).find(|s| !s.is_empty()).unwrap_or_default();
    format!("ingress {} {ports} from {source} ({id})", text("IpProtocol"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::access::widening;
    use serde_json::json;

    fn template(actions: Value, managed: Value, ingress: Value) -> Value {
        json!({"Resources": {
            "InstanceRole": {"Type": "AWS::IAM::Role", "Properties": {
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "arn:aws:s3:::cache/*"}]}}],
                "ManagedPolicyArns": managed}},
            "SecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": ingress}}
        }})
    }

    #[test]
    fn new_instance_actions_managed_policies_and_ingress_widen() {
        let before = template(json!(["s3:GetObject"]), json!([]), json!([]));
        let after = template(
            json!(["s3:GetObject", "s3:PutObject"]),
            json!(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]),
            json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]),
        );
        let lines = widening(&of_template(Some(&before), false), &of_template(Some(&after), false));
        assert_eq!(
            lines,
            [
                "InstanceRole may now s3:putobject on arn:aws:s3:::cache/*",
                "gains ingress tcp 22 from 0.0.0.0/0 (SecurityGroup)",
                "gains managed policy arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore on InstanceRole",
            ]
        );
        assert!(widening(&of_template(Some(&after), false), &of_template(Some(&before), false)).is_empty(), "the way back narrows");
        // A new queue: what its block gives, not gantry's own statements.
        let mut created = after.clone();
        created["Resources"]["InstanceRole"]["Properties"]["Policies"]
            .as_array_mut()
            .unwrap()
            .push(json!({"PolicyName": "gantry-agent", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "autoscaling:SetInstanceProtection", "Resource": "arn:asg"}]}}));
        let lines = widening(&Access::default(), &of_template(Some(&created), true));
        assert!(lines.iter().any(|l| l.contains("s3:putobject")) && !lines.iter().any(|l| l.contains("setinstanceprotection")), "{lines:?}");
    }
}
