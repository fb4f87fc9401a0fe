#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine (Debian's slurmctld, slurmd and munge; root needed), as a lab's
# cluster would run the job arrays `experiments slurm` writes. Idempotent: a running cluster is left as it is.
# Exits 3 with the reason when this machine cannot run one (no root, packages missing and apt-get unavailable), and 1
# when it should but the cluster does not come up (the packages fail to install, or the node never becomes idle).
set -euo pipefail
cannot() { echo "slurm: this machine cannot run a single-node cluster: $*" >&2; exit 3; }
broken() { echo "slurm: the single-node cluster did not start: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || cannot "not root (slurmd and munged need it)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || cannot "slurmctld/slurmd/sbatch/munged are missing and there is no apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null || broken "apt-get install slurmctld slurmd slurm-client munge failed"
fi
if [[ "$(sinfo -h -o %T 2>/dev/null || true)" =~ (idle|mixed|allocated) ]]; then
  echo "slurm: a cluster is already running"; exit 0
fi
host="$(hostname)"
cpus="$(nproc)"
memory="$(awk '/MemTotal/ {print int($2 / 1024) - 1024}' /proc/meminfo)"
mkdir -p /etc/munge /var/log/munge /run/munge /var/lib/munge /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown -R munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge 2>/dev/null || true
[ -s /etc/munge/munge.key ] || { mungekey -c -f -k /etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- munged
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=experiments
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
MaxArraySize=10000
KillWait=30
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 60); do
  if [[ "$(sinfo -h -o %T 2>/dev/null || true)" =~ (idle|mixed|allocated) ]]; then echo "slurm: single-node cluster up ($host, $cpus CPUs)"; exit 0; fi
  sleep 1
done
broken "the node did not become idle within 60 s: $(sinfo 2>&1 | tail -2); see /var/log/slurm/"
