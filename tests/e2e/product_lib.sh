# shellcheck shell=bash
# tests/e2e/product_lib.sh -- helpers for the install/setup tests, sourced after lib.sh (and
# hook_lib.sh), used inside rig_enter_private_ns.
#
#   product_overlay DIR UPPER      overlayfs over the host directory DIR in this namespace:
#                                  lower DIR, upper UPPER (its files show through DIR). The
#                                  host's DIR is untouched; the mount dies with the namespace.
#   product_nvhook_conf            /etc/nvhook/config.json (through an overlay on /etc) pointing
#                                  the hook at the fake driver and $HOOK_LOG: the installed
#                                  hooks.d files pass no --config, so the default file is read.
#   product_dockerd CONFIG         start dockerd on CONFIG in its own network namespace, with
#                                  its data, exec root and socket under $RIG_TMP/docker; prints
#                                  `docker info`'s Runtimes JSON; stops dockerd by pid.

product_overlay() {
        local dir=$1 upper=$2 work
        [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "product_overlay outside the private namespace"
        work=$RIG_TMP/ovl-work-$RANDOM
        mkdir -p "$upper" "$work"
        mount -n -t overlay -o "lowerdir=$dir,upperdir=$upper,workdir=$work" rig-ovl "$dir" ||
                rig_skip "cannot mount overlayfs on '$dir'"
}

product_nvhook_conf() {
        local up=$RIG_TMP/etc-upper
        mkdir -p "$up/nvhook"
        jq -n --arg root "$NVH_FIXTURES/driver" --arg log "$HOOK_LOG" \
                --arg cache "$RIG_TMP/nvhook-cache" \
                '{driver_root: $root, log_file: $log, log_level: "debug", cache_dir: $cache}' \
                >"$up/nvhook/config.json"
        product_overlay /etc "$up"
}

product_dockerd() {
        local conf=$1 d=$RIG_TMP/docker pid i
        rig_require_cmd dockerd docker
        mkdir -p "$d"
        # Its own network namespace: --bridge none and no iptables, nothing of the host's.
        unshare -n -- dockerd --config-file "$conf" --data-root "$d/data" --exec-root "$d/exec" \
                --pidfile "$d/pid" -H "unix://$d/sock" --bridge none --iptables=false \
                --ip6tables=false --storage-driver vfs >"$d/log" 2>&1 &
        pid=$!
        for i in $(seq 150); do
                [ -S "$d/sock" ] && docker -H "unix://$d/sock" info >/dev/null 2>&1 && break
                kill -0 "$pid" 2>/dev/null || { cat "$d/log" >&2; rig_die "dockerd exited"; }
                sleep 0.2
        done
        [ "$i" != 150 ] || { cat "$d/log" >&2; rig_die "dockerd did not answer"; }
        docker -H "unix://$d/sock" info --format '{{json .Runtimes}}'
        kill "$pid"
        wait "$pid" || true
}
