# Sourced by the package tests (test-deb.sh, test-system.sh): one result line per check, counted.
# Set CHECK_DIR (a scratch folder for the last output) before the first check; CHECK_LOG, if set, gets a copy.
passed=0
failed=0
note() { if [ -n "${CHECK_LOG:-}" ]; then echo "$*" | tee -a "$CHECK_LOG"; else echo "$*"; fi; }
check() { # check DESCRIPTION COMMAND...: runs the command; on failure shows the first 20 lines it printed
  local what="$1"
  shift
  if "$@" >"$CHECK_DIR/last.out" 2>&1; then
    passed=$((passed + 1))
    note "ok   $what"
  else
    failed=$((failed + 1))
    note "FAIL $what"
    note "$(sed 's/^/     /' "$CHECK_DIR/last.out" | head -n 20)"
  fi
}
