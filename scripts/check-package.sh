#!/usr/bin/env bash
# The package as users get it: `npm pack`, then the tarball installed into two fresh projects, one
# normally (zstd-napi, the optional native codec, builds with node-gyp) and one with
# --ignore-scripts (what npm's allowScripts policy does to unapproved packages: zstd-napi is not
# built, geozarr must fall back to WebAssembly zstd). In both: a default `geozarr convert` of the
# bundled sample exits 0, `geozarr info` opens the output, and `import("geozarr/node")` works.
# The second project then runs the hint geozarr prints (`npm rebuild zstd-napi`) and must get the
# native codec. Called by .ci/run after the tests; needs the npm registry for the dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
sample="$root/examples/data/mur_small.nc"
work=$(mktemp -d "${TMPDIR:-/tmp}/geozarr-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "check-package: FAIL: $*" >&2
  exit 1
}

# `npm pack` runs the prepare script (the build), as `npm publish` would.
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
[[ -f "$tarball" ]] || fail "npm pack produced no tarball"
echo "check-package: packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KB)"

# What ships: the run-time files, and nothing of the sources, tests or scripts.
listing=$(tar -tzf "$tarball")
for f in package/LICENSE package/README.md package/bin/geozarr.js package/dist/node.js \
  package/dist/index.js package/dist/parallel/worker.js package/dist/cli/main.js \
  package/data/crs/epsg.json package/data/cf/standard-names.json package/data/units/udunits2.json \
  package/web/dist/index.html; do
  grep -qx "$f" <<<"$listing" || fail "the tarball lacks ${f#package/}"
done
if grep -E '^package/(src|test|scripts|examples|bench|docs|\.ci)/' <<<"$listing" >/dev/null; then
  fail "the tarball ships files only the repository needs: $(grep -E '^package/(src|test|scripts|examples|bench|docs|\.ci)/' <<<"$listing" | head -3 | tr '\n' ' ')"
fi

# check NAME BACKEND: convert, info and import in the project $work/NAME, on the expected backend.
check() {
  local name=$1 backend=$2
  local dir="$work/$name"
  (
    cd "$dir"
    # The user's command, default options. --no-install: never fetch another package named geozarr.
    npx --no-install geozarr convert "$sample" out.zarr >convert.out 2>convert.err ||
      fail "$name: geozarr convert exited $? ($(tail -n 1 convert.err))"
    if [[ $backend == wasm ]]; then
      grep -q '^geozarr: note: zstd runs on WebAssembly, .*npm rebuild zstd-napi' convert.err ||
        fail "$name: no note about the WebAssembly zstd fallback on stderr: $(cat convert.err)"
    elif grep -q 'WebAssembly' convert.err; then
      fail "$name: the fallback was used although zstd-napi was built: $(cat convert.err)"
    fi
    grep -q ' -> out.zarr: Zarr v3, ' convert.out || fail "$name: unexpected convert output: $(cat convert.out)"
    npx --no-install geozarr info out.zarr >info.out 2>info.err ||
      fail "$name: geozarr info out.zarr exited $? ($(tail -n 1 info.err))"
    grep -q 'analysed_sst' info.out || fail "$name: geozarr info does not list analysed_sst: $(head -n 5 info.out)"
    node -e '
      import("geozarr/node").then(async (m) => {
        for (const f of ["convert", "openStore", "validateStore", "startServer", "zstdBackend"])
          if (typeof m[f] !== "function") throw new Error(`geozarr/node does not export ${f}`);
        const b = m.zstdBackend().backend;
        if (b !== process.argv[1]) throw new Error(`zstd backend ${b}, expected ${process.argv[1]}`);
        const h = await m.openStore("out.zarr");
        if (!h.nodes.has("/analysed_sst")) throw new Error("out.zarr has no /analysed_sst");
        const g = await import("geozarr");
        if (typeof g.openHierarchy !== "function") throw new Error("geozarr does not export openHierarchy");
      }).catch((e) => { console.error(e.message); process.exit(1); });
    ' "$backend" || fail "$name: import(\"geozarr/node\") check failed"
    echo "check-package: $name: convert, info and import OK (zstd: $backend)"
  )
}

# install NAME [NPM OPTIONS]: a fresh project with the tarball installed. zstd-napi's install
# script is approved in the project (allowScripts), as the README asks: npm runs unapproved
# scripts today with a warning, and will skip them by default.
install() {
  local name=$1
  shift
  mkdir "$work/$name"
  (
    cd "$work/$name" && npm init -y >/dev/null && npm pkg set allowScripts.zstd-napi=true --json &&
      npm install --no-audit --no-fund "$@" "$tarball" >install.log 2>&1
  ) || fail "$name: npm install $* failed: $(tail -n 5 "$work/$name/install.log")"
}

install normal
check normal native

install no-scripts --ignore-scripts
check no-scripts wasm

# The hint works: building the addon afterwards gives the native codec.
(cd "$work/no-scripts" && npm rebuild zstd-napi >rebuild.log 2>&1) ||
  fail "no-scripts: npm rebuild zstd-napi failed: $(tail -n 5 "$work/no-scripts/rebuild.log")"
rm -rf "$work/no-scripts/out.zarr"
check no-scripts native

echo "check-package: OK"
