# Sourced by the set-up scripts: `step WHAT WHY COMMAND…` prints one line, what is being done and why,
# runs the command with its output in $LOG, and ends the line with how long it took (or "failed").
# Nothing is printed for a step that is not run, so a machine with nothing missing stays quiet.
step() {
    local what="$1" why="$2" started tenths
    shift 2
    started="$(date +%s%N)"
    printf 'setup: %s, %s ... ' "$what" "$why"
    if "$@" >>"$LOG" 2>&1; then
        tenths=$(( ($(date +%s%N) - started) / 100000000 ))
        printf '%d.%d s\n' $((tenths / 10)) $((tenths % 10))
    else
        printf 'failed\n'
        return 1
    fi
}
