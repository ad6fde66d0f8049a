#!/bin/sh
# The whole test suite (`npm test`). Unit tests are pure (no lab, no shared database, no fixed ports), so
# they run two files at a time; everything else (store, integration, e2e: labs, PostgreSQL, real daemons)
# runs one file at a time. Every node process the tests start (test files, the grim CLI, grim servers)
# shares Node's compile cache: a warm cache halves the CLI's start (NODE_COMPILE_CACHE overrides the
# directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off).
set -u
cd "$(dirname "$0")/../.." || exit 2
NODE_COMPILE_CACHE=${NODE_COMPILE_CACHE:-$PWD/node_modules/.cache/node-compile-cache}
export NODE_COMPILE_CACHE
node --test --test-concurrency=2 --test-timeout=300000 --test-force-exit 'test/unit/**/*.test.ts'
unit=$?
node --test --test-concurrency=1 --test-timeout=300000 --test-force-exit 'test/!(unit)/**/*.test.ts'
rest=$?
[ "$unit" -eq 0 ] && [ "$rest" -eq 0 ]
