# Body of the bootstrap script; bootstrap.py prepends the shebang, `set -euo pipefail` and
# the settings (K3S_VERSION, ROLE, GPU_TYPE, HOST_NAME, NODE_LABELS, PUBLIC_IP, PRIVATE_IP,
# SERVER_URL, NODE_TOKEN, DEVICE_PLUGIN_VERSION). Every step checks before it acts, so a
# second run changes nothing.

log() { printf '[sophia-bootstrap] %s\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive

# 1. NVIDIA container runtime: preinstalled on Lambda Stack images; install it where missing.
if ! command -v nvidia-container-runtime >/dev/null 2>&1 || ! command -v nvidia-ctk >/dev/null 2>&1; then
  log "installing nvidia-container-toolkit"
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey \
    | sudo gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
  curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list \
    | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#g' \
    | sudo tee /etc/apt/sources.list.d/nvidia-container-toolkit.list >/dev/null
  sudo apt-get update -q
  sudo apt-get install -y -q nvidia-container-toolkit
else
  log "nvidia-container-toolkit present"
fi

# 2. k3s at the pinned version, with this node's labels (k3s finds the nvidia runtime itself).
installed="$(k3s --version 2>/dev/null | awk 'NR==1 {print $3}' || true)"
label_args=()
for label in $NODE_LABELS; do
  label_args+=(--node-label "$label")
done
ip_args=(--node-external-ip "$PUBLIC_IP")
if [ -n "$PRIVATE_IP" ]; then
  ip_args+=(--node-ip "$PRIVATE_IP")
fi
if [ "$installed" = "$K3S_VERSION" ]; then
  log "k3s $K3S_VERSION already installed"
elif [ "$ROLE" = "server" ]; then
  log "installing k3s $K3S_VERSION (server)"
  curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="$K3S_VERSION" sh -s - server \
    --tls-san "$PUBLIC_IP" --write-kubeconfig-mode 0600 "${ip_args[@]}" "${label_args[@]}"
else
  log "installing k3s $K3S_VERSION (agent of $SERVER_URL)"
  curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="$K3S_VERSION" K3S_URL="$SERVER_URL" \
    K3S_TOKEN="$NODE_TOKEN" sh -s - agent "${ip_args[@]}" "${label_args[@]}"
fi

# 3. The server installs the NVIDIA device plugin (pinned), which advertises nvidia.com/gpu.
if [ "$ROLE" = "server" ]; then
  for _ in $(seq 1 60); do
    if sudo k3s kubectl get nodes >/dev/null 2>&1; then break; fi
    sleep 5
  done
  log "applying the NVIDIA device plugin $DEVICE_PLUGIN_VERSION"
  sudo k3s kubectl apply -f - <<MANIFEST
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: nvidia-device-plugin
  namespace: kube-system
spec:
  selector:
    matchLabels: {name: nvidia-device-plugin}
  updateStrategy: {type: RollingUpdate}
  template:
    metadata:
      labels: {name: nvidia-device-plugin}
    spec:
      runtimeClassName: nvidia
      priorityClassName: system-node-critical
      nodeSelector: {nvidia.com/gpu.present: "true"}
      tolerations:
        - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
      containers:
        - name: nvidia-device-plugin
          image: nvcr.io/nvidia/k8s-device-plugin:$DEVICE_PLUGIN_VERSION
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: device-plugin, mountPath: /var/lib/kubelet/device-plugins}
      volumes:
        - name: device-plugin
          hostPath: {path: /var/lib/kubelet/device-plugins}
MANIFEST
fi

log "node $HOST_NAME ready: gpu-type=$GPU_TYPE, role $ROLE"
