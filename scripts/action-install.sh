#!/usr/bin/env bash
# Installs driftgate for the runner's OS and architecture (GitHub Action, step 1).
#
# Downloads driftgate-TARGET.tar.gz (cargo-dist's layout: the binary under driftgate-TARGET/) and
# its .sha256 from the action's GitHub release, verifies the checksum, and verifies the archive's
# build provenance attestation with `gh attestation verify` (the release workflow attests every
# archive): either failing fails the step. The release is the one the action is pinned to: the
# version in the action's own Cargo.toml (so `uses: acme/driftgate@v1`, `@v1.2.3` or `@<sha>`
# install the driftgate of that code), unless `version` names another; never `latest` by
# default. The repository comes from the action's checkout path (`_actions/OWNER/REPO/REF`):
# `github.action_repository` is empty inside a composite action. Building from source happens
# only when asked (DRIFTGATE_BUILD_FROM_SOURCE=true): it takes over 15 minutes, and a missing
# release is a mistake to be told about, not to be hidden.
#
# `--resolve` only writes the version and target to GITHUB_OUTPUT (for the cache key).
#
# Environment: DRIFTGATE_VERSION (a tag, `latest`, or empty for the pinned release),
# DRIFTGATE_VERIFY_ATTESTATION (default true; needs the GitHub CLI, `gh`, which GitHub's runners
# have, and GH_TOKEN),
# DRIFTGATE_REPOSITORY (owner/repo, when the action path does not tell), DRIFTGATE_RELEASE_URL
# (overrides https://github.com/OWNER/REPO/releases), DRIFTGATE_INSTALL_DIR,
# DRIFTGATE_BUILD_FROM_SOURCE, DRIFTGATE_BUILD_PROFILE (cargo profile, default release), and the
# runner's RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, GITHUB_ACTION_PATH, GITHUB_PATH,
# GITHUB_OUTPUT.
set -euo pipefail

action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
fail() { echo "::error title=driftgate install::$1"; exit 2; }

version=${DRIFTGATE_VERSION:-}
if [ -z "$version" ]; then
  pinned=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" 2>/dev/null | head -n 1)
  [ -n "$pinned" ] || fail "cannot tell which release the action is pinned to (no version in $action_path/Cargo.toml): set the version input"
  version="v$pinned"
fi

repo=${DRIFTGATE_REPOSITORY:-}
if [ -z "$repo" ]; then
  case "$action_path" in
    */_actions/*/*/*) repo=$(printf '%s' "${action_path#*/_actions/}" | cut -d/ -f1-2) ;;
  esac
fi
[ -n "$repo" ] || repo=${GITHUB_ACTION_REPOSITORY:-}
base=""
if [ -n "${DRIFTGATE_RELEASE_URL:-}" ] || [ -n "$repo" ]; then
  base=${DRIFTGATE_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases}
elif [ "${DRIFTGATE_BUILD_FROM_SOURCE:-false}" != true ]; then
  # A local `uses: ./` checkout, for one: no release to find, but it can be built if asked.
  fail "cannot tell the action's repository from $action_path: set DRIFTGATE_REPOSITORY=OWNER/REPO, or build-from-source: true"
fi

# A Linux runner without glibc (a self-hosted runner in an Alpine container) gets the static
# musl build.
libc=gnu
ls /lib/ld-musl-* >/dev/null 2>&1 && libc=musl
case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-$libc ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-$libc ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  *)
    echo "::error::driftgate: no build for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} (Linux and macOS, x64 and arm64)"
    exit 2
    ;;
esac

if [ "${1:-}" = --resolve ]; then
  [ -n "${GITHUB_OUTPUT:-}" ] && printf 'version=%s\ntarget=%s\n' "$version" "$target" >>"$GITHUB_OUTPUT"
  echo "driftgate: release $version for $target from $base"
  exit 0
fi

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
  if [ -n "$base" ] && curl -fsSL --retry 3 -o "$tmp/$archive" "$url/$archive" &&
     curl -fsSL --retry 3 -o "$tmp/$archive.sha256" "$url/$archive.sha256"; then
    expected=$(cut -d' ' -f1 <"$tmp/$archive.sha256")
    actual=$(sha256 "$tmp/$archive")
    if [ "$expected" != "$actual" ]; then
      echo "::error::driftgate: checksum mismatch for $url/$archive (expected $expected, got $actual); not installing"
      exit 2
    fi
    if [ "${DRIFTGATE_VERIFY_ATTESTATION:-true}" != false ]; then
      command -v gh >/dev/null ||
        fail "cannot verify the release's build provenance: the GitHub CLI (gh) is not installed on this runner (install it, or set verify-attestation: false to rely on the checksum alone)"
      [ -n "$repo" ] || fail "cannot verify the release's build provenance without the action's repository: set DRIFTGATE_REPOSITORY=OWNER/REPO"
      if ! said=$(gh attestation verify "$tmp/$archive" --repo "$repo" 2>&1); then
        fail "$(printf '%s' "$url/$archive has no valid build provenance attestation from $repo; not installing: $said" | tr '\n' ' ')"
      fi
      echo "driftgate: build provenance verified ($repo)"
    fi
    mkdir -p "$dest"
    # cargo-dist puts the binary under driftgate-TARGET/.
    tar -xzf "$tmp/$archive" -C "$dest" --strip-components=1 "driftgate-$target/driftgate" ||
      fail "$url/$archive does not hold driftgate-$target/driftgate"
    echo "driftgate: installed $version for $target (sha256 $actual)"
  else
    if [ "${DRIFTGATE_BUILD_FROM_SOURCE:-false}" != true ]; then
      fail "no release archive at $url/$archive: pin the action to a released tag, set the version input to one, or set build-from-source: true (a cargo build of 15 minutes or more)"
    fi
    where="at $url/$archive"
    [ -n "$base" ] || where="(the action's repository is unknown)"
    echo "::warning::driftgate: no release archive $where; building from the action's source with cargo, as build-from-source asks (slow)"
    if ! command -v cargo >/dev/null; then
      fail "build-from-source: cargo is not installed on this runner"
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
