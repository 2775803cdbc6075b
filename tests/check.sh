# shellcheck shell=bash
# The step runner of the shell suites (tests/c, tests/readme), sourced:
#
#   check NAME COMMAND [ARGS...]
#
# runs COMMAND in $check_cwd (default: here) with its output in a log
# under $check_logs, prints "PASS NAME" or "FAIL NAME" with the log's last
# lines, and counts into $passed and $failed.
passed=0
failed=0
check() {
    local name="$1" log
    shift
    log="$check_logs/$(printf '%s' "$name" | tr -cs 'A-Za-z0-9.-' '_').log"
    if (cd "${check_cwd:-.}" && "$@") >"$log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name (log: $log)"
        tail -n 20 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}
