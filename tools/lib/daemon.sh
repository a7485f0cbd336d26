# A background process tracked by a pid file (Kafka, Redis, coturn, the
# OpenID Providers). Sourced (preamble.sh does it), after log() is defined.

# Whether pid $1 is a live process. kill -0 also succeeds on a zombie, and in a
# container whose PID 1 reaps lazily an exited daemon stays a zombie for a
# second or more: read the state instead.
daemon_alive() {
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$state" && "$state" != "Z" ]]
}

# Prints the pid in pid file $1 if it is a live process whose command line
# matches the grep pattern $2 (which guards against a recycled pid).
daemon_pid() {
  local pid_file=$1 pattern=$2 pid
  [[ -f "$pid_file" ]] || return 1
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "$pattern" || return 1
  echo "$pid"
}

# Whether the daemon just started in the background (pid in file $1) is
# still alive. For start-up loops only: right after `cmd &` the child may not
# have exec'd yet, so its command line is still the calling script's and
# daemon_pid's pattern check would report a healthy start as an exit.
daemon_starting() {
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && daemon_alive "$pid"
}

# Stops the daemon of pid file $1 (pattern $2): SIGTERM, then SIGKILL after
# $3 seconds. A daemon that is not running is fine.
daemon_stop() {
  local pid_file=$1 pattern=$2 timeout_s=$3 pid i
  if ! pid="$(daemon_pid "$pid_file" "$pattern")"; then
    log "not running"
    rm -f "$pid_file"
    return 0
  fi
  log "stopping pid $pid (SIGTERM, up to ${timeout_s}s)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout_s * 5; i++)); do
    daemon_alive "$pid" || break
    sleep 0.2
  done
  if daemon_alive "$pid"; then
    log "still alive after ${timeout_s}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  log "stopped"
}
