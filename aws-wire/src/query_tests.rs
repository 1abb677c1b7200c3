//! The Query protocol and the Auto Scaling calls, against a local server
//! that answers as the API reference's examples and moto do.

use crate::autoscaling::{read_groups, AutoScaling, GroupTag};
use crate::tests::{config, serve};
use crate::{query_error, CallError};

/// A group as DescribeAutoScalingGroups returns it: namespaced,
/// indented, with containers the scaler does not read (zones, a launch
/// template) among those it does.
const GROUP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
  <DescribeAutoScalingGroupsResult>
    <AutoScalingGroups>
      <member>
        <AutoScalingGroupName>ci-gpu</AutoScalingGroupName>
        <AvailabilityZones><member>us-west-2a</member><member>us-west-2b</member></AvailabilityZones>
        <LaunchTemplate><LaunchTemplateName>lt</LaunchTemplateName><Version>$Latest</Version></LaunchTemplate>
        <MinSize>0</MinSize>
        <MaxSize>40</MaxSize>
        <DesiredCapacity>2</DesiredCapacity>
        <Instances>
          <member>
            <InstanceId>i-0a</InstanceId>
            <LifecycleState>InService</LifecycleState>
            <HealthStatus>Healthy</HealthStatus>
            <ProtectedFromScaleIn>true</ProtectedFromScaleIn>
          </member>
          <member>
            <InstanceId>i-0b</InstanceId>
            <LifecycleState>Pending:Wait</LifecycleState>
            <HealthStatus>Unhealthy</HealthStatus>
            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>
          </member>
        </Instances>
        <SuspendedProcesses>
          <member><ProcessName>AZRebalance</ProcessName><SuspensionReason>User suspended at 2026-12-06T00:00:00Z</SuspensionReason></member>
        </SuspendedProcesses>
        <Tags>
          <member>
            <ResourceId>ci-gpu</ResourceId>
            <ResourceType>auto-scaling-group</ResourceType>
            <Key>gantry:scaler:surplus-since</Key>
            <Value>1765000000</Value>
            <PropagateAtLaunch>false</PropagateAtLaunch>
          </member>
          <member><ResourceId>ci-gpu</ResourceId><ResourceType>auto-scaling-group</ResourceType><Key>team</Key><Value>a &amp; b</Value><PropagateAtLaunch>true</PropagateAtLaunch></member>
        </Tags>
      </member>
    </AutoScalingGroups>
  </DescribeAutoScalingGroupsResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</DescribeAutoScalingGroupsResponse>"#;

const NO_GROUPS: &str = r#"<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingGroupsResult><AutoScalingGroups/></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>"#;

const THROTTLED: &str = r#"<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-9</RequestId></ErrorResponse>"#;

const OK: &str = r#"<SetDesiredCapacityResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></SetDesiredCapacityResponse>"#;

