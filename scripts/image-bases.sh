#!/usr/bin/env bash
# Base images for the Dockerfile made from Debian's own packages, for machines that reach Debian's
# mirrors but no image registry: debootstrap a minimal bookworm, apt-get Python (or Node) into it,
# and `podman import` it. `make image` runs this, then builds with these bases:
#   localhost/rthdr-python:bookworm  python3 (3.11), venv, ca-certificates: the builder and runtime
#   localhost/rthdr-node:bookworm    nodejs and npm: the stage that fetches ONNX Runtime Web
# An image that already exists is kept; `podman rmi` it to make it again. Needs root (debootstrap).
set -euo pipefail

SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
read -r -a PODMAN <<<"${PODMAN:-podman --runtime runc --cgroup-manager=cgroupfs}"

base() {
    local name=$1 root
    shift
    if "${PODMAN[@]}" image exists "$name"; then
        echo "$name: already built"
        return
    fi
    root=$(mktemp -d)
    trap 'rm -rf "$root" "$root.log"' RETURN
    echo "$name: debootstrap $SUITE, then $*"
    # debootstrap's --include cannot configure npm's dependency tree, so apt-get adds the packages.
    {
        debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" &&
            chroot "$root" apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q --no-install-recommends "$@" &&
            chroot "$root" apt-get clean
    } >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
    # What an image does not need: the package lists, the docs, the manual pages.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar --numeric-owner -C "$root" -c . |
        "${PODMAN[@]}" import --quiet --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$name" >/dev/null
    echo "$name: imported"
}

base localhost/rthdr-python:"$SUITE" python3 python3-venv python-is-python3 ca-certificates
base localhost/rthdr-node:"$SUITE" nodejs npm ca-certificates
