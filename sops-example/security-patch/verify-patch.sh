#!/bin/sh
# The post_patch verification gate: the patched marker must be there.
set -e
state="${TMPDIR:-/tmp}/sop-runner-example/security-patch/$SOP_RUN_ID"
grep -q "patched" "$state/status"
echo "patch verified"
echo "patch_verified=true" >> "$SOP_OUTPUT"
