#!/usr/bin/env bash
# Sluice as a dependency, the way a user gets it: `npm pack` (prepack builds), the tarball
# installed into a blank project (its own package.json, no .npmrc), a TypeScript pipeline compiled
# against the package's types (strict, skipLibCheck false; module nodenext and bundler) and run,
# the installed CLI started (--version, help, timed), and the fraud demo run from it.
# Prints the figures: install size and what makes it up, `sluice --help` time, `import('sluice')` time.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tmp=$(mktemp -d /tmp/sluice-pack-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tsc_version=$(node -p "require('typescript/package.json').version")
ort_version=$(node -p "require('onnxruntime-node/package.json').version")

echo "== npm pack"
npm pack --pack-destination "$tmp" --silent >/dev/null
tarball=$(ls "$tmp"/sluice-*.tgz)
tar tzf "$tarball" >"$tmp/contents"
if grep -E '^package/(dist/)?(test|bench|scripts)/|\.test\.js$' "$tmp/contents"; then
  echo "the tarball carries tests, benchmarks or scripts (above)" >&2
  exit 1
fi
echo "$(wc -l <"$tmp/contents") files, $(du -k "$tarball" | cut -f1) KiB packed"

echo "== install into a blank project"
app=$tmp/app
mkdir -p "$app"
cp .ci/consumer/pipeline.ts .ci/consumer/tsconfig.json .ci/consumer/tsconfig.bundler.json "$app/"
echo '{ "name": "sluice-consumer", "private": true, "type": "module" }' >"$app/package.json"
cd "$app"
# Our own warnings would fail here; npm's notes on dependencies' engines and install scripts are listed.
npm install --no-audit --no-fund "$tarball" 2>"$tmp/install.err"
grep -v -E 'EBADENGINE|install-scripts' "$tmp/install.err" | grep -i 'warn' && {
  echo "npm install printed warnings (above)" >&2
  exit 1
}
grep -oE "package: '[^']+'" "$tmp/install.err" | sed 's/^/  engine note: /' || true
echo "install size: $(du -sm node_modules | cut -f1) MB; largest packages:"
# Packages, scoped ones by name (du counts a folder once: no scope folder beside its packages).
(cd node_modules && du -sk -- $(ls -d -- * | grep -v '^@') @*/* 2>/dev/null | sort -rn | head -10 |
  awk '{ printf "  %6.1f MB  %s\n", $1 / 1024, $2 }')

echo "== import time and native addons"
echo "root export: $(cd "$app" && node --input-type=module -e "console.log(Object.keys(await import('sluice')).length)") runtime names"
node --input-type=module -e "
  const t0 = performance.now();
  await import('sluice');
  const ms = performance.now() - t0;
  const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
  const native = [...new Set(maps.match(/[^ ]+\.node\b/g) ?? [])];
  console.log('import(\"sluice\"): ' + ms.toFixed(0) + ' ms, native addons loaded: ' + (native.join(', ') || 'none'));
  if (native.length) process.exit(1);
"

echo "== the installed CLI"
[ "$(npx --no-install sluice --version)" = "$(node -p "require('$repo/package.json').version")" ]
npx --no-install sluice help demo fraud >/dev/null
best=999999
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N)
  node node_modules/sluice/bin/sluice.js --help >/dev/null
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$ms" -lt "$best" ] && best=$ms
done
echo "sluice --help: ${best} ms (best of 5, node bin/sluice.js)"

echo "== a TypeScript pipeline against the package's types (no @types/* of its own)"
npm install --no-audit --no-fund --silent "typescript@$tsc_version"
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p tsconfig.bundler.json
out=$(node out/pipeline.js)
echo "$out"
node -e "const r = JSON.parse(process.argv[1]); if (r.processed !== 5000 || r.alerts < 1 || r.oneBase !== true) process.exit(1)" "$out"

echo "== the fraud demo from the installed package"
# Without the optional onnxruntime-node the demo says how to install it.
if npx --no-install sluice demo fraud --events 100 --no-dashboard --data "$tmp/no-ort" 2>"$tmp/no-ort.err"; then
  echo "the demo ran without onnxruntime-node" >&2
  exit 1
fi
grep -q 'npm install onnxruntime-node' "$tmp/no-ort.err"
# ONNXRUNTIME_NODE_INSTALL=skip keeps its installer offline where npm still runs it (npm < 11.19).
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent "onnxruntime-node@$ort_version"
npx --no-install sluice demo fraud --model nope.onnx --no-dashboard 2>"$tmp/model.err" && exit 1
grep -q -- '--model nope.onnx: no such file' "$tmp/model.err"
# Kinesis runs on the optional @aws-sdk/client-kinesis: without it, a clear error saying how to install it.
npx --no-install sluice demo fraud --from 'kinesis://tx?region=us-east-1' --events 10 --no-dashboard \
  --data "$tmp/no-kinesis" 2>"$tmp/no-kinesis.err" && exit 1
grep -q 'npm install @aws-sdk/client-kinesis' "$tmp/no-kinesis.err"
summary=$(npx --no-install sluice demo fraud --events 20000 --json --quiet --no-dashboard --no-slo --data "$tmp/fraud")
node -e "
  const r = JSON.parse(process.argv[1]);
  console.log('demo fraud: ' + r.processed + ' processed, ' + r.actions + ' actions, ' + r.throughput_eps + ' events/s');
  if (r.processed !== 20000 || r.dead_letters !== 0) process.exit(1);
" "$summary"
echo "pack check passed"
