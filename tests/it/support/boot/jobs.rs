//! The stand-in agent and runner: after a bootstrap, run one job the way
//! the Buildkite agent and actions/runner would, as their own users.

use super::{shell_quote, Machine};

impl Machine {
    /// Runs the commands hooks queued through `sudo`, as root, in order.
    fn run_sudo_queue(&self) -> Result<(), String> {
        let (ok, out) =
            self.sh("touch /harness/spool/sudo; while read -r line; do eval \"$line\" || exit 1; done < /harness/spool/sudo; : > /harness/spool/sudo");
        if ok {
            Ok(())
        } else {
            Err(format!("a command a hook ran through sudo failed: {out}"))
        }
    }

    fn as_user(&self, user: &str, command: &str) -> (bool, String) {
        self.as_user_with(user, "", command)
    }

    /// `env` (NAME=value words) is what the agent or runner gives a job.
    fn as_user_with(&self, user: &str, env: &str, command: &str) -> (bool, String) {
        self.sh(&format!(
            "cd /tmp && setpriv --reuid=\"$(id -u {user})\" --regid=\"$(id -g {user})\" --init-groups -- env HOME=\"$(getent passwd {user} | cut -d: -f6)\" USER={user} PATH=/usr/local/bin:/usr/bin {env} bash -c {}",
            shell_quote(command)
        ))
    }

    fn started(&self) -> Vec<String> {
        self.read("/harness/state/started").lines().map(String::from).collect()
    }

    /// Starts the agent or runner the bootstrap enabled and runs one job
    /// through it: what the job and its hooks did, or why it failed.
    pub(crate) fn run_first_job(&self) -> Result<String, String> {
        let started = self.started();
        if started.iter().any(|u| u == "buildkite-agent") {
            self.buildkite_job()
        } else if started.iter().any(|u| u == "gantry-runner") {
            self.ec2_runner_job()
        } else if started.iter().any(|u| u == "gantry-runner-loop") {
            self.gce_runner_job()
        } else {
            Err(format!("no agent or runner service was started (started: {started:?})"))
        }
    }

    fn unit_user(&self, unit: &str) -> String {
        let text = format!("{}{}", self.read(&format!("/etc/systemd/system/{unit}.service")), self.read(&format!("/harness/units/{unit}.service")));
        text.lines().find_map(|l| l.strip_prefix("User=")).unwrap_or("root").to_string()
    }

    fn buildkite_job(&self) -> Result<String, String> {
        let cfg = self.read("/etc/buildkite-agent/buildkite-agent.cfg");
        let value = |k: &str| cfg.lines().find_map(|l| l.strip_prefix(&format!("{k}=")).map(|v| v.trim_matches('"').to_string()));
        if value("token").is_none_or(|t| t.is_empty()) {
            return Err(format!("the agent has no token: {cfg}"));
        }
        let build = value("build-path").ok_or("no build-path in the agent's configuration")?;
        // The agent's hooks-path has no default (agent start flags: Value ""):
        // a configuration written whole must name it, or no hook runs.
        let hooks = value("hooks-path").unwrap_or_else(|| "/nonexistent/no-hooks-path".into());
        let user = self.unit_user("buildkite-agent");
        // The agent sources its hooks in the job's shell, as its own user,
        // with the job's BUILDKITE_* environment.
        let env = format!("BUILDKITE=true BUILDKITE_AGENT_NAME=harness-agent BUILDKITE_BUILD_PATH={build} BUILDKITE_BUILD_CHECKOUT_PATH={build}/harness-agent/org/pipeline BUILDKITE_JOB_ID=01890000-0000-0000-0000-000000000001");
        let (ok, out) = self.as_user_with(
            &user,
            &env,
            &format!(
                "set -e; if [ -f {hooks}/environment ]; then . {hooks}/environment; fi; d={build}/harness-agent/org/pipeline; mkdir -p \"$d\"; echo checkout > \"$d/README\"; echo checked out in \"$d\"; {}",
                self.registry_pulls()
            ),
        );
        if !ok {
            return Err(format!("the job failed as {user} (environment hook, checkout into {build} or a registry login): {out}"));
        }
        self.logged_in_everywhere(&out)?;
        let redacted = value("redacted-vars").unwrap_or_default();
        for (name, secret) in self.build_secrets() {
            if !out.contains(&format!("secret {name}={}", self.secret_value(&secret))) {
                return Err(format!("build secret {name} did not reach the job's environment: {out}"));
            }
            if !redacted.split(',').any(|v| v == name) {
                return Err(format!("build secret {name} is not in the agent's redacted-vars ({redacted:?}): a job echoing it would print it"));
            }
        }
        self.run_sudo_queue()?;
        let (ok, post) = self.as_user_with(&user, &env, &format!("if [ -f {hooks}/pre-exit ]; then . {hooks}/pre-exit; fi"));
        if !ok {
            return Err(format!("the pre-exit hook failed as {user}: {post}"));
        }
        self.run_sudo_queue()?;
        if cfg.contains("disconnect-after-job=true") {
            self.stop_post("/etc/systemd/system/buildkite-agent.service.d/gantry.conf")?;
        }
        Ok(out)
    }

