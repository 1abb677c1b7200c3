#!/usr/bin/env python3
"""Writes a synthetic stack of N ecr_repository blocks (for benchmarks).

usage: gen-stack.py DIR N [STACK_NAME]
Each block has a lifecycle policy, tags from a local, and every tenth block
references the previous one, so evaluation order and references are exercised.
"""
import os
import sys

out, n = sys.argv[1], int(sys.argv[2])
name = sys.argv[3] if len(sys.argv) > 3 else "bench"
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "main.gantry.hcl"), "w") as f:
    f.write(f'stack "{name}" {{\n  aws {{ region = "us-west-2" }}\n}}\n\n')
    f.write('variable "team" {\n  type    = string\n  default = "ml-ci"\n}\n\n')
    f.write('locals {\n  tags = { team = var.team, managed-by = "gantry" }\n}\n\n')
    for i in range(n):
        f.write(f'ecr_repository "repo-{i:04d}" {{\n')
        f.write(f'  name = "bench/repo-{i:04d}"\n')
        f.write('  lifecycle_policy {\n    expire_untagged_after_days = 14\n    keep_last_tagged           = 50\n  }\n')
        if i % 10 == 9:
            f.write(f'  tags = merge(local.tags, {{ prev = ecr_repository.repo-{i-1:04d}.arn }})\n')
        else:
            f.write('  tags = local.tags\n')
        f.write('}\n\n')
