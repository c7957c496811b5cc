#!/bin/sh
# ci/emulator.sh — the "Use it in CI" recipe of README.md, as one script:
# start the asyncfn emulator detached, wait for it, point clients at it,
# deploy serverless.yml, invoke a function with the aws CLI through
# AWS_ENDPOINT_URL (sync, then async), run your tests, and — whatever
# happened — collect every event and log into $ARTIFACTS and stop the
# emulator. e2e/ci_test.go runs this very script, so the recipe cannot rot.
#
# Environment (all optional but FUNCTION):
#   ASYNCFN    the asyncfn binary                 (default: asyncfn on PATH)
#   SERVICE    the serverless.yml to deploy        (default: serverless.yml)
#   FUNCTION   the deployed name of the function to invoke
#   PAYLOAD    its event, JSON                     (default: {})
#   ADDR       where the emulator listens          (default: 127.0.0.1:9770)
#   ARTIFACTS  where collect writes                (default: asyncfn-artifacts)
#   TEST_CMD   your tests, run with the emulator's environment (optional)
#
# Exit status: that of the first step that failed, else 0.
set -eu

ASYNCFN=${ASYNCFN:-asyncfn}
SERVICE=${SERVICE:-serverless.yml}
PAYLOAD=${PAYLOAD:-'{}'}
ADDR=${ADDR:-127.0.0.1:9770}
ARTIFACTS=${ARTIFACTS:-asyncfn-artifacts}
: "${FUNCTION:?set FUNCTION to the deployed name of the function to invoke}"

af() { "$ASYNCFN" -c "$SERVICE" "$@"; }
say() { echo "ci/emulator.sh: $*" >&2; }

# 1. Start the emulator in the background: this returns once it answers and
#    prints its URL; its output goes to emulator.log in the state directory.
ASYNCFN_LOCAL_URL=$(af local start --detach --addr "$ADDR")
export ASYNCFN_LOCAL_URL

finish() {
	status=$?
	# 6. Collect what happened (upload $ARTIFACTS when the job failed), stop.
	af local collect "$ARTIFACTS" || say "collect failed"
	af local stop --timeout 60s || say "stop failed"
	exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

# 2. Wait (a no-op after --detach; what a job that starts it another way needs).
af local wait --timeout 30s >/dev/null

# 3. Point the aws CLI, the SDKs and asyncfn at it.
eval "$(af local env)"

# 4. Deploy serverless.yml.
af --local deploy >&2

# 5. Test against it.
mkdir -p "$ARTIFACTS"
printf '%s' "$PAYLOAD" >"$ARTIFACTS/payload.json"
if command -v aws >/dev/null 2>&1; then
	say "aws lambda invoke $FUNCTION (sync) through AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
	aws lambda invoke --function-name "$FUNCTION" --payload "fileb://$ARTIFACTS/payload.json" \
		"$ARTIFACTS/response.json" >"$ARTIFACTS/invoke.json"
	cat "$ARTIFACTS/response.json" >&2
	echo >&2
	if grep -q FunctionError "$ARTIFACTS/invoke.json"; then
		say "$FUNCTION failed: $(cat "$ARTIFACTS/response.json")"
		exit 1
	fi
	say "aws lambda invoke $FUNCTION --invocation-type Event (async)"
	aws lambda invoke --function-name "$FUNCTION" --invocation-type Event \
		--payload "fileb://$ARTIFACTS/payload.json" /dev/null >/dev/null
else
	say "the aws CLI is not on PATH: skipping the aws CLI step (invoking with asyncfn instead)"
	af --local invoke -f "$FUNCTION" -p "$ARTIFACTS/payload.json" >"$ARTIFACTS/response.json"
	af --local invoke -f "$FUNCTION" --async -p "$ARTIFACTS/payload.json" >/dev/null
fi

# Wait for the async event to finish, then fail if any event of the
# function did not succeed.
i=0
while af --local events list -f "$FUNCTION" --status QUEUED,RUNNING 2>/dev/null | grep -Eq 'QUEUED|RUNNING'; do
	i=$((i + 1))
	if [ "$i" -gt 300 ]; then
		say "$FUNCTION's events still running after 60 s"
		exit 1
	fi
	sleep 0.2
done
if af --local events list -f "$FUNCTION" --status FAILED,TIMED_OUT,TERMINATED 2>/dev/null | grep -Eq 'FAILED|TIMED_OUT|TERMINATED'; then
	say "$FUNCTION has events that did not succeed: see $ARTIFACTS/summary.txt"
	exit 1
fi

if [ -n "${TEST_CMD:-}" ]; then
	say "running: $TEST_CMD"
	sh -c "$TEST_CMD"
fi
say "ok"
