# A single-node Slurm cluster on this machine for the sweep tests: munged,
# slurmctld and slurmd on localhost, all state in one temporary directory.
# Sourced; slurm_cluster_start DIR starts it and exports SLURM_CONF,
# slurm_cluster_stop stops every daemon it started (call it from a trap).

slurm_cluster_pids=()

slurm_cluster_stop() {
  local pid
  for pid in "${slurm_cluster_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${slurm_cluster_pids[@]}"; do
    # Daemons exit within a second of SIGTERM; a stuck one is killed.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  slurm_cluster_pids=()
}

# Waits up to 30 s for a pid file and records the daemon it names.
slurm_cluster_track() {
  local file=$1
  for _ in $(seq 300); do
    if [[ -s $file ]]; then
      slurm_cluster_pids+=("$(cat "$file")")
      return 0
    fi
    sleep 0.1
  done
  echo "slurm_cluster: $file never appeared" >&2
  return 1
}

slurm_cluster_start() {
  local dir=$1
  local port=$((20000 + RANDOM % 20000))
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir" "$dir/munge"
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed"
  slurm_cluster_track "$dir/munge/munged.pid" || return 1
  cat >"$dir/slurm.conf" <<CONF
ClusterName=npuvptest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$(id -un)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=npuvp0 NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=npuvp0 Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$dir/slurm.conf" -i
  slurm_cluster_track "$dir/slurmctld.pid" || return 1
  slurmd -f "$dir/slurm.conf" -N npuvp0
  slurm_cluster_track "$dir/slurmd.pid" || return 1
  # The node registers within seconds; sbatch before that would wait anyway,
  # but a node that never comes up should fail here, with its log.
  for _ in $(seq 300); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then return 0; fi
    sleep 0.1
  done
  echo "slurm_cluster: node npuvp0 never became idle; slurmd.log:" >&2
  tail -20 "$dir/slurmd.log" "$dir/slurmctld.log" >&2
  return 1
}
