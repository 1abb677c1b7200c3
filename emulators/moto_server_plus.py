"""moto_server, plus the public SSM parameters real AWS has and moto lacks.

AWS publishes the Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon
Linux 2023) under public Parameter Store names in every commercial region
("Finding the ID of a DLAMI", AWS Deep Learning AMIs developer guide:
/aws/service/deeplearning/ami/$architecture/$ami_type/latest/ami-id).
gantry's GPU queues boot that image by default, so the emulator must answer
those names the way it answers the Amazon Linux ones moto already ships.
moto has no DLAMI image; the values point at the region's Amazon Linux 2023
image of the same architecture, an image moto knows.

It also exits when the process that started it does: the test support keeps
idle servers for the next test (reset between them, see emulators/src/moto.rs),
so a server may outlive the test that started it, never the test process.

Usage: python moto_server_plus.py [moto_server arguments]
"""

import json
import os
import sys
import threading
import time

from moto.iam import models as iam_models
from moto.server import main
from moto.ssm import models

DLAMI = {
    "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id": "al2023-ami-kernel-default-x86_64",
    "/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id": "al2023-ami-kernel-default-arm64",
}

_original = models.ParameterDict._check_loading_status


def _check_loading_status(self, key):
    _original(self, key)
    if not str(key or "").startswith("/aws/service/deeplearning/") or getattr(self, "gantry_dlami_loaded", False):
        return
    self.gantry_dlami_loaded = True
    for name, twin in DLAMI.items():
        source = self["/aws/service/ami-amazon-linux-latest/" + twin]
        if not source:
            continue
        base = source[-1]
        param = models.Parameter(
            account_id=self.account_id,
            name=name,
            value=base.value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=base.last_modified_date,
            version=1,
            data_type="aws:ec2:image",
        )
        dict.setdefault(self, name, []).append(param)


models.ParameterDict._check_loading_status = _check_loading_status


# moto's reset (POST /moto-api/reset, between tests) calls every backend's
# reset, which runs its __init__ again, then drops the backend all the same
# (BackendDict.reset clears each dict right after). For IAM that __init__
# parses every AWS managed policy (MOTO_IAM_LOAD_MANAGED_POLICIES): measured
# with py-spy, 41% of the test suite's moto CPU. IAM holds no files or
# threads to release, so its reset does nothing; the next request builds a
# fresh backend as before.
def _drop_without_rebuilding(self):
    return None


iam_models.IAMBackend.reset = _drop_without_rebuilding


# Every request after a reset builds IAM backends again: moto finds the
# caller's account by looking up its access key in the IAM backend of every
# account and each of the six partitions (iam.models.get_account_id_from),
# and each new backend parsed all 1,582 AWS managed policies (about 100 ms).
# py-spy over the whole test suite: 56% of moto's CPU, nearly all of it for
# backends that never serve a policy call. The policies are now built the
# first time a backend's `aws_managed_policies` or `managed_policies` is
# read, exactly as __init__ built them, and the parsed JSON they come from
# (read-only: from_data copies what it keeps) is parsed once per process.
_POLICIES_LOCK = threading.RLock()
_PARSED = []
_NOT_BUILT = object()


def _parsed_policy_data():
    with _POLICIES_LOCK:
        if not _PARSED:
            _PARSED.append(json.loads(iam_models.aws_managed_policies_data))
        return _PARSED[0]


def _build_aws_policies(self):
    if not iam_models.load_iam_aws_managed_policies():
        return []
    return [
        iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, d)
        for name, d in _parsed_policy_data().items()
    ]


def _lazy(name, build):
    def get(self):
        with _POLICIES_LOCK:
            value = self.__dict__.get(name, _NOT_BUILT)
            if value is _NOT_BUILT:
                value = self.__dict__[name] = build(self)
            return value

    def put(self, value):
        self.__dict__[name] = value

    return property(get, put)


iam_models.IAMBackend._init_aws_policies = lambda self: _NOT_BUILT
iam_models.IAMBackend._init_managed_policies = lambda self: _NOT_BUILT
iam_models.IAMBackend.aws_managed_policies = _lazy("aws_managed_policies", _build_aws_policies)
iam_models.IAMBackend.managed_policies = _lazy(
    "managed_policies", lambda self: {p.arn: p for p in self.aws_managed_policies}
)


def _exit_with_parent():
    # Once the parent is gone the process is adopted and its parent id changes.
    # The launcher names itself: by the time this runs (after moto's imports)
    # the parent may already be gone.
    parent = int(os.environ.get("GANTRY_MOTO_PARENT") or os.getppid())
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    sys.exit(main(sys.argv[1:]))
