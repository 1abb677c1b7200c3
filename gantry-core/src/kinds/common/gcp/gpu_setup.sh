# The GPU: a Deep Learning VM image installs the NVIDIA driver at first
# boot (metadata install-nvidia-driver=True) while this script runs, so
# wait until nvidia-smi answers; a machine whose jobs cannot see the GPU
# fails here, where the log says why, rather than in every job.
for _ in $(seq 1 120); do nvidia-smi >/dev/null 2>&1 && break; sleep 5; done
if ! nvidia-smi >/dev/null 2>&1; then echo "gantry: no NVIDIA driver answered within 10 minutes" >&2; exit 1; fi
# The NVIDIA container toolkit as Docker's runtime: `docker run --gpus all`.
if command -v nvidia-ctk >/dev/null 2>&1; then nvidia-ctk runtime configure --runtime=docker; fi
