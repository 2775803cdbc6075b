#!/usr/bin/env bash
# The project's dependencies, from the one list in scripts/dependencies.
#
#   scripts/deps.sh install [GROUP...]   install what the groups use (all
#                                        groups when none is named): Debian
#                                        packages, Rust toolchains,
#                                        components, targets, cargo tools;
#                                        then check every command they list
#   scripts/deps.sh need TOOL...         exit 1 at once if a command is
#                                        missing, naming the package that
#                                        provides it
#   scripts/deps.sh nightly              print the pinned nightly toolchain
#   scripts/deps.sh groups               print every group name
#
# Installing is idempotent and quick when everything is present, so every
# script that can run alone (build-ukl.sh, bench.sh, run-qemu.sh,
# netns-test.sh, fuzz.sh) installs its own groups, and test.sh installs all
# of them first.
set -euo pipefail

list="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dependencies"

# Entries: kind, name, commands, groups; comments and blank lines dropped.
entries() { grep -Ev '^[[:space:]]*(#|$)' "$list"; }

in_groups() { # in_groups GROUPS_FIELD WANTED...
  local field=$1 want
  shift
  (($# == 0)) && return 0
  for want in "$@"; do
    [[ ",$field," == *",$want,"* ]] && return 0
  done
  return 1
}

check_groups() {
  local known want
  known=$(entries | awk '{print $4}' | tr ',' '\n' | sort -u)
  for want in "$@"; do
    grep -qx "$want" <<<"$known" || {
      echo "deps.sh: no group '$want' in scripts/dependencies (groups: $(echo $known))" >&2
      exit 2
    }
  done
}

deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install() {
  check_groups "$@"
  local kind name commands groups debs=() toolchain item crate version
  while read -r kind name commands groups; do
    in_groups "$groups" "$@" || continue
    case $kind in
      deb) deb_installed "$name" || debs+=("$name") ;;
    esac
  done < <(entries)
  if ((${#debs[@]})); then
    echo "deps.sh: installing Debian packages: ${debs[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
  fi
  while read -r kind name commands groups; do
    in_groups "$groups" "$@" || continue
    case $kind in
      deb) ;;
      toolchain)
        rustup run "$name" rustc --version >/dev/null 2>&1 ||
          rustup toolchain install "$name" --profile minimal >&2
        ;;
      component | target)
        toolchain=${name%%/*} item=${name#*/}
        rustup "$kind" list --toolchain "$toolchain" --installed 2>/dev/null | grep -qx "$item(-x86_64-unknown-linux-gnu)\?" ||
          rustup "$kind" add --toolchain "$toolchain" "$item" >&2
        ;;
      cargo)
        # cargo tools are built by the pinned stable, at their pinned version.
        crate=${name%@*} version=${name#*@}
        cargo install --list | grep -qx "$crate v$version:" ||
          cargo install --locked "$crate" --version "$version" >&2
        ;;
      *)
        echo "deps.sh: unknown kind '$kind' in scripts/dependencies" >&2
        exit 2
        ;;
    esac
  done < <(entries)
  # What was asked for must now be here: every command the groups list.
  local tools=()
  while read -r kind name commands groups; do
    in_groups "$groups" "$@" || continue
    if [ "$commands" != - ]; then
      IFS=, read -ra item <<<"$commands"
      tools+=("${item[@]}")
    fi
  done < <(entries)
  need "${tools[@]}"
  echo "deps.sh: present: ${tools[*]}" >&2
}

need() {
  local tool missing=0 provider
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 && continue
    provider=$(entries | awk -v t="$tool" '{ n = split($3, c, ","); for (i = 1; i <= n; i++) if (c[i] == t) print $1 " " $2 }' | head -n 1)
    if [ -n "$provider" ]; then
      case ${provider% *} in
        deb) provider="the Debian package ${provider#* }" ;;
        cargo) provider="the cargo tool ${provider#* }" ;;
        *) provider="the Rust ${provider% *} ${provider#* }" ;;
      esac
      echo "missing tool: $tool, from $provider (scripts/deps.sh install brings it)" >&2
    else
      echo "missing tool: $tool (not in scripts/dependencies)" >&2
    fi
    missing=1
  done
  return "$missing"
}

case ${1:-} in
  install) shift; install "$@" ;;
  need) shift; need "$@" ;;
  nightly) entries | awk '$1 == "toolchain" && $2 ~ /^nightly-/ {print $2; exit}' ;;
  groups) entries | awk '{print $4}' | tr ',' '\n' | sort -u ;;
  *) sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