    /// actions/runner's rules for job hooks (ScriptHandlerHelpers; GitHub
    /// docs "Running scripts before or after a job"): an absolute path with
    /// a .sh (bash -e FILE) or .ps1 extension; a failing pre-job hook fails the job.
    fn runner_hook(&self, user: &str, path: &str) -> Result<(), String> {
        if !path.starts_with('/') {
            return Err(format!("hook {path}: the runner needs an absolute path"));
        }
        if !(path.ends_with(".sh") || path.ends_with(".ps1")) {
            return Err(format!("hook {path}: the runner runs only .sh or .ps1 scripts (actions/runner refuses others and fails the job)"));
        }
        // Hooks see the job's default variables (GitHub docs: GITHUB_* and GITHUB_EVENT_PATH).
        let env = "GITHUB_ACTIONS=true CI=true GITHUB_JOB=build GITHUB_REPOSITORY=acme/ml GITHUB_RUN_ID=1 GITHUB_WORKSPACE=/opt/actions-runner/_work/harness/harness GITHUB_EVENT_PATH=/tmp/event.json RUNNER_NAME=harness";
        let (ok, out) = self.as_user_with(user, env, &format!("bash -e {path}"));
        if !ok {
            return Err(format!("hook {path} failed as {user}: {out}"));
        }
        self.run_sudo_queue()
    }

    fn ec2_runner_job(&self) -> Result<String, String> {
        let unit = self.read("/etc/systemd/system/gantry-runner.service");
        let get = |k: &str| unit.lines().find_map(|l| l.strip_prefix(k)).map(str::to_string);
        let user = get("User=").unwrap_or_else(|| "root".into());
        let env_file = get("EnvironmentFile=").ok_or("the runner unit has no EnvironmentFile")?;
        if self.read(&env_file).is_empty() {
            return Err(format!("systemd cannot start the runner: {env_file} is missing (no configuration arrived)"));
        }
        let hook = |k: &str| unit.lines().find_map(|l| l.strip_prefix(&format!("Environment={k}="))).map(str::to_string);
        if let Some(h) = hook("ACTIONS_RUNNER_HOOK_JOB_STARTED") {
            self.runner_hook(&user, &h)?;
        }
        let (ok, out) = self
            .as_user(&user, "set -e; d=/opt/actions-runner/_work/harness/harness; mkdir -p \"$d\"; echo checkout > \"$d/README\"; echo checked out in \"$d\"");
        if !ok {
            return Err(format!("the job failed as {user} in the runner's work folder: {out}"));
        }
        if let Some(h) = hook("ACTIONS_RUNNER_HOOK_JOB_COMPLETED") {
            self.runner_hook(&user, &h)?;
        }
        self.stop_post("/etc/systemd/system/gantry-runner.service")?;
        Ok(out)
    }

