#!/usr/bin/env bash
# Installs driftgate for the runner's OS and architecture (GitHub Action, step 1).
#
# Downloads driftgate-TARGET.tar.gz and its .sha256 from the action's GitHub release and verifies
# the checksum: a mismatch fails the step, it is never "fixed" by building. When the release has
# no archive (a branch or fork without releases), it builds from the action's own source with
# cargo instead (slow: the AWS SDK takes over 15 minutes in release mode on 2 cores).
#
# Environment: DRIFTGATE_VERSION (tag or latest), DRIFTGATE_REPOSITORY (owner/repo of the action),
# DRIFTGATE_RELEASE_URL (overrides https://github.com/OWNER/REPO/releases), DRIFTGATE_INSTALL_DIR,
# DRIFTGATE_BUILD_PROFILE (cargo profile of the fallback, default release), and the runner's
# RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, GITHUB_ACTION_PATH, GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

version=${DRIFTGATE_VERSION:-latest}
repo=${DRIFTGATE_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}
base=${DRIFTGATE_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases}
action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  *)
    echo "::error::driftgate: no build for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} (Linux and macOS, x64 and arm64)"
    exit 2
    ;;
esac

dest=${DRIFTGATE_INSTALL_DIR:-${RUNNER_TOOL_CACHE:-$HOME/.cache}/driftgate/$version/$target}
sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

if [ -x "$dest/driftgate" ]; then
  echo "driftgate: using the cached $dest/driftgate"
else
  if [ "$version" = latest ]; then url="$base/latest/download"; else url="$base/download/$version"; fi
  archive="driftgate-$target.tar.gz"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if curl -fsSL --retry 3 -o "$tmp/$archive" "$url/$archive" &&
     curl -fsSL --retry 3 -o "$tmp/$archive.sha256" "$url/$archive.sha256"; then
    expected=$(cut -d' ' -f1 <"$tmp/$archive.sha256")
    actual=$(sha256 "$tmp/$archive")
    if [ "$expected" != "$actual" ]; then
      echo "::error::driftgate: checksum mismatch for $url/$archive (expected $expected, got $actual); not installing"
      exit 2
    fi
    mkdir -p "$dest"
    tar -xzf "$tmp/$archive" -C "$dest"
    echo "driftgate: installed $version for $target (sha256 $actual)"
  else
    echo "::warning::driftgate: no release archive at $url/$archive; building from the action's source with cargo (slow)"
    if ! command -v cargo >/dev/null; then
      echo "::error::driftgate: cargo is not installed, and no release archive exists for $version"
      exit 2
    fi
    profile=${DRIFTGATE_BUILD_PROFILE:-release}
    (cd "$action_path" && cargo build --locked --profile "$profile" --bin driftgate)
    dir=$profile
    [ "$profile" = dev ] && dir=debug
    mkdir -p "$dest"
    cp "${CARGO_TARGET_DIR:-$action_path/target}/$dir/driftgate" "$dest/driftgate"
  fi
fi

"$dest/driftgate" --version
[ -n "${GITHUB_PATH:-}" ] && echo "$dest" >>"$GITHUB_PATH"
[ -n "${GITHUB_OUTPUT:-}" ] && echo "path=$dest/driftgate" >>"$GITHUB_OUTPUT"
exit 0
