# shellcheck shell=bash
# Sourced by the demo and bench scripts: starts moto (from .venv) on a free
# port, exports the AWS variables pointing at it (test credentials only;
# nothing leaves 127.0.0.1) and stops it when the script exits.
# After `start_moto`: $MOTO_PORT, $AWS_ENDPOINT_URL. A script's own clean-up
# goes in a function `on_exit`, run after moto stops.
start_moto() {
  MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Every real account has the AWS managed policies (gantry reads their documents at plan time).
  MOTO_IAM_LOAD_MANAGED_POLICIES=true .venv/bin/python emulators/moto_server_plus.py -H 127.0.0.1 -p "$MOTO_PORT" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  trap 'kill $MOTO_PID 2>/dev/null || true; wait $MOTO_PID 2>/dev/null || true; if declare -F on_exit >/dev/null; then on_exit; fi' EXIT
  for _ in $(seq 1 150); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/moto-api/', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-west-2
}

# Puts the AWS proxy (target/debug/aws-proxy, built by the caller) in front
# of moto: what moto lacks (ECR Public, ECR in the tagging API) and the
# shapes it gets wrong, without the test suite's delays. Call after
# start_moto; $AWS_ENDPOINT_URL then points at the proxy (moto-api paths
# are forwarded).
start_aws_proxy() {
  local url_file
  url_file=$(mktemp)
  target/debug/aws-proxy --upstream "$AWS_ENDPOINT_URL" >"$url_file" &
  AWS_PROXY_PID=$!
  trap 'kill $AWS_PROXY_PID $MOTO_PID 2>/dev/null || true; wait $MOTO_PID 2>/dev/null || true; if declare -F on_exit >/dev/null; then on_exit; fi' EXIT
  for _ in $(seq 1 50); do [ -s "$url_file" ] && break; sleep 0.1; done
  AWS_ENDPOINT_URL=$(cat "$url_file")
  rm -f "$url_file"
  export AWS_ENDPOINT_URL
}