/// The form body of a request `serve` kept, decoded to pairs.
fn form(request: &str) -> Vec<(String, String)> {
    let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned();
    body.split('&').map(|kv| kv.split_once('=').unwrap()).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn a_group_is_read_whole_from_a_signed_form_request() {
    let (url, server) = serve(vec![(200, "", GROUP)]).await;
    let g = AutoScaling::new(&config(&url), "us-west-2").describe_group("ci-gpu").await.unwrap().expect("the group");
    assert_eq!((g.name.as_str(), g.min_size, g.max_size, g.desired_capacity), ("ci-gpu", 0, 40, 2));
    let ids: Vec<(&str, &str, &str, bool)> =
        g.instances.iter().map(|i| (i.instance_id.as_str(), i.lifecycle_state.as_str(), i.health_status.as_str(), i.protected_from_scale_in)).collect();
    assert_eq!(ids, [("i-0a", "InService", "Healthy", true), ("i-0b", "Pending:Wait", "Unhealthy", false)]);
    assert_eq!(g.suspended_processes, ["AZRebalance"]);
    let surplus = GroupTag { group: "ci-gpu".into(), key: "gantry:scaler:surplus-since".into(), value: "1765000000".into(), propagate_at_launch: false };
    let team = GroupTag { group: "ci-gpu".into(), key: "team".into(), value: "a & b".into(), propagate_at_launch: true };
    assert_eq!(g.tags, [surplus, team], "entities unescaped");
    let seen = server.await.unwrap();
    let head = seen[0].to_lowercase();
    assert!(head.contains("content-type: application/x-www-form-urlencoded; charset=utf-8"), "{head}");
    assert!(head.contains("/us-west-2/autoscaling/aws4_request"), "{head}");
    assert_eq!(form(&seen[0]), pairs(&[("Action", "DescribeAutoScalingGroups"), ("Version", "2011-01-01"), ("AutoScalingGroupNames.member.1", "ci-gpu")]));
}

#[tokio::test]
async fn a_missing_group_is_none() {
    let (url, _server) = serve(vec![(200, "", NO_GROUPS)]).await;
    assert_eq!(AutoScaling::new(&config(&url), "us-west-2").describe_group("gone").await.unwrap(), None);
}

#[tokio::test]
async fn writes_flatten_their_members_and_throttling_is_retried() {
    let (url, server) = serve(vec![(400, "", THROTTLED), (200, "", OK), (200, "", OK), (200, "", OK)]).await;
    let asg = AutoScaling::new(&config(&url), "us-west-2");
    asg.set_desired_capacity("ci-gpu", 3, false).await.unwrap();
    let tag = GroupTag { group: "ci-gpu".into(), key: "gantry:scaler:surplus-since".into(), value: "17 65".into(), propagate_at_launch: false };
    asg.delete_tags(std::slice::from_ref(&tag)).await.unwrap();
    asg.suspend_processes("ci-gpu", &["AZRebalance"]).await.unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.len(), 4, "the throttled attempt was tried again");
    let desired = pairs(&[
        ("Action", "SetDesiredCapacity"),
        ("Version", "2011-01-01"),
        ("AutoScalingGroupName", "ci-gpu"),
        ("DesiredCapacity", "3"),
        ("HonorCooldown", "false"),
    ]);
    assert_eq!(form(&seen[0]), desired);
    assert_eq!(form(&seen[1]), desired);
    let body = seen[2].split("\r\n\r\n").nth(1).unwrap();
    assert!(body.contains("Tags.member.1.Key=gantry%3Ascaler%3Asurplus-since&Tags.member.1.Value=17%2065"), "encoded as the SDKs do: {body}");
    assert_eq!(
        form(&seen[2])[2..],
        pairs(&[
            ("Tags.member.1.ResourceId", "ci-gpu"),
            ("Tags.member.1.ResourceType", "auto-scaling-group"),
            ("Tags.member.1.Key", "gantry:scaler:surplus-since"),
            ("Tags.member.1.Value", "17 65"),
            ("Tags.member.1.PropagateAtLaunch", "false"),
        ])[..]
    );
    assert_eq!(form(&seen[3])[2..], pairs(&[("AutoScalingGroupName", "ci-gpu"), ("ScalingProcesses.member.1", "AZRebalance")])[..]);
}

#[tokio::test]
async fn a_validation_error_is_not_retried_and_keeps_its_message_and_request_id() {
    let invalid = r#"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>New SetDesiredCapacity value 50 is above max value 40 for the AutoScalingGroup.</Message></Error><RequestId>r-7</RequestId></ErrorResponse>"#;
    let (url, server) = serve(vec![(400, "", invalid)]).await;
    let e = AutoScaling::new(&config(&url), "us-west-2").set_desired_capacity("ci-gpu", 50, false).await.unwrap_err();
    assert_eq!(e.to_string(), "ValidationError: New SetDesiredCapacity value 50 is above max value 40 for the AutoScalingGroup. (request id r-7)");
    assert!(!e.retryable());
    assert_eq!(server.await.unwrap().len(), 1);
}

#[test]
fn errors_are_read_in_both_query_shapes_and_without_a_document() {
    let ec2 = r#"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-3</RequestID></Response>"#;
    let e = query_error(503, ec2, None);
    assert_eq!(e.code(), Some("RequestLimitExceeded"));
    assert!(e.throttled() && e.retryable());
    assert!(e.to_string().ends_with("(request id r-3)"), "{e}");
    let bare = query_error(502, "<html>bad gateway</html>", Some("h-1".into()));
    assert_eq!(bare, CallError::Service { status: 502, code: "HTTP 502".into(), message: "<html>bad gateway</html>".into(), request_id: Some("h-1".into()) });
    assert!(bare.retryable());
}

#[test]
fn an_answer_that_is_not_a_describe_result_is_a_decode_error() {
    assert!(matches!(read_groups("not xml"), Err(CallError::Decode(_))));
    assert!(matches!(read_groups("<Other/>"), Err(CallError::Decode(_))));
}
