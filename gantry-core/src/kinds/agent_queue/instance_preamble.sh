IMDS_TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/instance-id)

# A bootstrap that fails leaves an instance that bills but serves no job:
# mark it unhealthy so Auto Scaling replaces it (or, if even that fails,
# power it off, which the group's EC2 health check also catches).
bootstrap_failed() {
  echo "gantry bootstrap failed at line $1; marking $INSTANCE_ID unhealthy" >&2
  aws autoscaling set-instance-health --region "$REGION" --instance-id "$INSTANCE_ID" --health-status Unhealthy --no-should-respect-grace-period \
    || shutdown -h now
}
trap 'bootstrap_failed $LINENO' ERR
