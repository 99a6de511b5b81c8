#!/usr/bin/env bash
# Puts libopus 1.5.2 (a pinned release) into a cache outside the source tree and prints the
# path of its unpacked tree. The tarball comes from Debian trixie's source package, fetched with
# a private apt sources list so the machine's apt configuration is never changed; its sha256 is
# checked before anything is unpacked. Nothing here is committed; a second run is a no-op.
#   CHORUS_CACHE   cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/chorus-rtc)
set -euo pipefail
version=1.5.2
sha256=65c1d2f78b9f2fb20082c38cbe47c951ad5839345876e46941612ee87f9a7ce1
cache=${CHORUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chorus-rtc}
tree=$cache/opus-$version
tarball=$cache/opus_$version.orig.tar.gz

if [[ -f $tree/.chorus-verified ]]; then
  echo "$tree"
  exit 0
fi
mkdir -p "$cache"

if [[ ! -f $tarball ]] || ! echo "$sha256  $tarball" | sha256sum -c --status; then
  apt_dir=$(mktemp -d)
  trap 'rm -rf "$apt_dir"' EXIT
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o "APT::Sandbox::User=root"
    -o "Debug::NoLocking=1")
  echo "tools/opus/fetch.sh: fetching opus $version from Debian trixie's source package" >&2
  apt-get "${apt_opts[@]}" -qq update >&2
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" -qq source --download-only opus >&2)
  cp "$apt_dir/opus_$version.orig.tar.gz" "$tarball.part"
  mv "$tarball.part" "$tarball"
fi

if ! echo "$sha256  $tarball" | sha256sum -c --status; then
  echo "tools/opus/fetch.sh: sha256 mismatch for $tarball (expected $sha256)" >&2
  rm -f "$tarball"
  exit 1
fi

rm -rf "$tree" "$tree.part"
mkdir -p "$tree.part"
tar -xzf "$tarball" -C "$tree.part" --strip-components=1
touch "$tree.part/.chorus-verified"
mv "$tree.part" "$tree"
echo "$tree"