    fn gce_runner_job(&self) -> Result<String, String> {
        let (ok, out) = self.sh("GANTRY_RUNNER_ONCE=1 GANTRY_RUNNER_POLL=0 /usr/local/bin/gantry-runner-loop");
        if !ok || out.contains("exited with status") || !out.contains("Succeeded") {
            return Err(format!("the runner loop did not run a job: {out}"));
        }
        for (name, secret) in self.build_secrets() {
            if out.contains(&self.secret_value(&secret)) {
                return Err(format!("build secret {name}'s value is in the job log unmasked: {out}"));
            }
            if !out.lines().any(|l| l == format!("{name}=***")) {
                return Err(format!("build secret {name} did not reach the job's environment (masked): {out}"));
            }
        }
        let (ok, pulls) = self.as_user("runner", &self.registry_pulls());
        if !ok {
            return Err(format!("a registry login failed as runner: {pulls}"));
        }
        self.logged_in_everywhere(&pulls)?;
        Ok(out)
    }

    /// The build secrets the bootstrap reads: (variable, secret) from its
    /// `--secret='S' > /var/lib/gantry/secrets/NAME` lines.
    fn build_secrets(&self) -> Vec<(String, String)> {
        self.script
            .lines()
            .filter_map(|l| {
                let secret = l.split("--secret='").nth(1)?.split('\'').next()?;
                let name = l.split("/var/lib/gantry/secrets/").nth(1)?.trim_end_matches(')');
                Some((name.to_string(), secret.to_string()))
            })
            .collect()
    }

    /// Every registry the bootstrap sets up a login for was logged in to by the job.
    fn logged_in_everywhere(&self, out: &str) -> Result<(), String> {
        let hosts = self.script.lines().find_map(|l| l.trim().strip_prefix("python3 - \"$home/.docker/config.json\" ")).unwrap_or_default();
        for host in hosts.split_whitespace().skip(1).filter(|h| !h.starts_with('<')) {
            if !out.contains(&format!("logged in to {host}")) {
                return Err(format!("the job's user has no Docker login for {host}: {out}"));
            }
        }
        Ok(())
    }

    /// The value the stand-in Secret Manager holds for a secret.
    fn secret_value(&self, secret: &str) -> String {
        self.read(&format!("/harness/gcp-secrets/{secret}"))
    }

    /// A job's shell that prints each build secret it sees and logs in to
    /// every registry the user's Docker configuration names a credential
    /// helper for, as `docker pull` would ask it (the helper's `get`).
    fn registry_pulls(&self) -> String {
        let mut s = String::new();
        // In a child shell: the agent hands the command only what its hooks exported.
        for (name, _) in self.build_secrets() {
            s.push_str(&format!("bash -c 'echo \"secret {name}=${{{name}:-}}\"'; "));
        }
        s.push_str(&format!(
            "cfg=\"$HOME/.docker/config.json\"; if [ -f \"$cfg\" ]; then for pair in $(python3 -c 'import json,sys; print(\" \".join(h+\"=\"+x for h,x in json.load(open(sys.argv[1])).get(\"credHelpers\",{{}}).items()))' \"$cfg\"); do \
             host=${{pair%%=*}}; creds=$(echo \"$host\" | \"docker-credential-${{pair#*=}}\" get 2>&1 || true); \
             case \"$creds\" in *'\"Username\":\"oauth2accesstoken\"'*'\"Secret\":\"{}\"'*) echo \"logged in to $host\" ;; *) echo \"no login for $host: $creds\"; exit 1 ;; esac; done; fi",
            super::GCE_TOKEN
        ));
        s
    }

    /// The unit's ExecStopPost, run as root after the agent leaves.
    fn stop_post(&self, unit_file: &str) -> Result<(), String> {
        let unit = self.read(unit_file);
        let Some(cmd) = unit.lines().find_map(|l| l.strip_prefix("ExecStopPost=")) else { return Ok(()) };
        let (ok, out) = self.sh(cmd);
        if ok {
            Ok(())
        } else {
            Err(format!("ExecStopPost {cmd} failed: {out}"))
        }
    }
}
