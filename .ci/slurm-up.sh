#!/usr/bin/env bash
# A single-node SLURM cluster on localhost for tests/test_slurm.py (CI, as root): munged, a local
# MariaDB, slurmdbd (job accounting, so `sacct` answers the executor plugin's status queries),
# slurmctld and slurmd. One partition `cpu` (the profile's default) holding this machine's CPUs and
# memory as `slurmd -C` reports them. State, logs and pid files under $SLURM_CI_DIR.
# Stop everything with .ci/slurm-down.sh. Debian packages: slurm-wlm slurmdbd munge mariadb-server
# (.ci/run installs them).
set -euo pipefail
DIR="${SLURM_CI_DIR:-/tmp/clusterbench-slurm}"
CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
MARK="# clusterbench CI single-node cluster (.ci/slurm-up.sh)"

[ "$(id -u)" = 0 ] || { echo "slurm-up: needs root (starts munged, slurmctld, slurmd)" >&2; exit 1; }
for tool in munged mariadbd slurmdbd slurmctld slurmd sacctmgr sbatch sacct; do
    command -v "$tool" > /dev/null || { echo "slurm-up: $tool not installed" >&2; exit 1; }
done
for f in "$CONF" "$DBD_CONF"; do
    if [ -e "$f" ] && ! grep -qF "$MARK" "$f"; then
        echo "slurm-up: $f exists and is not ours; refusing to overwrite a real cluster's config" >&2
        exit 1
    fi
done
mkdir -p "$DIR"/{state,spool,mysql,run} /etc/slurm

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        "$@" > /dev/null 2>&1 && return 0
        sleep 1
    done
    echo "slurm-up: $what did not come up within ${seconds}s; logs in $DIR" >&2
    exit 1
}

# ---- munge (authentication between the daemons and the clients)
if ! pgrep -x munged > /dev/null; then
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged
    wait_for 20 munged test -s /run/munge/munged.pid
    cp /run/munge/munged.pid "$DIR/run/munged.pid"  # slurm-down stops only what slurm-up started
fi
wait_for 20 munged munge -n

# ---- MariaDB for slurmdbd: own datadir, TCP on 127.0.0.1:$DB_PORT only; never touches a system database
DB_PORT="${SLURM_CI_DB_PORT:-33061}"
SOCK="$DIR/run/mysqld.sock"
if [ ! -d "$DIR/mysql/mysql" ]; then
    mariadb-install-db --user=root --datadir="$DIR/mysql" --auth-root-authentication-method=socket \
        > "$DIR/mariadb-install.log" 2>&1
fi
if [ ! -S "$SOCK" ]; then
    nohup mariadbd --user=root --datadir="$DIR/mysql" --socket="$SOCK" --bind-address=127.0.0.1 \
        --port="$DB_PORT" --skip-name-resolve --pid-file="$DIR/run/mariadb.pid" \
        --log-error="$DIR/mariadb.log" > /dev/null 2>&1 &
fi
wait_for 60 mariadb mariadb --socket="$SOCK" -e "SELECT 1"
mariadb --socket="$SOCK" -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'clusterbench-ci';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"

# ---- slurmdbd, then slurmctld and slurmd (root as SlurmUser: a throwaway CI cluster)
NODE="$(hostname -s)"
read -r CPUS MEM < <(slurmd -C | sed -n 's/.* CPUs=\([0-9]*\) .*RealMemory=\([0-9]*\).*/\1 \2/p')
cat > "$DBD_CONF" << EOF
$MARK
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=clusterbench-ci
LogFile=$DIR/slurmdbd.log
PidFile=$DIR/run/slurmdbd.pid
EOF
chmod 600 "$DBD_CONF"

cat > "$CONF" << EOF
$MARK
ClusterName=clusterbench
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

if ! pgrep -x slurmdbd > /dev/null; then
    slurmdbd
fi
wait_for 60 slurmdbd sacctmgr -n list cluster
sacctmgr -i -Q add cluster clusterbench > /dev/null 2>&1 || true
pgrep -x slurmctld > /dev/null || slurmctld
wait_for 60 slurmctld scontrol ping
pgrep -x slurmd > /dev/null || slurmd
wait_for 60 "node $NODE" sh -c "sinfo -h -N -o %t | grep -Eq '^(idle|mix|alloc)'"
echo "slurm-up: cluster clusterbench up (node $NODE: $CPUS CPUs, $MEM MB; partition cpu); state in $DIR"
