#!/usr/bin/env bash
# Stop the daemons .ci/slurm-up.sh started (by their pid files), slurmd first, MariaDB last;
# munged only when slurm-up started it (no pid file otherwise). Keeps the logs in $SLURM_CI_DIR.
set -uo pipefail
DIR="${SLURM_CI_DIR:-/tmp/clusterbench-slurm}"
stop() {  # stop NAME PIDFILE
    local pid
    [ -s "$2" ] || return 0
    pid="$(cat "$2")"
    kill "$pid" 2> /dev/null || return 0
    for _ in $(seq 30); do
        kill -0 "$pid" 2> /dev/null || return 0
        sleep 1
    done
    echo "slurm-down: $1 ($pid) still running after 30 s; killing it" >&2
    kill -9 "$pid" 2> /dev/null || true
}
stop slurmd "$DIR/run/slurmd.pid"
stop slurmctld "$DIR/run/slurmctld.pid"
stop slurmdbd "$DIR/run/slurmdbd.pid"
stop mariadb "$DIR/run/mariadb.pid"
stop munged "$DIR/run/munged.pid"
rm -f "$DIR"/run/*.pid
echo "slurm-down: stopped"
